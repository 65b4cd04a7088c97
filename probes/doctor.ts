// The selector doctor: signs in as the browser journey does and, on the real pages, says for
// every configured selector and column header whether it is found once, not found, or
// ambiguous; outlines the matches on a screenshot of each page; and, where one fails, looks at
// the page (buttons by their accessible name, file inputs, tables and their header texts, the
// login fields) for role- and label-based selectors that match exactly one element there.
// Uploads nothing: it never touches the file input or the upload button.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { resolveCredentials } from '../src/config/load.ts';
import type { Config, TargetConfig } from '../src/config/schema.ts';
import { parseSelectorPart, type SelectorVars } from '../src/config/selector.ts';
import type { Journey } from '../src/journey/journey.ts';
import { RunLog } from '../src/journey/run-log.ts';
import { StepRunner } from '../src/journey/steps.ts';
import type { Logger } from '../src/log.ts';
import { JourneyStop, type Stop } from '../src/model/stop.ts';
import { capText } from '../src/model/text.ts';
import { stripQuery } from '../src/model/url.ts';
import { raceAbort, within } from '../src/model/wait.ts';
import { redactor as processRedactor } from '../src/redact.ts';
import { apiBase } from '../src/target/generic-upload.ts';
import { HttpLog } from '../src/target/http-log.ts';
import { HEADER_CELLS, ROW_CELLS, signIn } from './browser.ts';
import { openBrowserSession } from './browser-session.ts';
import { alternatives } from './locate.ts';

type Selectors = TargetConfig['selectors'];
type Columns = TargetConfig['columns'];
export type DoctorPage = 'login' | 'app';

/** found: exactly one; ambiguous: more than one where one is meant; not_checked: the page gave nothing to check it on. */
export type Verdict = 'found' | 'not_found' | 'ambiguous' | 'not_checked';

export interface DoctorCheck {
  /** As in the configuration: `selectors.uploadButton`, `columns.status`. */
  field: string;
  page: DoctorPage;
  /** The configured alternatives (a column: its header text). */
  configured: string[];
  verdict: Verdict;
  /** Elements matched by the alternative in use (the first that matches). */
  count: number;
  /** How many of those are visible. */
  visible: number;
  used?: string;
  /** Each alternative's count; -1 when the browser refused it (bad CSS). */
  alternatives: Array<{ selector: string; count: number; error?: string }>;
  /** Why a miss does not count against the page (shown only sometimes, or not needed). */
  optional?: string;
  note?: string;
  /** Selectors (a column: header texts) that match exactly one element on this page, best first. */
  suggestions: string[];
}

export interface DoctorReport {
  target: string;
  startedAt: string;
  /** Screenshots taken: `login`, `app`, and where it ended early (`login-failed`, `stopped`). */
  pages: Array<{ name: string; url: string; screenshot?: string }>;
  checks: DoctorCheck[];
  /** Why signing in failed, when it did. */
  loginFailure?: string;
  /** Why the doctor stopped before the end (its deadline, timeouts.run; a cancellation; a page that never came). */
  stopped?: string;
  /** Suggestions the doctor signed in with, for login fields the configuration misses (`field: selector`). */
  signedInWith?: string[];
  /** Bad answers from the target seen meanwhile (401/403, 5xx, no answer). */
  badResponses: string[];
  /** Everything required found exactly once, and signed in. */
  ok: boolean;
}

export interface DoctorRequest {
  targetName: string;
  target: TargetConfig;
  config: Config;
  /** Screenshots are written here. */
  outDir: string;
  browser?: Browser;
  signal?: AbortSignal;
  logger?: Logger;
  /** Progress for a person. */
  say?: (line: string) => void;
}

/** Colours of the outlines: found once, ambiguous, a suggestion. */
const FOUND = '#2e7d32';
const AMBIGUOUS = '#ef6c00';
const SUGGESTED = '#1565c0';
const MAX_SUGGESTIONS = 3;
const MAX_NAME = 80;
const SETTLE_MS = 5_000;

