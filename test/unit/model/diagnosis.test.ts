// The diagnosis mapping, case by case: which failures get which follow-ups, and which answers
// name which broken link. Pure: no network. Every diagnosis of the fixed set is reached by some
// case, and the docs' table is the code's.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PROBES_DOC, withDiagnosisTable } from '../../../scripts/docs.ts';
import {
  DETAIL_CAP,
  DIAGNOSES,
  DIAGNOSIS_INFO,
  DIAGNOSIS_TEXT,
  diagnose,
  diagnosisTable,
  expectedIssuer,
  followUpPlan,
  importCase,
  issuerMismatch,
  type CheckAnswer,
  type Diagnosis,
  type FollowUpFacts,
} from '../../../src/model/diagnosis.ts';
import { FAILURE_REASONS, type FailureReason } from '../../../src/model/failures.ts';
import type { CanaryOutcome } from '../../../src/model/result.ts';

const ISSUER = 'https://kc.example/auth/realms/lin';

function failed(reason: FailureReason, message = 'x', canary?: Partial<CanaryOutcome>) {
  return { ok: false, reason, message, ...(canary ? { canary: { fileName: 'c.xlsx', ...canary } } : {}) };
}

function answer(status: number, extra: Partial<CheckAnswer> = {}): CheckAnswer {
  return { what: 'GET https://x.example/y', status, answered: status > 0, ms: 42, ...extra };
}
const noAnswer = (failure = 'ECONNREFUSED'): CheckAnswer => ({
  what: 'GET https://x.example/y',
  status: 0,
  answered: false,
  ms: 3,
  failure,
});
const token = (issuer: string | undefined = ISSUER): FollowUpFacts['token'] => ({
  source: 'page',
  ...(issuer ? { issuer } : {}),
  expectedIssuer: ISSUER,
});

function run(r: ReturnType<typeof failed>, facts: FollowUpFacts): Diagnosis {
  const plan = followUpPlan(r);
  expect(plan, `a plan for ${r.reason}`).toBeDefined();
  return diagnose(r, plan!, facts).diagnosis;
}

describe('which failures get follow-ups', () => {
  it('auth_rejected: Profile with the token; logins: the discovery document; imports by their ending', () => {
    expect(followUpPlan(failed('auth_rejected'))).toMatchObject({
      case: 'token',
      profile: true,
      token: true,
      discovery: false,
      tcs: false,
    });
    for (const r of ['login_unavailable', 'login_failed'] as const)
      expect(followUpPlan(failed(r))).toMatchObject({ case: 'login', discovery: true, profile: false, token: false });
    expect(followUpPlan(failed('import_failed', 'x', { status: 'UNEXPECTED_ERROR' }))).toMatchObject({
      case: 'import_no_token',
      discovery: true,
      token: false,
    });
    expect(
      followUpPlan(failed('import_wrong_result', 'x', { status: 'COMPLETED', reasonText: '500 Internal Server Error' })),
    ).toMatchObject({
      case: 'import_internal',
      profile: true,
      tcs: true,
    });
  });

  it('none for a healthy or cancelled run, other reasons, or an import ending no case knows', () => {
    expect(followUpPlan({ ok: true, message: 'fine' })).toBeUndefined();
    expect(followUpPlan({ ...failed('auth_rejected'), cancelled: true })).toBeUndefined();
    const withFollowUps = new Set(['auth_rejected', 'login_unavailable', 'login_failed', 'import_failed', 'import_wrong_result']);
    for (const r of FAILURE_REASONS.filter((x) => !withFollowUps.has(x))) expect(followUpPlan(failed(r)), r).toBeUndefined();
    expect(followUpPlan(failed('import_failed', 'x', { status: 'INVALID_FILE_FORMAT' }))).toBeUndefined();
    expect(
      followUpPlan(failed('import_wrong_result', 'x', { status: 'COMPLETED', reasonText: 'Person with id 1 does not exist' })),
    ).toBeUndefined();
    expect(followUpPlan(failed('import_wrong_result'))).toBeUndefined();
  });

  it('reads the import endings users saw in 2021 and the texts of a failed call to TCS', () => {
    expect(importCase({ status: 'UNEXPECTED_ERROR' })).toBe('no_token');
    expect(importCase({ status: 'COMPLETED', reasonText: 'Unknown Server Error' })).toBe('no_token');
    expect(importCase({ status: 'COMPLETED', reasonText: '500 Internal Server Error' })).toBe('internal');
    expect(importCase({ status: 'COMPLETED', reasonText: 'Internal Server Error' })).toBe('internal');
    expect(importCase({ reasonText: 'I/O error on PATCH request for "http://tcs/tcs/api/bulk-people/": connect ECONNREFUSED' })).toBe(
      'tcs',
    );
    expect(importCase({ reasonText: '503 Service Unavailable' })).toBe('tcs');
    expect(importCase({ reasonText: 'Person with id 999999999 does not exist' })).toBeUndefined();
    expect(importCase(undefined)).toBeUndefined();
  });
});

