// The API probe's requests (send()) through a forward proxy on loopback: absolute-URI requests
// for http://, CONNECT tunnels for https://, credentials sent to the proxy only, NO_PROXY sends
// a request direct, and a CA of the organisation's (tls.caFile) is trusted through the tunnel
// and directly. Nothing printed or logged shows the proxy's password.
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { proxyFromEnv, resolveNetwork, type Network } from '../../../src/config/network.ts';
import { configSchema } from '../../../src/config/schema.ts';
import { JourneyStop } from '../../../src/model/stop.ts';
import { bodyText, send, type Exchange } from '../../../src/target/http.ts';
import { HttpLog } from '../../../src/target/http-log.ts';
import { startForwardProxy, type ForwardProxy } from '../../support/forward-proxy.ts';
import { makeTestCa, type TestCa } from '../../support/test-ca.ts';

const PASSWORD = 'Proxy-Secret-9182';
let proxy: ForwardProxy;
let authProxy: ForwardProxy;
let plain: Server;
let secure: Server;
let plainUrl: string;
let secureUrl: string;
let ca: TestCa;
/** What the origin servers saw of the last request. */
let lastHeaders: IncomingMessage['headers'] = {};

const answer = (req: IncomingMessage, res: ServerResponse) => {
  lastHeaders = req.headers;
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ path: req.url }));
};

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  ca = await makeTestCa();
  proxy = await startForwardProxy();
  authProxy = await startForwardProxy({ auth: { username: 'probe', password: PASSWORD } });
  plain = createHttpServer(answer);
  secure = createHttpsServer({ cert: ca.cert, key: ca.key }, answer);
  plainUrl = `http://${await listen(plain)}`;
  secureUrl = `https://${await listen(secure)}`;
});
afterAll(async () => {
  await proxy?.close();
  await authProxy?.close();
  plain?.closeAllConnections();
  secure?.closeAllConnections();
  plain?.close();
  secure?.close();
});
beforeEach(() => {
  proxy.reset();
  authProxy.reset();
});

function exchange(
  network: Network | undefined,
  log = new HttpLog({ keycloak: 'http://kc.invalid', app: [plainUrl, secureUrl] }),
): Exchange {
  return { log, timeoutSeconds: 5, signal: new AbortController().signal, ...(network ? { network } : {}) };
}

function env(vars: Record<string, string>, caFile?: string): Promise<Network> {
  const config = configSchema.parse({
    ...(caFile ? { tls: { caFile } } : {}),
    targets: { t: { appUrl: plainUrl, keycloak: { url: plainUrl }, credentials: { username: 'u', password: 'p' } } },
  });
  return resolveNetwork(config, vars);
}

const hostOf = (url: string) => new URL(url).host;

describe('send() through a forward proxy', () => {
  it('forwards http:// as absolute-URI requests', async () => {
    const network = await env({ HTTP_PROXY: proxy.url });
    const a = await send(exchange(network), { method: 'GET', url: `${plainUrl}/generic-upload/api/status?page=0`, maxBytes: 10_000 });
    expect(a.status).toBe(200);
    expect(JSON.parse(bodyText(a))).toEqual({ path: '/generic-upload/api/status?page=0' });
    expect(proxy.counts.get(hostOf(plainUrl))).toBe(1);
  });

  it('tunnels https:// with CONNECT, trusting tls.caFile through the tunnel', async () => {
    const network = await env({ HTTPS_PROXY: proxy.url }, ca.caFile);
    const a = await send(exchange(network), { method: 'GET', url: `${secureUrl}/realms/lin`, maxBytes: 10_000 });
    expect(a.status).toBe(200);
    expect(proxy.counts.get(hostOf(secureUrl))).toBe(1);
  });

  it("fails on the organisation's certificate when its CA is not given (as Node would)", async () => {
    const network = await env({ HTTPS_PROXY: proxy.url });
    const err = await send(exchange(network), { method: 'GET', url: `${secureUrl}/x`, maxBytes: 10_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JourneyStop);
    expect((err as JourneyStop).stop).toMatchObject({ kind: 'network', code: expect.stringMatching(/CERT|SELF_SIGNED|UNABLE_TO_VERIFY/) });
    expect(proxy.counts.get(hostOf(secureUrl))).toBe(1);
  });

  it('trusts tls.caFile without a proxy too', async () => {
    const a = await send(exchange(await env({}, ca.caFile)), { method: 'GET', url: `${secureUrl}/x`, maxBytes: 10_000 });
    expect(a.status).toBe(200);
  });

  it('sends the credentials to the proxy, never to the target', async () => {
    const url = `http://probe:${PASSWORD}@${hostOf(authProxy.url)}`;
    const network = await env({ HTTP_PROXY: url, HTTPS_PROXY: url }, ca.caFile);
    expect((await send(exchange(network), { method: 'GET', url: `${plainUrl}/a`, maxBytes: 10_000 })).status).toBe(200);
    expect(lastHeaders['proxy-authorization']).toBeUndefined();
    expect((await send(exchange(network), { method: 'GET', url: `${secureUrl}/b`, maxBytes: 10_000 })).status).toBe(200);
    expect(lastHeaders['proxy-authorization']).toBeUndefined();
    expect(authProxy.total()).toBe(2);
    expect(authProxy.refused).toBe(0);
  });

  it('goes direct for what NO_PROXY matches', async () => {
    const network = await env({ HTTP_PROXY: proxy.url, HTTPS_PROXY: proxy.url, NO_PROXY: '127.0.0.1' }, ca.caFile);
    expect((await send(exchange(network), { method: 'GET', url: `${plainUrl}/a`, maxBytes: 10_000 })).status).toBe(200);
    expect((await send(exchange(network), { method: 'GET', url: `${secureUrl}/a`, maxBytes: 10_000 })).status).toBe(200);
    expect(proxy.total()).toBe(0);
  });

  it('names the proxy (without its password) when it cannot be reached', async () => {
    const gone = await startForwardProxy();
    await gone.close();
    const network: Network = { proxy: proxyFromEnv({ HTTP_PROXY: `http://probe:${PASSWORD}@${hostOf(gone.url)}` }) };
    const log = new HttpLog({ keycloak: 'http://kc.invalid', app: [plainUrl] });
    const err = await send(exchange(network, log), { method: 'GET', url: `${plainUrl}/a`, maxBytes: 10_000 }).catch((e: unknown) => e);
    expect((err as JourneyStop).stop).toMatchObject({ kind: 'network', code: 'ECONNREFUSED' });
    const failure = log.events[0]?.failure ?? '';
    expect(failure).toBe(`ECONNREFUSED via proxy http://***@${hostOf(gone.url)}`);
    expect(JSON.stringify([err, log.events])).not.toContain(PASSWORD);
  });

  it('without network settings, goes direct whatever the environment says (as before)', async () => {
    const saved = process.env.HTTP_PROXY;
    process.env.HTTP_PROXY = proxy.url;
    try {
      expect((await send(exchange(undefined), { method: 'GET', url: `${plainUrl}/a`, maxBytes: 10_000 })).status).toBe(200);
    } finally {
      if (saved === undefined) delete process.env.HTTP_PROXY;
      else process.env.HTTP_PROXY = saved;
    }
    expect(proxy.total()).toBe(0);
  });
});
