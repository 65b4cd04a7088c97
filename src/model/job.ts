// One probe × target job as the scheduler keeps it: what the server, the status page and
// the health checks show.
import type { Depth, ProbeName } from './result.ts';

export interface JobState {
  probe: ProbeName;
  depth: Depth;
  target: string;
  running: boolean;
  runningSince?: string;
  nextRunAt?: string;
  lastResult?: { ok: boolean; cancelled?: boolean; reason?: string; finishedAt: string };
  runs: number;
}
