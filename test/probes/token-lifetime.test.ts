// A run must not outlive its own access token: a 401 caused by the probe's own expired token is
// a false auth_rejected. Realm `lin` is given a 10 s access token lifespan (through Keycloak's
// admin API, as an operator would), the box is shown to really refuse an expired token, and then
// the queue is held (queue-blocked) for 20 s so that each probe's canary waits longer than its
// first token lives. Both probes must still end ok, with no 401 anywhere: the API probe renews
// through its TokenSession, the browser probe's page through keycloak-js updateToken.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { ClientRequest, IncomingMessage } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import axios from 'axios';
import { decodeJwt } from 'jose';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { clearFault, setFault } from '../../box/control-client.ts';
import { KeycloakAdmin } from '../../box/keycloak-admin.ts';
import { launchBrowser } from '../../src/browser/launch.ts';
import type { ProbeName, RunResult } from '../../src/model/result.ts';
import { apiBase } from '../../src/target/generic-upload.ts';
import { tokenEndpoint } from '../../src/target/keycloak.ts';
import { probeSetup, type ProbeSetup } from './setup.ts';

/** The realm's access token lifespan during this file, seconds. */
const LIFESPAN = 10;
/** How long the queue is held: the canary's import starts well after its first token expired. */
const BLOCKED_MS = 20_000;

const box = inject('box');
const admin = new KeycloakAdmin(box.keycloakInternalUrl, box.keycloakAdmin);
let previousLifespan: number | undefined;
let realBrowser: Browser | undefined;
let probes: ProbeSetup;

/** One response seen by this test: from the API probe (Node's HTTP client) or the browser probe's page. */
interface Seen {
  method: string;
  url: string;
  status: number;
  atMs: number;
}
let seen: Seen[] | undefined;

// The API probe's exchanges, read from Node's HTTP client diagnostics: the probe's own HttpLog
// keeps only a summary by status class, and a renewal shows only as one more token request.
function onResponse(message: unknown): void {
  const { request, response } = message as { request: ClientRequest; response: IncomingMessage };
  if (!seen) return;
  const host = String(request.getHeader('host') ?? request.host);
  seen.push({ method: request.method, url: `${host}${request.path.split('?')[0]}`, status: response.statusCode ?? 0, atMs: Date.now() });
}

