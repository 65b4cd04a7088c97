// A failed run's broken link, named. Classification gives the reason (the symptom); for a few
// reasons a handful of bounded follow-up checks (src/run/diagnose.ts) then ask what the probe
// can still reach: does Profile accept the token generic-upload refused, does the realm answer,
// do Profile and TCS answer at all. This module is the fixed set of diagnoses with their texts,
// which follow-ups each failure gets, and the pure mapping from their answers to one diagnosis.
// A diagnosis never changes a run's reason. Every answer it reads is the target's: untrusted,
// already bounded at the edge.
import type { FailureReason } from './failures.ts';
import type { CanaryOutcome, RunResult } from './result.ts';
import { capText } from './text.ts';

/**
 * The broken link a failed run's follow-ups point at: a small fixed set, documented in
 * docs/probes.md (generated from DIAGNOSIS_INFO). Metrics carry it as a label, so adding one is a
 * deliberate change.
 */
export const DIAGNOSES = [
  'generic_upload_config_stale',
  'test_user_inactive_in_profile',
  'token_refused_by_profile',
  'issuer_mismatch',
  'keycloak_unreachable',
  'keycloak_failing',
  'realm_not_found',
  'account_refused',
  'client_refused',
  'service_account_no_token',
  'service_account_inactive_in_profile',
  'profile_unavailable',
  'tcs_failing',
  'undetermined',
] as const;
export type Diagnosis = (typeof DIAGNOSES)[number];

export interface DiagnosisInfo {
  /** The reasons that can get it. */
  reasons: readonly FailureReason[];
  /** What the follow-ups found, in words (the docs' table). */
  found: string;
  /** The broken link, and what to do: shown with the diagnosis. */
  text: string;
}

export const DIAGNOSIS_INFO: Record<Diagnosis, DiagnosisInfo> = {
  generic_upload_config_stale: {
    reasons: ['auth_rejected'],
    found: "Profile's `GET /profile/api/userinfo` accepts (200) the very token generic-upload refused",
    text: 'generic-upload rejects a token that Profile accepts: its deployed Keycloak/Profile settings are stale (the 2024-10-15 pattern); redeploy it with the current configuration',
  },
  test_user_inactive_in_profile: {
    reasons: ['auth_rejected'],
    found: 'Profile answers 404 "… either not found or not active" to the same token',
    text: 'the test user is not an active user in Profile (Keycloak changes do not sync to Profile): activate it through user management',
  },
  token_refused_by_profile: {
    reasons: ['auth_rejected'],
    found: "Profile answers 401/403 to the same token, and the token's issuer is the configured realm's",
    text: "Profile refuses the token itself: it does not trust the realm's signing keys (keys rotated, another Keycloak or realm in its settings) or the token is bad",
  },
  issuer_mismatch: {
    reasons: ['auth_rejected'],
    found:
      "the token's issuer (`iss`, read without trusting the token) is not `{keycloak.url}/realms/{realm}`, and Profile refuses the token or could not be asked",
    text: "the token was issued under another address or realm than the one configured: Keycloak's front-end URL (hostname) or the realm changed, or the probe and TIS use different Keycloak addresses; services that check the issuer refuse such tokens",
  },
  keycloak_unreachable: {
    reasons: ['login_unavailable', 'login_failed', 'import_failed'],
    found:
      "the realm's discovery document (`/realms/{realm}/.well-known/openid-configuration`) gets no answer: refused, reset, DNS, or none within the follow-up timeout",
    text: 'Keycloak, or the way to it (proxy, DNS, ingress), is down',
  },
  keycloak_failing: {
    reasons: ['login_unavailable', 'login_failed', 'import_failed'],
    found: 'the discovery document answers 5xx; or it answers 200 while the login or token endpoint failed',
    text: 'Keycloak is up but failing (restarting, its database, the proxy in front of it): not the realm, not the account',
  },
  realm_not_found: {
    reasons: ['login_unavailable', 'login_failed', 'import_failed'],
    found: 'the discovery document answers 404',
    text: 'there is no such realm at the configured address: the realm name, or the /auth prefix of older Keycloak in keycloak.url, is wrong, or the realm was removed',
  },
  account_refused: {
    reasons: ['login_failed'],
    found: 'the discovery document answers 200, and Keycloak refused the test user or asked it for something first',
    text: "the realm is fine; the test user's account is the problem: disabled, locked, password changed or expired, or a required action pending",
  },
  client_refused: {
    reasons: ['login_failed'],
    found:
      'the discovery document answers 200, and Keycloak refused the client (invalid_client, unauthorized_client, an invalid redirect_uri)',
    text: 'the realm and the account are fine; the client is the problem: its secret, its grants (Direct Access Grants, service accounts) or its redirect URIs',
  },
  service_account_no_token: {
    reasons: ['import_failed'],
    found: 'the canary ended UNEXPECTED_ERROR (users see "Unknown Server Error"), and the realm answers the probe',
    text: "the import task cannot get the bulk_upload service account's token: the account is disabled in Keycloak or its password changed (the 2021-03-18 first half)",
  },
  service_account_inactive_in_profile: {
    reasons: ['import_wrong_result'],
    found: "the reason for import failure is TCS's Internal Server Error, while Profile and TCS both answer the probe",
    text: 'the bulk_upload service account is most likely inactive in Profile (the 2021-03-18 second half: re-enabling it in Keycloak does not sync to Profile), or TCS fails on its requests only',
  },
  profile_unavailable: {
    reasons: ['auth_rejected', 'import_wrong_result'],
    found: "Profile's userinfo gets no answer, or 5xx",
    text: 'Profile is down or failing: generic-upload and TCS authenticate every call through it',
  },
  tcs_failing: {
    reasons: ['import_wrong_result'],
    found: 'the reason for import failure is a failed call to TCS (I/O error, 502/503/504), or TCS gets no answer or 5xx from the probe',
    text: 'TCS is down or failing, or generic-upload cannot reach it (its TCS_URL setting, the network between them)',
  },
  undetermined: {
    reasons: ['auth_rejected', 'login_unavailable', 'login_failed', 'import_failed', 'import_wrong_result'],
    found: 'the follow-ups ran, but their answers single out no link (or could not be made: no token held, no time left)',
    text: 'no broken link named: read the reason, the message and the evidence',
  },
};

