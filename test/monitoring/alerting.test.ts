// Proof with real servers: the probe service watches TIS in a box; Debian's Prometheus scrapes
// it and evaluates the SHIPPED (generated) alert rules; Debian's Alertmanager, with the shipped
// routing AND its shipped timings (group_wait 30 s, group_interval 15 s), notifies a webhook
// receiver. Faults from both incidents are injected in turn. What is proven, from the runs'
// own end times (logic, not speed: the bounds are the pipeline's configured delays plus slack):
// - a diagnosis alert fires on the second failed run in a row with the same reason, never on the
//   first, and reaches the team within scrape + evaluation + group_wait of that run's end;
// - a second, different fault right after the first cleared (same alert, another reason: the
//   2021 pair) is its own notification, as fast;
// - recovery is announced within scrape + evaluation + group_interval of the first healthy run;
// - one isolated failed run among successes fires nothing.
// The measured times are printed at the end. Then every panel query of the committed dashboard
// must return data from that same Prometheus.
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import axios from 'axios';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { clearFault, setFault } from '../../box/control-client.ts';
import { DASHBOARD_FILE, panelQueries } from '../../deploy/dashboard/build.ts';
import { DEFAULT_RUNBOOK_BASE_URL } from '../../deploy/alerts/definitions.ts';
import { loadConfig } from '../../src/config/load.ts';
import type { Config } from '../../src/config/schema.ts';
import { createLogger } from '../../src/log.ts';
import type { RunResult } from '../../src/model/result.ts';
import { runProbe } from '../../src/run/runner.ts';
import type { ScheduledRunRequest } from '../../src/service/scheduler.ts';
import { startService, type RunningService } from '../../src/service/service.ts';
import { PrometheusApi, startAlertmanager, startPrometheus, waitFor, type Daemon, type PromAlert } from './daemons.ts';
import { lintComplaints, promtool } from './promtool.ts';
import { startWebhookReceiver, type Notification, type WebhookReceiver } from './webhook.ts';

const box = inject('box');
const root = fileURLToPath(new URL('../../', import.meta.url));
/** Prometheus scrapes and evaluates this often; the service probes every 5 s (+ up to 1 s). */
const PROM_INTERVAL_S = 2;
const PROBE_INTERVAL_S = 5;
/** The shipped Alertmanager route's timings (deploy/alertmanager/alertmanager.yml; checked below). */
const GROUP_WAIT_S = 30;
const GROUP_INTERVAL_S = 15;
/** Room for a loaded 2-core machine on top of each configured delay. */
const SLACK_S = 15;

let dir: string;
let service: RunningService | undefined;
let webhook: WebhookReceiver | undefined;
let alertmanager: Daemon | undefined;
let prometheus: Daemon | undefined;
let prom: PrometheusApi;
let testStart: Date;

/** Every run the service finished, in order (what the bounds are measured from). */
const runs: RunResult[] = [];
/** When set, runs go one at a time and the next API run meets this fault, on for that run only. */
let flap: { armed: boolean; fault: string } | undefined;
let queue: Promise<unknown> = Promise.resolve();

async function run(req: ScheduledRunRequest): Promise<RunResult> {
  const once = async (): Promise<RunResult> => {
    if (flap?.armed && req.probe === 'api') {
      flap.armed = false;
      await setFault(box.urls.control, flap.fault);
      try {
        return await runProbe(req);
      } finally {
        await clearFault(box.urls.control, flap.fault);
      }
    }
    return runProbe(req);
  };
  const result = flap ? await (queue = queue.then(once, once)) : await once();
  runs.push(result as RunResult);
  return result as RunResult;
}

interface Timing {
  what: string;
  /** Seconds from the fault to the second failed run's end, to firing in Prometheus, to the team's webhook. */
  secondRunS: number;
  firingS: number;
  notifiedS: number;
  /** Seconds from the fix to the first healthy run's end, and to the resolved notice. */
  healthyRunS?: number;
  resolvedS?: number;
}
const timings: Timing[] = [];

/** The box's own probe config, made quick: full runs every 5 s, no light runs, short step timeouts. */
async function quickConfig(): Promise<Config> {
  const base = await loadConfig(box.configPath);
  const target = base.targets.box!;
  const t = 20;
  return {
    ...base,
    schedule: { ...base.schedule, interval: PROBE_INTERVAL_S, light: false, retry: false, jitter: 1 },
    evidence: { dir: join(dir, 'evidence'), keep: 5 },
    history: { file: join(dir, 'history.jsonl'), maxBytes: 5_000_000, keep: 1 },
    browser: { ...base.browser, trace: false },
    targets: {
      box: {
        ...target,
        timeouts: {
          ...target.timeouts,
          login: t,
          openPage: t,
          listUploads: t,
          upload: t,
          importStarted: t,
          importFinished: t,
          checkResult: t,
          run: 60,
        },
      },
    },
  };
}