export function problemsOf(report: DoctorReport): DoctorCheck[] {
  return report.checks.filter((c) => !c.optional && (c.verdict === 'not_found' || c.verdict === 'ambiguous'));
}

export async function runDoctor(req: DoctorRequest): Promise<DoctorReport> {
  const { target, config } = req;
  const say = req.say ?? (() => {});
  // The run's secrets: the password process-wide (as the runner does), the page's tokens in this child.
  const redactor = processRedactor.child();
  const credentials = await resolveCredentials(config, req.targetName);
  processRedactor.add(credentials.password);
  await mkdir(req.outDir, { recursive: true });

  const ctl = new AbortController();
  const stop = (s: Stop) => {
    if (!ctl.signal.aborted) ctl.abort(new JourneyStop(s));
  };
  const onCancel = () => stop({ kind: 'cancelled' });
  if (req.signal?.aborted) onCancel();
  else req.signal?.addEventListener('abort', onCancel, { once: true });
  const deadline = setTimeout(() => stop({ kind: 'run_deadline', seconds: target.timeouts.run }), target.timeouts.run * 1000);

  const steps = new StepRunner({ timeouts: target.timeouts, signal: ctl.signal });
  const http = new HttpLog(
    { keycloak: target.keycloak.url, app: [new URL(target.appUrl).origin, apiBase(target.appUrl, target.apiPath)] },
    () => steps.current,
  );
  const badResponses: string[] = [];
  http.onBad((e) => badResponses.length < 20 && badResponses.push(`${e.method} ${e.url} ${e.status || e.failure}`));
  const log = new RunLog(redactor, req.logger, { probe: 'doctor', target: req.targetName });
  const report: DoctorReport = {
    target: req.targetName,
    startedAt: new Date().toISOString(),
    pages: [],
    checks: [],
    badResponses,
    ok: false,
  };

  const session = await openBrowserSession({
    ...(req.browser ? { browser: req.browser } : {}),
    // The doctor keeps screenshots, never a trace.
    config: { ...config, browser: { ...config.browser, trace: false } },
    http,
    redactor,
    defaultTimeoutMs: target.timeouts.run * 1000,
    maxTokenAnswer: target.limits.tokenAnswer,
  });
  const page = session.page;
  const journey: Journey = {
    probe: 'browser',
    depth: 'light',
    targetName: req.targetName,
    target,
    config,
    credentials,
    canary: { fileName: '', workbook: Buffer.alloc(0), personId: target.canary.personId, expectedReason: '' },
    http,
    seen: {},
    redactor,
    log,
    signal: ctl.signal,
    step: (name, work) => steps.run(name, work),
    stop,
    pollSeconds: target.canary.pollInterval,
  };
  const doctor = new PageDoctor(page, target, report, req.outDir);
  try {
    await raceAbort(
      (async () => {
        const appUrl = new URL(target.uploadsPath, target.appUrl).toString();
        say(`opening ${stripQuery(appUrl)}`);
        await page.goto(appUrl, { waitUntil: 'commit' });
        const first = await reachLoginOrApp(page, target, http, target.timeouts.login * 1000);
        if (first === 'app') {
          doctor.skip('login', ['loginUsername', 'loginPassword', 'loginSubmit', 'loginError'], 'the app rendered without a login');
        } else {
          await doctor.inspectLogin();
          say(`login page checked (${stripQuery(page.url())})`);
          // A login field the configuration misses but the doctor found: signed in with the suggestion, to check the app too.
          const login = doctor.loginSelectors();
          if (login.missing.length) {
            report.loginFailure = `not signed in: ${login.missing.join(', ')} not found on the login page, and nothing to suggest`;
            say(report.loginFailure);
            doctor.skip('app', APP_FIELDS, 'not signed in');
            return;
          }
          report.signedInWith = login.replaced;
          for (const r of login.replaced) say(`signing in with the suggested ${r}`);
          try {
            await signIn({ ...journey, target: { ...target, selectors: login.selectors } }, page);
            say('signed in');
          } catch (err) {
            report.loginFailure = capText(err instanceof Error ? err.message.split('\n')[0]! : String(err), target.limits.text);
            say(`sign-in failed: ${report.loginFailure}`);
            await doctor.screenshot('login-failed', page);
            doctor.skip('app', APP_FIELDS, 'not signed in');
            return;
          }
        }
        await settle(page, target, target.timeouts.openPage * 1000);
        await doctor.inspectApp();
        say(`app page checked (${stripQuery(page.url())})`);
      })(),
      ctl.signal,
    );
  } catch (err) {
    report.stopped = capText(err instanceof Error ? err.message.split('\n')[0]! : String(err), target.limits.text);
    await doctor.screenshot('stopped', page);
  } finally {
    clearTimeout(deadline);
    req.signal?.removeEventListener('abort', onCancel);
    await session.close().catch(() => {});
  }
  report.ok = !report.loginFailure && !report.stopped && problemsOf(report).length === 0;
  return redactor.redactDeep(report);
}

