// Which proxy the probe's traffic goes through: the file's `proxy` block over the environment
// (as curl reads it), `proxy: false`, NO_PROXY, extra CAs; and a proxy's credentials never
// in anything printed.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config/load.ts';
import {
  describeProxySettings,
  describeRoute,
  displayProxy,
  proxyFor,
  proxyFromEnv,
  proxyUrl,
  resolveNetwork,
  resolveProxy,
} from '../../../src/config/network.ts';
import { configSchema } from '../../../src/config/schema.ts';
import { formatIssues } from '../../../src/config/load.ts';

const target = { appUrl: 'http://127.0.0.1:9', keycloak: { url: 'http://127.0.0.1:9' }, credentials: { username: 'u', password: 'p' } };
const PASSWORD = 'Pr0xy:Secret@pw';
const ENCODED = encodeURIComponent(PASSWORD);

describe('proxy settings from the environment', () => {
  it('reads https_proxy/HTTPS_PROXY for https:// and http_proxy/HTTP_PROXY for http://, lower case first', () => {
    const s = proxyFromEnv({
      HTTPS_PROXY: 'http://upper.example:3128',
      https_proxy: 'http://lower.example:3128',
      HTTP_PROXY: 'http://plain.example:8080',
    });
    expect(s.source).toBe('environment');
    expect(s.https).toMatchObject({ server: 'http://lower.example:3128', from: 'https_proxy' });
    expect(s.http).toMatchObject({ server: 'http://plain.example:8080', from: 'HTTP_PROXY' });
    expect(proxyFor(s, 'https://apps.tis.example/x')?.server).toBe('http://lower.example:3128');
    expect(proxyFor(s, 'http://apps.tis.example/x')?.server).toBe('http://plain.example:8080');
  });

  it('takes no proxy when none is set (empty counts as unset), and a scheme only where its variable is set', () => {
    expect(proxyFromEnv({})).toEqual({ source: 'environment', noProxy: [], ignored: [] });
    expect(proxyFromEnv({ https_proxy: '  ', HTTPS_PROXY: 'http://p.example:1' }).https?.from).toBe('HTTPS_PROXY');
    const onlyHttps = proxyFromEnv({ HTTPS_PROXY: 'http://p.example:3128' });
    expect(proxyFor(onlyHttps, 'http://127.0.0.1:18080/')).toBeUndefined();
    expect(proxyFor(onlyHttps, 'https://tis.example/')?.server).toBe('http://p.example:3128');
  });

  it('accepts host:port without a scheme (http), fills in the default port, and decodes credentials', () => {
    expect(proxyFromEnv({ http_proxy: 'proxy.example:8080' }).http?.server).toBe('http://proxy.example:8080');
    expect(proxyFromEnv({ http_proxy: 'http://proxy.example' }).http?.server).toBe('http://proxy.example:80');
    expect(proxyFromEnv({ https_proxy: 'https://proxy.example' }).https?.server).toBe('https://proxy.example:443');
    const p = proxyFromEnv({ HTTPS_PROXY: `http://alice:${ENCODED}@proxy.example:3128` }).https!;
    expect(p).toMatchObject({ server: 'http://proxy.example:3128', username: 'alice', password: PASSWORD });
    expect(proxyUrl(p)).toBe(`http://alice:${ENCODED}@proxy.example:3128`);
  });

  it('refuses a SOCKS or malformed proxy with a ConfigError that shows no credentials', () => {
    for (const value of [`socks5://alice:${ENCODED}@proxy.example:1080`, `http://alice:${ENCODED}@`]) {
      let err: unknown;
      try {
        proxyFromEnv({ HTTPS_PROXY: value });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toMatch(/^HTTPS_PROXY: /);
      expect((err as Error).message).not.toContain(ENCODED);
      expect((err as Error).message).not.toContain(PASSWORD);
    }
  });

  it('sends what NO_PROXY (or no_proxy, first) matches direct', () => {
    const s = proxyFromEnv({
      HTTPS_PROXY: 'http://p.example:3128',
      HTTP_PROXY: 'http://p.example:3128',
      no_proxy: '127.0.0.1,.nhs.uk',
      NO_PROXY: '*',
    });
    expect(s.noProxyFrom).toBe('no_proxy');
    expect(proxyFor(s, 'http://127.0.0.1:18080/admin')).toBeUndefined();
    expect(proxyFor(s, 'https://apps.tis.nhs.uk/')).toBeUndefined();
    expect(proxyFor(s, 'https://login.example.com/')?.server).toBe('http://p.example:3128');
    expect(describeRoute(s, 'http://127.0.0.1:18080/')).toBe('direct (no_proxy 127.0.0.1)');
    expect(describeRoute(s, 'https://login.example.com/')).toBe('http://p.example:3128 (HTTPS_PROXY)');
  });
});

describe("the file's proxy block", () => {
  it('overrides the environment entirely, NO_PROXY included', async () => {
    const config = configSchema.parse({
      proxy: { url: 'http://corp-proxy.example:3128', noProxy: ['.internal.example'] },
      targets: { t: target },
    });
    const env = { HTTPS_PROXY: 'http://other.example:1', NO_PROXY: '127.0.0.1' };
    const s = await resolveProxy(config, env);
    expect(s.source).toBe('config');
    expect(proxyFor(s, 'http://127.0.0.1:18080/')?.server).toBe('http://corp-proxy.example:3128');
    expect(proxyFor(s, 'https://apps.tis.example/')?.from).toBe('proxy.url');
    expect(proxyFor(s, 'https://kc.internal.example/')).toBeUndefined();
  });

  it('`proxy: false` ignores the environment', async () => {
    const config = configSchema.parse({ proxy: false, targets: { t: target } });
    const s = await resolveProxy(config, { HTTPS_PROXY: 'http://p.example:3128', HTTP_PROXY: 'http://p.example:3128' });
    expect(s.source).toBe('off');
    expect(proxyFor(s, 'https://apps.tis.example/')).toBeUndefined();
    expect(describeRoute(s, 'https://apps.tis.example/')).toBe('direct (proxy: false)');
    expect(describeProxySettings(s)).toMatch(/^none \(proxy: false/);
  });

  it('resolves the credentials as secrets (env and file, the file relative to the configuration) and never prints them', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bup-proxy-'));
    await writeFile(join(dir, 'proxy-password'), `${PASSWORD}\n`);
    await writeFile(
      join(dir, 'c.yaml'),
      `proxy:\n  url: http://corp-proxy.example:3128\n  username: { env: BUP_PROXY_USER }\n  password: { file: ./proxy-password }\n` +
        `targets:\n  t: { appUrl: "http://127.0.0.1:9", keycloak: { url: "http://127.0.0.1:9" }, credentials: { username: u, password: p } }\n`,
    );
    const config = await loadConfig(join(dir, 'c.yaml'), { env: { BUP_PROXY_USER: 'probe-user' } });
    expect(config.secretEnv).toEqual({ BUP_PROXY_USER: 'probe-user' });
    const s = await resolveProxy(config, {});
    expect(s.https).toMatchObject({ username: 'probe-user', password: PASSWORD });
    const printed = [describeProxySettings(s), describeRoute(s, 'https://apps.tis.example/'), displayProxy(s.https!)].join('\n');
    expect(printed).toContain('http://***@corp-proxy.example:3128');
    expect(printed).not.toContain(PASSWORD);
    expect(printed).not.toContain(ENCODED);
    expect(printed).not.toContain('probe-user');
  });

  it('names the secret that does not resolve', async () => {
    const config = configSchema.parse({
      proxy: { url: 'http://p.example:3128', username: 'u', password: { env: 'NOPE_PW' } },
      targets: { t: target },
    });
    await expect(resolveProxy(config, {})).rejects.toThrow(/^proxy\.password: environment variable NOPE_PW is not set/);
  });

  it('is validated: no credentials in the URL, NO_PROXY entries, a password needs a username, http(s) only', () => {
    const issues = (proxy: unknown) => {
      const r = configSchema.safeParse({ proxy, targets: { t: target } });
      return r.success ? [] : formatIssues(r.error.issues);
    };
    expect(issues({ url: `http://alice:${ENCODED}@p.example:3128` })).toEqual([
      'proxy.url: no credentials in the URL: use proxy.username and proxy.password',
    ]);
    expect(issues({ url: 'http://p.example:3128', noProxy: ['ok.example', 'bad/one'] })[0]).toMatch(
      /^proxy\.noProxy\.1: "bad\/one" is not/,
    );
    expect(issues({ url: 'http://p.example:3128', password: 'x' })).toEqual(['proxy.username: a password needs a username']);
    expect(issues({ url: 'socks5://p.example:1080' })).toHaveLength(1);
    expect(issues({ url: 'http://p.example:3128', colour: 'red' })[0]).toMatch(/unknown field/);
    expect(issues(false)).toEqual([]);
    expect(issues(true)).toHaveLength(1);
  });
});

describe('extra certificate authorities', () => {
  it('adds tls.caFile to the bundled ones and NODE_EXTRA_CA_CERTS', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bup-ca-'));
    const pem = (n: string) => `-----BEGIN CERTIFICATE-----\n${n}\n-----END CERTIFICATE-----\n`;
    await writeFile(join(dir, 'ca.pem'), pem('own'));
    await writeFile(join(dir, 'extra.pem'), pem('extra'));
    const config = configSchema.parse({ tls: { caFile: join(dir, 'ca.pem') }, targets: { t: target } });
    const n = await resolveNetwork(config, { NODE_EXTRA_CA_CERTS: join(dir, 'extra.pem') });
    expect(n.ca).toEqual([...rootCertificates, pem('extra'), pem('own')]);
    expect(n.caId).toMatch(/^[0-9a-f]{64}$/);
    expect((await resolveNetwork(configSchema.parse({ targets: { t: target } }), {})).ca).toBeUndefined();
  });

  it('names a CA file that cannot be read or holds no certificate', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bup-ca-'));
    await writeFile(join(dir, 'not.pem'), 'hello');
    const with_ = (caFile: string) => configSchema.parse({ tls: { caFile }, targets: { t: target } });
    await expect(resolveNetwork(with_(join(dir, 'missing.pem')), {})).rejects.toThrow(/^tls\.caFile: cannot read .*ENOENT/);
    await expect(resolveNetwork(with_(join(dir, 'not.pem')), {})).rejects.toThrow(/holds no PEM certificate/);
  });
});
