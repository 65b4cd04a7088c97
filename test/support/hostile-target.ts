// A fake of the probe's target on loopback that misbehaves on demand: Keycloak's token endpoint,
// generic-upload's API and the admin page, HEALTHY by default (the API probe's whole journey
// passes), with one switchable misbehaviour ("scenario") at a time:
//
//   const t = await startHostileTarget();
//   t.set('status-slow-body');
//   const config = hostileConfig(t);
//   ... runProbe(...) ...
//   await t.close();
//
// Everything it issues (tokens) is kept so tests can prove none of it leaks; every misbehaviour
// it actually served is counted (`t.hits(scenario)`), so a test can tell "the product coped"
// from "the fake never misbehaved".
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import express, { type NextFunction, type Request, type Response } from 'express';
import JSZip from 'jszip';
import multer from 'multer';
import { configSchema, type Config } from '../../src/config/schema.ts';

export const HOSTILE_SCENARIOS = [
  'healthy',
  // POST /file
  'upload-202', // 202 Accepted with the same JSON (the endpoint's own docs declare 202)
  'upload-500-hostile-text', // 500, plain text with quotes, backslashes and header-like text
  // Keycloak's token endpoint
  'token-hang', // accepts the connection, never answers
  'token-slow-headers', // headers only after 10 s
  'token-non-string', // 200 {"access_token":{}}
  'token-empty-string', // 200 {"access_token":""}
  'token-302', // 302 to somewhere else
  'token-404',
  'token-429',
  'token-503',
  'token-invalid-grant-hostile', // 400 invalid_grant, error_description full of quotes and backslashes
  // GET /status as a whole
  'status-slow-body', // headers at once, then the body one byte per second
  'status-huge', // 200 with a 30 MB JSON list, streamed (chunked, no content-length)
  'status-login-page', // 200 with an HTML Keycloak-like login page
  'status-proxy-error-page', // 200 with a proxy's HTML error page (not a login page)
  'status-truncated-json', // 200 application/json `[{"logId":1,"fileNa`
  'status-redirect-loop', // 302 to itself
  'status-reset-mid-body', // connection reset after part of the body
  'status-429-retry-after', // 429 with Retry-After: 120
  'status-429', // 429 without Retry-After
  'status-503-empty', // 503, empty body
  'status-500-empty', // 500, empty body
  // the canary's own row in GET /status
  'canary-status-unknown', // fileStatus ARCHIVED
  'canary-status-missing', // no fileStatus field
  'canary-row-missing', // the canary is not listed at all
  // (the canary-row scenarios act on the canary uploaded while they are in force, not on earlier ones)
  'counts-as-strings', // COMPLETED with numberOfErrors "1", numberImported "0"
  'counts-missing', // COMPLETED without numberOfErrors / numberImported
  // GET /uploadedFileErrors/{logId}
  'error-workbook-huge', // a valid workbook of 5 MB
  'error-workbook-long-reason', // the reason text is 1,000,000 characters long
  // the admin page (browser probe)
  'page-busy-loop', // the page's script runs for(;;){}
  'page-never-finishes', // headers and part of the HTML, then nothing
] as const;
export type HostileScenario = (typeof HOSTILE_SCENARIOS)[number];

/** The planted password: every character that breaks naive URL, form, JSON or shell escaping. */
export const PLANTED_PASSWORD = 'Pl4nted&=%+"\\secret';
export const PROBE_USERNAME = 'probe';
export const REALM = 'lin';
export const TOKEN_PATH = `/auth/realms/${REALM}/protocol/openid-connect/token`;
export const API_PATH = '/generic-upload/api';

/** Hostile texts the fake sends back (not secrets: they test escaping and truncation). */
export const HOSTILE_TEXT = {
  invalidGrant: String.raw`Invalid user credentials; authorization: x\"y; cookie: a\\"`,
  uploadError: String.raw`java.lang.IllegalStateException: storage failed; cookie: abc\"def; path C:\Windows\Temp\upload\ \\fileserver\share\x; "quoted \"again\""`,
};
/** Length of the reason text in `error-workbook-long-reason`. */
export const LONG_REASON_LENGTH = 1_000_000;
/** Size of the error workbook in `error-workbook-huge`. */
export const HUGE_WORKBOOK_BYTES = 5 * 1024 * 1024;
/** Size of the /status answer in `status-huge`. */
export const HUGE_STATUS_BYTES = 30 * 1024 * 1024;
/** The import's timing: PENDING → IN_PROGRESS → COMPLETED. */
export const IMPORT_STARTS_AFTER_MS = 300;
export const IMPORT_ENDS_AFTER_MS = 700;

