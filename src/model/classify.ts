// From what a journey observed to one verdict. Pure: the same observation always gives the
// same verdict. Classification is one ordered table of rules (FAILURE_RULES, printed in
// docs/probes.md): the first rule that matches decides, and the order is the point: the
// earliest cause in the chain wins (login before API, HTTP status before what the page did
// about it, a stuck request before a generic timeout).
import { LIKELY_CAUSE, type FailureReason } from './failures.ts';
import { isBadEvent, type Observation, type ObservedHttp } from './observation.ts';
import type { Stop } from './stop.ts';
import { isFinalStatus } from './upload.ts';

export type Verdict = { ok: true; message: string } | { ok: false; reason: FailureReason; message: string; likelyCause: string };

export interface Failure {
  reason: FailureReason;
  message: string;
}

export interface FailureRule {
  /** What was seen, in words (the docs' table). */
  when: string;
  /** The reasons this rule can give. */
  gives: readonly FailureReason[];
  judge(o: Observation): Failure | undefined;
}

export function classify(o: Observation): Verdict {
  for (const rule of FAILURE_RULES) {
    const f = rule.judge(o);
    if (f) return { ok: false, reason: f.reason, message: f.message, likelyCause: LIKELY_CAUSE[f.reason] };
  }
  return { ok: true, message: healthyMessage(o) };
}

const fail = (reason: FailureReason, message: string): Failure => ({ reason, message });
const at = (o: Observation): string => (o.step ? ` (step ${o.step})` : '');
const keycloak = (o: Observation) => o.http.filter((e) => e.side === 'keycloak');
const app = (o: Observation) => o.http.filter((e) => e.side === 'app');
type HttpStop = Extract<Stop, { kind: 'http' }>;
const httpStop = (o: Observation, side: 'keycloak' | 'app'): HttpStop | undefined =>
  o.stop?.kind === 'http' && o.stop.side === side ? o.stop : undefined;
const isRefusal = (status: number) => status === 400 || status === 401 || status === 403;
const isRedirect = (status: number) => status >= 300 && status < 400;