const named = (name: string) => (a: { labels: Record<string, string> }) => a.labels.alertname === name;
const seconds = (from: number, to: number) => Math.round((to - from) / 100) / 10;

async function alertsNamed(name: string, reason?: string): Promise<PromAlert[]> {
  return (await prom.alerts()).filter((a) => named(name)(a) && (!reason || a.labels.reason === reason));
}

function notified(name: string, status: 'firing' | 'resolved', after: number, reason?: string): Notification | undefined {
  return webhook!.notifications.find(
    (n) => n.receivedAt >= after && n.status === status && n.alerts.some((a) => named(name)(a) && (!reason || a.labels.reason === reason)),
  );
}

async function bothProbesHealthy(): Promise<boolean> {
  return (await prom.query('bulk_upload_probe_success{target="box"} == 1')).length === 2;
}

async function serviceLogTail(): Promise<string> {
  return (await readFile(join(dir, 'service.log'), 'utf8').catch(() => '')).split('\n').slice(-15).join('\n');
}

/**
 * End time (ms) of the first run ending after `after` that completes `n` failures in a row with
 * `reason` for its job (as the metrics count them: a run in flight when the fault came counts).
 */
function nthFailureInARow(reason: string, n: number, after: number): number | undefined {
  const streak = new Map<string, number>();
  for (const r of runs) {
    if (Date.parse(r.finishedAt) < after) continue;
    const job = `${r.probe}/${r.depth}`;
    const count = !r.ok && !r.cancelled && r.reason === reason ? (streak.get(job) ?? 0) + 1 : 0;
    streak.set(job, count);
    if (count === n) return Date.parse(r.finishedAt);
  }
  return undefined;
}

/** End time (ms) of the first healthy run that started after `after`. */
function firstHealthyRun(after: number): number | undefined {
  const r = runs.find((x) => x.ok && Date.parse(x.startedAt) >= after);
  return r && Date.parse(r.finishedAt);
}

/**
 * Injects a fault and follows the alert: not firing before the second failed run in a row has
 * ended, firing in Prometheus, at the team's webhook within scrape + evaluation + group_wait of
 * that run. Leaves the fault on.
 */
async function faultToNotice(fault: string, alert: string, reason: string): Promise<{ t0: number; timing: Timing }> {
  const t0 = Date.now();
  await setFault(box.urls.control, fault);
  await waitFor(
    async () => (await alertsNamed(alert, reason)).some((a) => a.state === 'firing'),
    `${alert} (${reason}) firing in Prometheus after ${fault}`,
    240_000,
    500,
  ).catch(async (e: Error) => {
    throw new Error(`${e.message}\nalerts: ${JSON.stringify(await prom.alerts())}\nservice log:\n${await serviceLogTail()}`);
  });
  const firingAt = Date.now();
  const second = nthFailureInARow(reason, 2, t0);
  expect(second, `a second failed run in a row with ${reason} before ${alert} fired`).toBeDefined();
  // Never on the first failed run: Prometheus saw the alert only after the second had ended.
  const firing = (await alertsNamed(alert, reason)).find((a) => a.state === 'firing')!;
  expect(Date.parse(firing.activeAt)).toBeGreaterThanOrEqual(second! - 1000);
  expect(firing.labels).toMatchObject({ target: 'box', reason, severity: 'critical', team: 'bulk-upload', service: 'bulk-upload' });

  await waitFor(async () => notified(alert, 'firing', t0, reason) !== undefined, `${alert} at the webhook`, 90_000);
  const notice = notified(alert, 'firing', t0, reason)!;
  expect(notice.receiver).toBe('bulk-upload-team');
  const a = notice.alerts.find(named(alert))!;
  expect(a.labels).toMatchObject({ target: 'box', reason, team: 'bulk-upload' });
  expect(a.annotations.runbook_url).toBe(`${DEFAULT_RUNBOOK_BASE_URL}#${alert.toLowerCase()}`);
  expect(a.annotations.likely_cause?.length).toBeGreaterThan(10);
  expect(a.annotations.message?.length).toBeGreaterThan(5);
  // The evidence link opens the failed run's page on the service (an absolute URL, status_url + path).
  expect(a.annotations.evidence_url).toMatch(new RegExp(`^${service!.url}/targets/box/(api|browser)/last-failure\\?depth=full$`));
  const page = await axios.get<string>(a.annotations.evidence_url!, { validateStatus: () => true });
  expect(page.status).toBe(200);
  expect(page.data).toContain(reason);

  // Within the pipeline's own delays of the second failed run's end: scrape, evaluation, group_wait.
  const bound = 2 * PROM_INTERVAL_S + GROUP_WAIT_S + SLACK_S;
  expect(seconds(second!, notice.receivedAt)).toBeLessThanOrEqual(bound);
  const timing = {
    what: `${fault} → ${alert} (${reason})`,
    secondRunS: seconds(t0, second!),
    firingS: seconds(t0, firingAt),
    notifiedS: seconds(t0, notice.receivedAt),
  };
  timings.push(timing);
  return { t0, timing };
}