const APP_FIELDS = ['appReady', 'fileInput', 'uploadButton', 'uploadsTable', 'refreshButton', 'uploadRow', 'errorWorkbookLink'] as const;

/** Waits for the login form, the app, or a page of Keycloak's that has loaded (whose form the selectors may miss). */
async function reachLoginOrApp(page: Page, target: TargetConfig, http: HttpLog, ms: number): Promise<'login' | 'app'> {
  const s = target.selectors;
  const waits = {
    login: anyVisible(page, s.loginUsername, ms),
    app: anyVisible(page, s.appReady, ms),
    keycloak: page.waitForURL((u) => http.sideOf(u.href) === 'keycloak', { waitUntil: 'load', timeout: ms }),
  };
  for (const p of Object.values(waits)) p.catch(() => {});
  const first = await Promise.race(Object.entries(waits).map(([k, p]) => p.then(() => k)));
  return first === 'app' ? 'app' : 'login';
}

function anyVisible(page: Page, selector: readonly string[], ms: number): Promise<void> {
  const all = alternatives(page, selector);
  return all
    .reduce((u, l) => u.or(l))
    .first()
    .waitFor({ state: 'visible', timeout: ms });
}

/** After the login: until the app is ready (or not, that is what is diagnosed) and the network is quiet. */
async function settle(page: Page, target: TargetConfig, ms: number): Promise<void> {
  await anyVisible(page, target.selectors.appReady, ms).catch(() => {});
  await page.waitForLoadState('networkidle', { timeout: SETTLE_MS }).catch(() => {});
}

/** What the doctor learns from the page about one candidate element. */
interface Described {
  tag: string;
  role: string;
  type: string;
  id: string;
  nameAttr: string;
  cls: string;
  /** Accessible name, roughly (aria-label, aria-labelledby, label, text, value, title, placeholder). */
  name: string;
  label: string;
}

class PageDoctor {
  constructor(
    private readonly page: Page,
    private readonly target: TargetConfig,
    private readonly report: DoctorReport,
    private readonly outDir: string,
  ) {}

  /** The login selectors to sign in with: the configured ones, a suggestion where one is not found. */
  loginSelectors(): { selectors: Selectors; replaced: string[]; missing: string[] } {
    const selectors = { ...this.target.selectors };
    const replaced: string[] = [];
    const missing: string[] = [];
    for (const field of ['loginUsername', 'loginPassword', 'loginSubmit'] as const) {
      const check = this.report.checks.find((c) => c.field === `selectors.${field}`);
      if (check?.verdict !== 'not_found') continue;
      const best = check.suggestions[0];
      if (best === undefined) missing.push(check.field);
      else {
        selectors[field] = [best];
        replaced.push(`${check.field}: ${best}`);
      }
    }
    return { selectors, replaced, missing };
  }

