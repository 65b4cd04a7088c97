// The token a probe hands to a failed run's follow-ups, and the follow-up request itself, against
// a fake Keycloak and a fake TIS on loopback: the browser probe uses the page's own token while it
// has life left and obtains one through the API client with the same credentials only when there
// is none; the API probe holds none before its login; a token is read without being trusted; a
// follow-up keeps only a status and a short plain text.
import { createServer, type Server } from 'node:http';
import { UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiProbe } from '../../../probes/api.ts';
import { followUpToken } from '../../../probes/browser.ts';
import { configSchema } from '../../../src/config/schema.ts';
import type { Journey } from '../../../src/journey/journey.ts';
import { Redactor } from '../../../src/redact.ts';
import { check, tokenExpiresAt, tokenIssuer } from '../../../src/target/follow-up.ts';
import { HttpLog } from '../../../src/target/http-log.ts';
import type { Exchange } from '../../../src/target/http.ts';

let server: Server;
let base = '';
const grants: URLSearchParams[] = [];
const FRESH = new UnsecuredJWT({ preferred_username: 'probe' }).setIssuer('fresh').setExpirationTime('5m').encode();

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      if (req.url === '/kc/realms/lin/protocol/openid-connect/token') {
        const form = new URLSearchParams(body);
        grants.push(form);
        if (form.get('password') !== 'Token-Secret-77')
          return void res
            .writeHead(400, { 'content-type': 'application/json' })
            .end('{"error":"invalid_grant","error_description":"Invalid user credentials"}');
        return void res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ access_token: FRESH, expires_in: 300 }));
      }
      if (req.url === '/html') return void res.writeHead(404, { 'content-type': 'text/html' }).end('<html><body>Not here</body></html>');
      if (req.url === '/plain')
        return void res
          .writeHead(404, { 'content-type': 'text/plain' })
          .end('User with username probe either not found or not active\nmore');
      if (req.url?.startsWith('/big'))
        return void res.writeHead(200, { 'content-type': 'application/json' }).end('"' + 'x'.repeat(200_000) + '"');
      res.writeHead(404).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

function journey(password = 'Token-Secret-77'): Journey {
  const config = configSchema.parse({
    targets: {
      t: { appUrl: base, keycloak: { url: `${base}/kc`, tokenClientId: 'api-tokens' }, credentials: { username: 'probe', password } },
    },
  });
  return {
    target: config.targets.t!,
    config,
    credentials: { username: 'probe', password },
    redactor: new Redactor(),
  } as unknown as Journey;
}

function exchange(timeoutSeconds = 2): Exchange {
  return { log: new HttpLog({ keycloak: `${base}/kc`, app: [base] }), timeoutSeconds, signal: new AbortController().signal };
}

const jwt = (expiresIn: string) =>
  new UnsecuredJWT({ preferred_username: 'probe' }).setIssuer(`${base}/kc/realms/lin`).setExpirationTime(expiresIn).encode();

describe("the browser probe's token for the follow-ups", () => {
  it("uses the page's token while it has life left, without asking Keycloak", async () => {
    grants.length = 0;
    const page = jwt('5m');
    expect(await followUpToken(journey(), page, exchange())).toEqual({ token: page, source: 'page' });
    expect(grants).toEqual([]);
  });

  it('obtains one through the API client with the same credentials only when the page has none, or an expiring one', async () => {
    grants.length = 0;
    const j = journey();
    expect(await followUpToken(j, undefined, exchange())).toEqual({ token: FRESH, source: 'fresh-grant' });
    expect(await followUpToken(j, jwt('5s'), exchange())).toEqual({ token: FRESH, source: 'fresh-grant' });
    expect(grants.map((g) => [g.get('grant_type'), g.get('client_id'), g.get('username')])).toEqual([
      ['password', 'api-tokens', 'probe'],
      ['password', 'api-tokens', 'probe'],
    ]);
    // The new token is a secret of the run, like every other.
    expect(j.redactor.redact(`Bearer x ${FRESH}`)).not.toContain(FRESH);
  });

  it('a refused grant is an error for the follow-ups to report, not a token', async () => {
    await expect(followUpToken(journey('wrong'), undefined, exchange())).rejects.toThrow(/invalid_grant: Invalid user credentials/);
  });
});

describe("the API probe's token for the follow-ups", () => {
  it('is none before its login', async () => {
    const session = await apiProbe.open(journey(), {});
    expect(await session.userToken!(exchange())).toBeUndefined();
  });
});

describe('a follow-up request', () => {
  it('keeps the status and the first line of a short plain answer, never a page; refuses a large answer unread', async () => {
    expect(await check(exchange(), `${base}/plain`)).toMatchObject({
      status: 404,
      answered: true,
      text: 'User with username probe either not found or not active',
    });
    const html = await check(exchange(), `${base}/html`);
    expect(html).toMatchObject({ status: 404, answered: true });
    expect(html.text).toBeUndefined();
    expect(await check(exchange(), `${base}/big?secret=1`)).toMatchObject({ what: `GET ${base}/big`, status: 0, answered: true });
  });

  it('a refused connection is no answer, with its code', async () => {
    expect(await check(exchange(), 'http://127.0.0.1:9/x')).toMatchObject({ status: 0, answered: false, failure: 'ECONNREFUSED' });
  });

  it('reads a token without trusting it; garbage names nothing', () => {
    const t = jwt('5m');
    expect(tokenIssuer(t)).toBe(`${base}/kc/realms/lin`);
    expect(tokenExpiresAt(t)).toBeGreaterThan(Date.now());
    for (const bad of ['', 'not.a.jwt', 'eyJhbGciOiJub25lIn0.eyJpc3MiOjF9.', 'x'.repeat(10_000)]) {
      expect(tokenIssuer(bad)).toBeUndefined();
      expect(tokenExpiresAt(bad)).toBeUndefined();
    }
  });
});
