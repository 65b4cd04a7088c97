// The browser journey: a test user's way through the Bulk Upload page, in Chromium.
//   login           open the page, follow the redirect to Keycloak's login page, sign in
//   open_page       wait until the app has rendered for the logged-in user
//   upload          set the canary on the file input, click Upload, find the canary's own row
//   import_started  wait until the row's Status leaves PENDING
//   import_finished wait until it reaches a final status
//   check_result    read Errors and Imported, download the error workbook, read the reason text
// Selectors, column headers and paths come from the target's configuration.
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import type { Journey } from '../src/journey/journey.ts';
import type { Probe } from '../src/journey/probe.ts';
import type { StepName } from '../src/model/result.ts';
import { JourneyStop, type Stop } from '../src/model/stop.ts';
import { capText } from '../src/model/text.ts';
import { isFinalStatus, uploadSchema, XLSX_TYPE, type UploadSnapshot } from '../src/model/upload.ts';
import { stripQuery } from '../src/model/url.ts';
import { sleep } from '../src/model/wait.ts';
import type { HeldToken } from '../src/model/diagnosis.ts';
import { tokenExpiresAt } from '../src/target/follow-up.ts';
import { apiBase } from '../src/target/generic-upload.ts';
import type { Exchange } from '../src/target/http.ts';
import { passwordGrant } from '../src/target/keycloak.ts';
import { describeSelector, type SelectorVars } from '../src/config/selector.ts';
import { DEFAULT_RECORDING, openBrowserSession, untraced, type JourneyPoint, type Recording } from './browser-session.ts';
import { checkEnding, expectKnownStatus, hasErrorWorkbook, noteReasons } from './ending.ts';
import { describePageNow, keycloakPageShown, type ReadOptions } from './keycloak-pages.ts';
import { alternatives, anyOf, locate } from './locate.ts';

/** How long a light run lets the page's first API calls answer after the app rendered. */
const LIGHT_SETTLE_MS = 5_000;

/** This many reloads of the app page after login, with no other explanation, is a reload loop. */
export const RELOAD_LOOP = 3;

/**
 * What a run records for its evidence: the session's trace (the journey's actions with their
 * DOM snapshots, the whole network, no screencast; the probe's looks at the page and polling
 * clicks left out), started as the login form is submitted. The submit, Keycloak's answer, the
 * way back to the app, its token exchange, the upload and everything after are in it. Loading
 * Keycloak's login page is not: recording its megabytes of theme CSS and fonts (the same every
 * run) cost more than all the rest of the trace; a run that fails before the submit keeps its
 * screenshot, network log and run log. Chosen with `npm run bench -- --candidates`, which
 * measures this against the alternatives.
 */
export const JOURNEY_RECORDING: Recording = { ...DEFAULT_RECORDING, from: 'submit' };

/** The browser probe: a fresh context per run (in the shared warm browser when there is one). */
export const browserProbe: Probe = {
  async open(j, shared) {
    const session = await openBrowserSession({
      recording: JOURNEY_RECORDING,
      browser: shared.browser,
      config: j.config,
      http: j.http,
      redactor: j.redactor,
      defaultTimeoutMs: j.target.timeouts.run * 1000,
      maxTokenAnswer: j.target.limits.tokenAnswer,
    });
    // Any 401/403/5xx/no answer from the target ends the run at once, whatever the page makes of it.
    j.http.onBad((event) => j.stop({ kind: 'bad_response', event }));
    return {
      run: () => browserJourney(j, session.page, (point) => session.reached(point)),
      explain: (stop, step) => explainStop(j, session.page, stop, step),
      freeze: () => session.freeze(),
      async evidence(dir) {
        const shot = await session.screenshot();
        const tracePath = join(dir, 'trace.zip');
        const traced = await session.stopTrace(tracePath);
        const problems = shot.png ? [] : [`no screenshot: ${shot.errors.join('; ')}`];
        if (shot.png && shot.errors.length) problems.push(`screenshot needed another try: ${shot.errors.join('; ')}`);
        return { ...(shot.png ? { screenshot: shot.png } : {}), ...(traced ? { tracePath } : {}), problems };
      },
      discard: async () => {
        await session.stopTrace();
      },
      close: () => session.close(),
      userToken: async (ex) => followUpToken(j, await session.accessToken(), ex),
      abandon: async () => {
        await (shared.browser ?? session.context.browser())?.close();
      },
    };
  },
};

/** Tells the session how far the journey has come (its recording may start there). */
type Reached = (point: JourneyPoint) => Promise<void>;

