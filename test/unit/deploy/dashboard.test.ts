import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ALERTS } from '../../../deploy/alerts/definitions.ts';
import {
  ALERT_THRESHOLDS,
  AVAILABILITY_GOOD,
  AVAILABILITY_POOR,
  AVAILABILITY_SERIES_WINDOW,
  AVAILABILITY_WINDOWS,
  DASHBOARD_FILE,
  alertThresholds,
  SERVICE_JOB,
  SMOKE_JOB,
  buildDashboard,
  dashboardExprs,
  panelQueries,
} from '../../../deploy/dashboard/build.ts';

type Dashboard = ReturnType<typeof buildDashboard>;
const committed = JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as Dashboard;

/** A panel of the committed JSON, as Grafana reads it. */
interface JsonPanel {
  type: string;
  title?: string;
  targets?: { expr?: string; instant?: boolean }[];
  fieldConfig?: { defaults?: { unit?: string; thresholds?: { steps: { value: number | null; color: string }[] } } };
}
const jsonPanels = (committed.panels ?? []) as JsonPanel[];

function panel(title: string): JsonPanel {
  const p = jsonPanels.find((x) => x.title === title);
  expect(p, `panel "${title}"`).toBeDefined();
  return p!;
}

/** The threshold values of a panel, in order (the base step's null left out). */
function thresholdValues(p: JsonPanel): number[] {
  return (p.fieldConfig?.defaults?.thresholds?.steps ?? []).flatMap((s) => (s.value === null ? [] : [s.value]));
}

/** Every selector of a probe family in `expr`, with its matchers ('' when it has none). */
function probeSelectors(expr: string): { metric: string; matchers: string }[] {
  return [...expr.matchAll(/\b(bulk_upload_probe_[a-z_]+)(?:\{([^}]*)\})?/g)].map((m) => ({ metric: m[1]!, matchers: m[2] ?? '' }));
}