  skip(page: DoctorPage, fields: readonly (keyof Selectors)[], why: string): void {
    for (const f of fields) this.push(page, f, this.target.selectors[f], { verdict: 'not_checked', note: why });
    if (page === 'app') for (const c of COLUMN_FIELDS) this.pushColumn(c, { verdict: 'not_checked', note: why });
  }

  async inspectLogin(): Promise<void> {
    const p = this.page;
    await this.check('login', 'loginUsername', p, () => this.suggestInputs('input:not([type]), input[type=text], input[type=email]'));
    await this.check('login', 'loginPassword', p, () => this.suggestInputs('input[type=password]', ['input[type=password]']));
    await this.check('login', 'loginSubmit', p, () =>
      this.suggestButtons(/sign|log ?in|submit|continue/i, ['role=button[name=/sign in|log in/i]']),
    );
    await this.check('login', 'loginError', p, undefined, { optional: 'shown only after a failed login' });
    await this.screenshot('login', p);
  }

  async inspectApp(): Promise<void> {
    const p = this.page;
    const tables = () => this.suggestTables();
    await this.check('app', 'appReady', p, tables);
    await this.check('app', 'fileInput', p, () => this.suggestInputs('input[type=file]', ['input[type=file]']));
    await this.check('app', 'uploadButton', p, () => this.suggestButtons(/upload|import|submit|send/i, ['role=button[name=/upload/i]']));
    const table = this.inUse('uploadsTable', await this.check('app', 'uploadsTable', p, tables), p);
    await this.check('app', 'refreshButton', p, () => this.suggestButtons(/refresh|reload/i, ['role=button[name=/refresh/i]']), {
      optional: 'the probe goes on without it',
    });
    const headerCells = table.loc?.first().locator(HEADER_CELLS);
    const headers = headerCells ? (await headerCells.allInnerTexts()).map((h) => h.trim()) : undefined;
    for (const c of COLUMN_FIELDS) {
      const check = this.checkColumn(c, headers, table.via);
      const at = headers?.indexOf(this.target.columns[c]) ?? -1;
      if (headerCells && at >= 0 && check.count > 0)
        await outline(headerCells.nth(at), `columns.${c}`, check.count === 1 ? FOUND : AMBIGUOUS, 'below');
    }
    await this.checkRows(table.loc, headers, table.via);
    await this.screenshot('app', p);
  }

  /** The field's locator in use; when it is not found, its best suggestion's (so what depends on it can still be checked). */
  private inUse(
    field: keyof Selectors,
    loc: Locator | undefined,
    scope: Page | Locator,
    vars?: SelectorVars,
  ): { loc?: Locator; via?: string } {
    if (loc) return { loc };
    const best = this.report.checks.findLast((c) => c.field === `selectors.${field}`)?.suggestions[0];
    return best === undefined ? {} : { loc: alternatives(scope, [best], vars)[0]!, via: best };
  }

  /** Counts each alternative; outlines the matches of the one in use; suggests others when it is not found once. */
  private async check(
    page: DoctorPage,
    field: keyof Selectors,
    scope: Page | Locator,
    suggest?: () => Promise<string[]>,
    opts: { optional?: string; vars?: SelectorVars; label?: string } = {},
  ): Promise<Locator | undefined> {
    const selector = this.target.selectors[field];
    const locs = alternatives(scope, selector, opts.vars);
    const counts: DoctorCheck['alternatives'] = [];
    let used: { i: number; loc: Locator } | undefined;
    for (const [i, loc] of locs.entries()) {
      const n = await loc.count().then(
        (c) => ({ count: c }),
        (e: unknown) => ({ count: -1, error: capText(firstLine(e), 200) }),
      );
      counts.push({ selector: selector[i]!, ...n });
      if (!used && n.count > 0) used = { i, loc };
    }
    const count = used ? counts[used.i]!.count : 0;
    const verdict: Verdict = count === 0 ? 'not_found' : count === 1 ? 'found' : 'ambiguous';
    const visible = used ? await visibleCount(used.loc) : 0;
    const check = this.push(page, field, selector, { verdict, count, visible, alternatives: counts });
    if (used) check.used = selector[used.i]!;
    if (opts.optional) check.optional = opts.optional;
    if (used && visible < count) check.note = `${count - visible} of the ${count} match(es) not visible`;
    if (used) await outline(used.loc, opts.label ?? field, verdict === 'found' ? FOUND : AMBIGUOUS);
    if (verdict !== 'found' && !(opts.optional && verdict === 'not_found') && suggest) {
      check.suggestions = await suggest().catch(() => []);
      const best = check.suggestions[0];
      if (best) await outline(alternatives(scope, [best], opts.vars)[0]!, `suggested: ${field}`, SUGGESTED);
    }
    return used?.loc;
  }