export interface HostileTarget {
  /** Origin, e.g. http://127.0.0.1:41234 */
  readonly url: string;
  readonly username: string;
  readonly password: string;
  readonly scenario: HostileScenario;
  set(scenario: HostileScenario): void;
  /** Every access and refresh token issued so far (they must never leak). */
  issuedTokens(): string[];
  /** How many times a scenario's misbehaviour was actually served. */
  hits(scenario: HostileScenario): number;
  /** Every request seen, in order: method, path (no query), scenario in force. */
  readonly requests: Array<{ method: string; path: string; scenario: HostileScenario; at: number }>;
  /** Uploads received through POST /file (the canaries). */
  uploadCount(): number;
  /** Temporary folders made by hostileConfig for this target; removed by close(). */
  readonly tempDirs: string[];
  close(): Promise<void>;
}

interface StoredUpload {
  logId: number;
  fileName: string;
  fileType: string;
  uploadedAt: number;
  username: string;
  firstName: string;
  lastName: string;
  /** A canary the probe uploaded (as opposed to someone else's older upload). */
  mine: boolean;
  /** The scenario in force when it was uploaded: canary-row scenarios act on that run's canary only. */
  uploadedUnder?: HostileScenario;
  personId?: number;
  /** For seeded uploads: a fixed status. */
  fixed?: { status: string; errors: number; imported: number; startedAt: number; processedAt: number };
}

/** ISO local date-time without zone, as Java's LocalDateTime serialises (read as UTC by the probe). */
function localDateTime(ms: number): string {
  return new Date(ms).toISOString().replace(/Z$/, '');
}

function token(): string {
  // Opaque, long and random: nothing JWT-shaped, so only the product's knowledge of the run's
  // own secrets can redact it.
  return randomBytes(36).toString('base64url');
}

/** The upload's JSON exactly as generic-upload answers it. */
function uploadJson(u: StoredUpload, now: number): Record<string, unknown> {
  let fileStatus = 'PENDING';
  let jobStartTime: string | null = null;
  let processedDate: string | null = null;
  let numberOfErrors: number | null = null;
  let numberImported: number | null = null;
  if (u.fixed) {
    fileStatus = u.fixed.status;
    jobStartTime = localDateTime(u.fixed.startedAt);
    processedDate = localDateTime(u.fixed.processedAt);
    numberOfErrors = u.fixed.errors;
    numberImported = u.fixed.imported;
  } else {
    const age = now - u.uploadedAt;
    if (age >= IMPORT_STARTS_AFTER_MS) {
      fileStatus = 'IN_PROGRESS';
      jobStartTime = localDateTime(u.uploadedAt + IMPORT_STARTS_AFTER_MS);
    }
    if (age >= IMPORT_ENDS_AFTER_MS) {
      fileStatus = 'COMPLETED';
      processedDate = localDateTime(u.uploadedAt + IMPORT_ENDS_AFTER_MS);
      numberOfErrors = 1;
      numberImported = 0;
    }
  }
  return {
    fileName: u.fileName,
    fileType: u.fileType,
    uploadedDate: localDateTime(u.uploadedAt),
    processedDate,
    jobStartTime,
    fileStatus,
    logId: u.logId,
    username: u.username,
    firstName: u.firstName,
    lastName: u.lastName,
    numberOfErrors,
    numberImported,
  };
}

const LOGIN_PAGE_HTML = `<!DOCTYPE html>
<html class="login-pf"><head><meta charset="utf-8"><title>Sign in to lin</title></head>
<body id="keycloak-bg"><div id="kc-form"><div id="kc-form-wrapper">
<form id="kc-form-login" onsubmit="login.disabled = true; return true;" action="/auth/realms/lin/login-actions/authenticate?session_code=abc&amp;execution=def&amp;client_id=admin-ui&amp;tab_id=xyz" method="post">
<div class="form-group"><label for="username" class="pf-c-form__label">Username or email</label>
<input tabindex="1" id="username" class="pf-c-form-control" name="username" value="" type="text" autofocus autocomplete="off"></div>
<div class="form-group"><label for="password" class="pf-c-form__label">Password</label>
<input tabindex="2" id="password" class="pf-c-form-control" name="password" type="password" autocomplete="off"></div>
<div id="kc-form-buttons" class="form-group"><input tabindex="4" class="pf-c-button" name="login" id="kc-login" type="submit" value="Sign In"></div>
</form></div></div></body></html>
`;