/** Clears the fault and follows the alert to its resolved notice, within scrape + evaluation + group_interval of the first healthy run. */
async function fixToResolved(fault: string, alert: string, reason: string, timing: Timing): Promise<void> {
  const t1 = Date.now();
  await clearFault(box.urls.control, fault);
  await waitFor(async () => notified(alert, 'resolved', t1, reason) !== undefined, `${alert} resolved at the webhook`, 120_000, 500);
  const resolvedAt = notified(alert, 'resolved', t1, reason)!.receivedAt;
  const healthy = firstHealthyRun(t1);
  expect(healthy, 'a healthy run after the fix').toBeDefined();
  expect(seconds(healthy!, resolvedAt)).toBeLessThanOrEqual(2 * PROM_INTERVAL_S + GROUP_INTERVAL_S + SLACK_S);
  timing.healthyRunS = seconds(t1, healthy!);
  timing.resolvedS = seconds(t1, resolvedAt);
}

/** A failed step leaves no fault on for the tests after it. */
async function clearingFaults(body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (e) {
    await clearFault(box.urls.control).catch(() => undefined);
    throw e;
  }
}

describe('alerting with real Prometheus and Alertmanager against TIS in a box', () => {
  beforeAll(async () => {
    testStart = new Date();
    dir = await mkdtemp(join(tmpdir(), 'bup-alerting-'));
    await clearFault(box.urls.control);
    service = await startService({
      config: await quickConfig(),
      run,
      logger: createLogger({ destination: createWriteStream(join(dir, 'service.log')) }),
      port: 0,
    });
    webhook = await startWebhookReceiver();
    alertmanager = await startAlertmanager({
      dir,
      shippedConfig: join(root, 'deploy/alertmanager/alertmanager.yml'),
      webhookUrl: webhook.url,
      shippedTimings: true,
    });
    prometheus = await startPrometheus({
      dir,
      rulesFile: join(root, 'deploy/prometheus/alerts.yml'),
      scrapeTarget: new URL(service.url).host,
      alertmanagerUrl: alertmanager.url,
      intervalSeconds: PROM_INTERVAL_S,
      externalLabels: { status_url: service.url },
    });
    prom = new PrometheusApi(prometheus.url);
    await waitFor(
      async () => (await prom.query('up{job="bulk-upload-probe"} == 1')).length === 1,
      'Prometheus scraping the service',
      30_000,
    );
  });

  afterAll(async () => {
    if (timings.length) {
      console.log(
        [
          `fault → team timings (seconds; probe every ${PROBE_INTERVAL_S} s + ≤1 s, Prometheus every ${PROM_INTERVAL_S} s, ` +
            `Alertmanager as shipped: group_wait ${GROUP_WAIT_S} s, group_interval ${GROUP_INTERVAL_S} s):`,
          ...timings.map(
            (t) =>
              `  ${t.what}: 2nd failed run ended ${t.secondRunS}, firing ${t.firingS}, team notified ${t.notifiedS}` +
              (t.resolvedS === undefined ? '' : `; fixed → healthy run ${t.healthyRunS}, resolved notice ${t.resolvedS}`),
          ),
        ].join('\n'),
      );
    }
    await clearFault(box.urls.control).catch(() => undefined);
    await prometheus?.stop();
    await alertmanager?.stop();
    await webhook?.close();
    await service?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('the route under test has the timings the bounds use', async () => {
    const text = await readFile(join(root, 'deploy/alertmanager/alertmanager.yml'), 'utf8');
    expect(text).toMatch(new RegExp(`^  group_wait: ${GROUP_WAIT_S}s$`, 'm'));
    expect(text).toMatch(new RegExp(`^  group_interval: ${GROUP_INTERVAL_S}s$`, 'm'));
  });

  it('the real service exposes metrics promtool has nothing to say about, and both probes pass on a healthy box', async () => {
    const text = (await axios.get<string>(`${service!.url}/metrics`)).data;
    expect(text).toContain('bulk_upload_probe_failures_total{probe="browser",depth="full",target="box",reason="auth_rejected"} 0');
    await waitFor(bothProbesHealthy, 'both probes healthy', 90_000, 1000);
    const after = (await axios.get<string>(`${service!.url}/metrics`)).data;
    expect(after).toMatch(/^bulk_upload_probe_canary_import_duration_seconds_count\{probe="api",target="box"\} [1-9]/m);
    expect(lintComplaints(after, 'bulk_upload_probe_')).toEqual([]);
    expect(promtool(['check', 'metrics'], after).lines).toEqual([]); // process metrics included
    expect((await prom.alerts()).filter((a) => a.state === 'firing')).toEqual([]);
  });

  it('stale-config (incident 2024-10-15): BulkUploadAuthRejected reaches the team after the second failed run, and its recovery is announced', async () => {
    await waitFor(bothProbesHealthy, 'both probes healthy before the fault', 90_000, 1000);
    await clearingFaults(async () => {
      const { timing } = await faultToNotice('stale-config', 'BulkUploadAuthRejected', 'auth_rejected');
      expect(await alertsNamed('BulkUploadImportFailing')).toEqual([]);
      await fixToResolved('stale-config', 'BulkUploadAuthRejected', 'auth_rejected', timing);
    });
  }, 420_000);

  it('service-account-disabled, then right after it cleared service-account-inactive-in-profile (incident 2021-03-18): two notices, the second as fast', async () => {
    await waitFor(bothProbesHealthy, 'both probes healthy before the fault', 90_000, 1000);
    await clearingFaults(async () => {
      const first = await faultToNotice('service-account-disabled', 'BulkUploadImportFailing', 'import_failed');
      await fixToResolved('service-account-disabled', 'BulkUploadImportFailing', 'import_failed', first.timing);
      // Same alert and target, another reason: its own group, so no wait for the first group's next tick.
      const second = await faultToNotice('service-account-inactive-in-profile', 'BulkUploadImportFailing', 'import_wrong_result');
      expect(second.timing.notifiedS - second.timing.secondRunS).toBeLessThanOrEqual(2 * PROM_INTERVAL_S + GROUP_WAIT_S + SLACK_S);
      await fixToResolved('service-account-inactive-in-profile', 'BulkUploadImportFailing', 'import_wrong_result', second.timing);
    });
  }, 600_000);

  it('one isolated failed run among successes fires nothing', async () => {
    await waitFor(bothProbesHealthy, 'both probes healthy', 90_000, 1000);
    const t0 = Date.now();
    flap = { armed: true, fault: 'stale-config' };
    try {
      await waitFor(async () => runs.some((r) => !r.ok && Date.parse(r.startedAt) >= t0), 'the one failed run', 60_000, 500);
      const failedAt = Date.parse(runs.find((r) => !r.ok && Date.parse(r.startedAt) >= t0)!.finishedAt);
      // Then two healthy runs of each probe, and time for Prometheus to evaluate them all.
      await waitFor(
        async () =>
          ['api', 'browser'].every((p) => runs.filter((r) => r.probe === p && r.ok && Date.parse(r.startedAt) > failedAt).length >= 2),
        'two healthy runs of each probe after the failed one',
        120_000,
        500,
      );
      await new Promise((r) => setTimeout(r, 3 * PROM_INTERVAL_S * 1000));
      expect(runs.filter((r) => !r.ok && Date.parse(r.startedAt) >= t0)).toHaveLength(1);
      const alerts = (await prom.alerts()).filter((a) => a.labels.alertname !== 'BulkUploadProbeFailing' || a.state === 'firing');
      expect(alerts).toEqual([]);
      expect(webhook!.notifications.filter((n) => n.receivedAt >= t0 && n.status === 'firing')).toEqual([]);
    } finally {
      flap = undefined;
    }
  }, 300_000);

  it('every panel query of the committed dashboard returns data from the real Prometheus', async () => {
    const panels = panelQueries(JSON.parse(await readFile(DASHBOARD_FILE, 'utf8')));
    expect(panels.length).toBeGreaterThan(0);
    const empty: string[] = [];
    for (const p of panels) {
      for (const expr of p.exprs) {
        const q = expr
          .replaceAll('$job', 'bulk-upload-probe')
          .replaceAll('$target', 'box')
          .replaceAll('$probe', '.*')
          .replaceAll('$depth', '.*')
          .replaceAll('$__rate_interval', '1m');
        const series = await prom.queryRange(q, testStart, new Date(), 5);
        if (!series.some((s) => s.values.length > 0)) empty.push(`${p.title}: ${q}`);
      }
    }
    expect(empty).toEqual([]);
  });
});
