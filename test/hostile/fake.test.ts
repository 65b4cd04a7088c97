// The hostile target itself, checked directly over HTTP: healthy by default, and each
// misbehaviour really happens as described. If one of these fails, a failing row in
// hostile.test.ts says nothing about the product.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import JSZip from 'jszip';
import axios, { type AxiosResponse } from 'axios';
import ExcelJS from 'exceljs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildCanaryWorkbook } from '../../src/canary.ts';
import {
  API_PATH,
  HOSTILE_TEXT,
  HUGE_STATUS_BYTES,
  HUGE_WORKBOOK_BYTES,
  LONG_REASON_LENGTH,
  PLANTED_PASSWORD,
  startHostileTarget,
  TOKEN_PATH,
  type HostileScenario,
  type HostileTarget,
} from '../support/hostile-target.ts';
import { scanDir, scanText, secretSet } from '../support/leak-scan.ts';
import { UPLOAD_JSON_FIELDS } from '../../src/model/upload.ts';

let t: HostileTarget;
const http = axios.create({ validateStatus: () => true, maxRedirects: 0, proxy: false, timeout: 15_000 });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  t = await startHostileTarget();
});
afterAll(async () => {
  await t?.close();
});
afterEach(() => t.set('healthy'));

async function grant(form: Record<string, string>, timeout = 5000): Promise<AxiosResponse> {
  return http.post(`${t.url}${TOKEN_PATH}`, new URLSearchParams(form).toString(), {
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    timeout,
  });
}

async function accessToken(): Promise<string> {
  const was = t.scenario;
  t.set('healthy');
  const res = await grant({ grant_type: 'password', client_id: 'api-tokens', username: 'probe', password: PLANTED_PASSWORD });
  t.set(was);
  expect(res.status).toBe(200);
  return res.data.access_token as string;
}

async function uploadCanary(tok: string, partName = 'file'): Promise<AxiosResponse> {
  const form = new FormData();
  const fileName = `synthetic-probe-hostile-${Date.now()}.xlsx`;
  form.append(partName, new Blob([new Uint8Array(await buildCanaryWorkbook())]), fileName);
  return http.post(`${t.url}${API_PATH}/file`, form, { headers: { authorization: `Bearer ${tok}` } });
}

async function status(tok: string, query = 'page=0&size=20', opts: { responseType?: 'text' | 'json' } = {}): Promise<AxiosResponse> {
  return http.get(`${t.url}${API_PATH}/status?${query}`, {
    headers: { authorization: `Bearer ${tok}` },
    responseType: opts.responseType ?? 'json',
  });
}

/** The `Reason for import failure` cells, read with exceljs directly (not the product's reader, which has limits). */
async function reasonsOf(xlsx: Buffer): Promise<string[]> {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(xlsx as unknown as ArrayBuffer);
  const ws = wb.worksheets[0]!;
  let col = 0;
  ws.getRow(1).eachCell((c, i) => {
    if (c.text === 'Reason for import failure') col = i;
  });
  expect(col, 'a "Reason for import failure" column').toBeGreaterThan(0);
  const out: string[] = [];
  ws.eachRow((row, n) => {
    if (n > 1) out.push(row.getCell(col).text);
  });
  return out;
}

/** A raw GET that reports when headers came, what body arrived, and how it ended. */
function rawGet(
  path: string,
  headers: Record<string, string>,
  watchMs: number,
): Promise<{
  status?: number;
  headers?: IncomingHttpHeaders;
  headersAfterMs?: number;
  bytes: number;
  body: Buffer;
  ended: 'end' | 'error' | 'still open';
  error?: string;
}> {
  return new Promise((resolve) => {
    const started = Date.now();
    const chunks: Buffer[] = [];
    const out: Awaited<ReturnType<typeof rawGet>> = { bytes: 0, body: Buffer.alloc(0), ended: 'still open' };
    const finish = (how: 'end' | 'error' | 'still open', error?: string) => {
      clearTimeout(timer);
      out.ended = how;
      if (error) out.error = error;
      out.body = Buffer.concat(chunks);
      req.destroy();
      resolve(out);
    };
    const req = httpRequest(`${t.url}${path}`, { headers }, (res) => {
      out.status = res.statusCode;
      out.headers = res.headers;
      out.headersAfterMs = Date.now() - started;
      res.on('data', (c: Buffer) => {
        chunks.push(c);
        out.bytes += c.length;
      });
      res.on('end', () => finish('end'));
      res.on('aborted', () => finish('error', 'aborted'));
      res.on('error', (e) => finish('error', (e as NodeJS.ErrnoException).code ?? e.message));
    });
    req.on('error', (e) => finish('error', (e as NodeJS.ErrnoException).code ?? e.message));
    req.end();
    const timer = setTimeout(() => finish('still open'), watchMs);
  });
}

