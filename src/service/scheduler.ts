// Runs each probe against each target on its interval, with jitter, forever.
// - One job per probe × target; a job never overlaps itself (the next run is scheduled only
//   after the current one has ended).
// - Every run is bounded: the runner enforces the target's run deadline itself; if it has not
//   answered `graceSeconds` after that, the run is aborted and recorded as a timeout.
// - Whatever a run does (fails, throws, hangs) the job is scheduled again.
// - stop() aborts the runs in flight; they are recorded as cancelled.
// - At most schedule.maxConcurrentRuns runs of each probe at once; due jobs past the limit wait
//   for a slot, the longest-due first, and are counted (waitingRuns) so capacity is visible.
// A tick (default every second) starts due jobs; /healthz watches that it keeps ticking.
// Due times, deadlines and durations use a monotonic clock: a wall-clock jump (NTP, a VM
// resumed, DST on a badly set host) neither pauses probing nor makes a run look stuck. Wall
// time is only for display (ISO timestamps).
import { performance } from 'node:perf_hooks';
import type { Browser } from 'playwright-core';
import { probesFor } from '../config/load.ts';
import type { Config, TargetConfig } from '../config/schema.ts';
import type { Logger } from '../log.ts';
import { DEPTHS, type Depth, type ProbeName, type RunResult } from '../model/result.ts';
import type { JobState } from '../model/job.ts';
import { STOP_GRACE_SECONDS, type RunRequest } from '../run/runner.ts';

/** What the scheduler hands to the runner (no live progress: the service logs steps instead). */
export type ScheduledRunRequest = Pick<
  RunRequest,
  'probe' | 'depth' | 'targetName' | 'target' | 'config' | 'browser' | 'signal' | 'logger'
>;
export type RunFn = (req: ScheduledRunRequest) => Promise<RunResult>;

export interface Job {
  probe: ProbeName;
  depth: Depth;
  targetName: string;
  target: TargetConfig;
  intervalSeconds: number;
  jitterSeconds: number;
  /** The runner's own deadline for the whole run. */
  deadlineSeconds: number;
}

export interface SchedulerOptions {
  config: Config;
  /** Target names to watch; default every configured target. */
  targets?: string[];
  run: RunFn;
  onResult: (r: RunResult) => void | Promise<void>;
  /** Supplies the warm browser to browser-probe runs. */
  browser?: () => Promise<Browser>;
  logger?: Logger;
  tickMs?: number;
  /** Extra time a runner gets past its own deadline before the scheduler cuts it off. */
  graceSeconds?: number;
  random?: () => number;
  /** Monotonic clock in ms (default performance.now); tests may drive it. */
  now?: () => number;
  /** Called when a run starts, with how long it waited for a slot past its due time (seconds). */
  onStart?: (job: Job, waitedSeconds: number) => void;
  /** Called after each tick and once stopped: what the service's health reads has changed. */
  onTick?: () => void;
}

/** Every probe × target × depth the config asks for, optionally narrowed to some targets (an empty list: none). */
export function jobsFor(config: Config, targets?: string[]): Job[] {
  const names = targets ?? Object.keys(config.targets);
  return names.flatMap((name) => {
    const target = config.targets[name];
    if (!target) throw new Error(`unknown target "${name}" (configured: ${Object.keys(config.targets).join(', ')})`);
    return probesFor(config, name).flatMap((probe) =>
      DEPTHS.flatMap((depth) => {
        const intervalSeconds = intervalOf(config, target, depth);
        if (intervalSeconds === false) return [];
        return [
          {
            probe,
            depth,
            targetName: name,
            target,
            intervalSeconds,
            jitterSeconds: config.schedule.jitter,
            deadlineSeconds: target.timeouts.run,
          },
        ];
      }),
    );
  });
}

/** A depth's interval for a target (its own, else the schedule's), or false when it does not run. */
export function intervalOf(config: Config, target: TargetConfig, depth: Depth): number | false {
  if (depth === 'full') return target.interval ?? config.schedule.interval;
  return target.light ?? config.schedule.light;
}

/** One line a person reads: what a configuration writes to one target. */
export function footprintLine(target: string, rowsPerDay: number): string {
  return `${target}: ${rowsPerDay} upload row(s) a day (one per full run; light runs write nothing)`;
}

/** Upload rows a configuration writes to each target a day: one per full run of each probe (retries after failures aside). */
export function rowsPerDay(jobs: readonly Job[]): Record<string, number> {
  const rows: Record<string, number> = {};
  for (const job of jobs) {
    if (job.depth === 'full') rows[job.targetName] = (rows[job.targetName] ?? 0) + Math.round(86_400 / job.intervalSeconds);
  }
  return rows;
}

