// The journeys the probes make, written as a team would write them without the product: plain
// Playwright (the floor, and the Playwright Test spec beside this file) and plain axios. Same
// steps and the same waits as the probes (poll the canary's row or status every pollInterval,
// refresh between looks), the same check of the ending; none of the probe's machinery (no
// step deadlines, no network watch, no Keycloak page watch, no redaction, no evidence).
import axios from 'axios';
import ExcelJS from 'exceljs';
import type { Page } from 'playwright-core';

export const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
const FINAL = ['COMPLETED', 'UNEXPECTED_ERROR', 'INVALID_FILE_FORMAT', 'INVALID_HEADERS'];
const REASON_HEADER = 'Reason for import failure';

/** Where and as whom: everything a bare script would keep in its own settings. */
export interface BareTarget {
  /** The Bulk Upload page, `{appUrl}{uploadsPath}`. */
  pageUrl: string;
  /** The API base, `{appUrl}{apiPath}`. */
  apiBase: string;
  /** `{keycloak.url}/realms/{realm}/protocol/openid-connect/token`. */
  tokenUrl: string;
  tokenClientId: string;
  username: string;
  password: string;
  /** The canary workbook (a fixture file for a bare script: built once, uploaded under a new name each run). */
  canaryPath: string;
  expectedReason: string;
  pollMs: number;
}

/** A bare script's step timings (seconds), for the breakdown printed beside the probe's. */
export type StepTimes = Record<string, number>;

/** `bench-<writer>-<time>.xlsx`: one row per run in the box's list, found again by its name. */
export function bareFileName(writer: string): string {
  return `bench-${writer}-${new Date().toISOString().replace(/[-:.]/g, '')}.xlsx`;
}

