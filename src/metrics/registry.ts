// Prometheus metric families, computed from RunResults and nothing else. One ProbeMetrics
// owns one prom-client Registry, so the service and a one-shot push never share state.
// Labels are limited to probe, depth, target, step, reason, result, code_class and outcome:
// bounded sets known in advance (no run ids, file names or URLs). The one exception is
// last_failure_info, which says the latest failure in words: one series per job at a time.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { FAILURE_REASONS } from '../model/failures.ts';
import {
  STATUS_CLASSES,
  STEP_NAMES,
  type Depth,
  type ProbeName,
  type RecentUploads,
  type RunResult,
  type StepName,
} from '../model/result.ts';
import { UPLOAD_OUTCOMES } from '../model/upload.ts';
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

/** The steps a probe goes through at a depth: a light run stops after the page or the list. */
export function stepsOf(probe: ProbeName, depth: Depth): readonly StepName[] {
  const steps = PROBE_STEPS[probe];
  return depth === 'full' ? steps : steps.filter((s) => s === 'login' || s === 'open_page' || s === 'list_uploads');
}

/** Longest failure message carried as a label value (a label, not a log: the run page has it whole). */
export const INFO_MESSAGE_MAX = 160;

/** One line, at most INFO_MESSAGE_MAX characters (the message is already scrubbed of secrets). */
export function infoMessage(message: string): string {
  const line = message.replace(/\s+/g, ' ').trim();
  return line.length > INFO_MESSAGE_MAX ? `${line.slice(0, INFO_MESSAGE_MAX - 1)}…` : line;
}

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

  private readonly success: Gauge<'probe' | 'depth' | 'target'>;
  private readonly runDuration: Histogram<'probe' | 'depth' | 'target'>;
  private readonly stepDuration: Histogram<'probe' | 'depth' | 'target' | 'step'>;
  private readonly lastRun: Gauge<'probe' | 'depth' | 'target'>;
  private readonly lastSuccess: Gauge<'probe' | 'depth' | 'target'>;
  private readonly runs: Counter<'probe' | 'depth' | 'target' | 'result'>;
  private readonly failures: Counter<'probe' | 'depth' | 'target' | 'reason'>;
  private readonly failureReason: Gauge<'probe' | 'depth' | 'target' | 'reason'>;
  private readonly consecutiveFailures: Gauge<'probe' | 'depth' | 'target'>;
  private readonly lastFailureInfo: Gauge<'probe' | 'depth' | 'target' | 'reason' | 'diagnosis' | 'message'>;
  /** Per job (probe, depth, target): the latest failure's reason, its streak and its info labels. */
  private readonly streaks = new Map<string, { reason: string; count: number; info: Record<string, string> }>();
  private readonly responses: Counter<'probe' | 'depth' | 'target' | 'code_class'>;
  private readonly queueWait: Histogram<'probe' | 'target'>;
  private readonly importDuration: Histogram<'probe' | 'target'>;
  private readonly evidenceWriteFailures: Counter<'probe' | 'depth' | 'target'>;
  private readonly historyBadLines: Counter;
  private readonly interval: Gauge<'probe' | 'depth' | 'target'>;
  private readonly recentUploads: Gauge<'target' | 'outcome'>;
  private readonly uploadsEnded: Counter<'target' | 'outcome'>;
  private readonly slotWait: Histogram<'probe'>;
  private readonly maxConcurrent: Gauge<'probe'>;
  private waitingNow?: () => Record<ProbeName, number>;
  /** Per target: the ids of real uploads seen ended by the last light API run (the baseline for the next). */
  private readonly endedSeen = new Map<string, Set<string>>();

  constructor(opts: ProbeMetricsOptions = {}) {
    const registers = [this.registry];
    const p = METRIC_PREFIX;
    this.success = new Gauge({
      name: `${p}success`,
      help: 'Whether the last completed run of this probe against this target succeeded (1) or failed (0).',
      labelNames: ['probe', 'depth', 'target'],
      registers,
    });
    this.runDuration = new Histogram({
      name: `${p}run_duration_seconds`,
      help: 'Duration of whole probe runs, in seconds.',
      labelNames: ['probe', 'depth', 'target'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.stepDuration = new Histogram({
      name: `${p}step_duration_seconds`,
      help: 'Duration of each step of a probe run (login, open_page, upload, import ...), in seconds.',
      labelNames: ['probe', 'depth', 'target', 'step'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.lastRun = new Gauge({
      name: `${p}last_run_timestamp_seconds`,
      help: 'Unix time when the last run of this probe against this target finished.',
      labelNames: ['probe', 'depth', 'target'],
      registers,
    });
    this.lastSuccess = new Gauge({
      name: `${p}last_success_timestamp_seconds`,
      help: 'Unix time when the last successful run of this probe against this target finished.',
      labelNames: ['probe', 'depth', 'target'],
      registers,
    });
    this.runs = new Counter({
      name: `${p}runs_total`,
      help: 'Probe runs by result (success, failure, cancelled).',
      labelNames: ['probe', 'depth', 'target', 'result'],
      registers,
    });
    this.failures = new Counter({
      name: `${p}failures_total`,
      help: 'Failed probe runs by failure reason.',
      labelNames: ['probe', 'depth', 'target', 'reason'],
      registers,
    });
    // The current state as one 0/1 series per reason: alerts on a specific diagnosis follow the
    // latest run (a new kind of failure replaces the old one at once, a success clears it).
    this.failureReason = new Gauge({
      name: `${p}failure_reason`,
      help: '1 for the reason the last completed run failed with, 0 for every other reason (all 0 after a successful run).',
      labelNames: ['probe', 'depth', 'target', 'reason'],
      registers,
    });
    // "Two failed runs, not two minutes": alerts on a diagnosis fire on the second failed run in a
    // row with the same reason, whatever the interval, instead of waiting a fixed `for:`.
    this.consecutiveFailures = new Gauge({
      name: `${p}consecutive_failures`,
      help: "Completed runs in a row that failed with the latest run's reason (0 after a success; 1 when the reason changes).",
      labelNames: ['probe', 'depth', 'target'],
      registers,
    });
    // Info-style: what a person reads in the alert. One series per job at a time (the previous
    // one is removed), only while the latest run failed; the message is scrubbed and bounded.
    this.lastFailureInfo = new Gauge({
      name: `${p}last_failure_info`,
      help: 'Always 1 while the latest run failed: its reason, diagnosis and message (bounded, secrets removed). Absent after a success.',
      labelNames: ['probe', 'depth', 'target', 'reason', 'diagnosis', 'message'],
      registers,
    });
    this.responses = new Counter({
      name: `${p}target_responses_total`,
      help: 'HTTP responses from the target seen during probe runs, by status class (none = no answer).',
      labelNames: ['probe', 'depth', 'target', 'code_class'],
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
      labelNames: ['probe', 'depth', 'target'],
      registers,
    });
    this.historyBadLines = new Counter({
      name: `${p}history_bad_lines_total`,
      help: 'Lines of the run history skipped when read back because they were not a whole run result.',
      registers,
    });
    this.interval = new Gauge({
      name: `${p}interval_seconds`,
      help: 'How often this probe runs against this target at this depth, in seconds (alerts scale their waits by it).',
      labelNames: ['probe', 'depth', 'target'],
      registers,
    });
    // The passive signal: real users' uploads, as the light API run lists them. Counts only.
    this.recentUploads = new Gauge({
      name: `${p}real_uploads_recent`,
      help: "Real users' uploads on the first page of the upload list at the last light API run, by outcome (the probe's canaries left out).",
      labelNames: ['target', 'outcome'],
      registers,
    });
    this.uploadsEnded = new Counter({
      name: `${p}real_uploads_ended_total`,
      help: "Real users' uploads seen ending between two light API runs, by outcome (a signal, not proof: real files can be wrong).",
      labelNames: ['target', 'outcome'],
      registers,
    });
    // Capacity: runs that were due but waited for a free slot (schedule.maxConcurrentRuns).
    this.slotWait = new Histogram({
      name: `${p}run_slot_wait_seconds`,
      help: 'How long a due run waited for a free slot of its probe before it started, in seconds (0 when one was free).',
      labelNames: ['probe'],
      buckets: [0.5, 1, 5, 15, 30, 60, 120, 300],
      registers,
    });
    this.maxConcurrent = new Gauge({
      name: `${p}max_concurrent_runs`,
      help: 'How many runs of this probe may run at once (schedule.maxConcurrentRuns).',
      labelNames: ['probe'],
      registers,
    });
    const waitingNow = (): Record<ProbeName, number> | undefined => this.waitingNow?.();
    new Gauge({
      name: `${p}runs_waiting`,
      help: 'Runs that are due but wait for a free slot of their probe, now (above 0 for long: the service carries more targets than it can run).',
      labelNames: ['probe'],
      registers,
      collect() {
        const w = waitingNow();
        if (w) for (const [probe, n] of Object.entries(w)) this.set({ probe }, n);
      },
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
  prepare(probe: ProbeName, depth: Depth, target: string, intervalSeconds?: number): void {
    const l = { probe, depth, target };
    if (intervalSeconds !== undefined) this.interval.set(l, intervalSeconds);
    for (const result of RUN_RESULTS) this.runs.inc({ ...l, result }, 0);
    for (const reason of FAILURE_REASONS) this.failures.inc({ ...l, reason }, 0);
    for (const reason of FAILURE_REASONS) this.failureReason.set({ ...l, reason }, 0);
    this.consecutiveFailures.set(l, 0);
    for (const code_class of STATUS_CLASSES) this.responses.inc({ ...l, code_class }, 0);
    this.runDuration.zero(l);
    for (const step of stepsOf(probe, depth)) this.stepDuration.zero({ ...l, step });
    this.evidenceWriteFailures.inc(l, 0);
    if (depth === 'full') {
      this.queueWait.zero({ probe, target });
      this.importDuration.zero({ probe, target });
    }
    // The API probe's light runs count real uploads; the series exist from the start (at 0) wherever it watches.
    if (probe === 'api') for (const outcome of UPLOAD_OUTCOMES) this.uploadsEnded.inc({ target, outcome }, 0);
  }

  /** The service's run slots: the limits, and where to read the runs waiting for one at scrape time. */
  watchSlots(limits: Record<ProbeName, number>, waiting: () => Record<ProbeName, number>): void {
    for (const [probe, n] of Object.entries(limits)) {
      this.maxConcurrent.set({ probe }, n);
      this.slotWait.zero({ probe });
    }
    this.waitingNow = waiting;
  }

  /** A run started, after waiting this long past its due time for a free slot. */
  runStarted(probe: ProbeName, waitedSeconds: number): void {
    this.slotWait.observe({ probe }, Math.max(0, waitedSeconds));
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
    const l = { probe: r.probe, depth: r.depth, target: r.target };
    this.lastSuccess.set(l, Date.parse(r.finishedAt) / 1000);
  }

  record(r: RunResult): void {
    const l = { probe: r.probe, depth: r.depth, target: r.target };
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
    this.recordStreak(l, failedWith, r);

    this.runDuration.observe(l, r.durationSeconds);
    for (const s of r.steps) this.stepDuration.observe({ ...l, step: s.name }, s.durationSeconds);
    for (const code_class of STATUS_CLASSES) {
      const n = r.http.byClass[code_class] ?? 0;
      if (n > 0) this.responses.inc({ ...l, code_class }, n);
    }
    const c = { probe: r.probe, target: r.target };
    if (r.canary?.queueWaitSeconds !== undefined) this.queueWait.observe(c, r.canary.queueWaitSeconds);
    if (r.canary?.importSeconds !== undefined) this.importDuration.observe(c, r.canary.importSeconds);
    if (r.recentUploads) this.recordRecent(r.target, r.recentUploads);
  }

  /** The failure streak and the latest failure's info series of one job. */
  private recordStreak(l: { probe: ProbeName; depth: Depth; target: string }, failedWith: string | undefined, r: RunResult): void {
    const key = `${l.probe}\u0000${l.depth}\u0000${l.target}`;
    const before = this.streaks.get(key);
    if (before) this.lastFailureInfo.remove(before.info);
    if (!failedWith) {
      this.streaks.delete(key);
      this.consecutiveFailures.set(l, 0);
      return;
    }
    const count = before?.reason === failedWith ? before.count + 1 : 1;
    const info = {
      ...l,
      reason: failedWith,
      diagnosis: r.diagnosis ?? 'none',
      message: infoMessage(r.message),
    };
    this.streaks.set(key, { reason: failedWith, count, info });
    this.consecutiveFailures.set(l, count);
    this.lastFailureInfo.set(info, 1);
  }

  /**
   * Real uploads: the page's counts as they are, and those that ended since the previous light
   * run (ids not seen ended before). The first list after a start is only the baseline: what
   * ended before the service started is not news.
   */
  private recordRecent(target: string, recent: RecentUploads): void {
    for (const outcome of UPLOAD_OUTCOMES) this.recentUploads.set({ target, outcome }, recent.byOutcome[outcome] ?? 0);
    const before = this.endedSeen.get(target);
    this.endedSeen.set(target, new Set(recent.ended.map((e) => e.id)));
    if (!before) return;
    for (const e of recent.ended) if (!before.has(e.id)) this.uploadsEnded.inc({ target, outcome: e.outcome });
  }

  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
