// What a probe's journey gets from the runner: the target, the canary, timed steps, the HTTP
// log, a record of what it saw, and a way to stop the run at once (fail fast).
import type { Credentials } from '../config/load.ts';
import type { Network } from '../config/network.ts';
import type { Config, TargetConfig } from '../config/schema.ts';
import type { Seen } from '../model/observation.ts';
import type { Depth, ProbeName, StepName } from '../model/result.ts';
import type { Stop } from '../model/stop.ts';
import type { Redactor } from '../redact.ts';
import type { HttpLog } from '../target/http-log.ts';
import type { RunLog } from './run-log.ts';

export interface Canary {
  fileName: string;
  workbook: Buffer;
  personId: number;
  /** The healthy ending's `Reason for import failure` text. */
  expectedReason: string;
}

export interface Journey {
  probe: ProbeName;
  /** Light: log in and check the answers, upload nothing; full: the whole canary chain. */
  depth: Depth;
  targetName: string;
  target: TargetConfig;
  config: Config;
  credentials: Credentials;
  /** Proxy and trusted authorities for the journey's own requests (the API probe); absent: direct. */
  network?: Network;
  canary: Canary;
  http: HttpLog;
  /** What the journey saw, written in place as it goes: classification reads it as it is. */
  seen: Seen;
  redactor: Redactor;
  log: RunLog;
  /** Aborts when the run must end: deadline, cancellation, or a fail-fast stop. */
  signal: AbortSignal;
  /** Runs one timed step with its configured timeout. */
  step<T>(name: StepName, work: (signal: AbortSignal) => Promise<T>): Promise<T>;
  /** Ends the run now with this stop (the current step fails with it). */
  stop(stop: Stop): void;
  /** Seconds between polls of the import's status. */
  pollSeconds: number;
}
