// Steps and deadlines. Every step runs with its own timeout under the run's deadline; a step
// ends the moment its signal aborts, whether or not the work inside honours the signal, so
// nothing can hang. Stops carry their cause (timeout, deadline, cancel, a bad response...).
import type { Stop } from './observation.ts';
import type { StepName, StepResult } from './result.ts';
import type { Timeouts } from '../config/schema.ts';

/** Thrown (or used as an abort reason) to end a journey early, with why. */
export class JourneyStop extends Error {
  constructor(readonly stop: Stop) {
    super(stopText(stop));
    this.name = 'JourneyStop';
  }
}

export function stopText(s: Stop): string {
  switch (s.kind) {
    case 'step_timeout':
      return `timed out after ${s.seconds} s`;
    case 'run_deadline':
      return `run deadline of ${s.seconds} s passed`;
    case 'cancelled':
      return 'cancelled';
    case 'bad_response':
      return `${s.event.method} ${s.event.url} answered ${s.event.status || s.event.failure}`;
    case 'http':
      return `${s.method} ${s.url} answered ${s.status}`;
    case 'network':
      return `${s.method} ${s.url}: ${s.code}`;
    case 'no_answer':
      return `${s.method} ${s.url} did not answer within ${s.seconds} s`;
    case 'login_rejected':
      return `login refused: ${s.text}`;
    case 'login_page':
      return `login page at ${s.where}`;
    case 'reload_loop':
      return `page reloaded itself ${s.count} times`;
    case 'bad_answer':
    case 'page':
    case 'wrong_ending':
      return s.what;
    case 'bug':
      return s.message;
  }
}

/** The Stop an error stands for: a JourneyStop's own, else a probe bug. */
export function toStop(err: unknown): Stop {
  if (err instanceof JourneyStop) return err.stop;
  const message = err instanceof Error ? `${err.name}: ${err.message.split('\n')[0]}` : String(err);
  return { kind: 'bug', message };
}

export const STEP_TIMEOUT: Record<StepName, keyof Timeouts> = {
  login: 'login',
  open_page: 'openPage',
  list_uploads: 'listUploads',
  upload: 'upload',
  import_started: 'importStarted',
  import_finished: 'importFinished',
  check_result: 'checkResult',
};

/** Resolves after ms, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Settles with the work, or rejects after `ms` (the work is left to finish or fail unobserved). */
export function within<T>(p: Promise<T>, ms: number): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(t)),
    new Promise<never>((_, reject) => {
      t = setTimeout(() => reject(new Error(`did not finish within ${ms} ms`)), ms);
    }),
  ]);
}

/** Settles with the work, or rejects with the signal's reason as soon as it aborts. */
export function raceAbort<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    work.catch(() => {}); // the work may still fail later; nobody waits for it
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

export interface StepRunnerOptions {
  timeouts: Timeouts;
  /** The run's signal: deadline, cancellation, or a fail-fast stop from the network watch. */
  signal: AbortSignal;
  onStep?: (step: StepResult) => void;
  now?: () => number;
}

/** Runs a journey's steps one after another, timing each and recording the results. */
export class StepRunner {
  readonly steps: StepResult[] = [];
  current?: StepName;
  /** When the current step began (ms). */
  currentStartedAt = 0;

  constructor(private readonly opts: StepRunnerOptions) {}

  async run<T>(name: StepName, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const now = this.opts.now ?? Date.now;
    const seconds = this.opts.timeouts[STEP_TIMEOUT[name]];
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(new JourneyStop({ kind: 'step_timeout', seconds })), seconds * 1000);
    const signal = AbortSignal.any([this.opts.signal, ctl.signal]);
    this.current = name;
    const started = now();
    this.currentStartedAt = started;
    const finish = (ok: boolean, error?: string) => {
      const step: StepResult = { name, ok, startedAt: new Date(started).toISOString(), durationSeconds: (now() - started) / 1000 };
      if (error) step.error = error;
      this.steps.push(step);
      this.opts.onStep?.(step);
    };
    try {
      const value = await raceAbort(work(signal), signal);
      // A stop that arrived while the work was settling still fails the step.
      if (signal.aborted) throw signal.reason;
      finish(true);
      this.current = undefined;
      return value;
    } catch (err) {
      finish(false, (err instanceof Error ? err.message : String(err)).split('\n')[0]);
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }
}
