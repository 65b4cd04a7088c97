// Proof with real servers: the probe service watches TIS in a box; Debian's Prometheus scrapes
// it and evaluates the SHIPPED alert rules; Debian's Alertmanager (with the shipped example
// routing) notifies a webhook receiver. The 2024 fault (stale-config) and the 2021 fault
// (service-account-disabled) are injected in turn: the intended alert must reach firing in
// Prometheus, arrive at the webhook, and resolve once the fault is cleared. Then every panel
// query of the committed dashboard must return data from that same Prometheus.
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import axios from 'axios';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { clearFault, setFault } from '../../box/control-client.ts';
import { DASHBOARD_FILE, panelQueries } from '../../deploy/dashboard/build.ts';
import { loadConfig } from '../../src/config/load.ts';
import type { Config } from '../../src/config/schema.ts';
import { createLogger } from '../../src/log.ts';
import { runProbe } from '../../src/run/runner.ts';
import { startService, type RunningService } from '../../src/service/service.ts';
import { PrometheusApi, startAlertmanager, startPrometheus, waitFor, type Daemon, type PromAlert } from './daemons.ts';
import { lintComplaints, promtool } from './promtool.ts';
import { startWebhookReceiver, type Notification, type WebhookReceiver } from './webhook.ts';

const box = inject('box');
const root = fileURLToPath(new URL('../../', import.meta.url));
/** Prometheus scrapes and evaluates this often; the service probes every 5 s (+ up to 1 s). */
const PROM_INTERVAL_S = 2;

let dir: string;
let service: RunningService | undefined;
let webhook: WebhookReceiver | undefined;
let alertmanager: Daemon | undefined;
let prometheus: Daemon | undefined;
let prom: PrometheusApi;
let testStart: Date;

interface Timing {
  fault: string;
  alert: string;
  pendingS: number;
  firingS: number;
  webhookFiringS: number;
  resolvedS: number;
  webhookResolvedS: number;
}
const timings: Timing[] = [];

