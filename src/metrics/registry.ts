// Prometheus metric families, computed from RunResults and nothing else. One ProbeMetrics
// owns one prom-client Registry, so the service and a one-shot push never share state.
// Labels are limited to probe, target, step, reason, result and code_class: bounded sets
// known in advance (no run ids, file names or URLs).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { FAILURE_REASONS } from '../model/failures.ts';
import { STATUS_CLASSES, STEP_NAMES, type ProbeName, type RunResult, type StepName } from '../model/result.ts';
import { VERSION } from '../version.ts';

export const METRIC_PREFIX = 'bulk_upload_probe_';

/** Fits runs and steps of 1 to 120 s, with a little room below for fast steps. */
export const DURATION_BUCKETS = [0.5, 1, 2, 3, 5, 8, 13, 20, 30, 45, 60, 90, 120];
/** Queue wait and import time of the canary: healthy is a few seconds, stalled is minutes. */
export const CANARY_BUCKETS = [0.5, 1, 2, 3, 5, 8, 13, 20, 30, 60, 120];

export const RUN_RESULTS = ['success', 'failure', 'cancelled'] as const;
export type RunResultLabel = (typeof RUN_RESULTS)[number];

/** The steps each probe goes through (the other probe's page/list step never appears). */
export const PROBE_STEPS: Record<ProbeName, readonly StepName[]> = {
  browser: STEP_NAMES.filter((s) => s !== 'list_uploads'),
  api: STEP_NAMES.filter((s) => s !== 'open_page'),
};

export function runResultLabel(r: RunResult): RunResultLabel {
  if (r.cancelled) return 'cancelled';
  return r.ok ? 'success' : 'failure';
}

export interface ProbeMetricsOptions {
  /** Also expose prom-client's process_* and nodejs_* metrics (the long-running service wants them). */
  processMetrics?: boolean;
}

export class ProbeMetrics {
  readonly registry = new Registry();

  private readonly success: Gauge<'probe' | 'target'>;
  private readonly runDuration: Histogram<'probe' | 'target'>;
  private readonly stepDuration: Histogram<'probe' | 'target' | 'step'>;
  private readonly lastRun: Gauge<'probe' | 'target'>;
  private readonly lastSuccess: Gauge<'probe' | 'target'>;
  private readonly runs: Counter<'probe' | 'target' | 'result'>;
  private readonly failures: Counter<'probe' | 'target' | 'reason'>;
  private readonly failureReason: Gauge<'probe' | 'target' | 'reason'>;
  private readonly responses: Counter<'probe' | 'target' | 'code_class'>;
  private readonly queueWait: Histogram<'probe' | 'target'>;
  private readonly importDuration: Histogram<'probe' | 'target'>;
  private readonly evidenceWriteFailures: Counter<'probe' | 'target'>;
  private readonly historyBadLines: Counter;

