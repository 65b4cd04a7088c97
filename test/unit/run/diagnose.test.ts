// A failed run's follow-ups, through the runner with a fake probe and a fake TIS on loopback
// (Profile, TCS and Keycloak's discovery document, each made to misbehave on purpose): the
// diagnosis is added and the reason never changed; each follow-up ends by its own timeout, the
// stage by the run's deadline, at once on cancellation; answers are bounded; reports show it.
import { mkdtemp, readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { configSchema } from '../../../src/config/schema.ts';
import type { Journey } from '../../../src/journey/journey.ts';
import { RunLog } from '../../../src/journey/run-log.ts';
import type { Probe, ProbeSession } from '../../../src/journey/probe.ts';
import type { HeldToken } from '../../../src/model/diagnosis.ts';
import type { RunResult } from '../../../src/model/result.ts';
import { JourneyStop } from '../../../src/model/stop.ts';
import { Redactor } from '../../../src/redact.ts';
import { formatResult } from '../../../src/report/console.ts';
import { toJUnitXml } from '../../../src/report/junit.ts';

const fake = vi.hoisted(() => ({
  journey: async (_j: Journey): Promise<void> => {},
  userToken: undefined as undefined | (() => Promise<HeldToken | undefined>),
}));

vi.mock('../../../probes/registry.ts', () => {
  const probe: Probe = {
    async open(j) {
      const session: ProbeSession = {
        run: () => fake.journey(j),
        explain: async (stop) => stop,
        freeze: async () => {},
        evidence: async () => ({ problems: [] }),
        discard: async () => {},
        close: async () => {},
        abandon: async () => {},
        ...(fake.userToken ? { userToken: fake.userToken } : {}),
      };
      return session;
    },
  };
  return { PROBES: { api: probe, browser: probe } };
});

const { runProbe } = await import('../../../src/run/runner.ts');
const { diagnoseRun } = await import('../../../src/run/diagnose.ts');

/** How the fake TIS answers each follow-up; 'silent' accepts and never answers. */
const tis = {
  profile: 'ok' as 'ok' | 'inactive' | 'refuse' | 'silent' | 'huge' | 'hostile',
  tcs: 'ok' as 'ok' | 'down',
  discovery: 200 as number | 'silent',
  seen: [] as Array<{ path: string; authorization?: string }>,
};
let server: Server;
let base = '';
const open = new Set<ServerResponse>();

function answer(req: IncomingMessage, res: ServerResponse): void {
  const path = req.url ?? '';
  tis.seen.push({ path, ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}) });
  if (path.startsWith('/kc/realms/lin/.well-known/openid-configuration')) {
    if (tis.discovery === 'silent') return void open.add(res);
    res.writeHead(tis.discovery, { 'content-type': 'application/json' }).end(JSON.stringify({ issuer: `${base}/kc/realms/lin` }));
    return;
  }
  if (path === '/profile/api/userinfo') {
    if (tis.profile === 'silent') return void open.add(res);
    if (tis.profile === 'inactive')
      return void res.writeHead(404, { 'content-type': 'text/plain' }).end('User with username probe either not found or not active');
    if (tis.profile === 'refuse') return void res.writeHead(401, { 'content-type': 'text/plain' }).end('Invalid token');
    if (tis.profile === 'huge') return void res.writeHead(404, { 'content-type': 'text/plain' }).end('x'.repeat(2_000_000));
    if (tis.profile === 'hostile')
      return void res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found or not active ${'<script>'.repeat(100)}`);
    return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"userName":"probe","active":true}');
  }
  if (path.startsWith('/tcs/api/people/')) {
    if (tis.tcs === 'down') return void res.writeHead(502, { 'content-type': 'text/plain' }).end('Bad Gateway');
    return void res.writeHead(404, { 'content-type': 'application/json' }).end('{}');
  }
  res.writeHead(404).end();
}

beforeAll(async () => {
  server = createServer(answer);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(async () => {
  for (const r of open) r.destroy();
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const TOKEN = new UnsecuredJWT({ preferred_username: 'probe' }).setIssuer('ISSUER').setExpirationTime('5m').encode();

function tokenFor(issuer: string): string {
  return new UnsecuredJWT({ preferred_username: 'probe' }).setIssuer(issuer).setExpirationTime('5m').encode();
}

async function setup(run = 30) {
  const dir = await mkdtemp(join(tmpdir(), 'bup-diagnose-'));
  const config = configSchema.parse({
    evidence: { dir, keep: 5 },
    targets: { t: { appUrl: base, keycloak: { url: `${base}/kc` }, credentials: { username: 'probe', password: 'Diagnose-Secret-4411' } } },
  });
  const target = config.targets.t!;
  target.timeouts = { ...target.timeouts, run };
  return { config, target };
}

/** The journey as a 401 from the API after login: auth_rejected. */
async function rejected(j: Journey): Promise<void> {
  await j.step('list_uploads', async () => {
    const url = `${base}/generic-upload/api/status`;
    j.http.finish(j.http.start('GET', url), 401);
    throw new JourneyStop({ kind: 'http', side: 'app', method: 'GET', url, status: 401 });
  });
}

beforeEach(() => {
  tis.profile = 'ok';
  tis.tcs = 'ok';
  tis.discovery = 200;
  tis.seen = [];
  fake.journey = rejected;
  fake.userToken = async () => ({ token: tokenFor(`${base}/kc/realms/lin`), source: 'api-session' });
});

describe('the diagnosis of a failed run', () => {
  it('auth_rejected, Profile accepts the same token: generic-upload stale; reason and message as without follow-ups', async () => {
    const { config, target } = await setup();
    const r = await runProbe({ probe: 'api', targetName: 't', target, config });
    expect(r).toMatchObject({ ok: false, reason: 'auth_rejected', diagnosis: 'generic_upload_config_stale' });
    expect(r.diagnosisDetail).toMatch(
      /^Profile accepts the token generic-upload refused: GET http:\/\/127\.0\.0\.1:\d+\/profile\/api\/userinfo answered 200 \(0\.\d s\) \(api-session token\); follow-ups 0\.\d s$/,
    );
    // The same token went to Profile, and is nowhere in the result or the evidence.
    const asked = tis.seen.find((s) => s.path === '/profile/api/userinfo');
    expect(asked?.authorization).toMatch(/^Bearer eyJ/);
    const result = await readFile(join(r.evidenceDir!, 'result.json'), 'utf8');
    expect(JSON.parse(result)).toMatchObject({ reason: 'auth_rejected', diagnosis: 'generic_upload_config_stale' });
    const log = await readFile(join(r.evidenceDir!, 'probe.log'), 'utf8');
    expect(log).toMatch(/follow-up GET http:\/\/127\.0\.0\.1:\d+\/profile\/api\/userinfo: 200 in \d+ ms/);
    expect(log).toContain('diagnosis generic_upload_config_stale');
    expect(log + result).not.toContain(asked!.authorization!.slice(7));

    target.diagnosis = { enabled: false };
    const without = await runProbe({ probe: 'api', targetName: 't', target, config });
    expect(without.diagnosis).toBeUndefined();
    expect([without.reason, without.message, without.likelyCause]).toEqual([r.reason, r.message, r.likelyCause]);
  });

  it('Profile says the test user is not active, or refuses the token; under another issuer that is an issuer mismatch', async () => {
    const { config, target } = await setup();
    tis.profile = 'inactive';
    expect((await runProbe({ probe: 'api', targetName: 't', target, config })).diagnosis).toBe('test_user_inactive_in_profile');
    tis.profile = 'refuse';
    expect((await runProbe({ probe: 'api', targetName: 't', target, config })).diagnosis).toBe('token_refused_by_profile');
    fake.userToken = async () => ({ token: tokenFor('http://localhost:1/kc/realms/lin'), source: 'page' });
    const mismatch = await runProbe({ probe: 'browser', targetName: 't', target, config });
    expect(mismatch.diagnosis).toBe('issuer_mismatch');
    expect(mismatch.diagnosisDetail).toContain(`the token's issuer is http://localhost:1/kc/realms/lin, not ${base}/kc/realms/lin`);
    // Profile accepting the token outweighs the issuer: then only generic-upload refuses it.
    tis.profile = 'ok';
    expect((await runProbe({ probe: 'browser', targetName: 't', target, config })).diagnosis).toBe('generic_upload_config_stale');
  });

  it('the probe holds no token, or getting one fails: undetermined, saying why', async () => {
    const { config, target } = await setup();
    fake.userToken = undefined;
    const none = await runProbe({ probe: 'api', targetName: 't', target, config });
    expect(none).toMatchObject({ reason: 'auth_rejected', diagnosis: 'undetermined' });
    expect(none.diagnosisDetail).toContain('the probe held none');
    fake.userToken = async () => {
      throw new JourneyStop({ kind: 'login_rejected', text: 'invalid_grant: Session not active' });
    };
    const failing = await runProbe({ probe: 'api', targetName: 't', target, config });
    expect(failing.diagnosisDetail).toContain('getting one failed: login refused: invalid_grant: Session not active');
    expect(tis.seen.filter((s) => s.path.startsWith('/profile'))).toEqual([]);
  });

  it('login_failed with the realm answering is the account; a realm that does not answer is Keycloak unreachable', async () => {
    const { config, target } = await setup();
    fake.journey = async (j) => {
      await j.step('login', async () => {
        throw new JourneyStop({ kind: 'login_rejected', text: 'invalid_grant: Account disabled' });
      });
    };
    const r = await runProbe({ probe: 'api', targetName: 't', target, config });
    expect(r).toMatchObject({ reason: 'login_failed', diagnosis: 'account_refused' });
    tis.discovery = 404;
    expect((await runProbe({ probe: 'api', targetName: 't', target, config })).diagnosis).toBe('realm_not_found');
    target.keycloak = { ...target.keycloak, url: 'http://127.0.0.1:9/kc' };
    const down = await runProbe({ probe: 'api', targetName: 't', target, config });
    expect(down).toMatchObject({ reason: 'login_failed', diagnosis: 'keycloak_unreachable' });
    expect(down.diagnosisDetail).toContain('ECONNREFUSED');
  });

  it('an import ending Internal Server Error with Profile and TCS answering is the service account; TCS down is TCS', async () => {
    const { config, target } = await setup();
    fake.journey = async (j) => {
      await j.step('check_result', async () => {
        j.seen.upload = { logId: '1', status: 'COMPLETED', numberOfErrors: 1, numberImported: 0 };
        j.seen.reasonTexts = ['500 Internal Server Error'];
        throw new JourneyStop({
          kind: 'wrong_ending',
          reason: 'import_wrong_result',
          what: 'COMPLETED, but the reason is "500 Internal Server Error"',
        });
      });
    };
    const r = await runProbe({ probe: 'api', targetName: 't', target, config });
    expect(r).toMatchObject({ reason: 'import_wrong_result', diagnosis: 'service_account_inactive_in_profile' });
    expect(tis.seen.map((s) => s.path).sort()).toEqual(['/profile/api/userinfo', '/tcs/api/people/999999999']);
    tis.tcs = 'down';
    expect((await runProbe({ probe: 'api', targetName: 't', target, config })).diagnosis).toBe('tcs_failing');
  });

  it("the target's answers are bounded: an oversized one is refused unread, a hostile text capped", async () => {
    const { config, target } = await setup();
    tis.profile = 'huge';
    const huge = await runProbe({ probe: 'api', targetName: 't', target, config });
    expect(huge.diagnosis).toBe('undetermined');
    expect(huge.diagnosisDetail).toContain('too large an answer');
    tis.profile = 'hostile';
    const hostile = await runProbe({ probe: 'api', targetName: 't', target, config });
    expect(hostile.diagnosis).toBe('test_user_inactive_in_profile');
    expect(hostile.diagnosisDetail!.length).toBeLessThanOrEqual(300 + 30);
  });

  it('the console report and the JUnit failure show it briefly', async () => {
    const { config, target } = await setup();
    const r = await runProbe({ probe: 'api', targetName: 't', target, config });
    const text = formatResult(r);
    expect(text).toContain('diagnosis: generic_upload_config_stale: generic-upload rejects a token that Profile accepts');
    expect(text).toMatch(/follow-ups: Profile accepts the token/);
    const xml = toJUnitXml([r]);
    expect(xml).toContain('diagnosis: generic_upload_config_stale: generic-upload rejects a token that Profile accepts');
  });
});