export async function browserJourney(j: Journey, page: Page, reached: Reached = async () => {}): Promise<void> {
  const watch = watchPage(j, page);
  await j.step('login', (signal) => login(j, page, watch, signal, reached));
  watch.loggedIn = true;
  await reached('logged-in');
  await j.step('open_page', async () => {
    await openPage(j, page);
    // Light: the page's own calls with the user's token get their answers (the network watch
    // judges them) before the run ends; bounded, as a page may poll for ever.
    if (j.depth === 'light') await page.waitForLoadState('networkidle', { timeout: LIGHT_SETTLE_MS }).catch(() => {});
  });
  if (j.depth === 'light') return;
  const row = await j.step('upload', (signal) => uploadCanary(j, page, signal));
  await j.step('import_started', (signal) => waitForStatus(j, page, row, (s) => s !== 'PENDING', signal));
  j.seen.startedAt = Date.now();
  await j.step('import_finished', (signal) => waitForStatus(j, page, row, isFinalStatus, signal));
  j.seen.finishedAt = Date.now();
  await j.step('check_result', () => checkResult(j, page, row));
}

/** The journey's login step on its own, watched as in a run (the doctor signs in exactly as the probe does). */
export async function signIn(j: Journey, page: Page): Promise<void> {
  const watch = watchPage(j, page);
  await j.step('login', (signal) => login(j, page, watch, signal));
  watch.loggedIn = true;
}

interface PageWatch {
  submitted: boolean;
  loggedIn: boolean;
}

/**
 * Watches the page's own behaviour: counts loads of the app page after the credentials were
 * sent (the first is the way back from the login page; the rest are reloads), and notices a
 * login form where the app should be once logged in.
 */
function watchPage(j: Journey, page: Page): PageWatch {
  const w: PageWatch = { submitted: false, loggedIn: false };
  let appLoads = 0;
  page.on('domcontentloaded', () => {
    const url = page.url();
    const side = j.http.sideOf(url);
    if (side === 'app' && w.submitted) {
      appLoads++;
      j.seen.appReloads = Math.max(0, appLoads - 1);
      if (j.seen.appReloads > 0) j.log.warn(`app page loaded again (${j.seen.appReloads})`, { url: stripQuery(url) });
      if (j.seen.appReloads >= RELOAD_LOOP) j.stop({ kind: 'reload_loop', count: j.seen.appReloads });
    }
    if (side === 'keycloak' && w.loggedIn) {
      void untraced(page, () => anyOf(page, j.target.selectors.loginUsername).count())
        .then((n) => {
          if (n > 0) j.stop({ kind: 'login_page', where: stripQuery(url) });
        })
        .catch(() => {});
    }
  });
  return w;
}

function appPageUrl(j: Journey): string {
  return new URL(j.target.uploadsPath, j.target.appUrl).toString();
}

function isAppPage(j: Journey, url: URL): boolean {
  const app = new URL(appPageUrl(j));
  return url.origin === app.origin && url.pathname.startsWith(app.pathname);
}

/** Waits for whichever comes first; the others' later failures are ignored. */
async function firstOf<K extends string>(waits: Record<K, Promise<unknown>>): Promise<K> {
  const entries = Object.entries(waits) as Array<[K, Promise<unknown>]>;
  for (const [, p] of entries) p.catch(() => {});
  return Promise.race(entries.map(([k, p]) => p.then(() => k)));
}

/** How the login step reads Keycloak's pages other than its login form (probes/keycloak-pages.ts). */
function keycloakPages(j: Journey, page: Page): ReadOptions & { maxText: number } {
  return {
    where: (url) => j.http.sideOf(url) ?? 'elsewhere',
    loginFormShown: async () => (await untraced(page, () => anyOf(page, j.target.selectors.loginUsername).count()).catch(() => 0)) > 0,
    maxText: j.target.limits.text,
  };
}