export const DIAGNOSIS_TEXT: Record<Diagnosis, string> = Object.fromEntries(DIAGNOSES.map((d) => [d, DIAGNOSIS_INFO[d].text])) as Record<
  Diagnosis,
  string
>;

/** Where the token the follow-ups used came from. */
export const TOKEN_SOURCES = ['api-session', 'page', 'fresh-grant'] as const;
export type TokenSource = (typeof TOKEN_SOURCES)[number];

/** The test user's access token a probe holds (a secret: never kept in a result). */
export interface HeldToken {
  token: string;
  source: TokenSource;
}

/** The follow-ups a failed run gets; undefined: none (healthy, cancelled, or a reason without follow-ups). */
export interface FollowUpPlan {
  /** What the follow-ups look into, in words. */
  case: 'token' | 'login' | 'import_no_token' | 'import_internal' | 'import_tcs';
  /** The realm's discovery document. */
  discovery: boolean;
  /** Profile's userinfo (with the run's token when it has one). */
  profile: boolean;
  /** A harmless read from TCS (with the run's token when it has one). */
  tcs: boolean;
  /** The run's token is needed: Profile is asked with it, its issuer compared. */
  token: boolean;
}

type Failed = Pick<RunResult, 'ok' | 'cancelled' | 'reason' | 'message'> & { canary?: Pick<CanaryOutcome, 'status' | 'reasonText'> };

export function followUpPlan(r: Failed): FollowUpPlan | undefined {
  if (r.ok || r.cancelled) return undefined;
  const none = { discovery: false, profile: false, tcs: false, token: false };
  switch (r.reason) {
    case 'auth_rejected':
      return { ...none, case: 'token', profile: true, token: true };
    case 'login_unavailable':
    case 'login_failed':
      return { ...none, case: 'login', discovery: true };
    case 'import_failed':
    case 'import_wrong_result': {
      const c = importCase(r.canary);
      if (c === 'no_token') return { ...none, case: 'import_no_token', discovery: true };
      if (c === 'internal') return { ...none, case: 'import_internal', profile: true, tcs: true, token: true };
      if (c === 'tcs') return { ...none, case: 'import_tcs', tcs: true, token: true };
      return undefined;
    }
    default:
      return undefined;
  }
}

