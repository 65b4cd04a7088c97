// check-config says which proxy each target's traffic goes through, or direct, with the proxy's
// credentials masked; a proxy setting or CA file that does not resolve is a bad configuration.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkConfig } from '../../../src/commands/check-config.ts';

const TARGETS = `
targets:
  box:
    appUrl: http://127.0.0.1:18080
    keycloak: { url: "http://127.0.0.1:18081" }
    credentials: { username: u, password: p-literal }
  prod:
    appUrl: https://apps.tis.example.nhs.uk
    keycloak: { url: "https://auth.example.nhs.uk/auth" }
    credentials: { username: u, password: p-literal }
`;
const PASSWORD = 'Pr0xy-Pa55word';
const VARS = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'NO_PROXY', 'no_proxy', 'BUP_TEST_PROXY_PW'];
const saved = Object.fromEntries(VARS.map((v) => [v, process.env[v]]));

afterEach(() => {
  for (const v of VARS) {
    if (saved[v] === undefined) delete process.env[v];
    else process.env[v] = saved[v];
  }
});

async function check(yaml: string, vars: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  for (const v of VARS) delete process.env[v];
  Object.assign(process.env, vars);
  const dir = await mkdtemp(join(tmpdir(), 'bup-check-'));
  await writeFile(join(dir, 'c.yaml'), yaml);
  const out: string[] = [];
  const err: string[] = [];
  const code = await checkConfig(
    join(dir, 'c.yaml'),
    (l) => out.push(l),
    (l) => err.push(l),
  );
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('check-config and the proxy', () => {
  it("prints the environment's proxy per target, masked, and what NO_PROXY sends direct", async () => {
    const proxy = `http://probe:${PASSWORD}@proxy.example.nhs.uk:3128`;
    const r = await check(TARGETS, { HTTPS_PROXY: proxy, HTTP_PROXY: proxy, NO_PROXY: '127.0.0.1,auth.example.nhs.uk' });
    expect(r.code).toBe(0);
    expect(r.out).toContain('  network   page, api, keycloak: direct (NO_PROXY 127.0.0.1)');
    expect(r.out).toContain(
      '  network   page, api: http://***@proxy.example.nhs.uk:3128 (HTTPS_PROXY); keycloak: direct (NO_PROXY auth.example.nhs.uk)',
    );
    expect(r.out).not.toContain(PASSWORD);
  });

  it("prints the file's proxy over the environment's, and direct for proxy: false", async () => {
    const own = `${TARGETS}proxy:\n  url: http://corp.example:8080\n  username: probe\n  password: { env: BUP_TEST_PROXY_PW }\n`;
    const r = await check(own, { HTTPS_PROXY: 'http://env-proxy.example:1', BUP_TEST_PROXY_PW: PASSWORD });
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/ {2}proxy {5}http:\/\/\*\*\*@corp\.example:8080 \(proxy\.url, credentials from proxy\.username\/password\)/);
    expect(r.out).toContain('  network   page, api, keycloak: http://***@corp.example:8080 (proxy.url)');
    expect(r.out).not.toContain('env-proxy');
    expect(r.out).not.toContain(PASSWORD);
    const off = await check(`${TARGETS}proxy: false\n`, { HTTPS_PROXY: 'http://env-proxy.example:1' });
    expect(off.out).toContain('  network   page, api, keycloak: direct (proxy: false)');
  });

  it('prints direct when there is no proxy at all', async () => {
    const r = await check(TARGETS);
    expect(r.out).toContain('  proxy     none (no https_proxy/HTTPS_PROXY or http_proxy/HTTP_PROXY in the environment)');
    expect(r.out).toContain('  network   page, api, keycloak: direct');
  });

  it('exits 2 on a proxy it cannot use or a CA file it cannot read, without printing credentials', async () => {
    const socks = await check(TARGETS, { HTTPS_PROXY: `socks5://probe:${PASSWORD}@proxy.example:1080` });
    expect(socks.code).toBe(2);
    expect(socks.err).toContain('HTTPS_PROXY: socks5://***@proxy.example:1080: only http:// and https:// proxies are supported');
    expect(socks.out + socks.err).not.toContain(PASSWORD);
    const ca = await check(`${TARGETS}tls: { caFile: ./missing-ca.pem }\n`);
    expect(ca.code).toBe(2);
    expect(ca.err).toMatch(/tls\.caFile: cannot read .*missing-ca\.pem: ENOENT/);
  });
});

describe('check-config and the footprint', () => {
  it('prints each target’s depths and the upload rows a day the configuration writes to it', async () => {
    const r = await check(
      `schedule: { interval: 15m, light: 1m }\n${TARGETS.replace('  prod:', '  prod:\n    interval: 30m\n    light: false')}`,
    );
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('schedule full every 900 s, light every 60 s');
    expect(r.out).toContain('at most 2 browser and 8 API run(s) at once');
    expect(r.out).toMatch(/target box[\s\S]*full every 900 s, light every 60 s[\s\S]*writes +192 upload row\(s\) a day/);
    expect(r.out).toMatch(/target prod[\s\S]*full every 1800 s, no light runs[\s\S]*writes +96 upload row\(s\) a day/);
  });
});