  constructor(opts: ProbeMetricsOptions = {}) {
    const registers = [this.registry];
    const p = METRIC_PREFIX;
    this.success = new Gauge({
      name: `${p}success`,
      help: 'Whether the last completed run of this probe against this target succeeded (1) or failed (0).',
      labelNames: ['probe', 'target'],
      registers,
    });
    this.runDuration = new Histogram({
      name: `${p}run_duration_seconds`,
      help: 'Duration of whole probe runs, in seconds.',
      labelNames: ['probe', 'target'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.stepDuration = new Histogram({
      name: `${p}step_duration_seconds`,
      help: 'Duration of each step of a probe run (login, open_page, upload, import ...), in seconds.',
      labelNames: ['probe', 'target', 'step'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.lastRun = new Gauge({
      name: `${p}last_run_timestamp_seconds`,
      help: 'Unix time when the last run of this probe against this target finished.',
      labelNames: ['probe', 'target'],
      registers,
    });
    this.lastSuccess = new Gauge({
      name: `${p}last_success_timestamp_seconds`,
      help: 'Unix time when the last successful run of this probe against this target finished.',
      labelNames: ['probe', 'target'],
      registers,
    });
    this.runs = new Counter({
      name: `${p}runs_total`,
      help: 'Probe runs by result (success, failure, cancelled).',
      labelNames: ['probe', 'target', 'result'],
      registers,
    });
    this.failures = new Counter({
      name: `${p}failures_total`,
      help: 'Failed probe runs by failure reason.',
      labelNames: ['probe', 'target', 'reason'],
      registers,
    });
    // The current state as one 0/1 series per reason: alerts on a specific diagnosis follow the
    // latest run (a new kind of failure replaces the old one at once, a success clears it).
    this.failureReason = new Gauge({
      name: `${p}failure_reason`,
      help: '1 for the reason the last completed run failed with, 0 for every other reason (all 0 after a successful run).',
      labelNames: ['probe', 'target', 'reason'],
      registers,
    });
    this.responses = new Counter({
      name: `${p}target_responses_total`,
      help: 'HTTP responses from the target seen during probe runs, by status class (none = no answer).',
      labelNames: ['probe', 'target', 'code_class'],
      registers,
    });
    this.queueWait = new Histogram({
      name: `${p}canary_queue_wait_seconds`,
      help: 'Time the canary upload waited in the import queue (uploaded to import started), in seconds.',
      labelNames: ['probe', 'target'],
      buckets: CANARY_BUCKETS,
      registers,
    });
    this.importDuration = new Histogram({
      name: `${p}canary_import_duration_seconds`,
      help: 'Time the canary import took (import started to finished), in seconds.',
      labelNames: ['probe', 'target'],
      buckets: CANARY_BUCKETS,
      registers,
    });
    // The probe's own troubles, apart from the target's: a failure without its evidence, and a
    // run history that could not be read back whole.
    this.evidenceWriteFailures = new Counter({
      name: `${p}evidence_write_failures_total`,
      help: 'Failed runs whose evidence (screenshot, trace, network log) could not be written.',
      labelNames: ['probe', 'target'],
      registers,
    });
    this.historyBadLines = new Counter({
      name: `${p}history_bad_lines_total`,
      help: 'Lines of the run history skipped when read back because they were not a whole run result.',
      registers,
    });
    // build_info carries the version by convention; it is a single constant series.
    const buildInfo = new Gauge({
      name: `${p}build_info`,
      help: 'Always 1; the version label says which build of the probe is running.',
      labelNames: ['version'],
      registers,
    });
    buildInfo.set({ version: VERSION }, 1);
    if (opts.processMetrics) {
      collectDefaultMetrics({ register: this.registry });
      // prom-client names these gauges with a `_total` suffix, which promtool rightly flags;
      // they are not worth a lint warning on every scrape.
      for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'])
        this.registry.removeSingleMetric(name);
    }
  }

  /**
   * Creates every counter series of a probe × target at 0 (and empty histograms), so that
   * rate()/increase() see the first failure and dashboards show flat lines, not gaps.
   */
  prepare(probe: ProbeName, target: string): void {
    const l = { probe, target };
    for (const result of RUN_RESULTS) this.runs.inc({ ...l, result }, 0);
    for (const reason of FAILURE_REASONS) this.failures.inc({ ...l, reason }, 0);
    for (const reason of FAILURE_REASONS) this.failureReason.set({ ...l, reason }, 0);
    for (const code_class of STATUS_CLASSES) this.responses.inc({ ...l, code_class }, 0);
    this.runDuration.zero(l);
    for (const step of PROBE_STEPS[probe]) this.stepDuration.zero({ ...l, step });
    this.queueWait.zero(l);
    this.importDuration.zero(l);
    this.evidenceWriteFailures.inc(l, 0);
  }

  /** Counts run-history lines skipped on reading (cut by a crash, wrong shape, garbage). */
  historyLinesSkipped(n: number): void {
    if (n > 0) this.historyBadLines.inc(n);
  }

  /**
   * After a restart: the last success is a fact from the run history, so the "time since last
   * success" survives restarts. Everything else waits for real runs.
   */
  restoreLastSuccess(r: RunResult): void {
    if (!r.ok || r.cancelled) return;
    const l = { probe: r.probe, target: r.target };
    this.lastSuccess.set(l, Date.parse(r.finishedAt) / 1000);
  }

  record(r: RunResult): void {
    const l = { probe: r.probe, target: r.target };
    const result = runResultLabel(r);
    this.runs.inc({ ...l, result });
    // Counted for cancelled runs too: the evidence store failed either way.
    if (r.evidenceError) this.evidenceWriteFailures.inc(l);
    // A run cut short by shutdown says nothing about the target: only counted.
    if (result === 'cancelled') return;

    const finished = Date.parse(r.finishedAt) / 1000;
    this.success.set(l, r.ok ? 1 : 0);
    this.lastRun.set(l, finished);
    if (r.ok) this.lastSuccess.set(l, finished);
    const failedWith = r.ok ? undefined : (r.reason ?? 'probe_error');
    if (failedWith) this.failures.inc({ ...l, reason: failedWith });
    for (const reason of FAILURE_REASONS) this.failureReason.set({ ...l, reason }, reason === failedWith ? 1 : 0);

    this.runDuration.observe(l, r.durationSeconds);
    for (const s of r.steps) this.stepDuration.observe({ ...l, step: s.name }, s.durationSeconds);
    for (const code_class of STATUS_CLASSES) {
      const n = r.http.byClass[code_class] ?? 0;
      if (n > 0) this.responses.inc({ ...l, code_class }, n);
    }
    if (r.canary?.queueWaitSeconds !== undefined) this.queueWait.observe(l, r.canary.queueWaitSeconds);
    if (r.canary?.importSeconds !== undefined) this.importDuration.observe(l, r.canary.importSeconds);
  }

  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
