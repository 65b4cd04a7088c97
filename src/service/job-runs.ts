// The last N runs of each job (target × probe × depth), newest first, for the status page's
// strips and the run pages. Kept apart from the recent runs of all jobs: a light job runs every
// minute and a full one every 15, so one shared window would hold few full runs.
import type { RunResult } from '../model/result.ts';

export interface JobKey {
  target: string;
  probe: string;
  depth: string;
}

const keyOf = (j: JobKey) => JSON.stringify([j.target, j.probe, j.depth]);

export class JobRuns {
  private readonly byJob = new Map<string, RunResult[]>();

  constructor(private readonly perJob: number) {}

  add(r: RunResult): void {
    const key = keyOf(r);
    const runs = this.byJob.get(key) ?? [];
    runs.unshift(r);
    if (runs.length > this.perJob) runs.length = this.perJob;
    this.byJob.set(key, runs);
  }

  /** Seeds from history (oldest first). */
  addAll(oldestFirst: RunResult[]): void {
    for (const r of oldestFirst) this.add(r);
  }

  list(job: JobKey): RunResult[] {
    return [...(this.byJob.get(keyOf(job)) ?? [])];
  }

  all(): RunResult[] {
    return [...this.byJob.values()].flat();
  }
}