describe('auth_rejected: the same token at Profile', () => {
  const r = failed('auth_rejected', 'logged in, but the API answered 401 to GET …/status');

  it('Profile accepts it: generic-upload is stale (2024-10-15), whatever the issuer', () => {
    expect(run(r, { token: token(), profile: answer(200) })).toBe('generic_upload_config_stale');
    expect(run(r, { token: token('https://elsewhere/realms/lin'), profile: answer(200) })).toBe('generic_upload_config_stale');
  });

  it('Profile says not found or not active: the test user is inactive in Profile', () => {
    const text = 'User with username bulk-upload-probe either not found or not active';
    expect(run(r, { token: token(), profile: answer(404, { text }) })).toBe('test_user_inactive_in_profile');
  });

  it('Profile refuses the token: issuer mismatch when the issuer differs, else the token is refused', () => {
    expect(run(r, { token: token(), profile: answer(401, { text: 'Invalid token' }) })).toBe('token_refused_by_profile');
    expect(run(r, { token: token(), profile: answer(403) })).toBe('token_refused_by_profile');
    expect(run(r, { token: token('http://localhost:8080/realms/lin'), profile: answer(401) })).toBe('issuer_mismatch');
    // An unreadable token names no issuer: no mismatch claimed.
    expect(run(r, { token: token(undefined), profile: answer(401) })).toBe('token_refused_by_profile');
  });

  it("Profile not answering is Profile unavailable; an answer that is not Profile's names nothing (unless the issuer does)", () => {
    expect(run(r, { token: token(), profile: noAnswer() })).toBe('profile_unavailable');
    expect(run(r, { token: token(), profile: answer(503) })).toBe('profile_unavailable');
    expect(run(r, { token: token(), profile: answer(404, { text: 'Cannot GET /profile/api/userinfo' }) })).toBe('undetermined');
    expect(run(r, { token: token('https://other/realms/x'), profile: answer(404) })).toBe('issuer_mismatch');
  });

  it('no token held: undetermined, saying why', () => {
    const v = diagnose(r, followUpPlan(r)!, { noToken: 'getting one failed: Keycloak answered 503' });
    expect(v).toEqual({ diagnosis: 'undetermined', detail: 'no token to ask Profile with: getting one failed: Keycloak answered 503' });
  });

  it('the detail says what was asked, the answer, the token and the time', () => {
    const v = diagnose(r, followUpPlan(r)!, {
      token: token(),
      profile: answer(200, { what: 'GET https://apps.example/profile/api/userinfo' }),
    });
    expect(v.detail).toBe(
      'Profile accepts the token generic-upload refused: GET https://apps.example/profile/api/userinfo answered 200 (0.0 s) (page token)',
    );
  });
});

