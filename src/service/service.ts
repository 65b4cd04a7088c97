// The long-running probe service: scheduler → runner; each result → metrics, run history,
// recent runs and one structured log line; an HTTP server shows them.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from '../config/schema.ts';
import { RunHistory } from '../history.ts';
import type { Logger } from '../log.ts';
import { ProbeMetrics, runResultLabel } from '../metrics/registry.ts';
import type { RunResult } from '../model/result.ts';
import { runIdOf } from '../model/run-id.ts';
import { createApp, STRIP_RUNS } from '../server/app.ts';
import { startFront, type Front } from '../server/front.ts';
import type { HealthReport } from '../server/health.ts';
import { VERSION } from '../version.ts';
import { RecentRuns } from './recent-runs.ts';
import { footprintLine, rowsPerDay, Scheduler, type RunFn } from './scheduler.ts';
import { JobRuns } from './job-runs.ts';
import { WarmBrowser, type BrowserLauncher } from './warm-browser.ts';
import { launchBrowserProcess } from '../browser/launch.ts';
import { resolveProxy } from '../config/network.ts';

export interface ServiceOptions {
  config: Config;
  /** Watch only these targets (default: all). */
  targets?: string[];
  run: RunFn;
  logger: Logger;
  /** Override config.server (tests pass port 0). */
  host?: string;
  port?: number;
  tickMs?: number;
  graceSeconds?: number;
  /** Monotonic clock in ms for the scheduler and health (default performance.now). */
  now?: () => number;
  launchBrowser?: BrowserLauncher;
}

export interface RunningService {
  /** Base URL of the HTTP server, e.g. http://127.0.0.1:9687 */
  url: string;
  metrics: ProbeMetrics;
  scheduler: Scheduler;
  history: RunHistory;
  browser: WarmBrowser;
  /** Aborts runs in flight (recorded as cancelled), closes the browser and the server. */
  stop(): Promise<void>;
}

/** The fields of a run that go into its log line: everything but bulky detail. */
export function runLogFields(r: RunResult): Record<string, unknown> {
  return {
    event: 'run_finished',
    runId: r.id,
    probe: r.probe,
    depth: r.depth,
    target: r.target,
    result: runResultLabel(r),
    ok: r.ok,
    reason: r.reason,
    failedStep: r.failedStep,
    message: r.message,
    likelyCause: r.likelyCause,
    durationSeconds: r.durationSeconds,
    steps: Object.fromEntries(r.steps.map((s) => [s.name, s.durationSeconds])),
    http: r.http.byClass,
    firstBadResponse: r.http.firstBad ? { status: r.http.firstBad.status, url: r.http.firstBad.url } : undefined,
    canary: r.canary && {
      fileName: r.canary.fileName,
      status: r.canary.status,
      numberOfErrors: r.canary.numberOfErrors,
      numberImported: r.canary.numberImported,
      reasonText: r.canary.reasonText,
      queueWaitSeconds: r.canary.queueWaitSeconds,
      importSeconds: r.canary.importSeconds,
    },
    evidenceDir: r.evidenceDir,
  };
}

/** Runs read back from the history at start (enough for every job's strip). */
const HISTORY_READ = 5000;

/**
 * The runs from before this start. An unreadable history (or lines of it) never stops the
 * service: skipped lines are counted, logged once and exposed as a metric.
 */
async function readHistory(history: RunHistory, metrics: ProbeMetrics, logger: Logger, limit: number): Promise<RunResult[]> {
  try {
    const { runs, skipped } = await history.read(limit);
    if (skipped > 0) {
      metrics.historyLinesSkipped(skipped);
      logger.warn({ event: 'history_bad_lines', file: history.file, skipped }, `run history: ${skipped} unreadable line(s) skipped`);
    }
    return runs;
  } catch (err) {
    logger.error({ event: 'history_read_failed', file: history.file, err }, 'run history not read; starting without it');
    return [];
  }
}

