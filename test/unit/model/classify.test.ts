// Classification, case by case: every failure reason, and the cases that look alike but mean
// different things in TIS (401 during login vs after it, a 200 that is a login page, a row
// that never appears, which wait ran out).
import { describe, expect, it } from 'vitest';
import { classify, type Verdict } from '../../../src/model/classify.ts';
import { LIKELY_CAUSE } from '../../../src/model/failures.ts';
import type { Observation, ObservedHttp } from '../../../src/model/observation.ts';
import type { Stop } from '../../../src/model/stop.ts';
import { FAILURE_REASONS } from '../../../src/model/failures.ts';
import type { StepName } from '../../../src/model/result.ts';

const EXPECTED = 'Person with id 999999999 does not exist';
const KC = 'https://tis.example/auth/realms/lin/protocol/openid-connect';
const API = 'https://tis.example/generic-upload/api';

function ev(
  side: 'keycloak' | 'app',
  method: string,
  url: string,
  status: number,
  step?: StepName,
  failure?: string,
  durationMs = 20,
): ObservedHttp {
  const e: ObservedHttp = { side, method, url, status, durationMs, at: '2026-11-25T10:00:00.000Z' };
  if (step) e.step = step;
  if (failure) e.failure = failure;
  return e;
}

/** A healthy journey's observation; each case changes what it needs. */
function healthy(over: Partial<Observation> = {}): Observation {
  return {
    probe: 'api',
    depth: 'full',
    http: [
      ev('keycloak', 'POST', `${KC}/token`, 200, 'login'),
      ev('app', 'GET', `${API}/status`, 200, 'list_uploads'),
      ev('app', 'POST', `${API}/file`, 200, 'upload'),
      ev('app', 'GET', `${API}/uploadedFileErrors/1`, 200, 'check_result'),
    ],
    pending: [],
    uploadAccepted: true,
    upload: { logId: '1', status: 'COMPLETED', numberOfErrors: 1, numberImported: 0 },
    reasonTexts: [EXPECTED],
    expectedReason: EXPECTED,
    ...over,
  };
}

function stopped(step: StepName, stop: Stop, over: Partial<Observation> = {}): Observation {
  return healthy({ step, stop, upload: undefined, reasonTexts: undefined, uploadAccepted: undefined, ...over });
}

/** The reason of a failing verdict (a passing one has none). */
const reasonOf = (v: Verdict) => (v.ok ? undefined : v.reason);

