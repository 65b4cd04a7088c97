import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { EventEmitter } from 'node:events';
import axios from 'axios';
import type { Browser } from 'playwright-core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../../src/log.ts';
import { startService, type RunningService } from '../../../src/service/service.ts';
import type { ScheduledRunRequest } from '../../../src/service/scheduler.ts';
import type { RunResult } from '../../../src/model/result.ts';
import { lintComplaints } from '../../monitoring/promtool.ts';
import { fakeResult, testConfig } from '../../support/results.ts';

const http = axios.create({ validateStatus: () => true, timeout: 5000 });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let dir: string;
let service: RunningService | undefined;
let logLines: Record<string, unknown>[];

function capturingLogger() {
  const stream = new PassThrough();
  let buf = '';
  stream.on('data', (c: Buffer) => {
    buf += c.toString();
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      logLines.push(JSON.parse(buf.slice(0, i)) as Record<string, unknown>);
      buf = buf.slice(i + 1);
    }
  });
  return createLogger({ destination: stream, level: 'info' });
}

class FakeBrowser extends EventEmitter {
  isConnected() {
    return true;
  }
  async close() {}
}

/** No real Chromium in unit tests: the fake runners never use the browser they are handed. */
const fakeLaunch = async () => new FakeBrowser() as unknown as Browser;

async function until(check: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(20);
  }
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bup-service-'));
  logLines = [];
});
afterEach(async () => {
  await service?.stop();
  service = undefined;
  await rm(dir, { recursive: true, force: true });
});

/** browser runs succeed; api runs fail with auth_rejected and a message that needs escaping. */
function runner(calls: ScheduledRunRequest[], hold = 10) {
  return async (req: ScheduledRunRequest): Promise<RunResult> => {
    calls.push(req);
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, hold);
      req.signal?.addEventListener('abort', () => {
        clearTimeout(t);
        resolve();
      });
    });
    if (req.signal?.aborted) return { ...fakeResult({ probe: req.probe, reason: 'timeout' }), cancelled: true };
    if (req.probe === 'browser') return fakeResult({ probe: 'browser', ok: true, queueWaitSeconds: 1, importSeconds: 1 });
    return { ...fakeResult({ probe: 'api', reason: 'auth_rejected' }), message: 'GET /status answered 401 <script>' };
  };
}