class StopSignal extends Error {
  constructor() {
    super('the service is stopping');
  }
}
class DeadlineSignal extends Error {
  constructor(seconds: number) {
    super(`the run passed its deadline of ${seconds} s`);
  }
}

/** A moment on both clocks: `mono` to measure with, `wall` (ms since epoch) to show. */
interface Instant {
  mono: number;
  wall: number;
}

interface Slot {
  job: Job;
  /** Monotonic ms. */
  nextDue: number;
  inFlight?: { controller: AbortController; started: Instant; done: Promise<void> };
  state: JobState;
}

export class Scheduler {
  readonly jobs: Job[];
  private readonly slots: Slot[];
  private timer?: NodeJS.Timeout;
  private stopping = false;
  private started = false;
  private lastTick?: Instant;
  private readonly tickMs: number;
  private readonly graceMs: number;
  private readonly random: () => number;
  private readonly now: () => number;
  private readonly running: Record<ProbeName, number> = { browser: 0, api: 0 };

  constructor(private readonly opts: SchedulerOptions) {
    this.jobs = jobsFor(opts.config, opts.targets);
    this.tickMs = opts.tickMs ?? 1000;
    // The runner ends a run by its deadline plus its own stop grace; the safety net waits a little longer.
    this.graceMs = (opts.graceSeconds ?? STOP_GRACE_SECONDS + 5) * 1000;
    this.random = opts.random ?? Math.random;
    this.now = opts.now ?? (() => performance.now());
    this.slots = this.jobs.map((job) => ({
      job,
      nextDue: 0,
      state: { probe: job.probe, depth: job.depth, target: job.targetName, running: false, runs: 0 },
    }));
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    const now = this.now();
    // Spread the first runs by the jitter so probes of one target do not all start at once.
    for (const s of this.slots) this.setNext(s, now + this.jitterMs(s.job));
    this.tick();
    this.timer = setInterval(() => this.tick(), this.tickMs);
  }

  /** Aborts runs in flight (recorded as cancelled) and stops scheduling. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    this.opts.onTick?.();
    const inFlight = this.slots.flatMap((s) => (s.inFlight ? [s.inFlight] : []));
    for (const f of inFlight) f.controller.abort(new StopSignal());
    await Promise.all(inFlight.map((f) => f.done));
  }

  get isRunning(): boolean {
    return this.started && !this.stopping;
  }

  /** Wall time of the last tick (ms since epoch, for display), 0 before the first. */
  get lastTickAt(): number {
    return this.lastTick?.wall ?? 0;
  }

  /** Milliseconds since the last tick on the monotonic clock; undefined before the first. */
  sinceLastTickMs(now = this.now()): number | undefined {
    return this.lastTick && now - this.lastTick.mono;
  }

  /**
   * Jobs whose run has outlived its deadline plus twice the grace: the scheduler is stuck on
   * them. `now` is on the monotonic clock.
   */
  overdueJobs(now = this.now()): JobState[] {
    return this.slots
      .filter((s) => s.inFlight && now - s.inFlight.started.mono > s.job.deadlineSeconds * 1000 + 2 * this.graceMs)
      .map((s) => ({ ...s.state }));
  }

  states(): JobState[] {
    return this.slots.map((s) => ({ ...s.state }));
  }

  /** Due runs waiting for a free slot of their probe, per probe. */
  waitingRuns(now = this.now()): Record<ProbeName, number> {
    const waiting: Record<ProbeName, number> = { browser: 0, api: 0 };
    for (const s of this.slots) if (!s.inFlight && now >= s.nextDue) waiting[s.job.probe]++;
    return waiting;
  }

  private tick(): void {
    this.lastTick = this.instant();
    this.startDue();
    this.opts.onTick?.();
  }

  /** Starts due jobs while their probe has a free slot, the longest-due first. */
  private startDue(): void {
    if (this.stopping || !this.started) return;
    const now = this.now();
    const due = this.slots.filter((s) => !s.inFlight && now >= s.nextDue).sort((a, b) => a.nextDue - b.nextDue);
    const limit = this.opts.config.schedule.maxConcurrentRuns;
    for (const s of due) {
      if (this.running[s.job.probe] >= limit[s.job.probe]) continue;
      this.opts.onStart?.(s.job, (now - s.nextDue) / 1000);
      this.launch(s);
    }
  }

  private instant(): Instant {
    return { mono: this.now(), wall: Date.now() };
  }

  /** The wall time a monotonic moment corresponds to, as of now. */
  private wallOf(mono: number): Date {
    return new Date(Date.now() + (mono - this.now()));
  }

  /** Seconds from one start to the next: the interval, or the retry after a failed run when sooner. */
  private waitSeconds(job: Job, result: RunResult): number {
    const retry = this.opts.config.schedule.retry;
    const failed = !result.ok && !result.cancelled;
    return failed && retry !== false ? Math.min(job.intervalSeconds, retry) : job.intervalSeconds;
  }