async function login(j: Journey, page: Page, watch: PageWatch, signal: AbortSignal, reached: Reached = async () => {}): Promise<void> {
  const s = j.target.selectors;
  // Any Keycloak page other than its login form or the app (a required action, a second factor,
  // an error page, an identity provider) ends the step at once, saying what Keycloak asked for.
  const pages = keycloakPages(j, page);
  const done = new AbortController();
  const keycloakPage = untraced(page, () => keycloakPageShown(page, { ...pages, signal: AbortSignal.any([signal, done.signal]) }));
  keycloakPage.catch(() => {});
  const otherPage = async () => new JourneyStop({ kind: 'keycloak_page', what: await keycloakPage });
  try {
    await page.goto(appPageUrl(j), { waitUntil: 'commit' });
    const firstKnown = new AbortController();
    const first = await firstOf({
      login: anyOf(page, s.loginUsername).first().waitFor({ state: 'visible' }),
      // The app without a login (a session already there): looked for until the first page is
      // known, not all through Keycloak's page (a wait would go on until the app showed).
      app: shown(page, s.appReady, AbortSignal.any([signal, firstKnown.signal])),
      keycloak: keycloakPage,
    }).finally(() => firstKnown.abort());
    if (first === 'keycloak') throw await otherPage();
    if (first === 'app') {
      j.log.warn('the app rendered without asking for a login (session already present)');
      return;
    }
    await reached('login-form');
    // The password goes only into the configured Keycloak's page, never into another site's form.
    const at = page.url();
    if (j.http.sideOf(at) !== 'keycloak') {
      const what = `a login form at ${stripQuery(at)}, which is not the configured Keycloak (${j.target.keycloak.url}): credentials not typed`;
      throw new JourneyStop({ kind: 'keycloak_page', what });
    }
    await (await untraced(page, () => locate(page, s.loginUsername))).first().fill(j.credentials.username);
    await (await untraced(page, () => locate(page, s.loginPassword))).first().fill(j.credentials.password);
    if (signal.aborted) throw signal.reason;
    watch.submitted = true;
    await reached('submit');
    await (await untraced(page, () => locate(page, s.loginSubmit))).first().click({ noWaitAfter: true });
    const outcome = await firstOf({
      app: page.waitForURL((u) => isAppPage(j, u), { waitUntil: 'commit' }),
      // Looked for while the step lasts, as Keycloak's pages are: a wait would go on for the whole run.
      error: shown(page, s.loginError, done.signal),
      keycloak: keycloakPage,
    });
    if (outcome === 'keycloak') throw await otherPage();
    if (outcome === 'error') {
      // A required action's notice (or Keycloak's error page) can match the login error selector: the page says more.
      const what = await describePageNow(page, pages);
      if (what) throw new JourneyStop({ kind: 'keycloak_page', what });
      const text = capText(
        (await (await locate(page, s.loginError)).first().innerText()).trim().replace(/\s+/g, ' '),
        j.target.limits.text,
      );
      throw new JourneyStop({ kind: 'login_rejected', text: text || 'an error was shown on the login page' });
    }
  } finally {
    done.abort();
  }
}

/** Resolves once an element of `selector` is visible (looked for every 200 ms); rejects when `signal` aborts. */
async function shown(page: Page, selector: readonly string[], signal: AbortSignal): Promise<void> {
  // A page navigating away answers nothing: not shown yet.
  const visible = () => untraced(page, () => anyOf(page, selector).first().isVisible()).catch(() => false);
  while (!(await visible())) await sleep(200, signal);
}

/** How long the open page is given for the answers to what it asked while rendering (its upload list). */
const OPEN_SETTLE_MS = 3_000;

/**
 * The app is open once it shows itself and what it asked the target for while rendering has been
 * answered: a 401 to the page's own list call belongs to open_page, not to the step after it. A
 * page that polls without a pause is not waited for past OPEN_SETTLE_MS.
 */
async function openPage(j: Journey, page: Page): Promise<void> {
  // A look at the page, as the polling's are: the page it found is in the trace's next snapshot.
  await untraced(page, () => anyOf(page, j.target.selectors.appReady).first().waitFor({ state: 'visible' }));
  const until = Date.now() + OPEN_SETTLE_MS;
  while (j.http.pending().some((e) => e.side === 'app') && Date.now() < until) await sleep(50);
}