describe('probe service', () => {
  it('serves metrics, health, readiness, recent runs and a status page; logs and records every run', async () => {
    const calls: ScheduledRunRequest[] = [];
    const config = testConfig({ historyFile: join(dir, 'history.jsonl'), interval: 0.1 });
    service = await startService({
      config,
      run: runner(calls),
      logger: capturingLogger(),
      port: 0,
      tickMs: 20,
      launchBrowser: async () => new FakeBrowser() as unknown as Browser,
    });
    expect(service.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await until(async () => (await service!.history.recent(10)).length >= 4);

    const metrics = await http.get(`${service.url}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.headers['content-type']).toMatch(/text\/plain/);
    expect(metrics.data).toMatch(/^bulk_upload_probe_success\{probe="browser",depth="full",target="box"\} 1$/m);
    expect(metrics.data).toMatch(/^bulk_upload_probe_success\{probe="api",depth="full",target="box"\} 0$/m);
    expect(metrics.data).toMatch(
      /^bulk_upload_probe_failures_total\{probe="api",depth="full",target="box",reason="auth_rejected"\} [1-9]\d*$/m,
    );
    expect(metrics.data).toMatch(/^bulk_upload_probe_failures_total\{probe="api",depth="full",target="box",reason="import_failed"\} 0$/m);
    expect(metrics.data).toMatch(/^process_cpu_seconds_total /m);
    expect(lintComplaints(metrics.data as string, 'bulk_upload_probe_')).toEqual([]);

    expect((await http.get(`${service.url}/healthz`)).status).toBe(200);
    expect((await http.get(`${service.url}/readyz`)).status).toBe(200);

    const runs = (await http.get(`${service.url}/api/runs?probe=api&limit=2`)).data as { runs: RunResult[] };
    expect(runs.runs).toHaveLength(2);
    expect(runs.runs[0]).toMatchObject({ probe: 'api', ok: false, reason: 'auth_rejected' });
    expect(runs.runs[0]!.steps.map((s) => s.name)).toEqual(['login', 'upload']);

    const page = await http.get(`${service.url}/`);
    expect(page.status).toBe(200);
    expect(page.data).toContain('auth_rejected');
    expect(page.data).toContain('answered 401 &lt;script&gt;');
    expect(page.data).not.toContain('<script>');

    const runLogs = logLines.filter((l) => l.event === 'run_finished');
    expect(runLogs.length).toBeGreaterThanOrEqual(4);
    expect(runLogs.find((l) => l.probe === 'api')).toMatchObject({ result: 'failure', reason: 'auth_rejected', level: 40, target: 'box' });
    expect(runLogs.find((l) => l.probe === 'browser')).toMatchObject({ result: 'success', level: 30, steps: { login: 0.7, upload: 1.2 } });
    // The browser probe got the one warm browser every time.
    const browsers = new Set(calls.filter((c) => c.probe === 'browser').map((c) => c.browser));
    expect(browsers.size).toBe(1);
    expect([...browsers][0]).toBeInstanceOf(FakeBrowser);
  });

  it('on stop cancels the run in flight, records it, then stops serving', async () => {
    const config = testConfig({ historyFile: join(dir, 'history.jsonl'), interval: 60 });
    const calls: ScheduledRunRequest[] = [];
    service = await startService({
      config: { ...config, probes: ['api'] },
      run: runner(calls, 60_000),
      logger: capturingLogger(),
      port: 0,
      tickMs: 20,
    });
    const url = service.url;
    await until(() => calls.length === 1);
    await service.stop();
    service = undefined;
    const lines = (await readFile(join(dir, 'history.jsonl'), 'utf8')).trim().split('\n');
    expect(lines.map((l) => JSON.parse(l) as RunResult)).toMatchObject([{ probe: 'api', cancelled: true }]);
    expect(logLines.find((l) => l.event === 'run_finished')).toMatchObject({ result: 'cancelled' });
    await expect(axios.get(`${url}/healthz`, { timeout: 2000 })).rejects.toThrow();
  });

  it('shows runs from before a restart, read back from the history', async () => {
    const config = testConfig({ historyFile: join(dir, 'history.jsonl'), interval: 60 });
    const first = await startService({
      config,
      run: runner([], 5),
      logger: capturingLogger(),
      port: 0,
      tickMs: 10,
      launchBrowser: fakeLaunch,
    });
    await until(async () => (await first.history.recent(5)).length >= 2);
    await first.stop();
    const before = (await first.history.recent(10)).find((r) => r.probe === 'browser' && r.ok)!;
    service = await startService({
      config,
      run: runner([], 60_000),
      logger: capturingLogger(),
      port: 0,
      tickMs: 10_000,
      launchBrowser: fakeLaunch,
    });
    const runs = (await http.get(`${service.url}/api/runs`)).data as { runs: RunResult[] };
    expect(runs.runs.length).toBeGreaterThanOrEqual(2);
    // The time of the last success survives the restart; the api probe never succeeded.
    const metrics = (await http.get(`${service.url}/metrics`)).data as string;
    expect(metrics).toContain(
      `bulk_upload_probe_last_success_timestamp_seconds{probe="browser",depth="full",target="box"} ${Date.parse(before.finishedAt) / 1000}`,
    );
    expect(metrics).not.toContain('bulk_upload_probe_last_success_timestamp_seconds{probe="api"');
    expect(metrics).not.toMatch(/^bulk_upload_probe_success\{/m);
  });

  it('/healthz stays healthy when the wall clock jumps 2 h either way during a run', async () => {
    const config = { ...testConfig({ historyFile: join(dir, 'history.jsonl'), interval: 60, runDeadline: 5 }), probes: ['api' as const] };
    const calls: ScheduledRunRequest[] = [];
    service = await startService({
      config,
      run: runner(calls, 60_000),
      logger: capturingLogger(),
      port: 0,
      tickMs: 20,
      graceSeconds: 1,
      launchBrowser: fakeLaunch,
    });
    await until(() => calls.length === 1);
    try {
      for (const jump of [2 * 3600_000, -2 * 3600_000]) {
        vi.setSystemTime(Date.now() + jump);
        const h = await http.get(`${service.url}/healthz`);
        expect(h.data).toMatchObject({ ok: true, problems: [] });
        expect(h.status).toBe(200);
        vi.useRealTimers();
      }
    } finally {
      vi.useRealTimers();
    }
  });

  it('starts over a damaged history: bad lines are skipped, logged once and counted', async () => {
    const file = join(dir, 'history.jsonl');
    const config = testConfig({ historyFile: file, interval: 60 });
    const good = fakeResult({ probe: 'browser', ok: true, at: new Date('2026-11-25T10:00:00Z') });
    await writeFile(
      file,
      [
        JSON.stringify(good),
        '{"probe":"api","ok":tr',
        'null',
        JSON.stringify({ probe: 'browser', steps: 7 }),
        '\u0000\u00ff garbage',
        '',
      ].join('\n'),
    );
    service = await startService({
      config,
      run: runner([], 60_000),
      logger: capturingLogger(),
      port: 0,
      tickMs: 10_000,
      launchBrowser: fakeLaunch,
    });
    const runs = (await http.get(`${service.url}/api/runs`)).data as { runs: RunResult[] };
    expect(runs.runs).toEqual([good]);
    expect((await http.get(`${service.url}/`)).status).toBe(200);
    expect((await http.get(`${service.url}/metrics`)).data).toMatch(/^bulk_upload_probe_history_bad_lines_total 4$/m);
    const warnings = logLines.filter((l) => l.event === 'history_bad_lines');
    expect(warnings).toMatchObject([{ level: 40, skipped: 4, file }]);
  });

  it('gives every run an id and a page (results without one get a derived id), logged with the run', async () => {
    const config = testConfig({ historyFile: join(dir, 'history.jsonl'), interval: 60 });
    service = await startService({
      config: { ...config, probes: ['api'] },
      // The scheduler's own results (timeouts, probe errors) come without an id.
      run: async () => ({ ...fakeResult({ probe: 'api', reason: 'auth_rejected' }), id: undefined }),
      logger: capturingLogger(),
      port: 0,
      tickMs: 10,
      launchBrowser: fakeLaunch,
    });
    await until(async () => (await service!.history.recent(5)).length >= 1);
    const [run] = ((await http.get(`${service.url}/api/runs`)).data as { runs: RunResult[] }).runs;
    expect(run!.id).toMatch(/^\d{8}T\d{6}Z-[0-9a-f]{6}$/);
    expect((await service.history.recent(1))[0]!.id).toBe(run!.id);
    const logged = logLines.find((l) => l.event === 'run_finished')!;
    expect(logged).toMatchObject({ runId: run!.id, runPage: `${service.url}/runs/${run!.id}` });
    const page = await http.get(`${service.url}/runs/${run!.id}`);
    expect(page.status).toBe(200);
    expect(page.data).toContain('auth_rejected');
    const last = await http.get(`${service.url}/targets/box/api/last-failure?depth=full`, { maxRedirects: 0 });
    expect(last.status).toBe(302);
    expect(last.headers.location).toBe(`/runs/${run!.id}`);
  });

  it('/healthz and /readyz answer 503 once the scheduler has stopped', async () => {
    const config = testConfig({ historyFile: join(dir, 'history.jsonl'), interval: 60 });
    service = await startService({ config, run: runner([], 5), logger: capturingLogger(), port: 0, tickMs: 10, launchBrowser: fakeLaunch });
    await service.scheduler.stop();
    const h = await http.get(`${service.url}/healthz`);
    expect(h.status).toBe(503);
    expect(h.data.problems).toContain('scheduler not running');
    expect((await http.get(`${service.url}/readyz`)).status).toBe(503);
  });
});
