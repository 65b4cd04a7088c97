// A fresh browser context per run: network watched from the first request, tracing on when
// configured, and everything closed at the end whatever happened (bounded: nothing hangs).
import type { Browser, BrowserContext, Page, Request } from 'playwright-core';
import { browserSettings, launchBrowser } from '../src/browser/launch.ts';
import type { Config } from '../src/config/schema.ts';
import { stripQuery } from '../src/model/url.ts';
import { within } from '../src/model/wait.ts';
import type { Redactor } from '../src/redact.ts';
import type { HttpLog } from '../src/target/http-log.ts';
import { seenTokens } from '../src/target/keycloak.ts';

export interface BrowserSession {
  context: BrowserContext;
  page: Page;
  /** Stops the page where it is (no more loading, no more scripts): a page that reloads itself holds still for the evidence. */
  freeze(): Promise<void>;
  /** A screenshot of the page as it is now; without one, why each way of taking it failed. */
  screenshot(): Promise<{ png?: Buffer; errors: string[] }>;
  /** Ends tracing: written to `path` when given (failed runs), else discarded. */
  stopTrace(path?: string): Promise<boolean>;
  close(): Promise<void>;
}

const CLOSE_WITHIN_MS = 2_000;
const TRACE_STOP_WITHIN_MS = 4_000;

export async function openBrowserSession(opts: {
  browser?: Browser;
  config: Config;
  http: HttpLog;
  redactor: Redactor;
  /** Longest any single browser action may wait (the run's deadline). */
  defaultTimeoutMs: number;
  /** Largest token answer the probe reads to register the page's tokens as secrets (bytes). */
  maxTokenAnswer: number;
}): Promise<BrowserSession> {
  const own = opts.browser ? undefined : await launchBrowser(await browserSettings(opts.config));
  const browser = opts.browser ?? own!;
  let context: BrowserContext | undefined;
  try {
    context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 900 } });
    context.setDefaultTimeout(opts.defaultTimeoutMs);
    context.setDefaultNavigationTimeout(opts.defaultTimeoutMs);
    // sources:false keeps the probe's own code out; network bodies and headers are scrubbed afterwards.
    // A context someone else already traces (Playwright Test's own tracing) runs without ours.
    const tracing =
      opts.config.browser.trace &&
      (await context.tracing.start({ screenshots: true, snapshots: true, sources: false }).then(
        () => true,
        () => false,
      ));
    watchNetwork(context, opts.http, opts.redactor, opts.maxTokenAnswer);
    const page = await context.newPage();
    const ctx = context;
    let traceOpen = tracing;
    return {
      context: ctx,
      page,
      async freeze() {
        try {
          const cdp = await within(ctx.newCDPSession(page), 1000);
          // A script stuck in a loop is ended first (it would hold every later call), then
          // loading and scripts stop. Each call is bounded: a renderer may answer none.
          await within(cdp.send('Runtime.terminateExecution'), 500).catch(() => {});
          await within(cdp.send('Page.stopLoading'), 500).catch(() => {});
          await within(cdp.send('Emulation.setScriptExecutionDisabled', { value: true }), 500).catch(() => {});
        } catch {
          // A page that is gone cannot move either.
        }
      },
      async screenshot() {
        // A page that reloads itself (the 2024 symptom) can be mid-navigation, and a loaded machine
        // slow: Playwright's screenshot twice (full page, then viewport), then straight from the
        // compositor through CDP, which waits for nothing on the page.
        const errors: string[] = [];
        for (const [fullPage, ms] of [
          [true, 2000],
          [false, 1500],
        ] as const) {
          try {
            return { png: await within(page.screenshot({ timeout: ms, fullPage, animations: 'disabled' }), ms + 500), errors };
          } catch (err) {
            errors.push(firstLine(err));
            await new Promise((r) => setTimeout(r, 200));
          }
        }
        try {
          const cdp = await within(ctx.newCDPSession(page), 1000);
          const shot = await within(cdp.send('Page.captureScreenshot', { format: 'png' }), 1500);
          return { png: Buffer.from(shot.data, 'base64'), errors };
        } catch (err) {
          errors.push(firstLine(err));
          return { errors };
        }
      },
      async stopTrace(path) {
        if (!traceOpen) return false;
        traceOpen = false;
        try {
          await within(ctx.tracing.stop(path ? { path } : {}), TRACE_STOP_WITHIN_MS);
          return path !== undefined;
        } catch {
          return false;
        }
      },
      async close() {
        const closed = await within(ctx.close(), CLOSE_WITHIN_MS).then(
          () => true,
          () => false,
        );
        if (own) await within(own.close(), CLOSE_WITHIN_MS).catch(() => {});
        // The caller abandons a shared browser whose context would not close.
        if (!closed) throw new Error(`the browser context did not close within ${CLOSE_WITHIN_MS} ms`);
      },
    };
  } catch (err) {
    await context?.close().catch(() => {});
    await own?.close().catch(() => {});
    throw err;
  }
}

/**
 * Records every request to the target's origins (status and timing only), and registers the
 * tokens the page obtains from Keycloak as secrets so nothing written can contain them.
 */
function watchNetwork(context: BrowserContext, http: HttpLog, redactor: Redactor, maxTokenAnswer: number): void {
  const ids = new WeakMap<Request, number | undefined>();
  context.on('request', (r) => ids.set(r, http.start(r.method(), r.url())));
  context.on('response', (r) => {
    http.finish(ids.get(r.request()), r.status());
    if (r.status() === 200 && /\/protocol\/openid-connect\/token$/.test(stripQuery(r.url()))) {
      // Read into the probe only when its declared size is within the token answer's limit.
      const size = Number(r.headers()['content-length'] ?? 0);
      if (!(size <= maxTokenAnswer)) return;
      r.json()
        .then((answer: unknown) => {
          const t = seenTokens.safeParse(answer);
          if (t.success) for (const v of [t.data.access_token, t.data.refresh_token, t.data.id_token]) redactor.add(v);
        })
        .catch(() => {});
    }
  });
  context.on('requestfailed', (r) => http.finish(ids.get(r), 0, r.failure()?.errorText ?? 'failed'));
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0]!.slice(0, 200);
}