/** The box's own probe config, made quick: runs every 5 s with short step timeouts. */
async function quickConfig(): Promise<Config> {
  const base = await loadConfig(box.configPath);
  const target = base.targets.box!;
  const t = 20;
  return {
    ...base,
    schedule: { ...base.schedule, interval: 5, light: false, retry: false, jitter: 1 },
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

const since = (t0: number) => Math.round((Date.now() - t0) / 100) / 10;
const named = (name: string) => (a: { labels: Record<string, string> }) => a.labels.alertname === name;

async function alertsNamed(name: string): Promise<PromAlert[]> {
  return (await prom.alerts()).filter(named(name));
}

function webhookHas(name: string, status: 'firing' | 'resolved', after: number): Notification | undefined {
  return webhook!.notifications.find((n) => n.receivedAt >= after && n.status === status && n.alerts.some(named(name)));
}

async function bothProbesHealthy(): Promise<boolean> {
  const r = await prom.query('bulk_upload_probe_success{target="box"} == 1');
  return r.length === 2;
}

async function serviceLogTail(): Promise<string> {
  return (await readFile(join(dir, 'service.log'), 'utf8').catch(() => '')).split('\n').slice(-15).join('\n');
}

/**
 * Injects a fault and follows the alert through Prometheus (pending → firing), Alertmanager
 * (webhook firing), then clears it and follows it to resolved in both.
 */
async function faultToAlert(fault: string, alert: string, reason: string, mustNotFire: string): Promise<void> {
  await waitFor(bothProbesHealthy, 'both probes healthy before the fault', 90_000, 1000);
  const t0 = Date.now();
  await setFault(box.urls.control, fault);
  let pendingS = NaN;
  // Told apart: the other incident's alert must stay quiet throughout (not even pending).
  const wrongAlerts: PromAlert[] = [];
  await waitFor(
    async () => {
      const mine = await alertsNamed(alert);
      if (Number.isNaN(pendingS) && mine.length > 0) pendingS = since(t0);
      wrongAlerts.push(...(await alertsNamed(mustNotFire)));
      return mine.some((a) => a.state === 'firing');
    },
    `${alert} firing in Prometheus after ${fault}`,
    240_000,
    1000,
  ).catch(async (e: Error) => {
    throw new Error(`${e.message}\nalerts: ${JSON.stringify(await prom.alerts())}\nservice log:\n${await serviceLogTail()}`);
  });
  const firingS = since(t0);
  expect(wrongAlerts).toEqual([]);
  const firing = (await alertsNamed(alert)).filter((a) => a.state === 'firing');
  expect(firing[0]!.labels).toMatchObject({ target: 'box', reason, severity: 'critical', job: 'bulk-upload-probe' });
  expect(firing[0]!.annotations.runbook_url).toBe(`README.md#${alert.toLowerCase()}`);

  await waitFor(async () => webhookHas(alert, 'firing', t0) !== undefined, `${alert} at the webhook`, 30_000);
  const webhookFiringS = since(t0);
  const note = webhookHas(alert, 'firing', t0)!;
  expect(note.receiver).toBe('bulk-upload-team');
  expect(note.alerts.find(named(alert))!.labels).toMatchObject({ target: 'box', reason });

  const t1 = Date.now();
  await clearFault(box.urls.control, fault);
  await waitFor(async () => (await alertsNamed(alert)).length === 0, `${alert} resolved in Prometheus`, 120_000, 1000);
  const resolvedS = since(t1);
  await waitFor(async () => webhookHas(alert, 'resolved', t1) !== undefined, `${alert} resolved at the webhook`, 30_000);
  const webhookResolvedS = since(t1);
  timings.push({ fault, alert, pendingS, firingS, webhookFiringS, resolvedS, webhookResolvedS });
}

describe('alerting with real Prometheus and Alertmanager against TIS in a box', () => {
  beforeAll(async () => {
    testStart = new Date();
    dir = await mkdtemp(join(tmpdir(), 'bup-alerting-'));
    await clearFault(box.urls.control);
    service = await startService({
      config: await quickConfig(),
      run: runProbe,
      logger: createLogger({ destination: createWriteStream(join(dir, 'service.log')) }),
      port: 0,
    });
    webhook = await startWebhookReceiver();
    alertmanager = await startAlertmanager({
      dir,
      shippedConfig: join(root, 'deploy/alertmanager/alertmanager.yml'),
      webhookUrl: webhook.url,
    });
    prometheus = await startPrometheus({
      dir,
      rulesFile: join(root, 'deploy/prometheus/alerts.yml'),
      scrapeTarget: new URL(service.url).host,
      alertmanagerUrl: alertmanager.url,
      intervalSeconds: PROM_INTERVAL_S,
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
          'fault → alert timings (seconds; Prometheus scrape/evaluation every 2 s, probe every 5 s + ≤1 s jitter, rule for: 2m):',
          ...timings.map(
            (t) =>
              `  ${t.fault} → ${t.alert}: pending ${t.pendingS}, firing ${t.firingS}, at webhook ${t.webhookFiringS}; ` +
              `cleared → resolved ${t.resolvedS}, resolved at webhook ${t.webhookResolvedS}`,
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

  it('stale-config (incident 2024-10-15) fires BulkUploadAuthRejected, notifies through Alertmanager, and resolves', async () => {
    await faultToAlert('stale-config', 'BulkUploadAuthRejected', 'auth_rejected', 'BulkUploadImportFailing');
  }, 420_000);

  it('service-account-disabled (incident 2021-03-18) fires BulkUploadImportFailing, notifies through Alertmanager, and resolves', async () => {
    await faultToAlert('service-account-disabled', 'BulkUploadImportFailing', 'import_failed', 'BulkUploadAuthRejected');
  }, 420_000);

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