const PROXY_ERROR_HTML = `<!DOCTYPE html>
<html><head><title>Error</title><style>body { width: 35em; margin: 0 auto; font-family: Tahoma, Verdana, Arial, sans-serif; }</style></head>
<body><h1>An error occurred.</h1>
<p>Sorry, the page you are looking for is currently unavailable.<br/>Please try again later.</p>
<p>If you are the system administrator of this resource then you should check the error log for details.</p>
<p><em>Faithfully yours, nginx.</em></p></body></html>
`;

const BUSY_PAGE_HTML = `<!DOCTYPE html><html><head><title>Bulk Upload</title></head>
<body><p id="loading">Loading…</p><script>for(;;){}</script></body></html>
`;

const PARTIAL_PAGE_HTML = `<!DOCTYPE html><html><head><title>Bulk Upload</title>
<link rel="stylesheet" href="/admin/styles.css"></head><body><div id="app"><p>Loading the uploads`;

/** The error workbook: the canary's header, its row, and the reason for import failure. */
async function errorWorkbook(personId: number, reason: string): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet('People');
  ws.addRow(['TIS_Person_ID*', 'Reason for import failure']);
  ws.addRow([personId, reason]);
  return Buffer.from(await wb.xlsx.writeBuffer());
}

/** A valid error workbook padded with an incompressible part to `bytes` (readers ignore the part). */
async function hugeErrorWorkbook(personId: number, reason: string, bytes: number): Promise<Buffer> {
  const base = await errorWorkbook(personId, reason);
  const zip = await JSZip.loadAsync(base);
  zip.file('docProps/padding.bin', randomBytes(bytes - base.length + 1024), { compression: 'STORE' });
  return Buffer.from(await zip.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE' }));
}

/** The person id in the uploaded canary (first sheet, column `TIS_Person_ID*`, first data row). */
async function personIdOf(workbook: Buffer): Promise<number | undefined> {
  try {
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(workbook as unknown as ArrayBuffer);
    const ws = wb.worksheets[0];
    if (!ws) return undefined;
    let col: number | undefined;
    ws.getRow(1).eachCell((c, i) => {
      if (String(c.text).trim() === 'TIS_Person_ID*') col = i;
    });
    if (col === undefined) return undefined;
    const n = Number(ws.getRow(2).getCell(col).text);
    return Number.isFinite(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

export async function startHostileTarget(opts: { username?: string; password?: string } = {}): Promise<HostileTarget> {
  const username = opts.username ?? PROBE_USERNAME;
  const password = opts.password ?? PLANTED_PASSWORD;
  let scenario: HostileScenario = 'healthy';
  const hitCount = new Map<HostileScenario, number>();
  const hit = (s: HostileScenario) => hitCount.set(s, (hitCount.get(s) ?? 0) + 1);
  const accessTokens = new Set<string>();
  const refreshTokens = new Set<string>();
  const issued: string[] = [];
  const requests: HostileTarget['requests'] = [];
  const timers = new Set<NodeJS.Timeout>();
  const sockets = new Set<Socket>();
  const tempDirs: string[] = [];

  const now = Date.now();
  // Other admins' older uploads: the list is never empty and the canary is not alone in it.
  const uploads: StoredUpload[] = [
    {
      logId: now - 86_400_000,
      fileName: 'people-update-november.xlsx',
      fileType: 'PEOPLE_UPDATE',
      uploadedAt: now - 86_400_000,
      username: 'jane.admin',
      firstName: 'Jane',
      lastName: 'Admin',
      mine: false,
      fixed: { status: 'COMPLETED', errors: 0, imported: 12, startedAt: now - 86_399_000, processedAt: now - 86_398_000 },
    },
    {
      logId: now - 3_600_000,
      fileName: 'placements-2026.xlsx',
      fileType: 'PLACEMENTS',
      uploadedAt: now - 3_600_000,
      username: 'sam.admin',
      firstName: 'Sam',
      lastName: 'Admin',
      mine: false,
      fixed: { status: 'COMPLETED', errors: 2, imported: 40, startedAt: now - 3_599_000, processedAt: now - 3_590_000 },
    },
  ];
  let lastLogId = 0;
  const workbooks = new Map<string, Promise<Buffer>>();
  const cachedWorkbook = (key: string, make: () => Promise<Buffer>) => {
    let w = workbooks.get(key);
    if (!w) {
      w = make();
      workbooks.set(key, w);
    }
    return w;
  };

  /** setTimeout that close() clears. */
  const later = (ms: number, fn: () => void): NodeJS.Timeout => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
    return t;
  };
  const every = (ms: number, fn: () => void): NodeJS.Timeout => {
    const t = setInterval(fn, ms);
    timers.add(t);
    return t;
  };
  const stopTimer = (t: NodeJS.Timeout) => {
    clearTimeout(t);
    clearInterval(t);
    timers.delete(t);
  };
  /** Runs `fn` once the client has gone away (or the answer ended). */
  const onGone = (res: ServerResponse, fn: () => void) => res.once('close', fn);

  const issueTokens = () => {
    const access = token();
    const refresh = token();
    accessTokens.add(access);
    refreshTokens.add(refresh);
    issued.push(access, refresh);
    return {
      access_token: access,
      expires_in: 300,
      refresh_expires_in: 1800,
      refresh_token: refresh,
      token_type: 'Bearer',
      'not-before-policy': 0,
      session_state: randomBytes(16).toString('hex'),
      scope: 'openid profile email',
    };
  };

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use((req, _res, next) => {
    requests.push({ method: req.method, path: req.path, scenario, at: Date.now() });
    next();
  });

  app.get('/ping', (_req, res) => {
    res.type('text/plain').send('pong');
  });

  // ---- Keycloak: the token endpoint ---------------------------------------------------------
  app.post(TOKEN_PATH, express.urlencoded({ extended: false }), (req: Request, res: Response) => {
    const s = scenario;
    switch (s) {
      case 'token-hang':
        hit(s);
        return; // never answers; close() destroys the socket
      case 'token-slow-headers': {
        hit(s);
        const t = later(10_000, () => {
          if (!res.destroyed) res.status(200).json(issueTokens());
        });
        onGone(res, () => stopTimer(t));
        return;
      }
      case 'token-non-string':
        hit(s);
        res.status(200).type('application/json').send('{"access_token":{}}');
        return;
      case 'token-empty-string':
        hit(s);
        res.status(200).type('application/json').send('{"access_token":""}');
        return;
      case 'token-302':
        hit(s);
        res.status(302).set('Location', 'https://login.elsewhere.example/auth/realms/lin/protocol/openid-connect/token').end();
        return;
      case 'token-404':
        hit(s);
        res.status(404).type('text/html').send('<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1></body></html>');
        return;
      case 'token-429':
        hit(s);
        res.status(429).type('text/plain').send('Too Many Requests');
        return;
      case 'token-503':
        hit(s);
        res
          .status(503)
          .type('text/html')
          .send('<html><body><h1>503 Service Unavailable</h1>No server is available to handle this request.</body></html>');
        return;
      case 'token-invalid-grant-hostile':
        hit(s);
        res.status(400).json({ error: 'invalid_grant', error_description: HOSTILE_TEXT.invalidGrant });
        return;
      default:
        break;
    }
    const form = (req.body ?? {}) as Record<string, string | undefined>;
    if (form.grant_type === 'password') {
      if (form.username !== username || form.password !== password) {
        res.status(400).json({ error: 'invalid_grant', error_description: 'Invalid user credentials' });
        return;
      }
      res.status(200).json(issueTokens());
      return;
    }
    if (form.grant_type === 'refresh_token') {
      if (!form.refresh_token || !refreshTokens.has(form.refresh_token)) {
        res.status(400).json({ error: 'invalid_grant', error_description: 'Invalid refresh token' });
        return;
      }
      res.status(200).json(issueTokens());
      return;
    }
    res.status(400).json({ error: 'unsupported_grant_type', error_description: 'Unsupported grant_type' });
  });

  // ---- generic-upload ---------------------------------------------------------------------
  const api = express.Router();
  api.use((req, res, next) => {
    const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
    if (!m || !accessTokens.has(m[1]!)) {
      res.status(401).type('text/plain').send('Unauthorized');
      return;
    }
    next();
  });

  const listed = (query: Record<string, unknown>, hideMine: boolean): Array<Record<string, unknown>> => {
    const t = Date.now();
    const file = typeof query.file === 'string' ? query.file.toLowerCase() : undefined;
    const matching = uploads.filter((u) => !file || u.fileName.toLowerCase().includes(file));
    const rows = hideMine ? matching.filter((u) => !(u.mine && u.uploadedUnder === scenario)) : matching;
    if (rows.length !== matching.length) hit('canary-row-missing');
    const [prop, direction] = typeof query.sort === 'string' ? query.sort.split(',') : [];
    const key = prop === 'fileName' ? 'fileName' : 'logId';
    const dir = prop && direction !== 'desc' ? 1 : -1; // newest first unless asked otherwise
    rows.sort((a, b) => (a[key] < b[key] ? -dir : a[key] > b[key] ? dir : 0));
    const size = Math.max(1, Math.min(2000, Number(query.size ?? 20) || 20));
    const page = Math.max(0, Number(query.page ?? 0) || 0);
    return rows.slice(page * size, page * size + size).map((u) => canaryShaped(u, uploadJson(u, t)));
  };

  /** The canary-row scenarios: how the probe's own upload is misrepresented. */
  const canaryShaped = (u: StoredUpload, json: Record<string, unknown>): Record<string, unknown> => {
    // Only the canary uploaded under the scenario: earlier runs' canaries stay as they were.
    if (!u.mine || u.uploadedUnder !== scenario) return json;
    switch (scenario) {
      case 'canary-status-unknown':
        hit(scenario);
        return { ...json, fileStatus: 'ARCHIVED' };
      case 'canary-status-missing': {
        hit(scenario);
        const { fileStatus: _gone, ...rest } = json;
        return rest;
      }
      case 'counts-as-strings':
        if (json.fileStatus !== 'COMPLETED') return json;
        hit(scenario);
        return { ...json, numberOfErrors: String(json.numberOfErrors), numberImported: String(json.numberImported) };
      case 'counts-missing': {
        if (json.fileStatus !== 'COMPLETED') return json;
        hit(scenario);
        const { numberOfErrors: _e, numberImported: _i, ...rest } = json;
        return rest;
      }
      default:
        return json;
    }
  };

  api.get('/status', (req: Request, res: Response) => {
    const s = scenario;
    const query = req.query as Record<string, unknown>;
    const healthyList = () => listed(query, s === 'canary-row-missing');
    switch (s) {
      case 'status-slow-body': {
        hit(s);
        const body = Buffer.from(JSON.stringify(healthyList(), null, 2).padEnd(400, ' '));
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(body.length) });
        res.flushHeaders();
        let i = 0;
        const t = every(1000, () => {
          if (res.destroyed || i >= body.length) {
            stopTimer(t);
            if (!res.destroyed) res.end();
            return;
          }
          res.write(body.subarray(i, i + 1));
          i++;
        });
        onGone(res, () => stopTimer(t));
        return;
      }
      case 'status-huge': {
        hit(s);
        streamHugeList(res, healthyList());
        return;
      }
      case 'status-login-page':
        hit(s);
        res.status(200).type('text/html; charset=utf-8').send(LOGIN_PAGE_HTML);
        return;
      case 'status-proxy-error-page':
        hit(s);
        res.status(200).type('text/html').send(PROXY_ERROR_HTML);
        return;
      case 'status-truncated-json':
        hit(s);
        res.status(200).type('application/json').send('[{"logId":1,"fileNa');
        return;
      case 'status-redirect-loop':
        hit(s);
        res.status(302).set('Location', req.originalUrl).end();
        return;
      case 'status-reset-mid-body': {
        hit(s);
        const body = Buffer.from(JSON.stringify(healthyList()).padEnd(2000, ' '));
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(body.length) });
        res.write(body.subarray(0, Math.floor(body.length / 2)));
        const t = later(50, () => req.socket.destroy());
        onGone(res, () => stopTimer(t));
        return;
      }
      case 'status-429-retry-after':
        hit(s);
        res.status(429).set('Retry-After', '120').type('text/plain').send('Too Many Requests');
        return;
      case 'status-429':
        hit(s);
        res.status(429).type('text/plain').send('Too Many Requests');
        return;
      case 'status-503-empty':
        hit(s);
        res.status(503).end();
        return;
      case 'status-500-empty':
        hit(s);
        res.status(500).end();
        return;
      default:
        break;
    }
    const list = healthyList();
    res
      .status(200)
      .set({ 'X-Total-Count': String(uploads.length), Link: `<${API_PATH}/status?page=0&size=20>; rel="first"` })
      .json(list);
  });

  /** A valid JSON list of HUGE_STATUS_BYTES, written as fast as the client reads it. */
  function streamHugeList(res: ServerResponse, head: Array<Record<string, unknown>>) {
    res.writeHead(200, { 'content-type': 'application/json' }); // chunked: the size is not announced
    const filler = (n: number) =>
      JSON.stringify({
        fileName: `someone-else-${n}.xlsx`,
        fileType: 'PEOPLE_UPDATE',
        uploadedDate: '2026-01-01T00:00:00.000',
        processedDate: '2026-01-01T00:00:01.000',
        jobStartTime: '2026-01-01T00:00:00.500',
        fileStatus: 'COMPLETED',
        logId: 1_700_000_000_000 + n,
        username: 'someone.else',
        firstName: 'Someone',
        lastName: 'Else',
        numberOfErrors: 0,
        numberImported: 1,
      });
    let written = 0;
    let n = 0;
    let needComma = head.length > 0;
    const first = `[${head.map((h) => JSON.stringify(h)).join(',')}`;
    const write = (s: string) => {
      written += Buffer.byteLength(s);
      return res.write(s);
    };
    write(first);
    const pump = () => {
      while (!res.destroyed && written < HUGE_STATUS_BYTES) {
        const parts: string[] = [];
        for (let k = 0; k < 200; k++) parts.push(filler(n++));
        const chunk = (needComma ? ',' : '') + parts.join(',');
        needComma = true;
        if (!write(chunk)) {
          res.once('drain', pump);
          return;
        }
      }
      if (!res.destroyed) res.end(']');
    };
    pump();
  }

  const upload = multer({ storage: multer.memoryStorage(), limits: { fileSize: 20 * 1024 * 1024 } });
  api.post('/file', upload.any(), async (req: Request, res: Response) => {
    const files = Array.isArray(req.files) ? req.files : [];
    if (files.length === 0) {
      res.status(400).type('text/plain').send('expecting a file to be uploaded');
      return;
    }
    if (scenario === 'upload-500-hostile-text') {
      hit(scenario);
      res.status(500).type('text/plain').send(HOSTILE_TEXT.uploadError);
      return;
    }
    const f = files[0]!;
    if (!/\.xlsx?$/.test(f.originalname)) {
      res.status(415).type('text/plain').send('Content type %s not supported');
      return;
    }
    let at = Date.now();
    if (at <= lastLogId) at = lastLogId + 1;
    lastLogId = at;
    const u: StoredUpload = {
      logId: at,
      fileName: f.originalname,
      fileType: 'PEOPLE_UPDATE',
      uploadedAt: at,
      username,
      firstName: 'Probe',
      lastName: 'Canary',
      mine: true,
      uploadedUnder: scenario,
      personId: await personIdOf(f.buffer),
    };
    uploads.push(u);
    const status = scenario === 'upload-202' ? 202 : 200;
    if (status === 202) hit('upload-202');
    res.status(status).json(uploadJson(u, Date.now()));
  });

  api.get('/uploadedFileErrors/:logId', async (req: Request, res: Response) => {
    const u = uploads.find((x) => String(x.logId) === req.params.logId);
    if (!u || !u.mine) {
      res.status(500).end();
      return;
    }
    const id = u.personId ?? 999999999;
    const healthyReason = `Person with id ${id} does not exist`;
    let xlsx: Buffer;
    if (scenario === 'error-workbook-huge') {
      hit(scenario);
      xlsx = await cachedWorkbook(`huge-${id}`, () => hugeErrorWorkbook(id, healthyReason, HUGE_WORKBOOK_BYTES));
    } else if (scenario === 'error-workbook-long-reason') {
      hit(scenario);
      const unit = 'Internal Server Error: ';
      const long = unit.repeat(Math.ceil(LONG_REASON_LENGTH / unit.length)).slice(0, LONG_REASON_LENGTH);
      xlsx = await cachedWorkbook(`long-${id}`, () => errorWorkbook(id, long));
    } else {
      xlsx = await cachedWorkbook(`ok-${id}`, () => errorWorkbook(id, healthyReason));
    }
    res
      .status(200)
      .set({
        'Content-Type': 'application/octet-stream',
        'Content-Disposition': `form-data; name="${u.fileName}"; filename="${u.fileName}"`,
        'Cache-Control': 'must-revalidate, post-check=0, pre-check=0',
      })
      .send(xlsx);
  });
  app.use(API_PATH, api);

  // ---- the admin page (browser scenarios only) ----------------------------------------------
  app.get('/admin/uploads', (_req: Request, res: Response) => {
    const s = scenario;
    if (s === 'page-busy-loop') {
      hit(s);
      res.status(200).type('text/html').send(BUSY_PAGE_HTML);
      return;
    }
    if (s === 'page-never-finishes') {
      hit(s);
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.write(PARTIAL_PAGE_HTML); // and nothing more, ever
      return;
    }
    res.status(404).type('text/plain').send('this fake serves the admin page in browser scenarios only');
  });

  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (!res.headersSent)
      res
        .status(500)
        .type('text/plain')
        .send(`fake target error: ${(err as Error)?.message ?? String(err)}`);
  });

  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(0, '127.0.0.1', (err?: Error) => (err ? reject(err) : resolve(s)));
  });
  server.on('connection', (sock: Socket) => {
    sockets.add(sock);
    sock.once('close', () => sockets.delete(sock));
  });
  // Slow answers must not be cut short by Node's own server timeouts.
  server.requestTimeout = 0;
  server.headersTimeout = 0;
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  let closed = false;
  return {
    url,
    username,
    password,
    get scenario() {
      return scenario;
    },
    set(s: HostileScenario) {
      if (!HOSTILE_SCENARIOS.includes(s)) throw new Error(`unknown scenario ${s}`);
      scenario = s;
    },
    issuedTokens: () => [...issued],
    hits: (s) => hitCount.get(s) ?? 0,
    requests,
    uploadCount: () => uploads.filter((u) => u.mine).length,
    tempDirs,
    async close() {
      if (closed) return;
      closed = true;
      for (const t of timers) stopTimer(t);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      if (!process.env.KEEP_HOSTILE_EVIDENCE) for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
    },
  };
}

