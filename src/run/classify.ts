// From what a journey observed to one failure reason with a one-line message. Pure: the same
// observation always gives the same verdict. The order of the rules is the point: the
// earliest cause in the chain wins (login before API, HTTP status before what the page did
// about it, a stuck request before a generic timeout).
import { LIKELY_CAUSE } from './causes.ts';
import { isBadEvent, isFinalStatus, type Observation, type ObservedHttp } from './observation.ts';
import type { FailureReason } from './result.ts';

export interface Verdict {
  ok: boolean;
  reason?: FailureReason;
  message: string;
  likelyCause?: string;
}

export function classify(o: Observation): Verdict {
  const v = firstFailure(o);
  if (!v) return { ok: true, message: healthyMessage(o) };
  return { ok: false, reason: v.reason, message: v.message, likelyCause: LIKELY_CAUSE[v.reason] };
}

export type Failure = { reason: FailureReason; message: string };

function firstFailure(o: Observation): Failure | undefined {
  const stop = o.stop;
  const at = o.step ? ` (step ${o.step})` : '';

  if (stop?.kind === 'cancelled') return { reason: 'probe_error', message: `run cancelled by shutdown${at}` };

  // 1. Keycloak: the test user refused, or Keycloak itself failing.
  if (stop?.kind === 'login_rejected') return { reason: 'login_failed', message: `login refused: ${stop.text}` };
  const kc = o.http.filter((e) => e.side === 'keycloak');
  const kcDown = kc.find((e) => e.status >= 500 || (e.status === 0 && isBadEvent(e) && !isTimeout(e)));
  if (kcDown) return { reason: 'login_unavailable', message: `Keycloak ${describe(kcDown)}` };
  if (stop && (stop.kind === 'network' || stop.kind === 'http') && stop.side === 'keycloak') {
    if (stop.kind === 'network') return { reason: 'login_unavailable', message: `Keycloak unreachable: ${stop.method} ${stop.url} ${stop.code}` };
    const answered = `Keycloak answered ${stop.status} to ${stop.method} ${stop.url}`;
    // Only a refusal of the credentials blames the account; everything else is Keycloak's or the way to it.
    if (stop.status >= 500 || stop.status === 404) return { reason: 'login_unavailable', message: answered };
    if (stop.status === 429) return { reason: 'rate_limited', message: `${answered}${retryAfter(stop.retryAfter)}` };
    if (stop.status >= 300 && stop.status < 400) return { reason: 'bad_answer', message: `${answered}: a redirect${stop.location ? ` to ${stop.location}` : ''}, not a token` };
    if (stop.status === 400 || stop.status === 401 || stop.status === 403)
      return { reason: 'login_failed', message: `${answered}${stop.body ? `: ${stop.body}` : ''}` };
    return { reason: 'bad_answer', message: `${answered}${stop.body ? `: ${stop.body}` : ''}` };
  }
  if (stop?.kind === 'bad_answer' && stop.side === 'keycloak') return { reason: 'bad_answer', message: stop.what };
  const kcThrottled = kc.find((e) => e.status === 429);
  if (kcThrottled) return { reason: 'rate_limited', message: `Keycloak ${describe(kcThrottled)}` };
  const kcRefused = kc.find((e) => (e.status === 400 || e.status === 401 || e.status === 403) && e.step === 'login');
  if (kcRefused) return { reason: 'login_failed', message: `Keycloak ${describe(kcRefused)} during login` };

  // 2. The app/API: status codes decide, whatever the page made of them.
  const app = o.http.filter((e) => e.side === 'app');
  const authRejected = app.find((e) => e.status === 401 || e.status === 403);
  if (authRejected) {
    const n = app.filter((e) => e.status === 401 || e.status === 403).length;
    return {
      reason: 'auth_rejected',
      message: `logged in, but the API ${describe(authRejected)}${n > 1 ? ` (${n} times)` : ''}${reloads(o)}`,
    };
  }
  const serverError = app.find((e) => e.status >= 500);
  const httpStop = stop?.kind === 'http' ? stop : undefined;
  if (serverError) return { reason: 'server_error', message: `the app ${describe(serverError)}${serverError.status === 503 ? retryAfter(httpStop?.retryAfter) : ''}` };
  if (httpStop && httpStop.status >= 500) return { reason: 'server_error', message: `${httpStop.method} ${httpStop.url} answered ${httpStop.status}` };
  const throttled = app.find((e) => e.status === 429);
  if (throttled || httpStop?.status === 429) {
    const what = throttled ? `the app ${describe(throttled)}` : `${httpStop!.method} ${httpStop!.url} answered 429`;
    return { reason: 'rate_limited', message: `${what}${retryAfter(httpStop?.retryAfter)}` };
  }
  if (httpStop && httpStop.status >= 300 && httpStop.status < 400)
    return {
      reason: 'bad_answer',
      message: `${httpStop.method} ${httpStop.url} answered ${httpStop.status}, a redirect${httpStop.location ? ` to ${httpStop.location}` : ' without a Location'}${at}`,
    };
  const unreachable = app.find((e) => e.status === 0 && isBadEvent(e) && !isTimeout(e));
  if (stop?.kind === 'network') return { reason: 'network', message: `cannot reach ${stop.method} ${stop.url}: ${stop.code}` };
  if (unreachable) return { reason: 'network', message: `cannot reach ${unreachable.method} ${unreachable.url}: ${unreachable.failure}` };

  // A probe-side error after the HTTP rules: a browser error caused by a refused connection is a network fault.
  if (stop?.kind === 'bug') return { reason: 'probe_error', message: `probe error${at}: ${stop.message}` };

  // 3. The page or API misbehaving without a telling status code.
  if (stop?.kind === 'login_page') {
    if (o.step === 'login') return { reason: 'login_failed', message: `still on the login page after submitting the credentials (${stop.where}), no error shown` };
    // The API answering a login page to a bearer token: the token was not accepted (a proxy's or SSO's login).
    if (o.probe === 'api') return { reason: 'auth_rejected', message: `logged in, but ${stop.where} instead of JSON${at}` };
    return { reason: 'page_broken', message: `a login page where the app should be (${stop.where})${at}: session lost` };
  }
  // The target answered, but not as its contract says: one reason, whichever answer it was.
  if (stop?.kind === 'bad_answer') return { reason: 'bad_answer', message: `${stop.what}${at}` };
  if (stop?.kind === 'reload_loop') return { reason: 'page_broken', message: `the page reloaded itself ${stop.count} times after login${at}` };
  if (stop?.kind === 'http') {
    if (o.step === 'upload') return { reason: 'upload_rejected', message: `upload refused: ${stop.status}${stop.body ? ` ${stop.body}` : ''}` };
    return { reason: 'bad_answer', message: `${stop.method} ${stop.url} answered ${stop.status}${stop.body ? `: ${stop.body}` : ''}${at}` };
  }

  // 4. The import's ending, when one was seen.
  const ending = endingFailure(o);
  if (ending) return ending;
  if (stop?.kind === 'wrong_ending') return { reason: 'import_wrong_result', message: stop.what };

  // 5. Deadlines: which wait ran out says what is stuck.
  const u = o.upload;
  if (stop?.kind === 'no_answer') {
    const who = stop.side === 'keycloak' ? 'Keycloak' : 'the API';
    return { reason: 'timeout', message: `${who} did not answer ${stop.method} ${stop.url} within ${stop.seconds} s${at}` };
  }
  if (stop?.kind === 'step_timeout' || stop?.kind === 'run_deadline') {
    const limit = stop.kind === 'run_deadline' ? `the run deadline of ${stop.seconds} s` : `its ${stop.seconds} s timeout`;
    const stuck = stuckRequest(o, stop.seconds);
    if (stuck)
      return {
        reason: 'timeout',
        message: `${stuck.method} ${stuck.url} had no answer after ${Math.round(stuck.durationMs / 1000)} s when ${o.step ? `step ${o.step}` : 'the run'} passed ${limit}`,
      };
    if (o.step === 'import_started')
      return { reason: 'queue_stalled', message: `the canary stayed ${u?.status ?? 'PENDING'} (not started) past ${limit}` };
    if (o.step === 'import_finished')
      return { reason: 'queue_stalled', message: `the canary stayed ${u?.status ?? 'IN_PROGRESS'} (started, not finished) past ${limit}` };
    if (o.step === 'upload' && o.uploadAccepted)
      return { reason: 'page_broken', message: `the upload was accepted, but the canary's row never appeared in the table within ${limit}` };
    return { reason: 'timeout', message: `step ${o.step ?? '?'} did not finish within ${limit}` };
  }
  if (stop?.kind === 'page') return { reason: 'page_broken', message: `${stop.what}${at}` };

  // 6. The network watch: any bad response fails the run even when the journey completed.
  const bad = o.http.find((e) => isBadEvent(e));
  if (bad) return { reason: bad.side === 'keycloak' ? 'login_unavailable' : 'server_error', message: `${bad.side} ${describe(bad)}` };
  if (stop?.kind === 'bad_response') return { reason: 'probe_error', message: `unclassified bad response ${describe(stop.event)}` };

  // 7. Ran to the end: the healthy ending must have been seen, not assumed.
  if (!u || u.status !== 'COMPLETED') return { reason: 'probe_error', message: `journey ended without a final import status (last: ${u?.status ?? 'none'})` };
  if (!o.reasonTexts) return { reason: 'probe_error', message: 'journey ended without reading the error workbook' };
  return undefined;
}