describe('logins: the realm first', () => {
  it('no answer, 5xx, 404 from the discovery document: Keycloak unreachable, failing, realm not found', () => {
    for (const reason of ['login_unavailable', 'login_failed'] as const) {
      expect(run(failed(reason), { discovery: noAnswer() })).toBe('keycloak_unreachable');
      expect(run(failed(reason), { discovery: noAnswer('no answer within 5 s') })).toBe('keycloak_unreachable');
      expect(run(failed(reason), { discovery: answer(503) })).toBe('keycloak_failing');
      expect(run(failed(reason), { discovery: answer(404) })).toBe('realm_not_found');
    }
  });

  it('the realm answers: a login that failed to answer is Keycloak failing; a refusal is the account, or the client', () => {
    expect(run(failed('login_unavailable', 'Keycloak answered 503 to POST …/token'), { discovery: answer(200) })).toBe('keycloak_failing');
    expect(run(failed('login_failed', 'login refused: invalid_grant: Account disabled'), { discovery: answer(200) })).toBe(
      'account_refused',
    );
    expect(run(failed('login_failed', 'Keycloak asks the test user to update the password'), { discovery: answer(200) })).toBe(
      'account_refused',
    );
    expect(
      run(failed('login_failed', 'login refused: unauthorized_client: Invalid client or Invalid client credentials'), {
        discovery: answer(200),
      }),
    ).toBe('client_refused');
    expect(run(failed('login_failed', 'Keycloak shows an error page: Invalid parameter: redirect_uri'), { discovery: answer(200) })).toBe(
      'client_refused',
    );
  });

  it('a discovery answer that tells nothing, or none asked: undetermined', () => {
    expect(run(failed('login_failed'), { discovery: answer(302) })).toBe('undetermined');
    expect(run(failed('login_failed'), {})).toBe('undetermined');
  });
});

describe('imports: the ending, then who answers', () => {
  const noToken = failed('import_failed', 'the canary import ended UNEXPECTED_ERROR', { status: 'UNEXPECTED_ERROR' });
  const internal = failed('import_wrong_result', 'COMPLETED, but …', { status: 'COMPLETED', reasonText: '500 Internal Server Error' });
  const io = failed('import_wrong_result', 'COMPLETED, but …', {
    status: 'COMPLETED',
    reasonText: 'I/O error on PATCH request: ECONNREFUSED',
  });

  it('UNEXPECTED_ERROR with the realm answering: the service account cannot get a token; Keycloak down says so instead', () => {
    expect(run(noToken, { discovery: answer(200) })).toBe('service_account_no_token');
    expect(run(noToken, { discovery: noAnswer() })).toBe('keycloak_unreachable');
    expect(run(noToken, { discovery: answer(502) })).toBe('keycloak_failing');
    expect(run(noToken, {})).toBe('undetermined');
  });

  it('Internal Server Error with Profile and TCS answering: the service account inactive in Profile; else the one not answering', () => {
    expect(run(internal, { profile: answer(200), tcs: answer(404) })).toBe('service_account_inactive_in_profile');
    expect(run(internal, { profile: answer(401), tcs: answer(401) })).toBe('service_account_inactive_in_profile');
    expect(run(internal, { profile: noAnswer(), tcs: answer(404) })).toBe('profile_unavailable');
    expect(run(internal, { profile: answer(200), tcs: answer(502) })).toBe('tcs_failing');
    expect(run(internal, { profile: answer(200) })).toBe('undetermined');
  });

  it('a failed call to TCS: TCS failing, saying whether it answers the probe', () => {
    expect(run(io, { tcs: noAnswer() })).toBe('tcs_failing');
    const v = diagnose(io, followUpPlan(io)!, { tcs: answer(404) });
    expect(v.diagnosis).toBe('tcs_failing');
    expect(v.detail).toContain('the way from generic-upload to TCS is broken');
  });

  it('stale-config and an inactive service account never get the same diagnosis', () => {
    const stale = run(failed('auth_rejected'), { token: token(), profile: answer(200) });
    const inactive = run(internal, { profile: answer(200), tcs: answer(404) });
    const disabled = run(noToken, { discovery: answer(200) });
    expect(new Set([stale, inactive, disabled]).size).toBe(3);
  });
});