async function uploadCanary(j: Journey, page: Page, signal: AbortSignal): Promise<Locator> {
  const s = j.target.selectors;
  const uploadUrl = `${apiBase(j.target.appUrl, j.target.apiPath)}/file`;
  const answered = page.waitForResponse((r) => r.request().method() === 'POST' && stripQuery(r.url()) === uploadUrl, { timeout: 0 });
  answered
    .then(async (r) => {
      const status = r.status();
      // The answer is the target's: read only when its declared size is within the limit.
      const size = Number(r.headers()['content-length'] ?? 0);
      const readable = Number.isFinite(size) && size <= j.target.limits.uploadAnswer;
      if (status >= 200 && status < 300) {
        j.seen.uploadAccepted = true;
        j.seen.uploadedAt = Date.now();
        // The page goes on from the answer by itself; the probe only notes the logId when it is one.
        const answer = readable ? uploadSchema.pick({ logId: true }).safeParse(await r.json().catch(() => undefined)) : undefined;
        if (answer?.success) j.seen.upload = { ...j.seen.upload, logId: String(answer.data.logId) };
      } else if (status === 429 || (status >= 300 && status < 500 && status !== 401 && status !== 403)) {
        const body = readable ? capText((await r.text().catch(() => '')).split('\n')[0] ?? '', 160) : undefined;
        const retryAfter = (await r.headerValue('retry-after').catch(() => null)) ?? undefined;
        const stop: Stop = { kind: 'http', side: 'app', method: 'POST', url: uploadUrl, status };
        if (body) stop.body = body;
        if (retryAfter) stop.retryAfter = capText(retryAfter, 40);
        j.stop(stop);
      }
    })
    .catch(() => {});

  const fileInput = (await untraced(page, () => locate(page, s.fileInput))).first();
  await fileInput.setInputFiles({ name: j.canary.fileName, mimeType: XLSX_TYPE, buffer: j.canary.workbook });
  await (await untraced(page, () => locate(page, s.uploadButton))).first().click();
  j.log.info('canary submitted', { fileName: j.canary.fileName });

  for (;;) {
    const row = await matching(page, s.uploadRow, { fileName: j.canary.fileName });
    if (row) {
      j.seen.uploadedAt ??= Date.now();
      return row.first();
    }
    await refresh(j, page);
    await sleep(j.pollSeconds * 1000, signal);
  }
}

/** A table's header cells and a row's cells: native (th, td) or by ARIA role (Angular Material's mat-table, grids). */
export const HEADER_CELLS = 'th, [role=columnheader]';
export const ROW_CELLS = 'td, [role=cell], [role=gridcell]';

/**
 * The alternative of a configured selector that matched on this run's page, kept for the rest
 * of the run: each poll of the import asks the page once, not once per alternative. Undefined
 * while none matches (one ask for all of them).
 */
async function matching(page: Page, selector: readonly string[], vars: SelectorVars = {}): Promise<Locator | undefined> {
  let known = matched.get(page);
  if (!known) matched.set(page, (known = new Map()));
  const key = `${selector.join('\n')}\n${JSON.stringify(vars)}`;
  const kept = known.get(key);
  if (kept) return kept;
  const all = alternatives(page, selector, vars);
  if (all.length > 1 && (await untraced(page, () => anyOf(page, selector, vars).count())) === 0) return undefined;
  for (const l of all) {
    if ((await untraced(page, () => l.count())) > 0) {
      known.set(key, l);
      return l;
    }
  }
  return undefined;
}
const matched = new WeakMap<Page, Map<string, Locator>>();

/** The uploads table's header texts, read once per run (a poll reads only the row). */
const headerTexts = new WeakMap<Page, string[]>();

/** The row's cells keyed by column header text, read through the table's own headers. */
async function readRow(j: Journey, page: Page, row: Locator): Promise<Record<string, string>> {
  let headers = headerTexts.get(page);
  if (!headers?.length) {
    const table = ((await matching(page, j.target.selectors.uploadsTable)) ?? anyOf(page, j.target.selectors.uploadsTable)).first();
    headers = await untraced(page, () => table.locator(HEADER_CELLS).allInnerTexts());
    headerTexts.set(page, headers);
  }
  const cells = await untraced(page, () => row.locator(ROW_CELLS).allInnerTexts());
  const out: Record<string, string> = {};
  // Page texts are the target's: each is capped before it is kept or compared.
  const max = j.target.limits.text;
  headers.slice(0, 50).forEach((h, i) => (out[capText(h.trim(), max)] = capText((cells[i] ?? '').trim(), max)));
  return out;
}

function numberOrUndefined(text: string | undefined): number | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const n = Number(text.trim());
  return Number.isFinite(n) ? n : undefined;
}

/** Reads the canary's row into the noted upload snapshot; returns its status. */
async function noteRow(j: Journey, page: Page, row: Locator): Promise<string | undefined> {
  const c = j.target.columns;
  const cells = await readRow(j, page, row);
  if (Object.keys(cells).length === 0) return undefined; // table being re-rendered; look again
  if (!(c.status in cells))
    throw new JourneyStop({
      kind: 'page',
      what: `the uploads table has no "${c.status}" column (headers: ${Object.keys(cells).join(', ')})`,
    });
  if (cells[c.fileName] !== undefined && cells[c.fileName] !== j.canary.fileName) return undefined; // another row matched; look again
  const status = cells[c.status];
  if (status === undefined || status === '') return undefined; // cell being re-rendered; look again
  expectKnownStatus(status, "the canary's row shows status");
  if (j.seen.upload?.status !== status) j.log.info(`canary status ${status}`);
  const snap: UploadSnapshot = { ...j.seen.upload, status };
  const errors = numberOrUndefined(cells[c.errors]);
  const imported = numberOrUndefined(cells[c.imported]);
  if (errors !== undefined) snap.numberOfErrors = errors;
  if (imported !== undefined) snap.numberImported = imported;
  j.seen.upload = snap;
  return status;
}