/**
 * The canary's ending against the healthy one: undefined while no final status was seen or when
 * it is healthy so far. Used by the probes' check_result step and by classification alike.
 */
export function endingFailure(o: Pick<Observation, 'upload' | 'reasonTexts' | 'expectedReason'>): Failure | undefined {
  const u = o.upload;
  if (!u || !isFinalStatus(u.status)) return undefined;
  if (u.status !== 'COMPLETED') return { reason: 'import_failed', message: `the canary import ended ${u.status}` };
  if (typeof u.numberOfErrors !== 'number' || typeof u.numberImported !== 'number')
    return { reason: 'bad_answer', message: `the canary import ended COMPLETED without its error and imported counts` };
  if ((u.numberImported ?? 0) >= 1)
    return { reason: 'canary_imported', message: `the canary was imported (numberImported ${u.numberImported}): its person id exists` };
  if (u.numberOfErrors !== 1 || u.numberImported !== 0)
    return {
      reason: 'import_wrong_result',
      message: `COMPLETED with ${u.numberOfErrors ?? '?'} error(s) and ${u.numberImported ?? '?'} imported, expected 1 and 0`,
    };
  if (o.reasonTexts && !o.reasonTexts.includes(o.expectedReason))
    return {
      reason: 'import_wrong_result',
      message: `COMPLETED, but the reason for import failure is "${o.reasonTexts.join(' | ') || '(empty)'}", expected "${o.expectedReason}"`,
    };
  return undefined;
}

function retryAfter(v: string | undefined): string {
  return v ? ` (Retry-After: ${v})` : ' (no Retry-After)';
}

function isTimeout(e: ObservedHttp): boolean {
  return /timed? ?out|timeout/i.test(e.failure ?? '');
}

function describe(e: ObservedHttp): string {
  const answer = e.status === 0 ? `gave no answer (${e.failure ?? 'no response'})` : `answered ${e.status}`;
  return `${answer} to ${e.method} ${e.url}`;
}

function reloads(o: Observation): string {
  return o.appReloads && o.appReloads > 0 ? `; the page reloaded itself ${o.appReloads} time(s)` : '';
}

/** A request open long enough to explain a deadline by itself. */
function stuckRequest(o: Observation, limitSeconds: number): ObservedHttp | undefined {
  const threshold = Math.max(1000, Math.min(limitSeconds * 500, 10_000));
  return o.pending.filter((e) => e.durationMs >= threshold).sort((a, b) => b.durationMs - a.durationMs)[0];
}

function healthyMessage(o: Observation): string {
  return `canary ${o.upload?.status} with ${o.upload?.numberOfErrors} error and ${o.upload?.numberImported} imported: "${o.reasonTexts?.[0] ?? ''}"`;
}
