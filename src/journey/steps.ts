// Steps and deadlines. Every step runs with its own timeout under the run's deadline; a step
// ends the moment its signal aborts, whether or not the work inside honours the signal, so
// nothing can hang.
import type { Timeouts } from '../config/schema.ts';
import type { StepName, StepResult } from '../model/result.ts';
import { JourneyStop } from '../model/stop.ts';
import { raceAbort } from '../model/wait.ts';

export const STEP_TIMEOUT: Record<StepName, keyof Timeouts> = {
  login: 'login',
  open_page: 'openPage',
  list_uploads: 'listUploads',
  upload: 'upload',
  import_started: 'importStarted',
  import_finished: 'importFinished',
  check_result: 'checkResult',
};

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

  constructor(private readonly opts: StepRunnerOptions) {}

  async run<T>(name: StepName, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const now = this.opts.now ?? Date.now;
    const seconds = this.opts.timeouts[STEP_TIMEOUT[name]];
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(new JourneyStop({ kind: 'step_timeout', seconds })), seconds * 1000);
    const signal = AbortSignal.any([this.opts.signal, ctl.signal]);
    this.current = name;
    const started = now();
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
