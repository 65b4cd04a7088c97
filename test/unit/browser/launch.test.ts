// Which Chromium is launched: the configuration's when it names one, else $CHROMIUM_PATH (the
// container sets it), else Debian's. The configuration's default must not hide the variable.
// Through which proxy: the same settings as the API probe, as Chromium bypass rules.
import { describe, expect, it } from 'vitest';
import { browserSettings, chromiumProxy, launchOptions } from '../../../src/browser/launch.ts';
import { proxyFromEnv } from '../../../src/config/network.ts';
import { configSchema } from '../../../src/config/schema.ts';

const target = { appUrl: 'http://127.0.0.1:9', keycloak: { url: 'http://127.0.0.1:9' }, credentials: { username: 'u', password: 'p' } };

describe('launchOptions', () => {
  it('takes $CHROMIUM_PATH when the configuration names no browser', () => {
    const config = configSchema.parse({ targets: { t: target } });
    expect(config.browser.executablePath).toBeUndefined();
    expect(launchOptions(config.browser, { CHROMIUM_PATH: '/opt/chromium/chrome' }).executablePath).toBe('/opt/chromium/chrome');
    expect(launchOptions(config.browser, {}).executablePath).toBe('/usr/bin/chromium');
  });

  it("prefers the configuration's browser over the variable", () => {
    const config = configSchema.parse({ browser: { executablePath: '/usr/lib/chromium/chromium' }, targets: { t: target } });
    expect(launchOptions(config.browser, { CHROMIUM_PATH: '/opt/chromium/chrome' }).executablePath).toBe('/usr/lib/chromium/chromium');
  });

  it('launches headless with the flags a locked-down host needs', () => {
    const o = launchOptions({}, {});
    expect(o.headless).toBe(true);
    expect(o.args).toEqual(expect.arrayContaining(['--no-sandbox', '--disable-gpu', '--disable-quic']));
  });
});

describe('the proxy Chromium is launched with', () => {
  const env = (vars: Record<string, string>) => launchOptions({}, vars);

  it('is none, explicitly, without one (Chromium would read the environment by its own rules)', () => {
    const o = env({});
    expect(o.proxy).toBeUndefined();
    expect(o.args).toContain('--no-proxy-server');
  });

  it("is the environment's, loopback proxied too unless NO_PROXY names it, credentials apart", () => {
    const o = env({ HTTPS_PROXY: 'http://alice:pw%40x@proxy.example:3128', HTTP_PROXY: 'http://alice:pw%40x@proxy.example:3128' });
    expect(o.args).not.toContain('--no-proxy-server');
    expect(o.proxy).toEqual({ server: 'http://proxy.example:3128', bypass: '<-loopback>', username: 'alice', password: 'pw@x' });
  });

  it('maps NO_PROXY to bypass rules: a domain and what is under it, addresses, ranges, ports', () => {
    const o = env({
      https_proxy: 'http://p.example:3128',
      http_proxy: 'http://p.example:3128',
      NO_PROXY: '.nhs.uk,127.0.0.1,10.0.0.0/8,::1,kc.example:8443',
    });
    expect(o.proxy?.bypass?.split(',')).toEqual([
      '<-loopback>',
      'nhs.uk',
      '*.nhs.uk',
      '127.0.0.1',
      '10.0.0.0/8',
      '[::1]',
      'kc.example:8443',
      '*.kc.example:8443',
    ]);
  });

  it('bypasses a scheme that has no proxy, and everything for NO_PROXY=*', () => {
    expect(chromiumProxy(proxyFromEnv({ HTTPS_PROXY: 'http://p.example:3128' }))?.bypass).toBe('<-loopback>,http://*');
    expect(chromiumProxy(proxyFromEnv({ HTTP_PROXY: 'http://p.example:3128' }))?.bypass).toBe('<-loopback>,https://*');
    expect(env({ HTTPS_PROXY: 'http://p.example:3128', NO_PROXY: '*' }).args).toContain('--no-proxy-server');
  });

  it("takes the resolved settings over the environment (the file's block, or proxy: false)", async () => {
    const vars = { HTTPS_PROXY: 'http://env-proxy.example:1', HTTP_PROXY: 'http://env-proxy.example:1' };
    const off = configSchema.parse({ proxy: false, targets: { t: target } });
    expect(launchOptions(await browserSettings(off, vars), vars).args).toContain('--no-proxy-server');
    const own = configSchema.parse({ proxy: { url: 'http://corp.example:3128', noProxy: ['127.0.0.1'] }, targets: { t: target } });
    expect(launchOptions(await browserSettings(own, vars), vars).proxy).toEqual({
      server: 'http://corp.example:3128',
      bypass: '<-loopback>,127.0.0.1',
    });
  });
});