describe('healthy by default', () => {
  it('issues fresh opaque tokens for the password grant and the refresh grant, and refuses a wrong password', async () => {
    const a = await grant({
      grant_type: 'password',
      client_id: 'api-tokens',
      username: 'probe',
      password: PLANTED_PASSWORD,
      scope: 'openid',
    });
    expect(a.status).toBe(200);
    expect(a.data).toMatchObject({ token_type: 'Bearer', expires_in: expect.any(Number), refresh_expires_in: expect.any(Number) });
    expect(a.data.access_token).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    expect(a.data.refresh_token).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    const b = await grant({ grant_type: 'refresh_token', client_id: 'api-tokens', refresh_token: a.data.refresh_token });
    expect(b.status).toBe(200);
    expect(b.data.access_token).not.toBe(a.data.access_token);
    expect(t.issuedTokens()).toEqual(expect.arrayContaining([a.data.access_token, a.data.refresh_token, b.data.access_token]));
    const wrong = await grant({ grant_type: 'password', client_id: 'api-tokens', username: 'probe', password: 'Pl4nted' });
    expect(wrong.status).toBe(400);
    expect(wrong.data).toMatchObject({ error: 'invalid_grant' });
  });

  it('the API wants an issued bearer token', async () => {
    expect((await http.get(`${t.url}${API_PATH}/status`)).status).toBe(401);
    expect((await status('not-a-token-it-issued')).status).toBe(401);
    expect((await status(await accessToken())).status).toBe(200);
  });

  it('takes an upload under any part name, answers its JSON in the documented shape, and imports it PENDING → IN_PROGRESS → COMPLETED within a second', async () => {
    const tok = await accessToken();
    const up = await uploadCanary(tok, 'whatever');
    expect(up.status).toBe(200);
    expect(Object.keys(up.data).sort()).toEqual([...UPLOAD_JSON_FIELDS].sort());
    expect(up.data).toMatchObject({
      fileStatus: 'PENDING',
      fileType: 'PEOPLE_UPDATE',
      jobStartTime: null,
      processedDate: null,
      numberOfErrors: null,
      numberImported: null,
    });
    expect(up.data.uploadedDate).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}$/);
    const seen: string[] = [];
    const started = Date.now();
    let last: Record<string, unknown> = {};
    while (Date.now() - started < 1500) {
      const list = await status(tok, `file=${encodeURIComponent(up.data.fileName.slice(5, 30))}&page=0&size=5`);
      const mine = (list.data as Array<Record<string, unknown>>).find((u) => u.logId === up.data.logId)!;
      last = mine;
      if (seen.at(-1) !== mine.fileStatus) seen.push(mine.fileStatus as string);
      if (mine.fileStatus === 'COMPLETED') break;
      await sleep(50);
    }
    expect(seen).toEqual(['PENDING', 'IN_PROGRESS', 'COMPLETED']);
    expect(last).toMatchObject({
      numberOfErrors: 1,
      numberImported: 0,
      jobStartTime: expect.any(String),
      processedDate: expect.any(String),
    });

    const all = (await status(tok)).data as Array<{ logId: number; fileName: string }>;
    expect(all[0]!.logId).toBe(up.data.logId); // newest first
    expect(all.length).toBeGreaterThan(1); // not alone: other admins' uploads are listed too
    const xlsx = await http.get(`${t.url}${API_PATH}/uploadedFileErrors/${up.data.logId}`, {
      headers: { authorization: `Bearer ${tok}` },
      responseType: 'arraybuffer',
    });
    expect(xlsx.status).toBe(200);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(xlsx.data as ArrayBuffer);
    expect(wb.worksheets[0]!.getRow(1).getCell(1).text).toBe('TIS_Person_ID*');
    expect(await reasonsOf(Buffer.from(xlsx.data as ArrayBuffer))).toEqual(['Person with id 999999999 does not exist']);
  });

  it('upload-202: the same JSON with 202 Accepted', async () => {
    t.set('upload-202');
    const up = await uploadCanary(await accessToken());
    expect(up.status).toBe(202);
    expect(up.data).toMatchObject({ fileStatus: 'PENDING', logId: expect.any(Number) });
  });
});