export interface HostileConfigOverrides {
  /** The probe this configuration runs (default api). */
  probe?: 'api' | 'browser';
  /** Fields of the target `hostile`, merged over the defaults (timeouts, limits and canary merged key by key). */
  target?: Record<string, unknown>;
  /** Top-level fields (schedule, browser, server...), merged over the defaults. */
  config?: Record<string, unknown>;
  /** Evidence folder (default: a fresh temporary folder, removed by t.close()). */
  evidenceDir?: string;
}

/** Short timeouts: every hostile scenario ends in seconds. */
export const HOSTILE_TIMEOUTS = {
  request: '2s',
  login: '5s',
  openPage: '5s',
  listUploads: '5s',
  upload: '5s',
  importStarted: '8s',
  importFinished: '8s',
  checkResult: '5s',
  run: '20s',
} as const;

/** A validated probe configuration with one target `hostile`: the fake. */
export function hostileConfig(t: HostileTarget, overrides: HostileConfigOverrides = {}): Config {
  const dir = mkdtempSync(join(tmpdir(), 'bup-hostile-'));
  t.tempDirs.push(dir);
  const probe = overrides.probe ?? 'api';
  const target = overrides.target ?? {};
  const { timeouts, limits, canary, ...restTarget } = target as {
    timeouts?: Record<string, unknown>;
    limits?: Record<string, unknown>;
    canary?: Record<string, unknown>;
  };
  return configSchema.parse({
    probes: [probe],
    schedule: { interval: 60, jitter: 0 },
    evidence: { dir: overrides.evidenceDir ?? join(dir, 'evidence'), keep: 100 },
    history: { file: join(dir, 'history.jsonl') },
    server: { host: '127.0.0.1', port: 0 },
    browser: { executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', headless: true, trace: true },
    ...overrides.config,
    targets: {
      hostile: {
        appUrl: t.url,
        keycloak: { url: `${t.url}/auth`, realm: REALM },
        credentials: { username: t.username, password: t.password },
        canary: { pollInterval: '200ms', ...canary },
        timeouts: { ...HOSTILE_TIMEOUTS, ...timeouts },
        ...(limits ? { limits } : {}),
        ...restTarget,
      },
    },
  });
}