/** Times each step; `onStep` hears of each one's end (the benchmark reads the CPU there). */
function timer(onStep?: (name: string) => void): { steps: StepTimes; step<T>(name: string, work: () => Promise<T>): Promise<T> } {
  const steps: StepTimes = {};
  return {
    steps,
    async step(name, work) {
      const t = performance.now();
      try {
        return await work();
      } finally {
        steps[name] = (performance.now() - t) / 1000;
        onStep?.(name);
      }
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The `Reason for import failure` cells of the error workbook (ExcelJS, in this process). */
async function reasons(xlsx: Buffer): Promise<string[]> {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(xlsx as unknown as ArrayBuffer);
  const ws = wb.worksheets[0];
  if (!ws) throw new Error('the error workbook has no sheet');
  let column: number | undefined;
  ws.getRow(1).eachCell((cell, col) => {
    if (String(cell.text).trim() === REASON_HEADER) column = col;
  });
  if (column === undefined) throw new Error(`no "${REASON_HEADER}" column`);
  const out: string[] = [];
  ws.eachRow((row, n) => {
    if (n > 1) out.push(String(row.getCell(column!).text).trim());
  });
  return out;
}

function checkEnding(status: string, errors: number, imported: number, reasonTexts: string[], expected: string): void {
  if (status !== 'COMPLETED' || errors !== 1 || imported !== 0 || reasonTexts[0] !== expected) {
    throw new Error(`unhealthy ending: ${status}, ${errors} errors, ${imported} imported, reason ${JSON.stringify(reasonTexts[0])}`);
  }
}

/**
 * The browser journey in plain Playwright, on a page of a fresh context: log in on Keycloak's
 * page, wait for the app, upload the canary, follow its row to a final status, download the
 * error workbook and check the reason.
 */
export async function bareBrowserJourney(
  page: Page,
  t: BareTarget,
  workbook: Buffer,
  fileName: string,
  onStep?: (name: string) => void,
): Promise<StepTimes> {
  const { steps, step } = timer(onStep);
  await step('login', async () => {
    await page.goto(t.pageUrl, { waitUntil: 'commit' });
    await page.getByRole('textbox', { name: /user ?name|e-?mail/i }).fill(t.username);
    await page.getByLabel('Password', { exact: true }).fill(t.password);
    await page.getByRole('button', { name: /^(sign|log) ?in$/i }).click({ noWaitAfter: true });
    await page.waitForURL((u) => u.href.startsWith(t.pageUrl), { waitUntil: 'commit' });
  });
  await step('open_page', () => page.getByRole('table').waitFor({ state: 'visible' }));
  const row = page.getByRole('row', { name: fileName });
  const refresh = page.getByRole('button', { name: /refresh|reload/i });
  await step('upload', async () => {
    await page.locator('input[type=file]').setInputFiles({ name: fileName, mimeType: XLSX_TYPE, buffer: workbook });
    await page.getByRole('button', { name: /^upload\b/i }).click();
    while ((await row.count()) === 0) {
      await refresh.click();
      await sleep(t.pollMs);
    }
  });
  // The row's cells by the table's header texts.
  const read = async () => {
    const headers = await page.getByRole('table').getByRole('columnheader').allInnerTexts();
    const cells = await row.getByRole('cell').allInnerTexts();
    return Object.fromEntries(headers.map((h, i) => [h.trim(), (cells[i] ?? '').trim()]));
  };
  const waitFor = async (done: (status: string) => boolean) => {
    for (;;) {
      const cells = await read();
      if (cells.Status && done(cells.Status)) return cells;
      await refresh.click();
      await sleep(t.pollMs);
    }
  };
  await step('import_started', () => waitFor((s) => s !== 'PENDING'));
  const cells = await step('import_finished', () => waitFor((s) => FINAL.includes(s)));
  await step('check_result', async () => {
    const download = page.waitForEvent('download');
    await row.getByRole('link', { name: /download|error/i }).click();
    const stream = await (await download).createReadStream();
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    checkEnding(cells.Status!, Number(cells.Errors), Number(cells.Imported), await reasons(Buffer.concat(chunks)), t.expectedReason);
  });
  return steps;
}

interface UploadJson {
  logId: number;
  fileStatus: string;
  numberOfErrors: number | null;
  numberImported: number | null;
}

/**
 * The API journey in plain axios: the same calls as the API probe (password grant, the first
 * page of /status, POST /file, /status polled by file name until the canary's upload leaves
 * PENDING and then ends, the error workbook).
 */
export async function bareApiJourney(
  t: BareTarget,
  workbook: Buffer,
  fileName: string,
  onStep?: (name: string) => void,
): Promise<StepTimes> {
  const { steps, step } = timer(onStep);
  const token = await step('login', async () => {
    const form = new URLSearchParams({
      grant_type: 'password',
      client_id: t.tokenClientId,
      username: t.username,
      password: t.password,
      scope: 'openid',
    });
    const res = await axios.post<{ access_token: string }>(t.tokenUrl, form, { timeout: 15_000 });
    return res.data.access_token;
  });
  const headers = { authorization: `Bearer ${token}`, accept: 'application/json' };
  await step('list_uploads', () => axios.get(`${t.apiBase}/status`, { params: { page: 0, size: 1 }, headers, timeout: 15_000 }));
  const upload = await step('upload', async () => {
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(workbook)], { type: XLSX_TYPE }), fileName);
    return (await axios.post<UploadJson>(`${t.apiBase}/file`, form, { headers, timeout: 15_000 })).data;
  });
  const waitFor = async (done: (status: string) => boolean) => {
    for (;;) {
      const list = await axios.get<UploadJson[]>(`${t.apiBase}/status`, {
        params: { file: fileName.replace(/\.xlsx$/, ''), page: 0, size: 5 },
        headers,
        timeout: 15_000,
      });
      const mine = list.data.find((u) => u.logId === upload.logId);
      if (!mine) throw new Error(`upload ${upload.logId} missing from /status`);
      if (done(mine.fileStatus)) return mine;
      await sleep(t.pollMs);
    }
  };
  await step('import_started', () => waitFor((s) => s !== 'PENDING'));
  const ended = await step('import_finished', () => waitFor((s) => FINAL.includes(s)));
  await step('check_result', async () => {
    const res = await axios.get<ArrayBuffer>(`${t.apiBase}/uploadedFileErrors/${ended.logId}`, {
      headers: { ...headers, accept: '*/*' },
      responseType: 'arraybuffer',
      timeout: 15_000,
    });
    const texts = await reasons(Buffer.from(res.data));
    checkEnding(ended.fileStatus, ended.numberOfErrors ?? -1, ended.numberImported ?? -1, texts, t.expectedReason);
  });
  return steps;
}
