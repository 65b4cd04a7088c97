// What a journey saw, as plain data: the input of classification (src/run/classify.ts).
// Probes fill it as they go; when a journey ends early, `stop` says how.
import type { HttpEvent, ProbeName, StepName } from './result.ts';

/** Which part of the target an HTTP exchange went to: Keycloak (login) or the app/API. */
export type Side = 'keycloak' | 'app';

export interface ObservedHttp extends HttpEvent {
  side: Side;
  /** The step in progress when the request started. */
  step?: StepName;
}

/** Why a journey ended before its last step. */
export type Stop =
  /** A step passed its own timeout. */
  | { kind: 'step_timeout'; seconds: number }
  /** The whole run passed its deadline (timeouts.run). */
  | { kind: 'run_deadline'; seconds: number }
  /** Shut down from outside (SIGTERM, serve stopping). */
  | { kind: 'cancelled' }
  /** A response from the target that by itself fails the run (browser network watch: 401/403/5xx/no answer). */
  | { kind: 'bad_response'; event: ObservedHttp }
  /** The API answered a status the journey cannot go on with. */
  | {
      kind: 'http';
      side: Side;
      method: string;
      url: string;
      status: number;
      body?: string;
      /** A redirect's target (query removed). */
      location?: string;
      /** A 429/503's Retry-After header, as sent (capped). */
      retryAfter?: string;
    }
  /** The target answered, but not in the agreed shape (HTML for JSON, truncated, too large, unknown status, missing row). */
  | { kind: 'bad_answer'; side: Side; what: string }
  /** No connection (refused, reset, DNS). */
  | { kind: 'network'; side: Side; method: string; url: string; code: string }
  /** A request got no answer within its own timeout. */
  | { kind: 'no_answer'; side: Side; method: string; url: string; seconds: number }
  /** Keycloak refused the test user: login page error text, or invalid_grant from the token endpoint. */
  | { kind: 'login_rejected'; text: string }
  /** The canary's ending is not the healthy one (checked in the check_result step). */
  | { kind: 'wrong_ending'; what: string }
  /** A login page where the app (or a token, or JSON) should be. */
  | { kind: 'login_page'; where: string }
  /** The app page kept reloading itself. */
  | { kind: 'reload_loop'; count: number }
  /** An expected element or answer never appeared (without a timeout being the explanation). */
  | { kind: 'page'; what: string }
  /** The probe's own fault (a bug, a browser crash). */
  | { kind: 'bug'; message: string };

/** The canary's upload as last seen (from /status JSON or the page's table). */
export interface UploadSnapshot {
  logId?: string;
  status?: string;
  numberOfErrors?: number;
  numberImported?: number;
}

export interface Observation {
  probe: ProbeName;
  /** The step in progress when the journey ended early (absent when it ran to the end). */
  step?: StepName;
  stop?: Stop;
  /** Every exchange with the target, in order. */
  http: ObservedHttp[];
  /** Requests to the target still unanswered when the journey ended. */
  pending: ObservedHttp[];
  /** The browser page: how often it reloaded itself after login. */
  appReloads?: number;
  /** The canary upload was accepted (POST /file answered 2xx). */
  uploadAccepted?: boolean;
  upload?: UploadSnapshot;
  /** The error workbook's `Reason for import failure` cells, when read. */
  reasonTexts?: string[];
  /** The healthy ending's reason text. */
  expectedReason: string;
  /** Seconds the canary spent waiting in each phase, for messages. */
  waitedSeconds?: number;
}

export const FINAL_STATUSES = ['COMPLETED', 'UNEXPECTED_ERROR', 'INVALID_FILE_FORMAT', 'INVALID_HEADERS'] as const;

export function isFinalStatus(status: string | undefined): boolean {
  return status !== undefined && (FINAL_STATUSES as readonly string[]).includes(status);
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
  return e.status === 0 && e.failure !== undefined && !/ERR_ABORTED|aborted|cancel/i.test(e.failure) && !e.failure.startsWith(REFUSED_UNREAD);
}
