// Debian's Prometheus, Alertmanager and Pushgateway, started for real on loopback ports with
// throw-away storage, and stopped by PID.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import axios from 'axios';
import { parse, stringify } from 'yaml';

export interface Daemon {
  name: string;
  pid: number;
  url: string;
  logFile: string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs: number, everyMs = 250): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Stops a child by PID: SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
export async function stopChild(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  process.kill(child.pid, 'SIGTERM');
  const killed = await Promise.race([exited.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), graceMs))]);
  if (killed && child.exitCode === null && child.signalCode === null) {
    process.kill(child.pid, 'SIGKILL');
    await exited;
  }
}

/** Starts `command` (logging to `dir/name.log`) and waits until `readyPath` on `port` answers 200. */
export async function startDaemon(
  name: string,
  command: string,
  args: string[],
  dir: string,
  port: number,
  readyPath: string,
): Promise<Daemon> {
  const logFile = join(dir, `${name}.log`);
  const log = createWriteStream(logFile);
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}`);
        return (await axios.get(`${url}${readyPath}`, { timeout: 1000, validateStatus: () => true })).status === 200;
      },
      `${name} on ${url}`,
      30_000,
    );
  } catch (e) {
    await stopChild(child);
    throw new Error(`${(e as Error).message}\n${await readFile(logFile, 'utf8').catch(() => '')}`, { cause: e });
  }
  return { name, pid: child.pid!, url, logFile, stop: () => stopChild(child) };
}

export interface PrometheusOptions {
  dir: string;
  rulesFile: string;
  /** host:port of the probe service to scrape. */
  scrapeTarget: string;
  alertmanagerUrl: string;
  intervalSeconds: number;
  /** global.external_labels (the alert rules read status_url, runbook_base_url, dashboard_url). */
  externalLabels?: Record<string, string>;
}

export async function startPrometheus(o: PrometheusOptions): Promise<Daemon> {
  const port = await freePort();
  const configFile = join(o.dir, 'prometheus.yml');
  await writeFile(
    configFile,
    stringify({
      global: {
        scrape_interval: `${o.intervalSeconds}s`,
        evaluation_interval: `${o.intervalSeconds}s`,
        ...(o.externalLabels ? { external_labels: o.externalLabels } : {}),
      },
      rule_files: [o.rulesFile],
      alerting: { alertmanagers: [{ static_configs: [{ targets: [new URL(o.alertmanagerUrl).host] }] }] },
      scrape_configs: [{ job_name: 'bulk-upload-probe', static_configs: [{ targets: [o.scrapeTarget] }] }],
    }),
  );
  return startDaemon(
    'prometheus',
    'prometheus',
    [`--config.file=${configFile}`, `--storage.tsdb.path=${join(o.dir, 'prometheus-data')}`, `--web.listen-address=127.0.0.1:${port}`],
    o.dir,
    port,
    '/-/ready',
  );
}

export interface AlertmanagerOptions {
  dir: string;
  /** The shipped example configuration; its receivers are pointed at `webhookUrl/<receiver>`. */
  shippedConfig: string;
  webhookUrl: string;
  /** Keep the shipped group_wait / group_interval / repeat_interval (default: shortened to 1 s / 2 s / 1 h). */
  shippedTimings?: boolean;
}

export async function startAlertmanager(o: AlertmanagerOptions): Promise<Daemon> {
  const port = await freePort();
  const config = parse(await readFile(o.shippedConfig, 'utf8')) as {
    route: Record<string, unknown>;
    receivers: { name: string; webhook_configs?: { url: string }[] }[];
  };
  // Same routes, receivers and inhibitions; only the timings are shortened for the test.
  if (!o.shippedTimings) Object.assign(config.route, { group_wait: '1s', group_interval: '2s', repeat_interval: '1h' });
  for (const r of config.receivers) for (const w of r.webhook_configs ?? []) w.url = `${o.webhookUrl}/${r.name}`;
  const configFile = join(o.dir, 'alertmanager.yml');
  await writeFile(configFile, stringify(config));
  return startDaemon(
    'alertmanager',
    'prometheus-alertmanager',
    [
      `--config.file=${configFile}`,
      `--storage.path=${join(o.dir, 'alertmanager-data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--cluster.listen-address=',
    ],
    o.dir,
    port,
    '/-/ready',
  );
}

export async function startPushgateway(dir: string): Promise<Daemon> {
  const port = await freePort();
  // Debian's default persists to /var/lib/prometheus: keep pushes in memory only.
  return startDaemon(
    'pushgateway',
    'prometheus-pushgateway',
    [`--web.listen-address=127.0.0.1:${port}`, '--persistence.file='],
    dir,
    port,
    '/-/ready',
  );
}

export interface PromAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: 'pending' | 'firing';
  activeAt: string;
}

/** A little Prometheus HTTP API client. */
export class PrometheusApi {
  constructor(readonly url: string) {}

  async alerts(): Promise<PromAlert[]> {
    const r = await axios.get<{ data: { alerts: PromAlert[] } }>(`${this.url}/api/v1/alerts`, { timeout: 5000 });
    return r.data.data.alerts;
  }

  async query(expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
    const r = await axios.get<{ data: { result: { metric: Record<string, string>; value: [number, string] }[] } }>(
      `${this.url}/api/v1/query`,
      { params: { query: expr }, timeout: 5000 },
    );
    return r.data.data.result;
  }

  async queryRange(
    expr: string,
    start: Date,
    end: Date,
    stepSeconds: number,
  ): Promise<{ metric: Record<string, string>; values: [number, string][] }[]> {
    const r = await axios.get<{ data: { result: { metric: Record<string, string>; values: [number, string][] }[] } }>(
      `${this.url}/api/v1/query_range`,
      { params: { query: expr, start: start.getTime() / 1000, end: end.getTime() / 1000, step: stepSeconds }, timeout: 10_000 },
    );
    return r.data.data.result;
  }
}
