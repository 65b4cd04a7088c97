// The last N runs in memory, newest first, for /api/runs and the status page.
import type { RunResult } from '../model/result.ts';

export class RecentRuns {
  private readonly runs: RunResult[] = [];

  constructor(private readonly limit = 100) {}

  add(r: RunResult): void {
    this.runs.unshift(r);
    if (this.runs.length > this.limit) this.runs.length = this.limit;
  }

  /** Seeds from history (oldest first), e.g. after a restart. */
  addAll(oldestFirst: RunResult[]): void {
    for (const r of oldestFirst) this.add(r);
  }

  list(filter: { probe?: string; target?: string; limit?: number } = {}): RunResult[] {
    return this.runs
      .filter((r) => (!filter.probe || r.probe === filter.probe) && (!filter.target || r.target === filter.target))
      .slice(0, filter.limit ?? this.limit);
  }
}