// The browser probe's exchanges: every context the runner opens on this browser is watched too.
function watched(browser: Browser): Browser {
  return new Proxy(browser, {
    get(target, prop) {
      if (prop === 'newContext') {
        return async (...args: Parameters<Browser['newContext']>) => {
          const context = await target.newContext(...args);
          context.on('response', (r) => {
            const u = new URL(r.url());
            seen?.push({ method: r.request().method(), url: `${u.host}${u.pathname}`, status: r.status(), atMs: Date.now() });
          });
          return context;
        };
      }
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

beforeAll(async () => {
  realBrowser = await launchBrowser();
  probes = await probeSetup(box, watched(realBrowser));
  await clearFault(box.urls.control);
  previousLifespan = await admin.setAccessTokenLifespan(LIFESPAN);
  expect(previousLifespan, 'the realm had an access token lifespan to put back').toBeTypeOf('number');
  subscribe('http.client.response.finish', onResponse);
});

afterAll(async () => {
  // Each clean-up runs whatever the one before it did.
  unsubscribe('http.client.response.finish', onResponse);
  const errors: unknown[] = [];
  await clearFault(box.urls.control).catch((err: unknown) => errors.push(err));
  if (previousLifespan !== undefined) {
    const back = previousLifespan;
    await admin
      .setAccessTokenLifespan(back)
      .then((was) => expect(was).toBe(LIFESPAN))
      .catch((err: unknown) => errors.push(err));
  }
  await realBrowser?.close().catch((err: unknown) => errors.push(err));
  if (errors.length) throw errors[0];
});

function explain(r: RunResult): string {
  return `${r.probe}: ${r.ok ? 'ok' : `${r.reason} at ${r.failedStep}: ${r.message}`} (${r.durationSeconds.toFixed(1)} s)`;
}

const isTokenGrant = (s: Seen) => s.method === 'POST' && s.url.endsWith(`/realms/${box.realm}/protocol/openid-connect/token`);
const isStatusCall = (s: Seen) => s.method === 'GET' && /\/generic-upload\/api\/status$/.test(s.url);

/** Runs a probe while the queue is held for BLOCKED_MS, and what the test saw of its HTTP. */
async function runThroughHeldQueue(probe: ProbeName): Promise<{ r: RunResult; http: Seen[] }> {
  await setFault(box.urls.control, 'queue-blocked');
  const target = { ...probes.target, timeouts: { ...probes.target.timeouts, importStarted: 60, run: 90 } };
  seen = [];
  const cleared = sleep(BLOCKED_MS).then(() => clearFault(box.urls.control, 'queue-blocked'));
  cleared.catch(() => undefined);
  try {
    const r = await probes.run(probe, { target });
    return { r, http: seen };
  } finally {
    seen = undefined;
    await cleared;
  }
}

function expectNotOutlived(r: RunResult, http: Seen[]): void {
  expect(r.ok, explain(r)).toBe(true);
  // The run's own HTTP summary: nothing that fails a run, and no 4xx at all.
  expect(r.http.firstBad, JSON.stringify(r.http.firstBad)).toBeUndefined();
  expect(r.http.byClass['4xx'], JSON.stringify(r.http.byClass)).toBe(0);
  // What the test saw itself: no 401 from Keycloak or the app, ever.
  expect(http.filter((s) => s.status === 401)).toEqual([]);

  // The canary really waited past the first token's life, with the probe asking all along
  // (the first token is the one the login step obtained: the page's comes after its redirects).
  const grants = http.filter(isTokenGrant);
  expect(grants.length, 'token requests (login + renewals)').toBeGreaterThanOrEqual(2);
  expect(
    grants.every((s) => s.status === 200),
    JSON.stringify(grants),
  ).toBe(true);
  const firstExpiryMs = grants[0]!.atMs + LIFESPAN * 1000;
  const importStarted = r.steps.find((s) => s.name === 'import_started')!;
  expect(
    Date.parse(importStarted.startedAt) + importStarted.durationSeconds * 1000,
    'import started after the first token expired',
  ).toBeGreaterThan(firstExpiryMs);
  const afterFirstExpiry = http.filter((s) => isStatusCall(s) && s.atMs > firstExpiryMs + 1000);
  expect(afterFirstExpiry.length, 'status calls after the first token expired').toBeGreaterThan(0);
  // ...all answered 200, which only a renewed token gets (see the control above).
  expect(afterFirstExpiry.filter((s) => s.status !== 200)).toEqual([]);
  console.log(
    `${explain(r)}: ${grants.length} token requests, ${afterFirstExpiry.length} status calls after the first token expired, http ${JSON.stringify(r.http.byClass)}`,
  );
}

describe(`a run does not outlive its own access token (realm lifespan ${LIFESPAN} s, queue held ${BLOCKED_MS / 1000} s)`, () => {
  it('control: the box answers 401 to an expired token, so a run that did not renew would fail', async () => {
    const t = probes.target;
    const clientId = t.keycloak.tokenClientId;
    const res = await axios.post<{ access_token: string; expires_in: number }>(
      tokenEndpoint({ url: t.keycloak.url, realm: t.keycloak.realm, clientId }),
      new URLSearchParams({
        grant_type: 'password',
        client_id: clientId,
        username: box.testUser.username,
        password: box.testUser.password,
      }),
      { timeout: 10_000 },
    );
    // Keycloak counts expires_in from its own clock: a second boundary may pass between the two.
    expect(res.data.expires_in).toBeGreaterThanOrEqual(LIFESPAN - 1);
    expect(res.data.expires_in).toBeLessThanOrEqual(LIFESPAN);
    const token = res.data.access_token;
    const { exp, iat } = decodeJwt(token);
    expect(exp! - iat!).toBe(LIFESPAN);

    const status = async () =>
      (
        await axios.get(`${apiBase(t.appUrl, t.apiPath)}/status`, {
          params: { page: 0, size: 1 },
          headers: { authorization: `Bearer ${token}` },
          validateStatus: () => true,
          timeout: 10_000,
        })
      ).status;
    expect(await status(), 'while the token lives').toBe(200);
    await sleep(Math.max(0, (exp! + 1) * 1000 - Date.now()));
    expect(await status(), 'once it has expired').toBe(401);
  });

  it('the API probe renews its token and ends ok, no 401', { timeout: 150_000 }, async () => {
    const { r, http } = await runThroughHeldQueue('api');
    expectNotOutlived(r, http);
  });

  it("the browser probe's page renews its token (keycloak-js updateToken) and ends ok, no 401", { timeout: 150_000 }, async () => {
    const { r, http } = await runThroughHeldQueue('browser');
    expectNotOutlived(r, http);
  });
});
