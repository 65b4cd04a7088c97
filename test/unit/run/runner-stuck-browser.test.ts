// A browser that answers nothing once the journey has stopped (a renderer stuck in a script
// loop, a wedged browser): the run still ends by its deadline plus the documented grace, with
// a result, and a context that will not close is abandoned with its browser, so that the warm
// browser is relaunched for the next run.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../../src/config/schema.ts';
import { runProbe, STOP_GRACE_SECONDS } from '../../../src/run/runner.ts';

const never = () => new Promise<never>(() => {});

/** A browser whose context opens, then never answers again: every page call and close hang. */
function wedgedBrowser() {
  const calls = { browserClosed: 0, contextCloses: 0 };
  const page = new Proxy(
    { url: () => 'http://127.0.0.1:9/admin/uploads', on: () => undefined, then: undefined },
    { get: (target, prop) => (prop in target ? target[prop as keyof typeof target] : () => never()) },
  );
  const context = {
    setDefaultTimeout: () => undefined,
    setDefaultNavigationTimeout: () => undefined,
    tracing: { start: async () => undefined, stop: never },
    on: () => undefined,
    newPage: async () => page,
    newCDPSession: never,
    close: () => {
      calls.contextCloses++;
      return never();
    },
    browser: () => browser,
  };
  const browser = {
    newContext: async () => context,
    close: async () => {
      calls.browserClosed++;
    },
    isConnected: () => calls.browserClosed === 0,
  } as unknown as Browser;
  return { browser, calls };
}

describe('runProbe with a browser that stops answering', () => {
  it('ends by its deadline plus the stop grace, with a result, and abandons the context with its browser', async () => {
    const c = configSchema.parse({
      evidence: { dir: await mkdtemp(join(tmpdir(), 'bup-stuck-')), keep: 5 },
      targets: {
        t: {
          appUrl: 'http://127.0.0.1:9',
          keycloak: { url: 'http://127.0.0.1:9' },
          credentials: { username: 'probe', password: 'Stuck-Browser-Secret' },
        },
      },
    });
    c.targets.t!.timeouts = { ...c.targets.t!.timeouts, login: 2, run: 3 };
    const { browser, calls } = wedgedBrowser();
    const started = performance.now();
    const r = await runProbe({ probe: 'browser', targetName: 't', target: c.targets.t!, config: c, browser });
    const seconds = (performance.now() - started) / 1000;
    expect(r, JSON.stringify(r)).toMatchObject({ ok: false, failedStep: 'login' });
    expect(r.reason).not.toBe('probe_error');
    expect(seconds).toBeLessThan(2 + STOP_GRACE_SECONDS);
    expect(calls.contextCloses).toBe(1);
    expect(calls.browserClosed).toBe(1);
    expect(browser.isConnected()).toBe(false);
  }, 60_000);
});
