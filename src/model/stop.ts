// Why a journey ended before its last step, as data. A journey throws (or aborts with) a
// JourneyStop; classification (classify.ts) turns the stop and what was seen into a verdict.
import type { FailureReason } from './failures.ts';
import type { ObservedHttp, Side } from './observation.ts';

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
  /**
   * Keycloak showed a page the probe cannot go on from, instead of the login form or the app: a
   * required action, a second factor, an error page, an identity provider. `what` says which.
   */
  | { kind: 'keycloak_page'; what: string }
  /**
   * The canary's ending is not the healthy one (checked in the check_result step). `reason` is
   * the judgement of the ending (endingFailure), made once where the ending was read.
   */
  | { kind: 'wrong_ending'; what: string; reason?: FailureReason }
  /** A login page where the app (or a token, or JSON) should be. */
  | { kind: 'login_page'; where: string }
  /** The app page kept reloading itself. */
  | { kind: 'reload_loop'; count: number }
  /** An expected element or answer never appeared (without a timeout being the explanation). */
  | { kind: 'page'; what: string }
  /** The probe's own fault (a bug, a browser crash). */
  | { kind: 'bug'; message: string };

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
    case 'keycloak_page':
      return s.what;
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