describe('Grafana dashboard', () => {
  it('the committed JSON is what deploy/dashboard/build.ts generates', () => {
    expect(committed).toEqual(JSON.parse(JSON.stringify(buildDashboard())));
  });

  it('shows per target: up/down, durations, failures by reason, queue wait, import time, last success, availability', () => {
    const all = panelQueries(committed)
      .flatMap((p) => p.exprs)
      .join('\n');
    for (const family of [
      'bulk_upload_probe_success',
      'bulk_upload_probe_consecutive_failures',
      'bulk_upload_probe_run_duration_seconds_bucket',
      'bulk_upload_probe_step_duration_seconds_sum',
      'bulk_upload_probe_failures_total',
      'bulk_upload_probe_runs_total',
      'bulk_upload_probe_canary_queue_wait_seconds_bucket',
      'bulk_upload_probe_canary_import_duration_seconds_bucket',
      'bulk_upload_probe_last_success_timestamp_seconds',
      'bulk_upload_probe_last_run_timestamp_seconds',
      'bulk_upload_probe_interval_seconds',
      'bulk_upload_probe_target_responses_total',
      'bulk_upload_probe_real_uploads_ended_total',
    ])
      expect(all).toContain(family);
  });

  it('every panel with data has a query on the probe families, filtered by the target variable', () => {
    const panels = panelQueries(committed);
    expect(panels.length).toBeGreaterThanOrEqual(15);
    for (const p of panels) {
      expect(p.exprs.length, p.title).toBeGreaterThan(0);
      for (const e of p.exprs) {
        expect(e).toMatch(/bulk_upload_probe_/);
        if (!e.includes('build_info')) expect(e, p.title).toContain('target=~"$target"');
      }
    }
  });

  it('every selector of every panel query carries the job filter', () => {
    const missing: string[] = [];
    let selectors = 0;
    for (const p of panelQueries(committed))
      for (const e of p.exprs)
        for (const s of probeSelectors(e)) {
          selectors++;
          if (!s.matchers.split(',').includes('job=~"$job"')) missing.push(`${p.title}: ${s.metric}{${s.matchers}}`);
        }
    expect(selectors).toBeGreaterThan(20);
    expect(missing).toEqual([]);
  });

  it('has a job variable, the service job by default (multi, All allowed), which narrows the other variables', () => {
    const vars = committed.templating?.list ?? [];
    expect(vars.map((v) => v.name)).toEqual(['datasource', 'job', 'target', 'probe', 'depth']);
    const job = vars.find((v) => v.name === 'job')!;
    expect(job).toMatchObject({ type: 'query', multi: true, includeAll: true, allValue: '.*' });
    expect(job.query).toBe('label_values(bulk_upload_probe_runs_total, job)');
    expect(job.current?.value).toEqual([SERVICE_JOB]);
    for (const name of ['target', 'probe', 'depth'])
      expect(vars.find((v) => v.name === name)!.query).toBe(`label_values(bulk_upload_probe_runs_total{job=~"$job"}, ${name})`);
  });

  it('has an availability row: success ratio over 1 d and 30 d per target and depth, with thresholds, and its time series', () => {
    const rowAt = jsonPanels.findIndex((p) => p.type === 'row' && p.title === 'Availability');
    expect(rowAt).toBeGreaterThanOrEqual(0);
    const nextRow = jsonPanels.findIndex((p, i) => i > rowAt && p.type === 'row');
    const row = jsonPanels.slice(rowAt + 1, nextRow < 0 ? undefined : nextRow);
    const ratio = (expr: string, window: string) => {
      expect(expr).toContain(`sum by (target, depth) (increase(bulk_upload_probe_runs_total{`);
      expect(expr).toMatch(new RegExp(`result="success"\\}\\[${window}\\]\\)\\) / \\(`));
      expect(expr).toMatch(new RegExp(`result!="cancelled"\\}\\[${window}\\]\\)\\) > 0\\)$`));
    };
    expect(AVAILABILITY_WINDOWS).toEqual(['1d', '30d']);
    for (const window of AVAILABILITY_WINDOWS) {
      const gauge = row.find((p) => p.type === 'bargauge' && p.targets?.[0]?.expr?.includes(`[${window}]`));
      expect(gauge, window).toBeDefined();
      ratio(gauge!.targets![0]!.expr!, window);
      expect(gauge!.targets![0]!.instant).toBe(true);
      expect(gauge!.fieldConfig?.defaults?.unit).toBe('percentunit');
      expect(thresholdValues(gauge!)).toEqual([AVAILABILITY_POOR, AVAILABILITY_GOOD]);
    }
    const series = row.find((p) => p.type === 'timeseries');
    expect(series).toBeDefined();
    ratio(series!.targets![0]!.expr!, AVAILABILITY_SERIES_WINDOW);
    expect(thresholdValues(series!)).toEqual([AVAILABILITY_POOR, AVAILABILITY_GOOD]);
  });

  it("the thresholds mirrored from the alert rules are read from the rules' definitions", () => {
    expect(ALERT_THRESHOLDS).toEqual(alertThresholds(ALERTS));
    expect(ALERT_THRESHOLDS).toMatchObject({
      diagnosisAlerts: expect.arrayContaining(['BulkUploadAuthRejected', 'BulkUploadImportFailing', 'BulkUploadQueueStalled']),
    });
    // A rule changed in deploy/alerts/definitions.ts changes the dashboard with it…
    const changed = ALERTS.map((a) => ({
      ...a,
      expr: a.expr
        .replaceAll(') > 20', ') > 45')
        .replaceAll('[30m]', '[1h]')
        .replace('clamp_min(3 * bulk_upload_probe_interval_seconds, 1800)', 'clamp_min(4 * bulk_upload_probe_interval_seconds, 3600)')
        .replace(
          'clamp_min(2 * bulk_upload_probe_interval_seconds + 300, 600)',
          'clamp_min(3 * bulk_upload_probe_interval_seconds + 120, 900)',
        ),
      after: a.after === undefined ? undefined : 3,
    }));
    expect(alertThresholds(changed)).toMatchObject({
      importSlowP90Seconds: 45,
      importSlowWindow: '1h',
      noSuccessIntervals: 4,
      noSuccessMinSeconds: 3600,
      notRunningIntervals: 3,
      notRunningGraceSeconds: 120,
      notRunningMinSeconds: 900,
      failuresInARow: 3,
    });
    // …and a rule whose shape the dashboard no longer understands stops the build, naming the rule.
    const reshaped = ALERTS.map((a) => (a.name === 'BulkUploadNoSuccess' ? { ...a, expr: 'vector(1)' } : a));
    expect(() => alertThresholds(reshaped)).toThrow(/BulkUploadNoSuccess/);
    expect(() => alertThresholds(ALERTS.filter((a) => a.name !== 'BulkUploadImportSlow'))).toThrow(/BulkUploadImportSlow/);

    const t = ALERT_THRESHOLDS;
    // …and the panels use them.
    for (const title of ['Canary queue wait (uploaded → import started)', 'Canary import time (started → finished)']) {
      const p = panel(title);
      expect(thresholdValues(p), title).toEqual([t.importSlowP90Seconds]);
      expect(p.targets?.map((q) => q.expr).join('\n')).toContain(`[${t.importSlowWindow}]`);
    }
    expect(thresholdValues(panel('Time since last success')).at(-1)).toBe(t.noSuccessMinSeconds);
    expect(thresholdValues(panel('Failed runs in a row')).at(-1)).toBe(t.failuresInARow);
    const waiting = panel('Waiting, share of the alert limit');
    expect(thresholdValues(waiting).at(-1)).toBe(1);
    const [noSuccessShare, notRunningShare] = waiting.targets!.map((q) => q.expr!);
    expect(noSuccessShare).toContain(
      `clamp_min(${t.noSuccessIntervals} * bulk_upload_probe_interval_seconds{job=~"$job",target=~"$target",probe=~"$probe",depth=~"$depth",job!="${SMOKE_JOB}"}, ${t.noSuccessMinSeconds})`,
    );
    expect(notRunningShare).toContain(`+ ${t.notRunningGraceSeconds}, ${t.notRunningMinSeconds})`);
  });

  it('marks firing BulkUpload alerts and smoke runs with annotations', () => {
    const list = (committed.annotations?.list ?? []) as { name: string; expr?: string; datasource?: { type?: string } }[];
    const alerts = list.find((a) => a.expr?.startsWith('ALERTS{'));
    expect(alerts?.expr).toContain('alertstate="firing"');
    expect(alerts?.expr).toContain('alertname=~"BulkUpload.*"');
    expect(alerts?.expr).toContain('job=~"$job|"');
    expect(alerts?.datasource?.type).toBe('prometheus');
    const smoke = list.filter((a) => a.expr?.includes(`job="${SMOKE_JOB}"`));
    expect(smoke.length).toBe(2);
    for (const a of smoke) for (const s of probeSelectors(a.expr!)) expect(s.matchers, a.name).toContain(`job="${SMOKE_JOB}"`);
  });

  it('dashboardExprs lists the panels, the annotations and the variables', () => {
    const wheres = dashboardExprs(committed).map((e) => e.where);
    expect(wheres).toContain('panel "Success ratio, last 30 days"');
    expect(wheres).toContain('annotation "Alerts firing"');
    expect(wheres).toContain('variable "target"');
  });
});