/** The known import endings: the service account has no token, TCS answered 500, TCS not reached. */
export function importCase(c: Pick<CanaryOutcome, 'status' | 'reasonText'> | undefined): 'no_token' | 'internal' | 'tcs' | undefined {
  const text = c?.reasonText ?? '';
  if (c?.status === 'UNEXPECTED_ERROR' || /unknown server error/i.test(text)) return 'no_token';
  if (/internal server error|^\s*500\b/i.test(text)) return 'internal';
  if (/I\/O error|ECONNREFUSED|connection refused|timed? ?out|^\s*50[234]\b|bad gateway|service unavailable|gateway time-?out/i.test(text))
    return 'tcs';
  return undefined;
}

/** One follow-up request's answer, as the mapping reads it. */
export interface CheckAnswer {
  /** What was asked: method and URL without query. */
  what: string;
  /** HTTP status; 0 when no answer came. */
  status: number;
  /** An answer came (a status; a body refused for its size counts). */
  answered: boolean;
  ms: number;
  /** Why no answer came (ECONNREFUSED, none within 5 s). */
  failure?: string;
  /** The body's first line, capped (the target's). */
  text?: string;
}

export interface FollowUpFacts {
  discovery?: CheckAnswer;
  profile?: CheckAnswer;
  tcs?: CheckAnswer;
  /** The token the follow-ups used: where from, its issuer as it says (untrusted), the issuer configured. */
  token?: { source: TokenSource; issuer?: string; expectedIssuer: string };
  /** Why no token could be held, when the plan needed one. */
  noToken?: string;
}

export interface DiagnosisVerdict {
  diagnosis: Diagnosis;
  /** What the follow-ups saw, one short line (capped at DETAIL_CAP). */
  detail: string;
}

/** Longest diagnosis detail, in characters. */
export const DETAIL_CAP = 300;

const CLIENT_REFUSED = /unauthorized_client|invalid_client|redirect_uri|client not found/i;

/** The diagnosis from the follow-ups' answers. Pure; never throws. */
export function diagnose(r: Failed, plan: FollowUpPlan, f: FollowUpFacts): DiagnosisVerdict {
  const v = pick(r, plan, f);
  return { diagnosis: v.diagnosis, detail: capText(v.detail, DETAIL_CAP) };
}