describe('the token endpoint misbehaves', () => {
  it('token-hang: takes the request and never answers', async () => {
    t.set('token-hang');
    const r = await rawGetPost(TOKEN_PATH, 1500);
    expect(r.ended).toBe('still open');
    expect(r.status).toBeUndefined();
    expect(t.hits('token-hang')).toBeGreaterThan(0);
  });

  it('token-slow-headers: headers only after 10 s', async () => {
    t.set('token-slow-headers');
    const started = Date.now();
    const res = await grant({ grant_type: 'password', client_id: 'api-tokens', username: 'probe', password: PLANTED_PASSWORD }, 15_000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(9_900);
    expect(res.status).toBe(200);
  }, 20_000);

  it.each<[HostileScenario, number, (data: unknown, headers: Record<string, unknown>) => void]>([
    ['token-non-string', 200, (d) => expect(d).toEqual({ access_token: {} })],
    ['token-empty-string', 200, (d) => expect(d).toEqual({ access_token: '' })],
    ['token-302', 302, (_d, h) => expect(String(h.location)).toMatch(/^https:\/\/login\.elsewhere\.example\//)],
    ['token-404', 404, () => {}],
    ['token-429', 429, () => {}],
    ['token-503', 503, () => {}],
    [
      'token-invalid-grant-hostile',
      400,
      (d) => {
        expect(d).toMatchObject({ error: 'invalid_grant' });
        const text = (d as { error_description: string }).error_description;
        expect(text).toContain('authorization: x\\"y');
        expect(text).toContain('cookie: a\\\\"');
        expect(text).toBe(HOSTILE_TEXT.invalidGrant);
      },
    ],
  ])('%s answers %i', async (scenario, code, check) => {
    t.set(scenario);
    const res = await grant({ grant_type: 'password', client_id: 'api-tokens', username: 'probe', password: PLANTED_PASSWORD });
    expect(res.status).toBe(code);
    check(res.data, res.headers as Record<string, unknown>);
    expect(t.hits(scenario)).toBeGreaterThan(0);
  });
});

/** A POST to the token endpoint over raw HTTP, watched for `watchMs`. */
function rawGetPost(path: string, watchMs: number) {
  return new Promise<{ status?: number; ended: string }>((resolve) => {
    const out: { status?: number; ended: string } = { ended: 'still open' };
    const req = httpRequest(
      `${t.url}${path}`,
      { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' } },
      (res) => {
        out.status = res.statusCode;
        res.resume();
        res.on('end', () => (out.ended = 'end'));
      },
    );
    req.on('error', () => (out.ended = 'error'));
    req.end(new URLSearchParams({ grant_type: 'password', username: 'probe', password: PLANTED_PASSWORD }).toString());
    setTimeout(() => {
      req.destroy();
      resolve(out);
    }, watchMs);
  });
}

describe('GET /status misbehaves', () => {
  it('status-slow-body: headers at once, then one byte per second', async () => {
    const tok = await accessToken();
    t.set('status-slow-body');
    const r = await rawGet(`${API_PATH}/status?page=0&size=1`, { authorization: `Bearer ${tok}` }, 3200);
    expect(r.status).toBe(200);
    expect(r.headersAfterMs).toBeLessThan(500);
    expect(r.ended).toBe('still open');
    expect(r.bytes).toBeGreaterThanOrEqual(2);
    expect(r.bytes).toBeLessThanOrEqual(4);
    expect(Number(r.headers!['content-length'])).toBeGreaterThanOrEqual(400); // minutes of body to come
  });

  it('status-huge: a valid JSON list of 30 MB, streamed without a content-length', async () => {
    const tok = await accessToken();
    t.set('status-huge');
    const r = await rawGet(`${API_PATH}/status?page=0&size=1`, { authorization: `Bearer ${tok}` }, 30_000);
    expect(r.status).toBe(200);
    expect(r.ended).toBe('end');
    expect(r.headers!['content-length']).toBeUndefined();
    expect(r.bytes).toBeGreaterThanOrEqual(HUGE_STATUS_BYTES);
    const list = JSON.parse(r.body.toString('utf8')) as unknown[];
    expect(Array.isArray(list)).toBe(true);
    expect(list.length).toBeGreaterThan(50_000);
  }, 40_000);

  it('status-login-page: 200 with a Keycloak-like login page', async () => {
    const tok = await accessToken();
    t.set('status-login-page');
    const r = await status(tok, 'page=0&size=1', { responseType: 'text' });
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/text\/html/);
    expect(r.data).toContain('id="kc-form-login"');
  });

  it('status-proxy-error-page: 200 with an HTML error page that is not a login page', async () => {
    const tok = await accessToken();
    t.set('status-proxy-error-page');
    const r = await status(tok, 'page=0&size=1', { responseType: 'text' });
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/text\/html/);
    expect(r.data).toContain('An error occurred.');
    expect(r.data).not.toMatch(/kc-form-login|id="username"|type="password"/);
  });

  it('status-truncated-json: 200 application/json `[{"logId":1,"fileNa`, complete as far as HTTP goes', async () => {
    const tok = await accessToken();
    t.set('status-truncated-json');
    const r = await rawGet(`${API_PATH}/status?page=0&size=1`, { authorization: `Bearer ${tok}` }, 3000);
    expect(r.status).toBe(200);
    expect(r.ended).toBe('end');
    expect(r.headers!['content-type']).toMatch(/application\/json/);
    expect(r.body.toString()).toBe('[{"logId":1,"fileNa');
  });

  it('status-redirect-loop: 302 to itself', async () => {
    const tok = await accessToken();
    t.set('status-redirect-loop');
    const r = await status(tok, 'page=0&size=1');
    expect(r.status).toBe(302);
    expect(r.headers.location).toBe(`${API_PATH}/status?page=0&size=1`);
  });

  it('status-reset-mid-body: part of the body, then the connection is reset', async () => {
    const tok = await accessToken();
    t.set('status-reset-mid-body');
    const r = await rawGet(`${API_PATH}/status?page=0&size=1`, { authorization: `Bearer ${tok}` }, 3000);
    expect(r.status).toBe(200);
    expect(r.ended).toBe('error');
    expect(r.bytes).toBeGreaterThan(0);
    expect(r.bytes).toBeLessThan(Number(r.headers!['content-length']));
    await expect(status(tok)).rejects.toMatchObject({ code: expect.stringMatching(/ECONNRESET|ERR_BAD_RESPONSE|ECONNABORTED/) });
  });

  it.each<[HostileScenario, number, string | undefined, string]>([
    ['status-429-retry-after', 429, '120', 'Too Many Requests'],
    ['status-429', 429, undefined, 'Too Many Requests'],
    ['status-503-empty', 503, undefined, ''],
    ['status-500-empty', 500, undefined, ''],
  ])('%s answers %i (Retry-After %s)', async (scenario, code, retryAfter, body) => {
    const tok = await accessToken();
    t.set(scenario);
    const r = await status(tok, 'page=0&size=1', { responseType: 'text' });
    expect(r.status).toBe(code);
    expect(r.headers['retry-after']).toBe(retryAfter);
    expect(r.data).toBe(body);
  });
});

describe("the canary's row in /status misbehaves", () => {
  async function canaryRow(scenario: HostileScenario, waitMs: number) {
    const tok = await accessToken();
    const earlier = await uploadCanary(tok); // uploaded before the scenario: left alone
    t.set(scenario);
    const up = await uploadCanary(tok);
    expect(up.status).toBe(200);
    expect(up.data.fileStatus).toBe('PENDING'); // POST /file itself stays healthy
    await sleep(waitMs);
    const all = (await status(tok, 'page=0&size=50')).data as Array<Record<string, unknown>>;
    const before = all.find((u) => u.logId === earlier.data.logId);
    expect(before).toBeDefined();
    expect(typeof before!.fileStatus).toBe('string');
    if (before!.fileStatus === 'COMPLETED') expect(before).toMatchObject({ numberOfErrors: 1, numberImported: 0 });
    const list = (await status(tok, `file=${encodeURIComponent(up.data.fileName)}&page=0&size=5`)).data as Array<Record<string, unknown>>;
    return list.find((u) => u.fileName === up.data.fileName);
  }

  it('canary-status-unknown: fileStatus ARCHIVED', async () => {
    expect((await canaryRow('canary-status-unknown', 0))?.fileStatus).toBe('ARCHIVED');
  });
  it('canary-status-missing: no fileStatus', async () => {
    const row = await canaryRow('canary-status-missing', 0);
    expect(row).toBeDefined();
    expect(row).not.toHaveProperty('fileStatus');
  });
  it('canary-row-missing: not listed', async () => {
    expect(await canaryRow('canary-row-missing', 0)).toBeUndefined();
  });
  it('counts-as-strings: COMPLETED with "1" and "0"', async () => {
    expect(await canaryRow('counts-as-strings', 900)).toMatchObject({ fileStatus: 'COMPLETED', numberOfErrors: '1', numberImported: '0' });
  });
  it('counts-missing: COMPLETED without counts', async () => {
    const row = await canaryRow('counts-missing', 900);
    expect(row).toMatchObject({ fileStatus: 'COMPLETED' });
    expect(row).not.toHaveProperty('numberOfErrors');
    expect(row).not.toHaveProperty('numberImported');
  });
});

describe('uploads and error workbooks misbehave', () => {
  it('upload-500-hostile-text: 500 with plain text full of quotes and backslashes', async () => {
    const tok = await accessToken();
    t.set('upload-500-hostile-text');
    const r = await uploadCanary(tok);
    expect(r.status).toBe(500);
    expect(r.headers['content-type']).toMatch(/text\/plain/);
    expect(r.data).toContain('cookie: abc\\"def');
    expect(r.data).toContain('\\\\fileserver\\share');
  });

  async function errorWorkbookUnder(scenario: HostileScenario): Promise<Buffer> {
    const tok = await accessToken();
    const up = await uploadCanary(tok);
    t.set(scenario);
    const r = await http.get(`${t.url}${API_PATH}/uploadedFileErrors/${up.data.logId}`, {
      headers: { authorization: `Bearer ${tok}` },
      responseType: 'arraybuffer',
    });
    expect(r.status).toBe(200);
    return Buffer.from(r.data as ArrayBuffer);
  }

  it('error-workbook-huge: a valid error workbook of 5 MB (only its size is wrong)', async () => {
    const xlsx = await errorWorkbookUnder('error-workbook-huge');
    expect(xlsx.length).toBeGreaterThanOrEqual(HUGE_WORKBOOK_BYTES);
    expect(await reasonsOf(xlsx)).toEqual(['Person with id 999999999 does not exist']);
  });

  it('error-workbook-long-reason: a small workbook whose reason text is 1,000,000 characters', async () => {
    const xlsx = await errorWorkbookUnder('error-workbook-long-reason');
    expect(xlsx.length).toBeLessThan(64 * 1024); // not a size problem: a text problem
    const [reason] = await reasonsOf(xlsx);
    expect(reason!.length).toBe(LONG_REASON_LENGTH);
    expect(reason).not.toContain('does not exist');
  });
});

describe('the admin page misbehaves', () => {
  it('page-busy-loop: a page whose script never yields', async () => {
    t.set('page-busy-loop');
    const r = await http.get(`${t.url}/admin/uploads`, { responseType: 'text' });
    expect(r.status).toBe(200);
    expect(r.data).toContain('<script>for(;;){}</script>');
  });

  it('page-never-finishes: headers and part of the HTML, then nothing', async () => {
    t.set('page-never-finishes');
    const r = await rawGet('/admin/uploads', {}, 2000);
    expect(r.status).toBe(200);
    expect(r.headersAfterMs).toBeLessThan(500);
    expect(r.body.toString()).toContain('<div id="app">');
    expect(r.ended).toBe('still open');
  });
});

describe('the leak scanner', () => {
  it('finds the planted password in every spelling, cut short, and a token inside a zip entry', async () => {
    const set = secretSet([
      { what: 'password', value: PLANTED_PASSWORD, prefix: 7 },
      { what: 'token', value: 'AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-', prefix: 20 },
    ]);
    for (const spelling of [
      PLANTED_PASSWORD,
      encodeURIComponent(PLANTED_PASSWORD),
      new URLSearchParams({ p: PLANTED_PASSWORD }).toString(),
      JSON.stringify({ p: PLANTED_PASSWORD }),
      JSON.stringify(JSON.stringify({ p: PLANTED_PASSWORD })),
      'password=Pl4nted&[redacted]',
    ]) {
      expect(scanText('text', `before ${spelling} after`, set), spelling).toEqual([{ where: 'text', what: 'password' }]);
    }
    expect(scanText('text', 'password=[redacted] token [redacted]', set)).toEqual([]);
    const dir = await mkdtemp(join(tmpdir(), 'bup-leak-scan-'));
    try {
      const zip = new JSZip();
      zip.file('trace.trace', `{"headers":[{"name":"authorization","value":"Bearer AbCdEfGhIjKlMnOpQrSt…"}]}`);
      await writeFile(join(dir, 'trace.zip'), await zip.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE' }));
      const { leaks } = await scanDir(dir, set);
      expect(leaks).toContainEqual({ where: `${join(dir, 'trace.zip')}!trace.trace`, what: 'token' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
