// One-shot runs into Prometheus: `smoke --pushgateway URL` against TIS in a box pushes its
// result to Debian's real Pushgateway, where it reads back with the service's families and labels.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import axios from 'axios';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { clearFault } from '../../box/control-client.ts';
import { pushResults } from '../../src/metrics/push.ts';
import { FAILURE_REASONS } from '../../src/model/failures.ts';
import type { RunResult } from '../../src/model/result.ts';
import { startPushgateway, type Daemon } from './daemons.ts';
import { lintComplaints } from './promtool.ts';

const box = inject('box');
const root = fileURLToPath(new URL('../../', import.meta.url));
let dir: string;
let gateway: Daemon | undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bup-push-'));
  gateway = await startPushgateway(dir);
  await clearFault(box.urls.control);
});
afterAll(async () => {
  await gateway?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** The value of the sample with exactly these labels (in any order), if present. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-z_:][a-z0-9_:]*)\{(.*)\} (\S+)$/i.exec(line);
    if (!m || m[1] !== name) continue;
    const got = Object.fromEntries([...m[2]!.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1]!, l[2]!]));
    const want = Object.entries(labels);
    if (want.length === Object.keys(got).length && want.every(([k, v]) => got[k] === v)) return Number(m[3]);
  }
  return undefined;
}

async function gatewayMetrics(): Promise<string> {
  return (await axios.get<string>(`${gateway!.url}/metrics`, { timeout: 5000 })).data;
}

function runCli(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(root, 'bin/bulk-upload-probe.js'), ...args], { cwd: dir });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.on('exit', (code) => resolve({ code, out }));
  });
}

describe('smoke → Pushgateway', () => {
  it('a real smoke run pushes its result, readable with the same families and labels as the service', async () => {
    const r = await runCli(['smoke', '--target', 'box', '--config', box.configPath, '--probe', 'api', '--pushgateway', gateway!.url]);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain(`pushed to ${gateway!.url}`);

    const text = await gatewayMetrics();
    const g = { instance: '', job: 'bulk-upload-probe-smoke', probe: 'api', depth: 'full', target: 'box' };
    expect(sample(text, 'bulk_upload_probe_success', g)).toBe(1);
    expect(sample(text, 'bulk_upload_probe_runs_total', { ...g, result: 'success' })).toBe(1);
    expect(sample(text, 'bulk_upload_probe_runs_total', { ...g, result: 'failure' })).toBe(0);
    expect(sample(text, 'bulk_upload_probe_last_success_timestamp_seconds', g)).toBeGreaterThan(Date.now() / 1000 - 120);
    // Only full runs have a canary: its series carry no depth.
    const { depth: _depth, ...canary } = g;
    expect(sample(text, 'bulk_upload_probe_canary_queue_wait_seconds_count', canary)).toBe(1);
    expect(sample(text, 'bulk_upload_probe_step_duration_seconds_count', { ...g, step: 'upload' })).toBe(1);
    for (const reason of FAILURE_REASONS) expect(sample(text, 'bulk_upload_probe_failures_total', { ...g, reason }), reason).toBe(0);
    expect(sample(text, 'push_time_seconds', { instance: '', job: 'bulk-upload-probe-smoke', target: 'box' })).toBeGreaterThan(0);
    expect(lintComplaints(text, 'bulk_upload_probe_')).toEqual([]);
  }, 90_000);

  it('pushResults replaces the previous push for its grouping key, and keeps targets and instances apart', async () => {
    const now = new Date().toISOString();
    const failed: RunResult = {
      probe: 'browser',
      depth: 'full',
      target: 'stage',
      ok: false,
      reason: 'auth_rejected',
      failedStep: 'open_page',
      message: 'logged in, but the API answered 401',
      startedAt: now,
      finishedAt: now,
      durationSeconds: 3.2,
      steps: [{ name: 'login', ok: true, startedAt: now, durationSeconds: 1.1 }],
      http: { requests: 4, byClass: { '1xx': 0, '2xx': 3, '3xx': 0, '4xx': 1, '5xx': 0, none: 0 } },
    };
    await pushResults(gateway!.url, [failed], { instance: 'pipeline-42' });
    await pushResults(gateway!.url, [{ ...failed, reason: 'server_error' }], { instance: 'pipeline-42' });
    const text = await gatewayMetrics();
    const g = { instance: 'pipeline-42', job: 'bulk-upload-probe-smoke', probe: 'browser', depth: 'full', target: 'stage' };
    expect(sample(text, 'bulk_upload_probe_success', g)).toBe(0);
    expect(sample(text, 'bulk_upload_probe_failures_total', { ...g, reason: 'server_error' })).toBe(1);
    expect(sample(text, 'bulk_upload_probe_failures_total', { ...g, reason: 'auth_rejected' })).toBe(0);
    expect(sample(text, 'bulk_upload_probe_failure_reason', { ...g, reason: 'server_error' })).toBe(1);
    expect(sample(text, 'bulk_upload_probe_target_responses_total', { ...g, code_class: '4xx' })).toBe(1);
    // The box's smoke push (previous test) is still there: a different grouping key.
    expect(
      sample(text, 'bulk_upload_probe_success', {
        instance: '',
        job: 'bulk-upload-probe-smoke',
        probe: 'api',
        depth: 'full',
        target: 'box',
      }),
    ).toBe(1);
  });

  it('an unreachable Pushgateway is an error the caller sees', async () => {
    await expect(pushResults('http://127.0.0.1:1', [])).rejects.toThrow();
  });
});
