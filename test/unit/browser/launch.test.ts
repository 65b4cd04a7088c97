// Which Chromium is launched: the configuration's when it names one, else $CHROMIUM_PATH (the
// container sets it), else Debian's. The configuration's default must not hide the variable.
import { describe, expect, it } from 'vitest';
import { launchOptions } from '../../../src/browser/launch.ts';
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