describe('bounds', () => {
  it('a Profile that never answers: the follow-up ends by its own timeout, the stage by the run deadline', async () => {
    const { config, target } = await setup(3);
    tis.profile = 'silent';
    const t0 = Date.now();
    const r = await runProbe({ probe: 'api', targetName: 't', target, config });
    const wall = (Date.now() - t0) / 1000;
    expect(r).toMatchObject({ reason: 'auth_rejected', diagnosis: 'profile_unavailable' });
    expect(r.diagnosisDetail).toMatch(/got no answer \(no answer within 2\.\d s/);
    expect(wall).toBeLessThan(3 + 1);
  });

  it('cancelled while the follow-ups wait: the run ends at once, without a diagnosis', async () => {
    const { config, target } = await setup();
    tis.profile = 'silent';
    const abort = new AbortController();
    const t0 = Date.now();
    setTimeout(() => abort.abort(), 400);
    const r = await runProbe({ probe: 'api', targetName: 't', target, config, signal: abort.signal });
    expect((Date.now() - t0) / 1000).toBeLessThan(1.5);
    expect(r.reason).toBe('auth_rejected');
    expect(r.diagnosis).toBeUndefined();
  });

  it('no follow-ups past the run deadline, none for a cancelled run, none for reasons without any', async () => {
    const { target } = await setup();
    const log = new RunLog(new Redactor());
    const failed: RunResult = {
      probe: 'api',
      depth: 'full',
      target: 't',
      ok: false,
      reason: 'auth_rejected',
      message: 'x',
      startedAt: '',
      finishedAt: '',
      durationSeconds: 1,
      steps: [],
      http: { requests: 0, byClass: { '1xx': 0, '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0, none: 0 } },
    };
    const session = { userToken: async () => ({ token: TOKEN, source: 'page' as const }) } as unknown as ProbeSession;
    expect(await diagnoseRun({ result: failed, target, session, deadlineMs: Date.now() - 1, log })).toBeUndefined();
    expect(log.text()).toContain('no follow-up checks: the run deadline has passed');
    expect(
      await diagnoseRun({ result: { ...failed, cancelled: true }, target, session, deadlineMs: Date.now() + 9e3, log }),
    ).toBeUndefined();
    expect(
      await diagnoseRun({ result: { ...failed, reason: 'queue_stalled' }, target, session, deadlineMs: Date.now() + 9e3, log }),
    ).toBeUndefined();
    const cancelled = new AbortController();
    cancelled.abort();
    expect(
      await diagnoseRun({ result: failed, target, session, signal: cancelled.signal, deadlineMs: Date.now() + 9e3, log }),
    ).toBeUndefined();
    expect(tis.seen).toEqual([]);
  });
});