/** The rules in the order they are tried. */
export const FAILURE_RULES: readonly FailureRule[] = [
  // 0. Shutdown.
  {
    when: 'the run was cancelled by shutdown',
    gives: ['probe_error'],
    judge: (o) => (o.stop?.kind === 'cancelled' ? fail('probe_error', `run cancelled by shutdown${at(o)}`) : undefined),
  },
  // 1. Keycloak: the test user refused, or Keycloak itself failing.
  {
    when: "Keycloak refused the test user (an error on its login page, or the grant's refusal), or showed another page instead of the app (a required action, a second factor, an error page, an identity provider)",
    gives: ['login_failed'],
    judge: (o) => {
      if (o.stop?.kind === 'login_rejected') return fail('login_failed', `login refused: ${o.stop.text}`);
      if (o.stop?.kind === 'keycloak_page') return fail('login_failed', o.stop.what);
      return undefined;
    },
  },
  {
    when: 'Keycloak answered 5xx or no connection (not a timeout)',
    gives: ['login_unavailable'],
    judge: (o) => {
      const down = keycloak(o).find((e) => e.status >= 500 || (e.status === 0 && isBadEvent(e) && !isTimeout(e)));
      return down && fail('login_unavailable', `Keycloak ${describe(down)}`);
    },
  },
  {
    when: 'the journey stopped on Keycloak: no connection, 5xx or 404 (unavailable); 429 (rate limited); a redirect (bad answer); 400/401/403 (the account refused); any other status (bad answer)',
    gives: ['login_unavailable', 'rate_limited', 'bad_answer', 'login_failed'],
    judge: (o) => {
      const s = o.stop;
      if (s?.kind === 'network' && s.side === 'keycloak')
        return fail('login_unavailable', `Keycloak unreachable: ${s.method} ${s.url} ${s.code}`);
      const h = httpStop(o, 'keycloak');
      if (!h) return undefined;
      const answered = `Keycloak answered ${h.status} to ${h.method} ${h.url}`;
      const body = h.body ? `: ${h.body}` : '';
      // Only a refusal of the credentials blames the account; everything else is Keycloak's or the way to it.
      if (h.status >= 500 || h.status === 404) return fail('login_unavailable', answered);
      if (h.status === 429) return fail('rate_limited', `${answered}${retryAfter(h.retryAfter)}`);
      if (isRedirect(h.status)) return fail('bad_answer', `${answered}: a redirect${h.location ? ` to ${h.location}` : ''}, not a token`);
      if (isRefusal(h.status)) return fail('login_failed', `${answered}${body}`);
      return fail('bad_answer', `${answered}${body}`);
    },
  },
  {
    when: "Keycloak's answer was outside its contract (no usable token)",
    gives: ['bad_answer'],
    judge: (o) => (o.stop?.kind === 'bad_answer' && o.stop.side === 'keycloak' ? fail('bad_answer', o.stop.what) : undefined),
  },
  {
    when: 'Keycloak answered 429',
    gives: ['rate_limited'],
    judge: (o) => {
      const e = keycloak(o).find((x) => x.status === 429);
      return e && fail('rate_limited', `Keycloak ${describe(e)}`);
    },
  },
  {
    when: 'Keycloak answered 400/401/403 during the login step',
    gives: ['login_failed'],
    judge: (o) => {
      const e = keycloak(o).find((x) => isRefusal(x.status) && x.step === 'login');
      return e && fail('login_failed', `Keycloak ${describe(e)} during login`);
    },
  },
  // 2. The app/API: status codes decide, whatever the page made of them.
  {
    when: 'the app or API answered 401/403',
    gives: ['auth_rejected'],
    judge: (o) => {
      const rejected = app(o).filter((e) => e.status === 401 || e.status === 403);
      const first = rejected[0];
      if (!first) return undefined;
      const n = rejected.length;
      return fail('auth_rejected', `logged in, but the API ${describe(first)}${n > 1 ? ` (${n} times)` : ''}${reloads(o)}`);
    },
  },
  {
    when: 'the app or API answered 5xx',
    gives: ['server_error'],
    judge: (o) => {
      const h = httpStop(o, 'app');
      const e = app(o).find((x) => x.status >= 500);
      if (e) return fail('server_error', `the app ${describe(e)}${e.status === 503 ? retryAfter(h?.retryAfter) : ''}`);
      if (h && h.status >= 500) return fail('server_error', `${h.method} ${h.url} answered ${h.status}`);
      return undefined;
    },
  },
  {
    when: 'the app or API answered 429',
    gives: ['rate_limited'],
    judge: (o) => {
      const h = httpStop(o, 'app');
      const e = app(o).find((x) => x.status === 429);
      if (!e && h?.status !== 429) return undefined;
      const what = e ? `the app ${describe(e)}` : `${h!.method} ${h!.url} answered 429`;
      return fail('rate_limited', `${what}${retryAfter(h?.retryAfter)}`);
    },
  },
  {
    when: 'the API answered a redirect',
    gives: ['bad_answer'],
    judge: (o) => {
      const h = httpStop(o, 'app');
      if (!h || !isRedirect(h.status)) return undefined;
      const where = h.location ? ` to ${h.location}` : ' without a Location';
      return fail('bad_answer', `${h.method} ${h.url} answered ${h.status}, a redirect${where}${at(o)}`);
    },
  },
  {
    when: 'no connection to the app or API (refused, reset, DNS)',
    gives: ['network'],
    judge: (o) => {
      const s = o.stop;
      if (s?.kind === 'network') return fail('network', `cannot reach ${s.method} ${s.url}: ${s.code}`);
      const e = app(o).find((x) => x.status === 0 && isBadEvent(x) && !isTimeout(x));
      return e && fail('network', `cannot reach ${e.method} ${e.url}: ${e.failure}`);
    },
  },
  // A probe-side error after the HTTP rules: a browser error caused by a refused connection is a network fault.
  {
    when: 'the probe itself failed (a bug, a browser crash)',
    gives: ['probe_error'],
    judge: (o) => (o.stop?.kind === 'bug' ? fail('probe_error', `probe error${at(o)}: ${o.stop.message}`) : undefined),
  },
  // 3. The page or API misbehaving without a telling status code.
  {
    when: 'a login page where it should not be: still on it after the credentials (login failed); given to the API for a token (auth rejected); in the browser after login (page broken)',
    gives: ['login_failed', 'auth_rejected', 'page_broken'],
    judge: (o) => {
      const s = o.stop;
      if (s?.kind !== 'login_page') return undefined;
      if (o.step === 'login')
        return fail('login_failed', `still on the login page after submitting the credentials (${s.where}), no error shown`);
      // The API answering a login page to a bearer token: the token was not accepted (a proxy's or SSO's login).
      if (o.probe === 'api') return fail('auth_rejected', `logged in, but ${s.where} instead of JSON${at(o)}`);
      return fail('page_broken', `a login page where the app should be (${s.where})${at(o)}: session lost`);
    },
  },
  {
    when: "the app's answer was outside the API's contract",
    gives: ['bad_answer'],
    judge: (o) => (o.stop?.kind === 'bad_answer' ? fail('bad_answer', `${o.stop.what}${at(o)}`) : undefined),
  },
  {
    when: 'the page reloaded itself again and again after login',
    gives: ['page_broken'],
    judge: (o) =>
      o.stop?.kind === 'reload_loop'
        ? fail('page_broken', `the page reloaded itself ${o.stop.count} times after login${at(o)}`)
        : undefined,
  },
  {
    when: 'the API answered another 4xx: to the upload (upload rejected), elsewhere (bad answer)',
    gives: ['upload_rejected', 'bad_answer'],
    judge: (o) => {
      const h = httpStop(o, 'app');
      if (!h) return undefined;
      if (o.step === 'upload') return fail('upload_rejected', `upload refused: ${h.status}${h.body ? ` ${h.body}` : ''}`);
      return fail('bad_answer', `${h.method} ${h.url} answered ${h.status}${h.body ? `: ${h.body}` : ''}${at(o)}`);
    },
  },
  // 4. The import's ending, when one was seen: the journey's judgement of it, else made here.
  {
    when: "the canary's ending is not the healthy one: ended UNEXPECTED_ERROR or INVALID_* (import failed); COMPLETED without counts (bad answer); imported 1 or more (canary imported); other counts, another reason text or an unreadable error workbook (wrong result)",
    gives: ['import_failed', 'import_wrong_result', 'canary_imported', 'bad_answer'],
    judge: (o) => {
      const s = o.stop;
      if (s?.kind === 'wrong_ending' && s.reason) return fail(s.reason, s.what);
      return endingFailure(o) ?? (s?.kind === 'wrong_ending' ? fail('import_wrong_result', s.what) : undefined);
    },
  },
  // 5. Deadlines: which wait ran out says what is stuck.
  {
    when: 'a request had no answer within its own timeout',
    gives: ['timeout'],
    judge: (o) => {
      const s = o.stop;
      if (s?.kind !== 'no_answer') return undefined;
      const who = s.side === 'keycloak' ? 'Keycloak' : 'the API';
      return fail('timeout', `${who} did not answer ${s.method} ${s.url} within ${s.seconds} s${at(o)}`);
    },
  },
  {
    when: "a step or the run passed its deadline: a request stuck long enough (timeout); waiting for the canary to start or finish (queue stalled); the accepted upload's row never shown (page broken); else timeout",
    gives: ['timeout', 'queue_stalled', 'page_broken'],
    judge: (o) => {
      const s = o.stop;
      if (s?.kind !== 'step_timeout' && s?.kind !== 'run_deadline') return undefined;
      const limit = s.kind === 'run_deadline' ? `the run deadline of ${s.seconds} s` : `its ${s.seconds} s timeout`;
      const stuck = stuckRequest(o, s.seconds);
      const u = o.upload;
      if (stuck) {
        const secs = Math.round(stuck.durationMs / 1000);
        return fail(
          'timeout',
          `${stuck.method} ${stuck.url} had no answer after ${secs} s when ${o.step ? `step ${o.step}` : 'the run'} passed ${limit}`,
        );
      }
      if (o.step === 'import_started')
        return fail('queue_stalled', `the canary stayed ${u?.status ?? 'PENDING'} (not started) past ${limit}`);
      if (o.step === 'import_finished')
        return fail('queue_stalled', `the canary stayed ${u?.status ?? 'IN_PROGRESS'} (started, not finished) past ${limit}`);
      if (o.step === 'upload' && o.uploadAccepted)
        return fail('page_broken', `the upload was accepted, but the canary's row never appeared in the table within ${limit}`);
      return fail('timeout', `step ${o.step ?? '?'} did not finish within ${limit}`);
    },
  },
  {
    when: 'an element or answer the page should show never appeared',
    gives: ['page_broken'],
    judge: (o) => (o.stop?.kind === 'page' ? fail('page_broken', `${o.stop.what}${at(o)}`) : undefined),
  },
  // 6. The network watch: any bad response fails the run even when the journey completed.
  {
    when: 'any response that fails a run by itself (5xx, 401/403 from the app, no answer), even when every step passed',
    gives: ['login_unavailable', 'server_error', 'probe_error'],
    judge: (o) => {
      const bad = o.http.find((e) => isBadEvent(e));
      if (bad) return fail(bad.side === 'keycloak' ? 'login_unavailable' : 'server_error', `${bad.side} ${describe(bad)}`);
      if (o.stop?.kind === 'bad_response') return fail('probe_error', `unclassified bad response ${describe(o.stop.event)}`);
      return undefined;
    },
  },
  // 7. Ran to the end: the healthy ending must have been seen, not assumed (a light run has none).
  {
    when: 'a full run ended without seeing COMPLETED and reading the error workbook',
    gives: ['probe_error'],
    judge: (o) => {
      if (o.depth === 'light') return undefined;
      const u = o.upload;
      if (!u || u.status !== 'COMPLETED')
        return fail('probe_error', `journey ended without a final import status (last: ${u?.status ?? 'none'})`);
      if (!o.reasonTexts) return fail('probe_error', 'journey ended without reading the error workbook');
      return undefined;
    },
  },
];