async function waitForStatus(j: Journey, page: Page, row: Locator, done: (status: string) => boolean, signal: AbortSignal): Promise<void> {
  for (;;) {
    const status = await noteRow(j, page, row);
    if (status && done(status)) return;
    await refresh(j, page);
    await sleep(j.pollSeconds * 1000, signal);
  }
}

/** Clicks the page's refresh control when it has one (the page also refreshes by itself). */
async function refresh(j: Journey, page: Page): Promise<void> {
  const button = await matching(page, j.target.selectors.refreshButton);
  // A control that matched once is the page's: clicking waits (2 s at most) while it is re-rendered.
  // Part of the polling, as the reads are: the answers it brings are in the trace's network.
  if (button) await untraced(page, () => button.first().click({ timeout: 2000 })).catch(() => {});
}

async function checkResult(j: Journey, page: Page, row: Locator): Promise<void> {
  await noteRow(j, page, row);
  if (hasErrorWorkbook(j)) {
    const download = page.waitForEvent('download', { timeout: 0 });
    download.catch(() => {});
    await (await untraced(page, () => locate(row, j.target.selectors.errorWorkbookLink))).first().click();
    const stream = await (await download).createReadStream();
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of stream) {
      size += (chunk as Buffer).length;
      if (size > j.target.limits.errorWorkbook) {
        stream.destroy();
        throw new JourneyStop({
          kind: 'bad_answer',
          side: 'app',
          what: `the error workbook is over its ${j.target.limits.errorWorkbook}-byte limit: refused unread`,
        });
      }
      chunks.push(chunk as Buffer);
    }
    await noteReasons(j, Buffer.concat(chunks));
  }
  checkEnding(j);
}

/**
 * Makes a deadline more precise with what the page shows: a login form where the app should
 * be, or an app that never rendered although nothing is left waiting on the network.
 */
async function explainStop(j: Journey, page: Page, stop: Stop, step: StepName | undefined): Promise<Stop> {
  if (stop.kind !== 'step_timeout' && stop.kind !== 'run_deadline') return stop;
  const url = page.url();
  if (step === 'login') {
    // A Keycloak page the login step's watch did not tell in time (a customised theme, say).
    const what = await describePageNow(page, keycloakPages(j, page));
    if (what) return { kind: 'keycloak_page', what };
  }
  const onLoginForm =
    j.http.sideOf(url) === 'keycloak' &&
    (await anyOf(page, j.target.selectors.loginUsername)
      .count()
      .catch(() => 0)) > 0;
  if (onLoginForm) return { kind: 'login_page', where: stripQuery(url) };
  if (step === 'open_page' && j.http.pending().length === 0) {
    return {
      kind: 'page',
      what: `the app never became ready (${describeSelector(j.target.selectors.appReady)} not visible at ${stripQuery(url)})`,
    };
  }
  return stop;
}

/** A page token with less life than this left is not used for the follow-ups. */
const TOKEN_LIFE_LEFT_MS = 10_000;

/**
 * The test user's token for a failed run's follow-up checks: the latest the page obtained from
 * Keycloak, while it has life left; only when there is none (no token answer seen, or expired),
 * a new password grant with the same credentials through the API client (keycloak.tokenClientId).
 */
export async function followUpToken(j: Journey, pageToken: string | undefined, ex: Exchange): Promise<HeldToken | undefined> {
  const expires = pageToken ? tokenExpiresAt(pageToken) : undefined;
  if (pageToken && (expires === undefined || expires - Date.now() > TOKEN_LIFE_LEFT_MS)) return { token: pageToken, source: 'page' };
  const kc = j.target.keycloak;
  const t = await passwordGrant(
    ex,
    { url: kc.url, realm: kc.realm, clientId: kc.tokenClientId },
    j.credentials.username,
    j.credentials.password,
    j.target.limits.tokenAnswer,
  );
  for (const v of [t.accessToken, t.refreshToken, t.idToken]) j.redactor.add(v);
  return { token: t.accessToken, source: 'fresh-grant' };
}