  private push(page: DoctorPage, field: keyof Selectors, selector: readonly string[], part: Partial<DoctorCheck>): DoctorCheck {
    const check = newCheck(`selectors.${field}`, page, [...selector], part);
    if (OPTIONAL[field] && !check.optional) check.optional = OPTIONAL[field];
    this.report.checks.push(check);
    return check;
  }

  private pushColumn(c: keyof Columns, part: Partial<DoctorCheck>): DoctorCheck {
    const check = newCheck(`columns.${c}`, 'app', [this.target.columns[c]], part);
    this.report.checks.push(check);
    return check;
  }

  /** The probe keys cells by the header's exact text (trimmed); a near miss is suggested. */
  private checkColumn(c: keyof Columns, headers: string[] | undefined, via?: string): DoctorCheck {
    const want = this.target.columns[c];
    if (!headers) return this.pushColumn(c, { verdict: 'not_checked', note: 'no uploads table found' });
    const count = headers.filter((h) => h === want).length;
    const verdict: Verdict = count === 0 ? 'not_found' : count === 1 ? 'found' : 'ambiguous';
    const check = this.pushColumn(c, { verdict, count, visible: count, alternatives: [{ selector: want, count }] });
    if (via) check.note = `in the suggested table ${via}`;
    if (verdict === 'found') return check;
    const norm = (s: string) => s.replace(/\s+/g, ' ').replace(/\*$/, '').trim().toLowerCase();
    const unique = headers.filter((h, i) => h && headers.indexOf(h) === i && headers.lastIndexOf(h) === i && h.length <= MAX_NAME);
    check.suggestions = unique
      .filter((h) => norm(h).includes(norm(want)) || (norm(h) && norm(want).includes(norm(h))) || nearly(norm(h), norm(want)))
      .slice(0, MAX_SUGGESTIONS);
    const shown = `the table's headers: ${headers.map((h) => JSON.stringify(capText(h, 40))).join(', ')}`;
    check.note = check.note ? `${check.note}; ${shown}` : shown;
    return check;
  }