function pick(r: Failed, plan: FollowUpPlan, f: FollowUpFacts): DiagnosisVerdict {
  const verdict = (diagnosis: Diagnosis, detail: string): DiagnosisVerdict => ({ diagnosis, detail });
  switch (plan.case) {
    case 'token': {
      const p = f.profile;
      const mismatch = issuerMismatch(f.token);
      const iss = mismatch ? `; the token's issuer is ${f.token!.issuer}, not ${f.token!.expectedIssuer}` : '';
      const via = f.token ? ` (${f.token.source} token)` : ' (no token)';
      if (!f.token) {
        return verdict('undetermined', `no token to ask Profile with${f.noToken ? `: ${f.noToken}` : ''}`);
      }
      if (!p) return verdict(mismatch ? 'issuer_mismatch' : 'undetermined', `Profile not asked${iss}`);
      if (p.status === 200)
        return verdict('generic_upload_config_stale', `Profile accepts the token generic-upload refused: ${said(p)}${via}${iss}`);
      if (p.status === 404 && /not found or not active/i.test(p.text ?? ''))
        return verdict('test_user_inactive_in_profile', `${said(p)}${via}`);
      if (p.status === 401 || p.status === 403)
        return verdict(mismatch ? 'issuer_mismatch' : 'token_refused_by_profile', `Profile refuses it too: ${said(p)}${via}${iss}`);
      if (down(p)) return verdict('profile_unavailable', `${said(p)}${iss}`);
      return verdict(
        mismatch ? 'issuer_mismatch' : 'undetermined',
        `${said(p)}: not Profile's answer (is diagnosis.profileUrl right?)${iss}`,
      );
    }
    case 'login': {
      const d = f.discovery;
      if (!d) return verdict('undetermined', 'the discovery document was not asked (no time left)');
      if (!d.answered) return verdict('keycloak_unreachable', said(d));
      if (d.status >= 500) return verdict('keycloak_failing', said(d));
      if (d.status === 404) return verdict('realm_not_found', said(d));
      if (d.status !== 200) return verdict('undetermined', said(d));
      if (r.reason === 'login_unavailable') return verdict('keycloak_failing', `the realm answers (${said(d)}), but the login did not`);
      if (CLIENT_REFUSED.test(r.message)) return verdict('client_refused', `the realm answers (${said(d)}); the client was refused`);
      return verdict('account_refused', `the realm answers (${said(d)}); the test user was refused`);
    }
    case 'import_no_token': {
      const d = f.discovery;
      const ending = `the canary ended ${r.canary?.status ?? '?'}`;
      if (!d) return verdict('undetermined', `${ending}; the discovery document was not asked (no time left)`);
      if (!d.answered) return verdict('keycloak_unreachable', `${ending}; ${said(d)}`);
      if (d.status >= 500) return verdict('keycloak_failing', `${ending}; ${said(d)}`);
      if (d.status === 404) return verdict('realm_not_found', `${ending}; ${said(d)}`);
      return verdict('service_account_no_token', `${ending} while the realm answers the probe (${said(d)})`);
    }
    case 'import_internal': {
      const text = `reason "${r.canary?.reasonText ?? ''}"`;
      const p = f.profile;
      const t = f.tcs;
      if (p && down(p)) return verdict('profile_unavailable', `${text}; ${said(p)}`);
      if (t && down(t)) return verdict('tcs_failing', `${text}; ${said(t)}`);
      if (p?.answered && t?.answered)
        return verdict('service_account_inactive_in_profile', `${text}; Profile and TCS answer the probe (${said(p)}; ${said(t)})`);
      return verdict(
        'undetermined',
        `${text}; ${
          [p, t]
            .filter((a) => a)
            .map((a) => said(a!))
            .join('; ') || 'Profile and TCS not asked'
        }`,
      );
    }
    case 'import_tcs': {
      const text = `reason "${r.canary?.reasonText ?? ''}"`;
      const t = f.tcs;
      if (t && down(t)) return verdict('tcs_failing', `${text}; ${said(t)}`);
      if (t) return verdict('tcs_failing', `${text}; TCS answers the probe (${said(t)}): the way from generic-upload to TCS is broken`);
      return verdict('tcs_failing', `${text}; TCS not asked`);
    }
  }
}

/** No answer, or a 5xx (a service down behind its ingress answers 502/503/504). */
function down(a: CheckAnswer): boolean {
  return !a.answered || a.status >= 500;
}

function said(a: CheckAnswer): string {
  const secs = `${(a.ms / 1000).toFixed(1)} s`;
  if (!a.answered) return `${a.what} got no answer (${a.failure ?? 'no response'}, ${secs})`;
  const status = a.status ? `${a.status}` : 'too large an answer';
  return `${a.what} answered ${status}${a.text ? ` "${capText(a.text, 100)}"` : ''} (${secs})`;
}

/** True when the token names an issuer and it is not the configured one (false when it names none). */
export function issuerMismatch(t: FollowUpFacts['token']): boolean {
  if (!t?.issuer) return false;
  return trimSlash(t.issuer) !== trimSlash(t.expectedIssuer);
}

/** `{keycloak.url}/realms/{realm}`: the issuer the configured realm's tokens carry. */
export function expectedIssuer(keycloakUrl: string, realm: string): string {
  return `${trimSlash(keycloakUrl)}/realms/${encodeURIComponent(realm)}`;
}

function trimSlash(s: string): string {
  return s.replace(/\/+$/, '');
}

/** The diagnosis table as Markdown (docs/probes.md holds it; a unit test keeps the two the same). */
export function diagnosisTable(): string {
  const rows = DIAGNOSES.map((d) => {
    const i = DIAGNOSIS_INFO[d];
    return `| \`${d}\` | ${i.reasons.map((x) => `\`${x}\``).join(', ')} | ${i.found} | ${i.text} |`;
  });
  return ['| diagnosis | after | the follow-ups found | the broken link |', '|---|---|---|---|', ...rows].join('\n');
}
