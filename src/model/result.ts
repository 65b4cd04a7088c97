// The result of one probe run, as data. Everything downstream (console report, JSON, JUnit,
// metrics, run history, Pushgateway) is computed from this and nothing else.
import type { Diagnosis } from './diagnosis.ts';
import type { FailureReason } from './failures.ts';
import type { UploadOutcome } from './upload.ts';

export const PROBE_NAMES = ['browser', 'api'] as const;
export type ProbeName = (typeof PROBE_NAMES)[number];

/**
 * How deep a run goes. `light`: log in and check the page / API answers with the user's token,
 * upload nothing (it catches a login or token outage within a light interval, writing nothing).
 * `full`: the whole canary chain, upload to import (it catches imports failing).
 */
export const DEPTHS = ['light', 'full'] as const;
export type Depth = (typeof DEPTHS)[number];

/**
 * Steps of a journey, in order. The browser probe uses `open_page`, the API probe
 * `list_uploads`; all others are shared.
 */
export const STEP_NAMES = ['login', 'open_page', 'list_uploads', 'upload', 'import_started', 'import_finished', 'check_result'] as const;
export type StepName = (typeof STEP_NAMES)[number];

export type StatusClass = '1xx' | '2xx' | '3xx' | '4xx' | '5xx' | 'none';
export const STATUS_CLASSES: readonly StatusClass[] = ['1xx', '2xx', '3xx', '4xx', '5xx', 'none'];

export interface StepResult {
  name: StepName;
  ok: boolean;
  /** ISO timestamp when the step began. */
  startedAt: string;
  durationSeconds: number;
  /** Short human text when the step failed. */
  error?: string;
}

/** One HTTP exchange with the target, without headers or bodies (those may hold secrets). */
export interface HttpEvent {
  method: string;
  /** Origin + path, query string removed. */
  url: string;
  /** 0 when no answer came (network failure, aborted, never answered). */
  status: number;
  durationMs: number;
  /** ISO timestamp of the request start. */
  at: string;
  failure?: string;
}

export interface HttpSummary {
  requests: number;
  byClass: Record<StatusClass, number>;
  /** The first response that by itself fails a run (401/403/5xx/no answer), if any. */
  firstBad?: HttpEvent;
}

export interface CanaryOutcome {
  fileName: string;
  logId?: string;
  /** Last fileStatus seen. */
  status?: string;
  numberOfErrors?: number;
  numberImported?: number;
  /** The error workbook's `Reason for import failure` text, when read. */
  reasonText?: string;
  /** uploadedDate → jobStartTime, seconds (as seen by the probe's polling). */
  queueWaitSeconds?: number;
  /** jobStartTime → processedDate/finish, seconds. */
  importSeconds?: number;
}

/**
 * Real users' recent uploads as a light API run listed them (the first page of GET /status,
 * the probe's own canaries left out): counts only, and the upload ids (opaque numbers) of those
 * that had ended, so that the service can count what ended between two runs. Never a file
 * name or a user name.
 */
export interface RecentUploads {
  listed: number;
  byOutcome: Record<UploadOutcome, number>;
  /** The listed uploads that had ended: logId (an opaque number) and outcome; at most a page. */
  ended: Array<{ id: string; outcome: UploadOutcome }>;
}

export interface RunResult {
  /** Stable id of the run (its page is /runs/:id); absent in records written before ids existed. */
  id?: string;
  probe: ProbeName;
  depth: Depth;
  target: string;
  ok: boolean;
  /** True when the run was cut short by shutdown (SIGTERM) rather than by a fault of the target. */
  cancelled?: boolean;
  startedAt: string;
  finishedAt: string;
  durationSeconds: number;
  /** Present when ok is false. */
  reason?: FailureReason;
  failedStep?: StepName;
  /** One line a human understands. */
  message: string;
  /** What the reason most likely means in TIS (from the README's table). */
  likelyCause?: string;
  /** The broken link the follow-up checks of a failed run point at (src/model/diagnosis.ts); never changes the reason. */
  diagnosis?: Diagnosis;
  /** What the follow-ups saw, one short line (bounded, secrets removed). */
  diagnosisDetail?: string;
  steps: StepResult[];
  http: HttpSummary;
  canary?: CanaryOutcome;
  /** Light API runs: real users' recent uploads, counted. */
  recentUploads?: RecentUploads;
  /** Folder with screenshot, trace, network log; only for failed runs. */
  evidenceDir?: string;
  /** Why a failed run's evidence could not be kept (disk full, unwritable folder...). */
  evidenceError?: string;
}