  /**
   * uploadRow and errorWorkbookLink need a row: one of the table's own (by a file name shown
   * once in the File name column), and for the link one whose Errors column is above 0.
   */
  private async checkRows(table: Locator | undefined, headers: string[] | undefined, tableVia?: string): Promise<void> {
    const c = this.target.columns;
    const nameAt = headers?.indexOf(c.fileName) ?? -1;
    const errorsAt = headers?.indexOf(c.errors) ?? -1;
    const rows = table ? await readRows(table.first()) : [];
    const names = rows.map((r) => r[nameAt] ?? '').filter((n) => n !== '');
    const once = names.filter((n) => names.indexOf(n) === names.lastIndexOf(n));
    const sample = once[0];
    if (!table || nameAt < 0 || sample === undefined) {
      const why = !table ? 'no uploads table found' : nameAt < 0 ? `no "${c.fileName}" column` : 'the table shows no uploads';
      this.push('app', 'uploadRow', this.target.selectors.uploadRow, { verdict: 'not_checked', note: why });
      this.push('app', 'errorWorkbookLink', this.target.selectors.errorWorkbookLink, { verdict: 'not_checked', note: why });
      return;
    }
    const vars = { fileName: sample };
    const rowSuggest = () =>
      this.validated(
        this.page,
        ['role=row[name={fileName}]', 'tr:has(td:text-is("{fileName}"))', '[role=row]:has([role=cell]:text-is("{fileName}"))'],
        vars,
      );
    const found = await this.check('app', 'uploadRow', this.page, rowSuggest, { vars, label: `uploadRow (${sample})` });
    const noteRow = this.report.checks.at(-1)!;
    noteRow.note = [noteRow.note, `checked with the row of ${JSON.stringify(sample)}`, tableVia && `in the suggested table ${tableVia}`]
      .filter(Boolean)
      .join('; ');
    const row = this.inUse('uploadRow', found, this.page, vars);
    const rowSelector = row.via === undefined ? this.target.selectors.uploadRow : [row.via];

    const withErrors = rows.findIndex((r) => Number(r[errorsAt]) > 0 && once.includes(r[nameAt] ?? ''));
    if (errorsAt < 0 || withErrors < 0 || !row.loc) {
      const why = !row.loc ? 'no row found' : errorsAt < 0 ? `no "${c.errors}" column` : 'no upload with errors in the table';
      this.push('app', 'errorWorkbookLink', this.target.selectors.errorWorkbookLink, { verdict: 'not_checked', note: why });
      return;
    }
    const errorName = rows[withErrors]![nameAt]!;
    const errorRow = (await this.rowOf(rowSelector, errorName)) ?? row.loc.first();
    await this.check('app', 'errorWorkbookLink', errorRow, () => this.suggestLinks(errorRow));
    const noteLink = this.report.checks.at(-1)!;
    noteLink.note = [noteLink.note, `checked in the row of ${JSON.stringify(errorName)}`, row.via && `found by the suggested ${row.via}`]
      .filter(Boolean)
      .join('; ');
  }

  private async rowOf(selector: readonly string[], fileName: string): Promise<Locator | undefined> {
    for (const l of alternatives(this.page, selector, { fileName })) if ((await l.count()) === 1) return l;
    return undefined;
  }

  // Suggestions: candidates read off the page, kept only when they match exactly one element.

  private async suggestInputs(css: string, extra: string[] = []): Promise<string[]> {
    const found = await describeAll(this.page.locator(css));
    const candidates = found.flatMap((d) => [
      d.name ? roleName('textbox', d.name) : '',
      d.label ? `label=${JSON.stringify(d.label)}` : '',
      idCss(d.id),
      d.nameAttr && /^[\w-]+$/.test(d.nameAttr) ? `input[name=${d.nameAttr}]` : '',
    ]);
    return this.validated(this.page, [...candidates, ...extra]);
  }

  private async suggestButtons(wanted: RegExp, extra: string[]): Promise<string[]> {
    const found = await describeAll(this.page.locator('button, input[type=submit], input[type=button], [role=button]'));
    const candidates = found.filter((d) => wanted.test(d.name)).flatMap((d) => [d.name ? roleName('button', d.name) : '', idCss(d.id)]);
    return this.validated(this.page, [...candidates, ...extra]);
  }

  private async suggestTables(): Promise<string[]> {
    const found = await describeAll(this.page.locator('table, [role=table], [role=grid], [role=treegrid]'));
    const status = this.target.columns.status;
    const candidates = found.flatMap((d) => [
      d.name ? roleName(d.role === 'grid' ? 'grid' : 'table', d.name) : '',
      idCss(d.id),
      `role=${d.role === 'grid' ? 'grid' : 'table'}`,
    ]);
    return this.validated(this.page, [...candidates, `table:has(th:text-is(${JSON.stringify(status)}))`]);
  }

