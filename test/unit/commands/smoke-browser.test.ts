// smoke's options for a person at a desktop reach the browser's launch: --headed and --slow-mo
// (no display here, so the launch is faked and refuses: the run fails, the options are seen),
// and --trace always records a trace whatever the file says.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { browserSettings, launchOptions } from '../../../src/browser/launch.ts';
import { configSchema } from '../../../src/config/schema.ts';
import { smoke, smokeConfig } from '../../../src/commands/smoke.ts';

const target = { appUrl: 'http://127.0.0.1:9', keycloak: { url: 'http://127.0.0.1:9' }, credentials: { username: 'u', password: 'p' } };

afterEach(() => {
  vi.restoreAllMocks();
});

describe('smoke --headed, --slow-mo, --trace', () => {
  it('turn into the launch settings: a window, a pause between actions, a trace', async () => {
    const config = configSchema.parse({ browser: { trace: false }, targets: { t: target } });
    const o = launchOptions(await browserSettings(smokeConfig(config, { headed: true, slowMo: 250, trace: 'always' }), {}), {});
    expect(o).toMatchObject({ headless: false, slowMo: 250 });
    expect(smokeConfig(config, { trace: 'always' }).browser.trace).toBe(true);

    const plain = launchOptions(await browserSettings(smokeConfig(config, {}), {}), {});
    expect(plain.headless).toBe(true);
    expect(plain).not.toHaveProperty('slowMo');
    expect(smokeConfig(config, { trace: 'on-failure' }).browser.trace).toBe(false);
  });

  it('reach the launcher through the smoke command and the runner', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bup-smoke-headed-'));
    const file = join(dir, 'c.yaml');
    await writeFile(
      file,
      `evidence: { dir: ${JSON.stringify(join(dir, 'evidence'))} }\ntargets:\n  t:\n    appUrl: http://127.0.0.1:9\n    keycloak: { url: "http://127.0.0.1:9" }\n    credentials: { username: u, password: p }\n`,
    );
    const launch = vi.spyOn(chromium, 'launch').mockRejectedValue(new Error('Missing X server or $DISPLAY'));
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const code = await smoke({ target: 't', config: file, probe: ['browser'], headed: true, slowMo: 400, trace: 'always' });
    expect(code).toBe(1);
    expect(launch).toHaveBeenCalledTimes(1);
    expect(launch.mock.calls[0]![0]).toMatchObject({ headless: false, slowMo: 400 });
  });
});
