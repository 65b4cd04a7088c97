// What a journey saw, as plain data: the input of classification (classify.ts). A journey
// writes its `Seen` record as it goes; the runner adds the HTTP log and how the journey ended.
import type { Depth, HttpEvent, ProbeName, RecentUploads, StepName } from './result.ts';
import type { Stop } from './stop.ts';
import type { UploadSnapshot } from './upload.ts';

/** Which part of the target an HTTP exchange went to: Keycloak (login) or the app/API. */
export type Side = 'keycloak' | 'app';

export interface ObservedHttp extends HttpEvent {
  side: Side;
  /** The step in progress when the request started. */
  step?: StepName;
}

/** What the journey itself saw of the canary and the page, written in place as it goes. */
export interface Seen {
  /** The canary's upload as last seen. */
  upload?: UploadSnapshot;
  /** The upload's own dates as the API gave them (ISO local date-times). */
  uploadDates?: { uploadedDate?: string; jobStartTime?: string | null; processedDate?: string | null };
  /** The canary upload was accepted (POST /file answered 2xx). */
  uploadAccepted?: boolean;
  /** The error workbook's `Reason for import failure` cells, when read. */
  reasonTexts?: string[];
  /** The browser page: how often it reloaded itself after login. */
  appReloads?: number;
  /** Light API runs: real users' recent uploads, counted. */
  recentUploads?: RecentUploads;
  /** When the upload was accepted and when the import was seen to start and finish (epoch ms). */
  uploadedAt?: number;
  startedAt?: number;
  finishedAt?: number;
}

export interface Observation extends Seen {
  probe: ProbeName;
  depth: Depth;
  /** The step in progress when the journey ended early (absent when it ran to the end). */
  step?: StepName;
  stop?: Stop;
  /** Every exchange with the target, in order. */
  http: ObservedHttp[];
  /** Requests to the target still unanswered when the journey ended. */
  pending: ObservedHttp[];
  /** The healthy ending's reason text. */
  expectedReason: string;
}

/** The failure text of an answer the probe refused to read (over its size limit): the target answered, so it is no network fault. */
export const REFUSED_UNREAD = 'refused unread';

/**
 * A response that by itself fails a run: 401/403, 5xx, or no answer (navigation aborts excepted).
 * Keycloak's own 4xx are left to the login step to judge: keycloak-js probes session endpoints
 * that answer 4xx in normal operation, and a refused login is read from the page or grant.
 */
export function isBadEvent(e: HttpEvent & { side?: Side }): boolean {
  if (e.status >= 500) return true;
  if ((e.status === 401 || e.status === 403) && e.side !== 'keycloak') return true;
  return (
    e.status === 0 && e.failure !== undefined && !/ERR_ABORTED|aborted|cancel/i.test(e.failure) && !e.failure.startsWith(REFUSED_UNREAD)
  );
}