export async function startService(opts: ServiceOptions): Promise<RunningService> {
  const { config, logger } = opts;
  const tickMs = opts.tickMs ?? 1000;
  // How long a silent scheduler (and, in the HTTP front, a silent service) is waited for before it is unhealthy.
  const silentAfterMs = Math.max(10_000, 5 * tickMs);
  const metrics = new ProbeMetrics({ processMetrics: true });
  const history = new RunHistory(config.history);
  const recent = new RecentRuns(200);
  // Each job's last runs, for the status page's strips and run pages: 60 full runs span 15 hours.
  const jobRuns = new JobRuns(STRIP_RUNS);
  const past = await readHistory(history, metrics, logger, HISTORY_READ);
  recent.addAll(past.slice(-200));
  jobRuns.addAll(past);
  // Chromium is driven from a process of its own (launchBrowserProcess): the work of driving it
  // stays off the event loop that answers /metrics and /healthz. The proxy (the file's, else the
  // environment's) is resolved at each launch: a relaunch reads a changed secret file.
  const launch = opts.launchBrowser ?? launchBrowserProcess;
  const browser = new WarmBrowser(config.browser, logger, async (s) => launch({ ...s, proxy: await resolveProxy(config) }));

  let baseUrl = '';
  // The HTTP front answers /metrics, /healthz and /readyz from what this thread sends it: the
  // metrics after every change and every second (for the figures read as they are scraped:
  // process, slots), the health after every scheduler tick.
  let front: Front | undefined;
  const sendHealth = (): void => front?.send({ health: health(), ready: scheduler.isRunning });
  const sendMetrics = async (): Promise<void> => {
    if (!front) return;
    try {
      front.send({ metrics: await metrics.metrics(), contentType: metrics.contentType, health: health(), ready: scheduler.isRunning });
    } catch (err) {
      logger.error({ event: 'metrics_render_failed', err }, 'metrics not rendered');
    }
  };

  const record = async (result: RunResult): Promise<void> => {
    // Every run has an id for its page; results the scheduler makes itself come without one.
    const r = result.id ? result : { ...result, id: runIdOf(result) };
    metrics.record(r);
    // Before anything else is awaited: whoever learns of this run next sees it in /metrics.
    await sendMetrics();
    recent.add(r);
    jobRuns.add(r);
    const fields = { ...runLogFields(r), runPage: `${baseUrl}/runs/${r.id}` };
    const run = `${r.probe} (${r.depth}) → ${r.target}`;
    if (r.ok || r.cancelled) logger.info(fields, `${run}: ${runResultLabel(r)}`);
    else logger.warn(fields, `${run}: ${r.reason ?? 'failure'}: ${r.message}`);
    await history.append(r).catch((err: unknown) => logger.error({ event: 'history_write_failed', err }, 'run history not written'));
  };

  const scheduler = new Scheduler({
    config,
    targets: opts.targets,
    run: opts.run,
    onResult: record,
    browser: () => browser.get(),
    logger,
    tickMs,
    graceSeconds: opts.graceSeconds,
    now: opts.now,
    onStart: (job, waited) => {
      metrics.runStarted(job.probe, waited);
      void sendMetrics();
    },
    onTick: () => sendHealth(),
  });
  metrics.watchSlots(config.schedule.maxConcurrentRuns, () => scheduler.waitingRuns());
  for (const job of scheduler.jobs) {
    metrics.prepare(job.probe, job.depth, job.targetName, job.intervalSeconds);
    const lastSuccess = recent
      .list({ probe: job.probe, target: job.targetName })
      .find((r) => r.depth === job.depth && r.ok && !r.cancelled);
    if (lastSuccess) metrics.restoreLastSuccess(lastSuccess);
  }

  const health = (): HealthReport => {
    const problems: string[] = [];
    if (!scheduler.isRunning) problems.push('scheduler not running');
    if (scheduler.isRunning) {
      // Monotonic: a wall-clock jump must not look like a stalled scheduler.
      const sinceTick = scheduler.sinceLastTickMs();
      if (sinceTick === undefined) problems.push('scheduler has not ticked yet');
      else if (sinceTick > silentAfterMs) problems.push(`scheduler last ticked ${Math.round(sinceTick / 1000)} s ago`);
    }
    for (const j of scheduler.overdueJobs()) problems.push(`${j.probe} → ${j.target} stuck since ${j.runningSince}`);
    return {
      ok: problems.length === 0,
      problems,
      lastTickAt: scheduler.lastTickAt ? new Date(scheduler.lastTickAt).toISOString() : undefined,
    };
  };

  const app = createApp({
    health,
    runs: (f) => recent.list(f),
    jobs: () => scheduler.states(),
    version: VERSION,
    evidenceDir: config.evidence.dir,
    jobRuns: (j) => jobRuns.list(j),
  });
  // The service's own server, on loopback only: the front passes it every request but the three above.
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(0, '127.0.0.1', (err?: Error) => (err ? reject(err) : resolve(s)));
    s.once('error', reject);
  });
  const host = opts.host ?? config.server.host;
  try {
    front = await startFront({
      host,
      port: opts.port ?? config.server.port,
      backendPort: (server.address() as AddressInfo).port,
      staleAfterMs: silentAfterMs,
      initial: { metrics: await metrics.metrics(), contentType: metrics.contentType, health: health(), ready: false },
      onUnexpectedEnd: (err) =>
        logger.error({ event: 'http_front_ended', err }, 'the HTTP front ended: /metrics and /healthz no longer answer'),
    });
  } catch (err) {
    server.close();
    throw err;
  }
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${front.port}`;
  baseUrl = url;
  const everySecond = setInterval(() => void sendMetrics(), 1000);
  everySecond.unref();

  scheduler.start();
  const rows = rowsPerDay(scheduler.jobs);
  logger.info(
    {
      event: 'service_started',
      url,
      jobs: scheduler.jobs.map((j) => ({ probe: j.probe, depth: j.depth, target: j.targetName, intervalSeconds: j.intervalSeconds })),
      uploadRowsPerDay: rows,
    },
    `probe service listening on ${url}`,
  );
  // What this configuration writes to each target: every full run leaves one upload row that all admins see.
  for (const [target, n] of Object.entries(rows)) logger.info({ event: 'upload_rows_per_day', target, rows: n }, footprintLine(target, n));

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      logger.info({ event: 'service_stopping' }, 'stopping: runs in flight are cancelled');
      await scheduler.stop();
      clearInterval(everySecond);
      await browser.close();
      await front?.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      logger.info({ event: 'service_stopped' }, 'probe service stopped');
    })());

  return { url, metrics, scheduler, history, browser, stop };
}