  private async suggestLinks(row: Locator): Promise<string[]> {
    const found = await describeAll(row.locator('a, button, [role=link], [role=button]'));
    const candidates = found.flatMap((d) => [
      d.name ? roleName(d.role === 'button' ? 'button' : 'link', d.name) : '',
      d.cls ? `${d.tag}.${d.cls.split(/\s+/)[0]}` : '',
    ]);
    return this.validated(row, [...candidates, 'role=link[name=/download|error/i]', 'role=button[name=/download|error/i]']);
  }

  /** Candidates that match exactly one element here: role- and label-based first, then text, then CSS. */
  private async validated(scope: Page | Locator, candidates: string[], vars: SelectorVars = {}): Promise<string[]> {
    const kinds = ['role=', 'label=', 'text='];
    const rank = (c: string) => kinds.findIndex((k) => c.startsWith(k)) + kinds.length * Number(!kinds.some((k) => c.startsWith(k)));
    const ordered = [...new Set(candidates.filter(Boolean))].sort((a, b) => rank(a) - rank(b));
    const out: string[] = [];
    for (const c of ordered) {
      if (out.length >= MAX_SUGGESTIONS) break;
      try {
        parseSelectorPart(c);
        if ((await alternatives(scope, [c], vars)[0]!.count()) === 1) out.push(c);
      } catch {
        // Not a selector the configuration would take, or one the browser refuses: not suggested.
      }
    }
    return out;
  }

  async screenshot(name: string, page: Page): Promise<void> {
    const file = join(this.outDir, `${name}.png`);
    try {
      await writeFile(file, await within(page.screenshot({ fullPage: true, animations: 'disabled', timeout: 5_000 }), 6_000));
      this.report.pages.push({ name, url: stripQuery(page.url()), screenshot: file });
    } catch {
      this.report.pages.push({ name, url: stripQuery(page.url()) });
    }
  }
}

const COLUMN_FIELDS = ['fileName', 'status', 'errors', 'imported'] as const;
const OPTIONAL: Partial<Record<keyof Selectors, string>> = {
  loginError: 'shown only after a failed login',
  refreshButton: 'the probe goes on without it',
};

/** Within a few edits of each other (a third of the longer text, at least 2): "State" for "Status". */
function nearly(a: string, b: string): boolean {
  const limit = Math.max(2, Math.floor(Math.max(a.length, b.length) / 3));
  if (Math.abs(a.length - b.length) > limit) return false;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]! <= limit;
}

function roleName(role: string, name: string): string {
  return name.length <= MAX_NAME ? `role=${role}[name=${JSON.stringify(name)}]` : '';
}

function idCss(id: string): string {
  return /^[A-Za-z][\w-]*$/.test(id) ? `#${id}` : '';
}

function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0]!;
}

async function visibleCount(loc: Locator): Promise<number> {
  return loc.evaluateAll((els) => els.filter((e) => (e as HTMLElement).checkVisibility?.() ?? true).length).catch(() => 0);
}

/** The table's rows (not its header row) as the texts of their cells, at most 50. */
async function readRows(table: Locator): Promise<string[][]> {
  return table
    .locator('tr, [role=row]')
    .evaluateAll(
      (trs, cells) =>
        trs
          .map((tr) => Array.from(tr.querySelectorAll(cells)).map((c) => (c as HTMLElement).innerText.trim()))
          .filter((r) => r.length > 0)
          .slice(0, 50),
      ROW_CELLS,
    )
    .catch(() => []);
}

