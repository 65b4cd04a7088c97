// What a probe's journey gets from the runner: the target, the canary, timed steps, the HTTP
// log, a place to note what it saw, and a way to stop the run at once (fail fast).
import type { Config, TargetConfig } from '../config/schema.ts';
import type { Credentials } from '../config/load.ts';
import type { Redactor } from '../redact.ts';
import type { HttpLog } from './http-log.ts';
import type { Stop, UploadSnapshot } from './observation.ts';
import type { ProbeName, StepName } from './result.ts';
import type { RunLog } from './run-log.ts';

export interface Canary {
  fileName: string;
  workbook: Buffer;
  personId: number;
  /** The healthy ending's `Reason for import failure` text. */
  expectedReason: string;
}

/** What the journey noted on the way (filled in place; read by classification). */
export interface Noted {
  upload?: UploadSnapshot;
  /** The upload's own dates as the API gave them (ISO local date-times). */
  uploadJson?: { uploadedDate?: string; jobStartTime?: string | null; processedDate?: string | null };
  uploadAccepted?: boolean;
  reasonTexts?: string[];
  appReloads?: number;
  /** When the upload was accepted and when the import was seen to start/finish (ms). */
  uploadedAt?: number;
  startedAt?: number;
  finishedAt?: number;
}

export interface Journey {
  probe: ProbeName;
  targetName: string;
  target: TargetConfig;
  config: Config;
  credentials: Credentials;
  canary: Canary;
  http: HttpLog;
  noted: Noted;
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
