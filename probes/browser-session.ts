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
  /** The journey has come this far: a recording that starts here starts now. */
  reached(point: JourneyPoint): Promise<void>;
  /** The page's access token for a failed run's follow-up checks: the one it last sent to the API, else the latest from Keycloak (waits up to 1 s for answers still being read). */
  accessToken(): Promise<string | undefined>;
  close(): Promise<void>;
}

const CLOSE_WITHIN_MS = 2_000;
const TRACE_STOP_WITHIN_MS = 4_000;

/** What a run records while it runs for its evidence (kept only when it fails, or when asked). */
export interface Recording {
  /** Playwright's tracing options (`snapshots.dom` also records the network), or no trace. */
  trace: false | { screenshots: boolean; snapshots: boolean | { dom?: boolean; aria?: boolean; screen?: boolean } };
  /** From the context's first request, or from a point of the journey on. */
  from: 'open' | JourneyPoint;
  /** The probe's own looks at the page (counts, texts, waits, the Keycloak page watch, polling clicks): traced, or left out. */
  reads: 'traced' | 'untraced';
}

/** Where a journey may start its recording: Keycloak's login form is shown; it is about to be submitted; the login step has ended. */
export type JourneyPoint = 'login-form' | 'submit' | 'logged-in';

/**
 * A session's trace, from its first request: every action with a DOM snapshot before and after
 * it, and the network (headers and bodies, scrubbed before a trace is kept); no screencast,
 * which cost the most of all a trace recorded (the screenshot is taken where the run failed
 * instead). The probe's own reads of the page are left out (see `untraced`). The browser
 * probe's runs start it later (JOURNEY_RECORDING in probes/browser.ts).
 */
export const DEFAULT_RECORDING: Recording = { trace: { screenshots: false, snapshots: true }, from: 'open', reads: 'untraced' };

/** Set only by the benchmark (scripts/bench.ts), to measure the alternatives. */
export const recordingOverride: { value?: Recording } = {};

/** Pages of sessions whose reads are left out of the trace. */
const quietPages = new WeakSet<Page>();

/**
 * Runs the probe's own look at the page (a count, a cell's text, a wait for an element, a look
 * at Keycloak's page, a click of the table's refresh control while polling) as Playwright runs
 * its internal calls: left out of the trace, with no DOM snapshot before and after it. Polling
 * makes many of them, and their snapshots were most of what tracing cost; the trace keeps the
 * journey's actions (the login's submit, the upload, the download, the screenshot at a failure),
 * each with its snapshots, and the whole network, where the answers the looks got are. Through
 * a Playwright method that is not public API: where it is missing, the call is traced as any other.
 */
export function untraced<T>(page: Page, read: () => Promise<T>): Promise<T> {
  const wrap = (page as unknown as { _wrapApiCall?: (read: () => Promise<T>, options: { internal: boolean }) => Promise<T> })._wrapApiCall;
  if (!quietPages.has(page) || typeof wrap !== 'function') return read();
  return wrap.call(page, read, { internal: true });
}

export async function openBrowserSession(opts: {
  browser?: Browser;
  config: Config;
  http: HttpLog;
  redactor: Redactor;
  /** Longest any single browser action may wait (the run's deadline). */
  defaultTimeoutMs: number;
  /** Largest token answer the probe reads to register the page's tokens as secrets (bytes). */
  maxTokenAnswer: number;
  /** What is recorded when the configuration traces (`browser.trace`); default DEFAULT_RECORDING. */
  recording?: Recording;
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
    const rec = recordingOverride.value ?? opts.recording ?? DEFAULT_RECORDING;
    const startTrace = async () =>
      opts.config.browser.trace &&
      rec.trace !== false &&
      (await context!.tracing.start({ ...rec.trace, sources: false }).then(
        () => true,
        () => false,
      ));
    const tracing = rec.from === 'open' ? await startTrace() : false;
    const tokens: PageTokens = { reading: new Set() };
    watchNetwork(context, opts.http, opts.redactor, opts.maxTokenAnswer, tokens);
    const page = await context.newPage();
    if (rec.reads === 'untraced') quietPages.add(page);
    const ctx = context;
    let traceOpen = tracing;
    return {
      context: ctx,
      page,
      accessToken: () => latestToken(tokens),
      async reached(point) {
        if (rec.from === point && !traceOpen) traceOpen = await startTrace();
      },
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
function watchNetwork(context: BrowserContext, http: HttpLog, redactor: Redactor, maxTokenAnswer: number, tokens: PageTokens): void {
  const ids = new WeakMap<Request, number | undefined>();
  context.on('request', (r) => {
    ids.set(r, http.start(r.method(), r.url()));
    // The token the page sends to the API (the very one a 401 refused), read from the request as it
    // leaves: a token answer's body can be gone before it is read when the page reloads at once.
    const bearer = /^Bearer\s+(\S{8,16384})$/i.exec(r.headers().authorization ?? '')?.[1];
    if (bearer && bearer !== tokens.sent && http.sideOf(r.url()) === 'app' && redactor.add(bearer)) tokens.sent = bearer;
  });
  context.on('response', (r) => {
    http.finish(ids.get(r.request()), r.status());
    if (r.status() === 200 && /\/protocol\/openid-connect\/token$/.test(stripQuery(r.url()))) {
      // Read into the probe only when its declared size is within the token answer's limit.
      const size = Number(r.headers()['content-length'] ?? 0);
      if (!(size <= maxTokenAnswer)) return;
      const read: Promise<void> = r
        .json()
        .then((answer: unknown) => {
          const t = seenTokens.safeParse(answer);
          if (t.success) for (const v of [t.data.access_token, t.data.refresh_token, t.data.id_token]) redactor.add(v);
          // Registered as a secret above; kept for a failed run's follow-up checks.
          if (t.success && t.data.access_token) tokens.latest = t.data.access_token;
        })
        .catch(() => {})
        .finally(() => tokens.reading.delete(read));
      tokens.reading.add(read);
    }
  });
  context.on('requestfailed', (r) => http.finish(ids.get(r), 0, r.failure()?.errorText ?? 'failed'));
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0]!.slice(0, 200);
}

/** The page's tokens: the latest it sent to the API, the latest read from Keycloak's answers, and the answers still being read. */
interface PageTokens {
  sent?: string;
  latest?: string;
  reading: Set<Promise<void>>;
}

/** How long a failed run's follow-ups wait for a token answer still being read (a stop often lands just after one). */
const TOKEN_READ_WITHIN_MS = 1_000;

async function latestToken(tokens: PageTokens): Promise<string | undefined> {
  if (tokens.sent) return tokens.sent;
  if (tokens.reading.size) await within(Promise.allSettled([...tokens.reading]), TOKEN_READ_WITHIN_MS).catch(() => {});
  return tokens.latest;
}