describe('the fixed set', () => {
  it('every diagnosis has its text, the reasons that can get it, and what the follow-ups found', () => {
    for (const d of DIAGNOSES) {
      expect(DIAGNOSIS_TEXT[d].length, d).toBeGreaterThan(20);
      expect(DIAGNOSIS_INFO[d].found.length, d).toBeGreaterThan(10);
      expect(DIAGNOSIS_INFO[d].reasons.length, d).toBeGreaterThan(0);
      for (const r of DIAGNOSIS_INFO[d].reasons)
        expect(followUpPlan(failed(r, 'x', { status: 'UNEXPECTED_ERROR', reasonText: 'Internal Server Error' }))).toBeDefined();
    }
  });

  it('every diagnosis is reached by some case above (mapping exercised end to end)', () => {
    const reached = new Set<Diagnosis>();
    const facts: Array<[ReturnType<typeof failed>, FollowUpFacts]> = [
      [failed('auth_rejected'), { token: token(), profile: answer(200) }],
      [failed('auth_rejected'), { token: token(), profile: answer(404, { text: 'either not found or not active' }) }],
      [failed('auth_rejected'), { token: token(), profile: answer(401) }],
      [failed('auth_rejected'), { token: token('https://x/realms/y'), profile: answer(401) }],
      [failed('auth_rejected'), { token: token(), profile: noAnswer() }],
      [failed('auth_rejected'), { noToken: 'none' }],
      [failed('login_unavailable'), { discovery: noAnswer() }],
      [failed('login_unavailable'), { discovery: answer(500) }],
      [failed('login_failed'), { discovery: answer(404) }],
      [failed('login_failed', 'invalid_grant: Account disabled'), { discovery: answer(200) }],
      [failed('login_failed', 'invalid_client'), { discovery: answer(200) }],
      [failed('import_failed', 'x', { status: 'UNEXPECTED_ERROR' }), { discovery: answer(200) }],
      [failed('import_wrong_result', 'x', { reasonText: 'Internal Server Error' }), { profile: answer(200), tcs: answer(404) }],
      [failed('import_wrong_result', 'x', { reasonText: 'I/O error' }), { tcs: noAnswer() }],
    ];
    for (const [r, f] of facts) reached.add(run(r, f));
    expect(DIAGNOSES.filter((d) => !reached.has(d))).toEqual([]);
  });

  it("the detail is bounded, whatever the target's texts", () => {
    const huge = 'Internal Server Error ' + 'x'.repeat(50_000);
    const r = failed('import_wrong_result', 'x', { reasonText: huge });
    const v = diagnose(r, followUpPlan(r)!, { profile: answer(200, { text: 'y'.repeat(5_000) }), tcs: answer(404) });
    expect(v.detail.length).toBeLessThanOrEqual(DETAIL_CAP + 40);
    expect(v.detail).toMatch(/… \(\d+ characters\)$/);
  });

  it('issuers compare without trailing slashes; none named is no mismatch', () => {
    expect(expectedIssuer('https://kc.example/auth/', 'lin')).toBe(ISSUER);
    expect(issuerMismatch({ source: 'page', issuer: `${ISSUER}/`, expectedIssuer: ISSUER })).toBe(false);
    expect(issuerMismatch({ source: 'page', issuer: 'https://kc.example/realms/lin', expectedIssuer: ISSUER })).toBe(true);
    expect(issuerMismatch({ source: 'page', expectedIssuer: ISSUER })).toBe(false);
    expect(issuerMismatch(undefined)).toBe(false);
  });

  it('docs/probes.md shows the diagnosis table as the code has it (npm run docs rewrites it)', () => {
    const doc = readFileSync(PROBES_DOC, 'utf8');
    expect(withDiagnosisTable(doc)).toBe(doc);
    expect(doc).toContain(diagnosisTable());
  });
});
