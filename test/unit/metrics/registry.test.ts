import { describe, expect, it } from 'vitest';
import { INFO_MESSAGE_MAX, ProbeMetrics, METRIC_PREFIX, PROBE_STEPS } from '../../../src/metrics/registry.ts';
import { FAILURE_REASONS } from '../../../src/model/failures.ts';
import { STATUS_CLASSES } from '../../../src/model/result.ts';
import { lintComplaints, promtool } from '../../monitoring/promtool.ts';
import { fakeResult } from '../../support/results.ts';

async function sample(m: ProbeMetrics, name: string, labels: Record<string, string>): Promise<number | undefined> {
  const metric = await m.registry.getSingleMetric(name)?.get();
  const v = metric?.values.find(
    (v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val) && (!('le' in labels) ? !('le' in v.labels) : true),
  );
  return v?.value;
}

describe('ProbeMetrics', () => {
  it('creates every failure reason, run result and status class at 0 before any run', async () => {
    const m = new ProbeMetrics();
    m.prepare('browser', 'full', 'box');
    m.prepare('api', 'full', 'box');
    const text = await m.metrics();
    for (const probe of ['browser', 'api']) {
      for (const reason of FAILURE_REASONS) {
        expect(text).toContain(`bulk_upload_probe_failures_total{probe="${probe}",depth="full",target="box",reason="${reason}"} 0`);
        expect(text).toContain(`bulk_upload_probe_failure_reason{probe="${probe}",depth="full",target="box",reason="${reason}"} 0`);
      }
      for (const result of ['success', 'failure', 'cancelled'])
        expect(text).toContain(`bulk_upload_probe_runs_total{probe="${probe}",depth="full",target="box",result="${result}"} 0`);
      for (const cc of STATUS_CLASSES)
        expect(text).toContain(`bulk_upload_probe_target_responses_total{probe="${probe}",depth="full",target="box",code_class="${cc}"} 0`);
    }
    // Unknown until the first run: no success/last-run series yet (absence is not failure).
    expect(text).not.toMatch(/^bulk_upload_probe_success\{/m);
    expect(text).not.toMatch(/^bulk_upload_probe_last_run_timestamp_seconds\{/m);
    expect(text).toMatch(/^bulk_upload_probe_build_info\{version="\d+\.\d+\.\d+"\} 1$/m);
  });

  it('records a success: gauge 1, timestamps, durations, responses, canary histograms', async () => {
    const m = new ProbeMetrics();
    m.prepare('api', 'full', 'box');
    const at = new Date('2026-11-25T10:00:00Z');
    m.record(fakeResult({ ok: true, at, durationSeconds: 6, queueWaitSeconds: 1.5, importSeconds: 0.8 }));
    const l = { probe: 'api', target: 'box' };
    expect(await sample(m, 'bulk_upload_probe_success', l)).toBe(1);
    expect(await sample(m, 'bulk_upload_probe_last_run_timestamp_seconds', l)).toBe(at.getTime() / 1000);
    expect(await sample(m, 'bulk_upload_probe_last_success_timestamp_seconds', l)).toBe(at.getTime() / 1000);
    expect(await sample(m, 'bulk_upload_probe_runs_total', { ...l, result: 'success' })).toBe(1);
    expect(await sample(m, 'bulk_upload_probe_target_responses_total', { ...l, code_class: '2xx' })).toBe(5);
    const text = await m.metrics();
    expect(text).toContain('bulk_upload_probe_run_duration_seconds_bucket{le="5",probe="api",depth="full",target="box"} 0');
    expect(text).toContain('bulk_upload_probe_run_duration_seconds_bucket{le="8",probe="api",depth="full",target="box"} 1');
    expect(text).toContain('bulk_upload_probe_step_duration_seconds_sum{probe="api",depth="full",target="box",step="login"} 0.7');
    expect(text).toContain('bulk_upload_probe_canary_queue_wait_seconds_sum{probe="api",target="box"} 1.5');
    expect(text).toContain('bulk_upload_probe_canary_import_duration_seconds_count{probe="api",target="box"} 1');
  });

  it('records a failure by reason and keeps the last success time', async () => {
    const m = new ProbeMetrics();
    m.prepare('browser', 'full', 'box');
    const l = { probe: 'browser', target: 'box' };
    m.record(fakeResult({ probe: 'browser', ok: true, at: new Date('2026-11-25T10:00:00Z') }));
    m.record(fakeResult({ probe: 'browser', reason: 'auth_rejected', at: new Date('2026-11-25T10:01:00Z') }));
    expect(await sample(m, 'bulk_upload_probe_success', l)).toBe(0);
    expect(await sample(m, 'bulk_upload_probe_failures_total', { ...l, reason: 'auth_rejected' })).toBe(1);
    expect(await sample(m, 'bulk_upload_probe_failures_total', { ...l, reason: 'import_failed' })).toBe(0);
    expect(await sample(m, 'bulk_upload_probe_runs_total', { ...l, result: 'failure' })).toBe(1);
    expect(await sample(m, 'bulk_upload_probe_last_success_timestamp_seconds', l)).toBe(Date.parse('2026-11-25T10:00:00Z') / 1000);
    expect(await sample(m, 'bulk_upload_probe_last_run_timestamp_seconds', l)).toBe(Date.parse('2026-11-25T10:01:00Z') / 1000);
    expect(await sample(m, 'bulk_upload_probe_target_responses_total', { ...l, code_class: '4xx' })).toBe(2);
  });

  it('marks the reason of the latest failure, moves it when the reason changes, clears it on success', async () => {
    const m = new ProbeMetrics();
    m.prepare('api', 'full', 'box');
    const l = { probe: 'api', target: 'box' };
    const current = async () => {
      const g = await m.registry.getSingleMetric('bulk_upload_probe_failure_reason')!.get();
      return g.values.filter((v) => v.labels.probe === 'api' && v.value === 1).map((v) => v.labels.reason);
    };
    expect(await current()).toEqual([]);
    expect(await sample(m, 'bulk_upload_probe_failure_reason', { ...l, reason: 'auth_rejected' })).toBe(0);
    m.record(fakeResult({ reason: 'auth_rejected' }));
    expect(await current()).toEqual(['auth_rejected']);
    m.record(fakeResult({ reason: 'import_failed' }));
    expect(await current()).toEqual(['import_failed']);
    m.record({ ...fakeResult({ reason: 'timeout' }), cancelled: true });
    expect(await current()).toEqual(['import_failed']);
    m.record(fakeResult({ ok: true }));
    expect(await current()).toEqual([]);
  });

  it('counts a cancelled run without touching success, timestamps or failures', async () => {
    const m = new ProbeMetrics();
    m.prepare('api', 'full', 'box');
    const l = { probe: 'api', target: 'box' };
    m.record(fakeResult({ ok: true, at: new Date('2026-11-25T10:00:00Z') }));
    m.record({ ...fakeResult({ reason: 'timeout', at: new Date('2026-11-25T10:05:00Z') }), cancelled: true });
    expect(await sample(m, 'bulk_upload_probe_runs_total', { ...l, result: 'cancelled' })).toBe(1);
    expect(await sample(m, 'bulk_upload_probe_success', l)).toBe(1);
    expect(await sample(m, 'bulk_upload_probe_failures_total', { ...l, reason: 'timeout' })).toBe(0);
    expect(await sample(m, 'bulk_upload_probe_last_run_timestamp_seconds', l)).toBe(Date.parse('2026-11-25T10:00:00Z') / 1000);
  });

  it('counts failed runs whose evidence could not be written, from 0', async () => {
    const m = new ProbeMetrics();
    m.prepare('api', 'full', 'box');
    m.prepare('browser', 'full', 'box');
    const l = { probe: 'browser', target: 'box' };
    const text = await m.metrics();
    expect(text).toContain('# TYPE bulk_upload_probe_evidence_write_failures_total counter');
    expect(text).toContain('bulk_upload_probe_evidence_write_failures_total{probe="browser",depth="full",target="box"} 0');
    expect(text).toContain('bulk_upload_probe_evidence_write_failures_total{probe="api",depth="full",target="box"} 0');
    m.record(fakeResult({ probe: 'browser', reason: 'server_error' }));
    expect(await sample(m, 'bulk_upload_probe_evidence_write_failures_total', l)).toBe(0);
    m.record({ ...fakeResult({ probe: 'browser', reason: 'server_error' }), evidenceError: 'ENOSPC: no space left on device' });
    m.record({ ...fakeResult({ probe: 'browser', reason: 'timeout' }), evidenceError: 'EACCES' });
    expect(await sample(m, 'bulk_upload_probe_evidence_write_failures_total', l)).toBe(2);
    expect(await sample(m, 'bulk_upload_probe_evidence_write_failures_total', { probe: 'api', target: 'box' })).toBe(0);
  });

  it('counts run-history lines skipped on reading, without labels, from 0', async () => {
    const m = new ProbeMetrics();
    expect(await m.metrics()).toMatch(/^bulk_upload_probe_history_bad_lines_total 0$/m);
    m.historyLinesSkipped(0);
    m.historyLinesSkipped(3);
    expect(await m.metrics()).toMatch(/^bulk_upload_probe_history_bad_lines_total 3$/m);
  });

  it('pre-creates step histograms only for the steps each probe has', async () => {
    const m = new ProbeMetrics();
    m.prepare('api', 'full', 'box');
    m.prepare('browser', 'full', 'box');
    const text = await m.metrics();
    expect(PROBE_STEPS.api).not.toContain('open_page');
    expect(text).toContain('bulk_upload_probe_step_duration_seconds_count{probe="api",depth="full",target="box",step="list_uploads"} 0');
    expect(text).not.toContain('step_duration_seconds_count{probe="api",depth="full",target="box",step="open_page"}');
    expect(text).toContain('bulk_upload_probe_step_duration_seconds_count{probe="browser",depth="full",target="box",step="open_page"} 0');
  });

  it('uses only the allowed low-cardinality labels', async () => {
    const m = new ProbeMetrics();
    m.prepare('api', 'full', 'box');
    m.record(fakeResult({ reason: 'server_error', queueWaitSeconds: 2, importSeconds: 1 }));
    const allowed = new Set(['probe', 'depth', 'target', 'step', 'reason', 'result', 'code_class', 'outcome', 'le', 'version']);
    const families = (await m.registry.getMetricsAsJSON()).filter((f) => f.name.startsWith(METRIC_PREFIX));
    expect(families.length).toBe(22);
    // The one info series may say what failed in words: one series per job at a time, never more.
    const info = new Set([...allowed, 'diagnosis', 'message']);
    for (const f of families)
      for (const v of f.values)
        for (const k of Object.keys(v.labels))
          expect((f.name === `${METRIC_PREFIX}last_failure_info` ? info : allowed).has(k), `${f.name} label ${k}`).toBe(true);
  });

  it('exposes the run slots: limits, runs waiting now (read at scrape time) and how long runs waited', async () => {
    const m = new ProbeMetrics();
    let waiting = { browser: 3, api: 0 };
    m.watchSlots({ browser: 2, api: 8 }, () => waiting);
    m.runStarted('browser', 42);
    let text = await m.metrics();
    expect(text).toContain('bulk_upload_probe_max_concurrent_runs{probe="browser"} 2');
    expect(text).toContain('bulk_upload_probe_runs_waiting{probe="browser"} 3');
    expect(text).toContain('bulk_upload_probe_run_slot_wait_seconds_bucket{le="30",probe="browser"} 0');
    expect(text).toContain('bulk_upload_probe_run_slot_wait_seconds_bucket{le="60",probe="browser"} 1');
    waiting = { browser: 0, api: 1 };
    text = await m.metrics();
    expect(text).toContain('bulk_upload_probe_runs_waiting{probe="browser"} 0');
    expect(text).toContain('bulk_upload_probe_runs_waiting{probe="api"} 1');
  });

  it('counts failed runs in a row with the same reason; a new reason starts at 1, a success resets to 0', async () => {
    const m = new ProbeMetrics();
    m.prepare('api', 'full', 'box');
    const l = { probe: 'api', depth: 'full', target: 'box' };
    expect(await sample(m, 'bulk_upload_probe_consecutive_failures', l)).toBe(0);
    m.record(fakeResult({ reason: 'auth_rejected' }));
    m.record(fakeResult({ reason: 'auth_rejected' }));
    expect(await sample(m, 'bulk_upload_probe_consecutive_failures', l)).toBe(2);
    m.record(fakeResult({ reason: 'import_failed' }));
    expect(await sample(m, 'bulk_upload_probe_consecutive_failures', l)).toBe(1);
    m.record(fakeResult({ reason: 'import_failed', cancelled: true }));
    expect(await sample(m, 'bulk_upload_probe_consecutive_failures', l)).toBe(1);
    m.record(fakeResult({ ok: true }));
    expect(await sample(m, 'bulk_upload_probe_consecutive_failures', l)).toBe(0);
    // Another job's streak is its own.
    m.prepare('browser', 'full', 'box');
    m.record(fakeResult({ probe: 'browser', reason: 'timeout' }));
    expect(await sample(m, 'bulk_upload_probe_consecutive_failures', { ...l, probe: 'browser' })).toBe(1);
    expect(await sample(m, 'bulk_upload_probe_consecutive_failures', l)).toBe(0);
  });

  it('keeps one info series per job for the latest failure, with a bounded one-line message, gone after a success', async () => {
    const m = new ProbeMetrics();
    m.prepare('api', 'full', 'box');
    const infoSeries = async () => (await m.registry.getSingleMetric('bulk_upload_probe_last_failure_info')?.get())?.values ?? [];
    m.record({ ...fakeResult({ reason: 'auth_rejected' }), message: 'POST /upload answered 401\n' + 'x'.repeat(500) });
    m.record(fakeResult({ reason: 'import_failed' }));
    let values = await infoSeries();
    expect(values).toHaveLength(1);
    expect(values[0]!.labels).toMatchObject({ probe: 'api', depth: 'full', target: 'box', reason: 'import_failed', diagnosis: 'none' });
    m.record({ ...fakeResult({ reason: 'auth_rejected' }), message: 'POST /upload answered 401\n' + 'x'.repeat(500) });
    values = await infoSeries();
    expect(values).toHaveLength(1);
    const message = String(values[0]!.labels.message);
    expect(message).toMatch(/^POST \/upload answered 401 x+…$/);
    expect(message.length).toBeLessThanOrEqual(INFO_MESSAGE_MAX);
    m.record(fakeResult({ ok: true }));
    expect(await infoSeries()).toHaveLength(0);
  });

  it('passes promtool check metrics, before and after runs, with process metrics too', async () => {
    const m = new ProbeMetrics({ processMetrics: true });
    m.prepare('api', 'full', 'box');
    expect(lintComplaints(await m.metrics(), METRIC_PREFIX)).toEqual([]);
    m.record(fakeResult({ reason: 'queue_stalled', queueWaitSeconds: 90 }));
    m.record(fakeResult({ ok: true, queueWaitSeconds: 1, importSeconds: 2 }));
    expect(lintComplaints(await m.metrics(), METRIC_PREFIX)).toEqual([]);
    // Nothing at all to say, process metrics included.
    const whole = promtool(['check', 'metrics'], await m.metrics());
    expect(whole.lines).toEqual([]);
    expect(whole.status).toBe(0);
    expect(await m.metrics()).toMatch(/^process_start_time_seconds \d/m);
  });

  it('the lint check can fail: promtool does complain about a badly named family', () => {
    const bad = '# HELP bulk_upload_probe_runs Runs.\n# TYPE bulk_upload_probe_runs counter\nbulk_upload_probe_runs 1\n';
    expect(promtool(['check', 'metrics'], bad).status).not.toBe(0);
    expect(lintComplaints(bad, METRIC_PREFIX).join('\n')).toMatch(/bulk_upload_probe_runs/);
  });
});