  private jitterMs(job: Job): number {
    return this.random() * job.jitterSeconds * 1000;
  }

  private setNext(s: Slot, at: number): void {
    s.nextDue = at;
    s.state.nextRunAt = this.wallOf(at).toISOString();
  }

  private launch(s: Slot): void {
    const controller = new AbortController();
    const started = this.instant();
    s.state.running = true;
    s.state.runningSince = new Date(started.wall).toISOString();
    s.state.nextRunAt = undefined;
    this.running[s.job.probe]++;
    const done = this.execute(s.job, controller, started).then(async (result) => {
      this.running[s.job.probe]--;
      s.state.running = false;
      s.state.runningSince = undefined;
      s.state.runs++;
      s.state.lastResult = { ok: result.ok, cancelled: result.cancelled, reason: result.reason, finishedAt: result.finishedAt };
      try {
        await this.opts.onResult(result);
      } catch (e) {
        this.opts.logger?.error({ event: 'record_failed', err: e }, 'recording a run result failed');
      }
      // Next start: one interval after this start (sooner after a failure, to confirm it), or
      // right after this run if it overran.
      this.setNext(s, Math.max(started.mono + this.waitSeconds(s.job, result) * 1000, this.now()) + this.jitterMs(s.job));
      s.inFlight = undefined;
      // A freed slot goes to the next waiting run now, not at the next tick.
      this.startDue();
    });
    s.inFlight = { controller, started, done };
  }

  /** One run; always resolves to a RunResult, whatever the runner does. */
  private async execute(job: Job, controller: AbortController, startedAt: Instant): Promise<RunResult> {
    const { signal } = controller;
    // Safety net behind the runner's own deadline.
    const cutoff = setTimeout(() => controller.abort(new DeadlineSignal(job.deadlineSeconds)), job.deadlineSeconds * 1000 + this.graceMs);
    // If the runner ignores the abort too, give up on it after one more grace period.
    const abandoned = new Promise<'abandoned'>((resolve) => {
      signal.addEventListener('abort', () => setTimeout(() => resolve('abandoned'), this.graceMs).unref(), { once: true });
    });
    try {
      const browser = job.probe === 'browser' && this.opts.browser ? await this.opts.browser() : undefined;
      const running = this.opts.run({
        probe: job.probe,
        depth: job.depth,
        targetName: job.targetName,
        target: job.target,
        config: this.opts.config,
        browser,
        signal,
        logger: this.opts.logger,
      });
      const outcome = await Promise.race([running, abandoned]);
      if (outcome === 'abandoned') {
        this.opts.logger?.error({ event: 'run_abandoned', probe: job.probe, target: job.targetName }, 'runner ignored abort');
        return this.fromAbort(job, startedAt, signal.reason, 'the run did not stop when aborted');
      }
      if (signal.aborted) return this.fromAbort(job, startedAt, signal.reason, outcome.message, outcome);
      return outcome;
    } catch (e) {
      if (signal.aborted) return this.fromAbort(job, startedAt, signal.reason, String(e));
      return this.synthetic(job, startedAt, {
        reason: 'probe_error',
        message: `the probe could not run: ${e instanceof Error ? e.message : String(e)}`,
      });
    } finally {
      clearTimeout(cutoff);
    }
  }

  /** The scheduler aborted this run: on shutdown it is cancelled, past the deadline a timeout. */
  private fromAbort(job: Job, startedAt: Instant, why: unknown, detail: string, result?: RunResult): RunResult {
    if (why instanceof DeadlineSignal) {
      const base = result ?? this.synthetic(job, startedAt, { reason: 'timeout', message: why.message });
      return {
        ...base,
        ok: false,
        cancelled: false,
        reason: 'timeout',
        message: `${why.message} (${detail})`,
        startedAt: new Date(startedAt.wall).toISOString(),
        finishedAt: new Date().toISOString(),
        durationSeconds: (this.now() - startedAt.mono) / 1000,
      };
    }
    if (result) return { ...result, ok: false, cancelled: true };
    return { ...this.synthetic(job, startedAt, { message: `cancelled: ${detail}` }), cancelled: true };
  }

  /** A result the scheduler writes itself, for a run the runner could not report. */
  private synthetic(job: Job, startedAt: Instant, f: { reason?: RunResult['reason']; message: string }): RunResult {
    return {
      probe: job.probe,
      depth: job.depth,
      target: job.targetName,
      ok: false,
      reason: f.reason,
      message: f.message,
      startedAt: new Date(startedAt.wall).toISOString(),
      finishedAt: new Date().toISOString(),
      durationSeconds: (this.now() - startedAt.mono) / 1000,
      steps: [],
      http: { requests: 0, byClass: { '1xx': 0, '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0, none: 0 } },
    };
  }
}