/** Reads what the suggestions are made of, for up to 20 elements. */
async function describeAll(loc: Locator): Promise<Described[]> {
  // Only raw values are read in the page (a named helper in there would not survive the trip).
  const raw = await loc
    .evaluateAll((els) =>
      els.slice(0, 20).map((el) => {
        const h = el as HTMLElement & { labels?: NodeListOf<HTMLLabelElement> | null; value?: unknown };
        return {
          tag: el.tagName.toLowerCase(),
          role: el.getAttribute('role') ?? '',
          type: el.getAttribute('type') ?? '',
          id: el.id,
          nameAttr: el.getAttribute('name') ?? '',
          cls: el.getAttribute('class') ?? '',
          ariaLabel: el.getAttribute('aria-label') ?? '',
          labelledBy: (el.getAttribute('aria-labelledby') ?? '')
            .split(/\s+/)
            .map((id) => (id ? (document.getElementById(id)?.textContent ?? '') : ''))
            .join(' '),
          labels: h.labels
            ? Array.from(h.labels)
                .map((l) => l.textContent ?? '')
                .join(' ')
            : '',
          text: h.innerText ?? '',
          value: typeof h.value === 'string' ? h.value : '',
          title: el.getAttribute('title') ?? '',
          placeholder: el.getAttribute('placeholder') ?? '',
          href: el.hasAttribute('href'),
        };
      }),
    )
    .catch(() => []);
  // Page texts are the target's: bounded before they are used.
  const text = (s: string) => s.replace(/\s+/g, ' ').trim().slice(0, 200);
  return raw.map((d) => {
    const type = text(d.type).toLowerCase();
    const buttonLike = d.tag === 'button' || d.tag === 'a' || type === 'submit' || type === 'button' || d.role === 'button';
    const implicit = d.tag === 'a' && d.href ? 'link' : d.tag === 'button' || type === 'submit' || type === 'button' ? 'button' : d.tag;
    const label = text(d.labels);
    const name =
      text(d.ariaLabel) ||
      text(d.labelledBy) ||
      label ||
      (buttonLike ? text(d.text) || text(d.value) : '') ||
      text(d.title) ||
      text(d.placeholder);
    return { tag: d.tag, role: text(d.role) || implicit, type, id: d.id, nameAttr: text(d.nameAttr), cls: text(d.cls), name, label };
  });
}

/**
 * Outlines each match on the page with its field's name: plain elements with inline styles (a
 * page's CSP allows them), one box per element however many fields match it.
 */
async function outline(loc: Locator, label: string, colour: string, where: 'above' | 'below' = 'above'): Promise<void> {
  await loc
    .evaluateAll(
      (els, [label, colour, where]) => {
        const w = window as unknown as { __bulkUploadProbeDoctor?: Map<Element, HTMLElement> };
        const marks = (w.__bulkUploadProbeDoctor ??= new Map());
        for (const el of els.slice(0, 20)) {
          const seen = marks.get(el);
          if (seen) {
            seen.textContent = `${seen.textContent}, ${label}`;
            continue;
          }
          const r = el.getBoundingClientRect();
          if (r.width === 0 && r.height === 0) continue;
          const box = document.createElement('div');
          box.setAttribute('data-bulk-upload-probe-doctor', '');
          Object.assign(box.style, {
            position: 'absolute',
            left: `${r.left + window.scrollX - 3}px`,
            top: `${r.top + window.scrollY - 3}px`,
            width: `${r.width + 6}px`,
            height: `${r.height + 6}px`,
            outline: `3px solid ${colour}`,
            zIndex: '2147483647',
            pointerEvents: 'none',
          });
          const tag = document.createElement('div');
          tag.textContent = label;
          Object.assign(tag.style, {
            position: 'absolute',
            left: '0',
            top: where === 'above' ? '-17px' : 'calc(100% + 3px)',
            background: colour,
            color: '#fff',
            font: '11px/14px monospace',
            padding: '1px 4px',
            whiteSpace: 'nowrap',
          });
          box.appendChild(tag);
          document.body.appendChild(box);
          marks.set(el, tag);
        }
      },
      [label, colour, where] as const,
    )
    .catch(() => {});
}

/** A check not yet made, with what is known of it. */
function newCheck(field: string, page: DoctorPage, configured: string[], part: Partial<DoctorCheck>): DoctorCheck {
  return { field, page, configured, verdict: 'not_checked', count: 0, visible: 0, alternatives: [], suggestions: [], ...part };
}