/**
 * The canary's ending against the healthy one: undefined while no final status was seen or when
 * it is healthy so far. The journeys' check_result step judges with it and stops with its
 * reason; classification uses that judgement, and judges here only what a journey left unjudged.
 */
export function endingFailure(o: Pick<Observation, 'upload' | 'reasonTexts' | 'expectedReason'>): Failure | undefined {
  const u = o.upload;
  if (!u || !isFinalStatus(u.status)) return undefined;
  if (u.status !== 'COMPLETED') return fail('import_failed', `the canary import ended ${u.status}`);
  if (typeof u.numberOfErrors !== 'number' || typeof u.numberImported !== 'number')
    return fail('bad_answer', `the canary import ended COMPLETED without its error and imported counts`);
  if (u.numberImported >= 1)
    return fail('canary_imported', `the canary was imported (numberImported ${u.numberImported}): its person id exists`);
  if (u.numberOfErrors !== 1 || u.numberImported !== 0)
    return fail('import_wrong_result', `COMPLETED with ${u.numberOfErrors} error(s) and ${u.numberImported} imported, expected 1 and 0`);
  if (o.reasonTexts && !o.reasonTexts.includes(o.expectedReason))
    return fail(
      'import_wrong_result',
      `COMPLETED, but the reason for import failure is "${o.reasonTexts.join(' | ') || '(empty)'}", expected "${o.expectedReason}"`,
    );
  return undefined;
}

/** The rule table as Markdown (docs/probes.md holds it; a unit test keeps the two the same). */
export function failureRulesTable(): string {
  const rows = FAILURE_RULES.map((r, i) => `| ${i + 1} | ${r.when} | ${r.gives.map((g) => `\`${g}\``).join(', ')} |`);
  return ['| # | when the journey saw | reason |', '|---|---|---|', ...rows].join('\n');
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
  if (o.depth === 'light') {
    const listed = o.recentUploads ? `; ${o.recentUploads.listed} recent upload(s) listed` : '';
    return `logged in, and the ${o.probe === 'browser' ? 'page' : 'API'} answered with the user's token${listed} (light run: nothing uploaded)`;
  }
  return `canary ${o.upload?.status} with ${o.upload?.numberOfErrors} error and ${o.upload?.numberImported} imported: "${o.reasonTexts?.[0] ?? ''}"`;
}