describe('classify', () => {
  it('passes the healthy ending, and only that', () => {
    const v = classify(healthy());
    expect(v).toMatchObject({ ok: true });
    expect(reasonOf(v)).toBeUndefined();
    expect(v.message).toContain(EXPECTED);
  });

  it('does not pass a journey that ran to the end without seeing the ending', () => {
    expect(classify(healthy({ upload: undefined, reasonTexts: undefined }))).toMatchObject({ ok: false, reason: 'probe_error' });
    expect(classify(healthy({ reasonTexts: undefined }))).toMatchObject({ ok: false, reason: 'probe_error' });
  });

  it('gives every failure a likely cause from the table', () => {
    const v = classify(stopped('login', { kind: 'login_rejected', text: 'invalid_grant: Account disabled' }));
    expect(v.ok ? undefined : v.likelyCause).toBe(LIKELY_CAUSE.login_failed);
    for (const r of FAILURE_REASONS) expect(LIKELY_CAUSE[r].length).toBeGreaterThan(20);
  });

  describe('login', () => {
    it('login_failed: the password grant says invalid_grant (test user disabled)', () => {
      const v = classify(
        stopped(
          'login',
          { kind: 'login_rejected', text: 'invalid_grant: Account disabled' },
          { http: [ev('keycloak', 'POST', `${KC}/token`, 400, 'login')] },
        ),
      );
      expect(v).toMatchObject({ ok: false, reason: 'login_failed' });
      expect(v.message).toContain('Account disabled');
    });

    it('login_failed: the login page shows an error', () => {
      expect(
        classify(stopped('login', { kind: 'login_rejected', text: 'Account is disabled, contact your administrator.' })),
      ).toMatchObject({ reason: 'login_failed' });
    });

    it('login_failed: Keycloak shows a page instead of the app (a required action), in its own words', () => {
      const what = 'Keycloak asks the test user to update the password (required action UPDATE_PASSWORD) before the app';
      expect(classify(stopped('login', { kind: 'keycloak_page', what }))).toMatchObject({
        ok: false,
        reason: 'login_failed',
        message: what,
      });
    });

    it('401 DURING login (Keycloak) is login_failed, 401 AFTER it (API) is auth_rejected', () => {
      const during = stopped(
        'login',
        { kind: 'step_timeout', seconds: 30 },
        { http: [ev('keycloak', 'POST', `${KC.replace('/protocol/openid-connect', '')}/login-actions/authenticate`, 401, 'login')] },
      );
      expect(classify(during)).toMatchObject({ reason: 'login_failed' });
      const after = stopped(
        'list_uploads',
        { kind: 'http', side: 'app', method: 'GET', url: `${API}/status`, status: 401 },
        {
          http: [ev('keycloak', 'POST', `${KC}/token`, 200, 'login'), ev('app', 'GET', `${API}/status`, 401, 'list_uploads')],
        },
      );
      expect(classify(after)).toMatchObject({ reason: 'auth_rejected' });
    });

    it('a Keycloak 4xx in a journey that got past login is noise, not a verdict', () => {
      const o = healthy({ http: [...healthy().http, ev('keycloak', 'GET', `${KC}/login-status-iframe.html/init`, 403, 'open_page')] });
      expect(classify(o)).toMatchObject({ ok: true });
    });

    it('login_failed: the token endpoint answers 401 to the client (invalid_client)', () => {
      expect(classify(stopped('login', { kind: 'http', side: 'keycloak', method: 'POST', url: `${KC}/token`, status: 401 }))).toMatchObject(
        { reason: 'login_failed' },
      );
    });

    it('a 200 that is really the login page: login_failed during login; after it, auth_rejected from the API, page_broken in the browser', () => {
      const during = classify(stopped('login', { kind: 'login_page', where: `${KC}/auth` }));
      expect(during).toMatchObject({ reason: 'login_failed' });
      expect(during.message).toContain('still on the login page');
      const api = classify(stopped('list_uploads', { kind: 'login_page', where: `GET ${API}/status answered 200 with a login page` }));
      expect(api).toMatchObject({ reason: 'auth_rejected' });
      expect(api.message).toContain('with a login page instead of JSON');
      const page = classify(stopped('open_page', { kind: 'login_page', where: `${KC}/auth` }, { probe: 'browser' }));
      expect(page).toMatchObject({ reason: 'page_broken' });
      expect(page.message).toContain('login page where the app should be');
    });

    it('Keycloak answering other than a refusal of the credentials does not blame the account', () => {
      const token = (status: number, extra: Partial<Extract<Stop, { kind: 'http' }>> = {}) =>
        classify(stopped('login', { kind: 'http', side: 'keycloak', method: 'POST', url: `${KC}/token`, status, ...extra }));
      expect(token(404)).toMatchObject({ reason: 'login_unavailable' });
      expect(token(503)).toMatchObject({ reason: 'login_unavailable' });
      expect(token(429, { retryAfter: '30' })).toMatchObject({
        reason: 'rate_limited',
        message: expect.stringContaining('Retry-After: 30'),
      });
      const redirect = token(302, { location: 'https://sso.example/login' });
      expect(redirect).toMatchObject({ reason: 'bad_answer' });
      expect(redirect.message).toContain('https://sso.example/login');
      expect(token(400, { body: 'invalid_grant' })).toMatchObject({ reason: 'login_failed' });
      expect(
        classify(stopped('login', { kind: 'bad_answer', side: 'keycloak', what: 'POST token answered 200 without a usable token' })),
      ).toMatchObject({ reason: 'bad_answer' });
    });

    it('login_unavailable: Keycloak answers 5xx (not server_error, which is the API)', () => {
      const kc = stopped(
        'login',
        { kind: 'bad_response', event: ev('keycloak', 'GET', `${KC}/auth`, 503, 'login') },
        { http: [ev('keycloak', 'GET', `${KC}/auth`, 503, 'login')] },
      );
      expect(classify(kc)).toMatchObject({ reason: 'login_unavailable' });
      const apiDown = stopped(
        'list_uploads',
        { kind: 'http', side: 'app', method: 'GET', url: `${API}/status`, status: 503 },
        { http: [ev('app', 'GET', `${API}/status`, 503, 'list_uploads')] },
      );
      expect(classify(apiDown)).toMatchObject({ reason: 'server_error' });
    });

    it('ECONNREFUSED: login_unavailable when it is Keycloak, network when it is the app', () => {
      expect(
        classify(stopped('login', { kind: 'network', side: 'keycloak', method: 'POST', url: `${KC}/token`, code: 'ECONNREFUSED' })),
      ).toMatchObject({ reason: 'login_unavailable' });
      expect(
        classify(
          stopped(
            'login',
            { kind: 'bug', message: 'page.goto: net::ERR_CONNECTION_REFUSED' },
            { http: [ev('keycloak', 'GET', `${KC}/auth`, 0, 'login', 'net::ERR_CONNECTION_REFUSED')] },
          ),
        ),
      ).toMatchObject({
        reason: 'login_unavailable',
      });
      expect(
        classify(stopped('list_uploads', { kind: 'network', side: 'app', method: 'GET', url: `${API}/status`, code: 'ECONNREFUSED' })),
      ).toMatchObject({ reason: 'network' });
    });
  });

  describe('the API after login', () => {
    it('auth_rejected wins over what the page did about it (reload loop, timeout)', () => {
      const o = stopped(
        'open_page',
        { kind: 'reload_loop', count: 3 },
        {
          probe: 'browser',
          appReloads: 3,
          http: [
            ev('keycloak', 'POST', `${KC}/token`, 200, 'open_page'),
            ev('app', 'GET', `${API}/status`, 401, 'open_page'),
            ev('app', 'GET', `${API}/status`, 401, 'open_page'),
          ],
        },
      );
      const v = classify(o);
      expect(reasonOf(v)).toBe('auth_rejected');
      expect(v.message).toContain('2 times');
      expect(v.message).toContain('reloaded itself 3 time');
    });

    it('a bad response fails the run even when every step passed', () => {
      const o = healthy({ http: [...healthy().http, ev('app', 'GET', `${API}/status`, 500, 'check_result')] });
      expect(classify(o)).toMatchObject({ ok: false, reason: 'server_error' });
      const forbidden = healthy({ http: [...healthy().http, ev('app', 'GET', `${API}/status`, 403, 'import_started')] });
      expect(classify(forbidden)).toMatchObject({ ok: false, reason: 'auth_rejected' });
    });

    it('upload_rejected: POST /file answers 4xx other than 401/403', () => {
      const v = classify(
        stopped('upload', {
          kind: 'http',
          side: 'app',
          method: 'POST',
          url: `${API}/file`,
          status: 400,
          body: 'File uploaded cannot be processed : Unrecognised upload template',
        }),
      );
      expect(reasonOf(v)).toBe('upload_rejected');
      expect(v.message).toContain('Unrecognised upload template');
    });

    it('an unexpected 4xx elsewhere is bad_answer, not upload_rejected', () => {
      expect(
        classify(stopped('list_uploads', { kind: 'http', side: 'app', method: 'GET', url: `${API}/status`, status: 404 })),
      ).toMatchObject({ reason: 'bad_answer' });
    });

    it('429 is rate_limited, with or without Retry-After; 503 is server_error', () => {
      const throttled = (retryAfter?: string) =>
        classify(
          stopped(
            'list_uploads',
            { kind: 'http', side: 'app', method: 'GET', url: `${API}/status`, status: 429, ...(retryAfter ? { retryAfter } : {}) },
            {
              http: [ev('app', 'GET', `${API}/status`, 429, 'list_uploads')],
            },
          ),
        );
      expect(throttled('120')).toMatchObject({ reason: 'rate_limited', message: expect.stringContaining('Retry-After: 120') });
      expect(throttled()).toMatchObject({ reason: 'rate_limited', message: expect.stringContaining('no Retry-After') });
      const unavailable = stopped(
        'list_uploads',
        { kind: 'http', side: 'app', method: 'GET', url: `${API}/status`, status: 503 },
        { http: [ev('app', 'GET', `${API}/status`, 503, 'list_uploads')] },
      );
      expect(classify(unavailable)).toMatchObject({ reason: 'server_error' });
    });

    it('a redirect from the API is reported as one, with where it points', () => {
      const v = classify(
        stopped('list_uploads', {
          kind: 'http',
          side: 'app',
          method: 'GET',
          url: `${API}/status`,
          status: 302,
          location: 'https://proxy.example/sso',
        }),
      );
      expect(v).toMatchObject({ reason: 'bad_answer' });
      expect(v.message).toContain('redirect to https://proxy.example/sso');
    });

    it('an answer outside the contract is bad_answer, whichever answer it was', () => {
      const v = classify(
        stopped('import_started', { kind: 'bad_answer', side: 'app', what: 'the canary upload 1 has fileStatus "ARCHIVED"' }),
      );
      expect(v).toMatchObject({ reason: 'bad_answer' });
      expect(v.message).toContain('ARCHIVED');
    });

    it('COMPLETED without counts is bad_answer, not a TCS failure', () => {
      expect(classify(healthy({ upload: { logId: '1', status: 'COMPLETED' } }))).toMatchObject({ reason: 'bad_answer' });
    });
  });

  describe('the page', () => {
    it('page_broken: a reload loop with no telling status', () => {
      expect(classify(stopped('open_page', { kind: 'reload_loop', count: 3 }, { probe: 'browser' }))).toMatchObject({
        reason: 'page_broken',
      });
    });

    it('a row that never appears: page_broken when the upload was accepted, timeout when the upload never answered', () => {
      const accepted = classify(stopped('upload', { kind: 'step_timeout', seconds: 30 }, { probe: 'browser', uploadAccepted: true }));
      expect(reasonOf(accepted)).toBe('page_broken');
      expect(accepted.message).toContain('row never appeared');
      const hanging = classify(
        stopped(
          'upload',
          { kind: 'step_timeout', seconds: 30 },
          { probe: 'browser', pending: [ev('app', 'POST', `${API}/file`, 0, 'upload', 'no answer yet', 29_800)] },
        ),
      );
      expect(reasonOf(hanging)).toBe('timeout');
      expect(hanging.message).toContain('POST');
    });

    it('an element that never appears is page_broken', () => {
      expect(classify(stopped('open_page', { kind: 'page', what: 'the app never became ready' }, { probe: 'browser' }))).toMatchObject({
        reason: 'page_broken',
      });
    });
  });

  describe('the import', () => {
    it('import_failed: UNEXPECTED_ERROR and INVALID_FILE_FORMAT', () => {
      for (const status of ['UNEXPECTED_ERROR', 'INVALID_FILE_FORMAT']) {
        const v = classify(
          healthy({
            step: 'check_result',
            stop: { kind: 'wrong_ending', what: `ended ${status}` },
            upload: { status },
            reasonTexts: undefined,
          }),
        );
        expect(reasonOf(v)).toBe('import_failed');
        expect(v.message).toContain(status);
      }
    });

    it('import_wrong_result: COMPLETED with another reason text (bulk_upload inactive in Profile)', () => {
      const v = classify(healthy({ reasonTexts: ['500 Internal Server Error'] }));
      expect(reasonOf(v)).toBe('import_wrong_result');
      expect(v.message).toContain('500 Internal Server Error');
    });

    it('import_wrong_result: COMPLETED with wrong counts', () => {
      expect(classify(healthy({ upload: { status: 'COMPLETED', numberOfErrors: 0, numberImported: 0 } }))).toMatchObject({
        reason: 'import_wrong_result',
      });
      expect(classify(healthy({ upload: { status: 'COMPLETED', numberOfErrors: 2, numberImported: 0 } }))).toMatchObject({
        reason: 'import_wrong_result',
      });
    });

    it('canary_imported: numberImported >= 1 wins over wrong counts', () => {
      expect(
        classify(healthy({ upload: { status: 'COMPLETED', numberOfErrors: 0, numberImported: 1 }, reasonTexts: undefined })),
      ).toMatchObject({ reason: 'canary_imported' });
    });

    it('timeout while PENDING is queue_stalled (not started)', () => {
      const v = classify(
        stopped('import_started', { kind: 'step_timeout', seconds: 60 }, { upload: { status: 'PENDING' }, uploadAccepted: true }),
      );
      expect(reasonOf(v)).toBe('queue_stalled');
      expect(v.message).toContain('PENDING');
      expect(v.message).toContain('not started');
    });

    it('timeout while IN_PROGRESS is queue_stalled (started, not finished)', () => {
      const v = classify(
        stopped('import_finished', { kind: 'step_timeout', seconds: 60 }, { upload: { status: 'IN_PROGRESS' }, uploadAccepted: true }),
      );
      expect(reasonOf(v)).toBe('queue_stalled');
      expect(v.message).toContain('IN_PROGRESS');
      expect(v.message).toContain('started, not finished');
    });

    it('a status poll hanging while PENDING is a slow API (timeout), not a stalled queue', () => {
      const v = classify(
        stopped(
          'import_started',
          { kind: 'step_timeout', seconds: 60 },
          { upload: { status: 'PENDING' }, pending: [ev('app', 'GET', `${API}/status`, 0, 'import_started', 'no answer yet', 45_000)] },
        ),
      );
      expect(reasonOf(v)).toBe('timeout');
    });
  });

  describe('deadlines and the probe itself', () => {
    it('timeout: a request with no answer within its own timeout', () => {
      const v = classify(stopped('list_uploads', { kind: 'no_answer', side: 'app', method: 'GET', url: `${API}/status`, seconds: 15 }));
      expect(reasonOf(v)).toBe('timeout');
      expect(v.message).toContain('15 s');
    });

    it('timeout: the run deadline with nothing more specific', () => {
      expect(classify(stopped('upload', { kind: 'run_deadline', seconds: 180 }))).toMatchObject({ reason: 'timeout' });
    });

    it('probe_error: a bug, or a cancelled run', () => {
      expect(classify(stopped('upload', { kind: 'bug', message: 'TypeError: x is undefined' }))).toMatchObject({ reason: 'probe_error' });
      expect(classify(stopped('upload', { kind: 'cancelled' }))).toMatchObject({ reason: 'probe_error' });
    });

    it('a navigation abort is not a network failure', () => {
      const o = healthy({ http: [...healthy().http, ev('app', 'GET', `${API}/status`, 0, 'open_page', 'net::ERR_ABORTED')] });
      expect(classify(o)).toMatchObject({ ok: true });
    });
  });

  it('covers every failure reason', () => {
    const seen = new Set<string>();
    const cases: Observation[] = [
      stopped('login', { kind: 'login_rejected', text: 'x' }),
      stopped('login', { kind: 'network', side: 'keycloak', method: 'POST', url: KC, code: 'ECONNREFUSED' }),
      stopped(
        'list_uploads',
        { kind: 'http', side: 'app', method: 'GET', url: API, status: 401 },
        { http: [ev('app', 'GET', API, 401, 'list_uploads')] },
      ),
      stopped('list_uploads', { kind: 'http', side: 'app', method: 'GET', url: API, status: 500 }),
      stopped('list_uploads', { kind: 'network', side: 'app', method: 'GET', url: API, code: 'ECONNRESET' }),
      stopped('list_uploads', { kind: 'no_answer', side: 'app', method: 'GET', url: API, seconds: 5 }),
      stopped('upload', { kind: 'http', side: 'app', method: 'POST', url: API, status: 415 }),
      stopped('import_started', { kind: 'step_timeout', seconds: 5 }),
      healthy({ upload: { status: 'UNEXPECTED_ERROR' }, reasonTexts: undefined }),
      healthy({ reasonTexts: ['other'] }),
      healthy({ upload: { status: 'COMPLETED', numberOfErrors: 0, numberImported: 1 } }),
      stopped('open_page', { kind: 'reload_loop', count: 5 }),
      stopped('upload', { kind: 'bug', message: 'boom' }),
      stopped('list_uploads', { kind: 'bad_answer', side: 'app', what: 'truncated JSON' }),
      stopped('list_uploads', { kind: 'http', side: 'app', method: 'GET', url: API, status: 429 }),
    ];
    for (const c of cases) seen.add(reasonOf(classify(c))!);
    expect([...seen].sort()).toEqual([...FAILURE_REASONS].sort());
  });
});
