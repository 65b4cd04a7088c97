// Both probes behind an organisation's forward proxy, against TIS in a box: a tiny proxy on
// loopback (test/support/forward-proxy.ts) counts what it forwards per host. Through the file's
// proxy and the environment's (HTTP_PROXY), with credentials; NO_PROXY and the file's noProxy
// naming the box's host, and `proxy: false`, send nothing through it. Chromium proxies the
// loopback box only because its bypass list carries `<-loopback>`. And Chromium trusts a
// TLS-inspecting proxy's CA once it is in its NSS database (the documented way).
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { clearFault } from '../../box/control-client.ts';
import { browserSettings, launchOptions } from '../../src/browser/launch.ts';
import type { Config } from '../../src/config/schema.ts';
import type { ProbeName, RunResult } from '../../src/model/result.ts';
import { runProbe } from '../../src/run/runner.ts';
import { startForwardProxy, type ForwardProxy } from '../support/forward-proxy.ts';
import { scanDir, secretSet } from '../support/leak-scan.ts';
import { makeTestCa, type TestCa } from '../support/test-ca.ts';
import { probeSetup, type ProbeSetup } from './setup.ts';

const box = inject('box');
const PROXY_PASSWORD = 'Proxy-Pass-5531';
const WRONG_PASSWORD = 'Wrong-Proxy-Pass-7702';
const PROXY_VARS = ['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'NO_PROXY', 'no_proxy'];
const savedEnv = Object.fromEntries(PROXY_VARS.map((v) => [v, process.env[v]]));

let proxy: ForwardProxy;
let authProxy: ForwardProxy;
let probes: ProbeSetup;
/** The box's hosts as the proxy counts them (host:port). */
let boxHosts: string[];

beforeAll(async () => {
  proxy = await startForwardProxy();
  authProxy = await startForwardProxy({ auth: { username: 'probe', password: PROXY_PASSWORD } });
  // No shared browser: each browser run launches its own Chromium with the run's proxy settings.
  probes = await probeSetup(box);
  boxHosts = [...new Set([probes.target.appUrl, probes.target.keycloak.url].map((u) => new URL(u).host))];
  await clearFault(box.urls.control);
  // A freshly started Keycloak may take longer than the short request timeout for its first token: not a proxy matter.
  await run('api', false);
});
afterAll(async () => {
  await proxy?.close();
  await authProxy?.close();
});
afterEach(() => {
  for (const v of PROXY_VARS) {
    if (savedEnv[v] === undefined) delete process.env[v];
    else process.env[v] = savedEnv[v];
  }
  proxy.reset();
  authProxy.reset();
});

function setEnv(vars: Record<string, string>): void {
  for (const v of PROXY_VARS) delete process.env[v];
  Object.assign(process.env, vars);
}

function run(probe: ProbeName, proxySetting?: Config['proxy']): Promise<RunResult> {
  const config: Config = { ...probes.config };
  if (proxySetting === undefined) delete config.proxy;
  else config.proxy = proxySetting;
  return runProbe({ probe, targetName: 'box', target: probes.target, config });
}

function explain(r: RunResult): string {
  return `${r.probe}: ${r.ok ? 'ok' : `${r.reason} at ${r.failedStep}: ${r.message}`}`;
}

function hasCertutil(): boolean {
  try {
    execFileSync('certutil', ['-H'], { stdio: 'ignore' });
    return true;
  } catch (err) {
    // It prints its help and exits 1: only a missing program is missing.
    return (err as NodeJS.ErrnoException).code !== 'ENOENT';
  }
}

/** Requests and tunnels the proxy forwarded to the box, per host. */
const toBox = (p: ForwardProxy) => Object.fromEntries(boxHosts.map((h) => [h, p.counts.get(h) ?? 0]));

describe.each(['api', 'browser'] as const)('the %s probe behind a forward proxy', (probe) => {
  it("passes through the file's proxy: every box host's traffic goes through it", async () => {
    setEnv({});
    const r = await run(probe, { url: proxy.url, noProxy: [] });
    expect(r.ok, explain(r)).toBe(true);
    for (const [host, n] of Object.entries(toBox(proxy))) expect(n, `requests to ${host} through the proxy`).toBeGreaterThan(0);
  });

  it("passes through the environment's HTTP_PROXY, and NO_PROXY naming the box's host sends it direct", async () => {
    setEnv({ HTTP_PROXY: proxy.url });
    const through = await run(probe);
    expect(through.ok, explain(through)).toBe(true);
    for (const [host, n] of Object.entries(toBox(proxy))) expect(n, `requests to ${host} through the proxy`).toBeGreaterThan(0);

    proxy.reset();
    setEnv({ HTTP_PROXY: proxy.url, NO_PROXY: `example.invalid, ${new URL(probes.target.appUrl).hostname}` });
    const direct = await run(probe);
    expect(direct.ok, explain(direct)).toBe(true);
    expect(Object.values(toBox(proxy))).toEqual(boxHosts.map(() => 0));
  });

  it("goes direct for the file's noProxy, and for `proxy: false` whatever the environment says", async () => {
    setEnv({ HTTP_PROXY: proxy.url, HTTPS_PROXY: proxy.url });
    const listed = await run(probe, { url: proxy.url, noProxy: ['127.0.0.1'] });
    expect(listed.ok, explain(listed)).toBe(true);
    const off = await run(probe, false);
    expect(off.ok, explain(off)).toBe(true);
    expect(Object.values(toBox(proxy))).toEqual(boxHosts.map(() => 0));
  });

  it('passes through a proxy that wants credentials, which appear nowhere in the result', async () => {
    setEnv({});
    const r = await run(probe, { url: authProxy.url, username: 'probe', password: PROXY_PASSWORD, noProxy: [] });
    expect(r.ok, explain(r)).toBe(true);
    expect(Object.values(toBox(authProxy)).every((n) => n > 0)).toBe(true);
    expect(JSON.stringify(r)).not.toContain(PROXY_PASSWORD);
  });

  it('fails when the proxy refuses its credentials, and the evidence holds no proxy password', async () => {
    setEnv({});
    const r = await run(probe, { url: authProxy.url, username: 'probe', password: WRONG_PASSWORD, noProxy: [] });
    expect(r.ok, explain(r)).toBe(false);
    expect(authProxy.refused).toBeGreaterThan(0);
    expect(r.evidenceDir).toBeTruthy();
    const { files, leaks } = await scanDir(r.evidenceDir!, secretSet([{ what: 'the proxy password', value: WRONG_PASSWORD }]));
    expect(files.length).toBeGreaterThan(0);
    expect(leaks).toEqual([]);
    expect(JSON.stringify(r)).not.toContain(WRONG_PASSWORD);
  });
});

describe("Chromium and a TLS-inspecting proxy's certificate authority", () => {
  let ca: TestCa;
  let site: Server;
  let siteUrl: string;

  beforeAll(async () => {
    ca = await makeTestCa();
    site = createServer({ cert: ca.cert, key: ca.key }, (_req, res) =>
      res.writeHead(200, { 'content-type': 'text/html' }).end('<h1>inspected</h1>'),
    );
    await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
    siteUrl = `https://127.0.0.1:${(site.address() as AddressInfo).port}/`;
  });
  afterAll(() => {
    site?.closeAllConnections();
    site?.close();
  });

  /** Opens the site in Chromium launched as the probe launches it, with HOME set to `home`. */
  async function open(home: string): Promise<string> {
    const config = { ...probes.config, proxy: { url: proxy.url, noProxy: [] } };
    const browser = await chromium.launch({ ...launchOptions(await browserSettings(config)), env: { ...process.env, HOME: home } });
    try {
      const page = await browser.newPage();
      const res = await page.goto(siteUrl).catch((e: Error) => e);
      return res instanceof Error ? res.message.split('\n')[0]! : `${res?.status()} ${await page.textContent('h1')}`;
    } finally {
      await browser.close();
    }
  }

  it('is refused without it, and trusted through the CONNECT tunnel once in the NSS database of its HOME', async () => {
    setEnv({});
    expect(hasCertutil(), 'certutil (Debian: libnss3-tools; scripts/setup.sh installs it)').toBe(true);
    const bare = await mkdtemp(join(tmpdir(), 'bup-home-'));
    expect(await open(bare)).toMatch(/ERR_CERT_AUTHORITY_INVALID/);

    // The documented steps (docs/probes.md, "Behind a proxy").
    const home = await mkdtemp(join(tmpdir(), 'bup-home-'));
    const db = `sql:${join(home, '.pki/nssdb')}`;
    await mkdir(join(home, '.pki/nssdb'), { recursive: true });
    execFileSync('certutil', ['-d', db, '-N', '--empty-password']);
    execFileSync('certutil', ['-d', db, '-A', '-t', 'C,,', '-n', 'organisation-tls-inspection', '-i', ca.caFile]);
    proxy.reset();
    expect(await open(home)).toBe('200 inspected');
    expect(proxy.counts.get(new URL(siteUrl).host)).toBe(1);
  });
});
