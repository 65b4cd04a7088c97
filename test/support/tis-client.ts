// A client of the box as a real caller would use it: a password-grant token from Keycloak
// (through urls.keycloak), then the generic-upload API through the app front door.
import axios, { type AxiosInstance, type AxiosResponse } from 'axios';
import ExcelJS from 'exceljs';
import { TOKEN_CLIENT_ID } from '../../box/realm.ts';
import { isFinalStatus, type UploadJson } from '../../src/model/upload.ts';
import type { BoxInfo } from './box-info.ts';

export interface TokenAnswer {
  status: number;
  data: { access_token?: string; error?: string; error_description?: string };
}

export async function passwordGrant(box: BoxInfo, username: string, password: string): Promise<TokenAnswer> {
  const res = await axios.post(
    `${box.urls.keycloak}/realms/${box.realm}/protocol/openid-connect/token`,
    new URLSearchParams({ grant_type: 'password', client_id: TOKEN_CLIENT_ID, username, password }),
    { validateStatus: () => true, timeout: 15_000 },
  );
  return { status: res.status, data: res.data };
}

export async function testUserToken(box: BoxInfo): Promise<string> {
  const answer = await passwordGrant(box, box.testUser.username, box.testUser.password);
  if (answer.status !== 200 || !answer.data.access_token) {
    throw new Error(`password grant for the test user failed: ${answer.status} ${JSON.stringify(answer.data)}`);
  }
  return answer.data.access_token;
}

/** The generic-upload API through the front door; never throws on an HTTP status. */
export function uploadApi(box: BoxInfo, token: string | undefined, base = `${box.urls.app}/generic-upload/api`): AxiosInstance {
  return axios.create({
    baseURL: base,
    headers: token ? { authorization: `Bearer ${token}` } : {},
    validateStatus: () => true,
    timeout: 15_000,
  });
}

export type { UploadJson };

/** How many uploads the box holds, through its API as a caller sees it. */
export async function uploadCount(box: BoxInfo): Promise<number> {
  const res = await uploadApi(box, await testUserToken(box)).get('/status', { params: { page: 0, size: 1 } });
  if (res.status !== 200) throw new Error(`/status answered ${res.status}`);
  return Number(res.headers['x-total-count']);
}

export async function uploadFile(api: AxiosInstance, fileName: string, content: Buffer, part = 'file'): Promise<AxiosResponse> {
  const form = new FormData();
  form.append(part, new Blob([new Uint8Array(content)]), fileName);
  return api.post('/file', form);
}

/** Finds one upload by logId in /status (searching by its file name). */
export async function findUpload(api: AxiosInstance, fileName: string, logId: number): Promise<UploadJson | undefined> {
  // The filter drops '.' and '_' (as older releases do): search by the longest run it keeps whole.
  const term = (fileName.match(/[A-Za-z0-9-]+/g) ?? []).sort((a, b) => b.length - a.length)[0] ?? '';
  const res = await api.get<UploadJson[]>('/status', { params: { file: term, size: 100 } });
  if (res.status !== 200) throw new Error(`/status answered ${res.status}`);
  return res.data.find((u) => u.logId === logId);
}

/** Polls /status until the upload reaches a final status (or the deadline passes). */
export async function waitForFinal(api: AxiosInstance, upload: UploadJson, timeoutMs = 30_000): Promise<UploadJson> {
  const deadline = Date.now() + timeoutMs;
  let last: UploadJson | undefined;
  while (Date.now() < deadline) {
    last = await findUpload(api, upload.fileName, upload.logId);
    if (last && isFinalStatus(last.fileStatus)) return last;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`upload ${upload.logId} not finished after ${timeoutMs} ms; last status ${last?.fileStatus}`);
}

export async function errorReasons(api: AxiosInstance, logId: number): Promise<{ status: number; xlsx: Buffer }> {
  const res = await api.get<ArrayBuffer>(`/uploadedFileErrors/${logId}`, { responseType: 'arraybuffer' });
  return { status: res.status, xlsx: Buffer.from(res.data) };
}

/** A workbook with one sheet: the header row, then the rows. */
export async function workbook(rows: ExcelJS.CellValue[][]): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet('Sheet1');
  for (const r of rows) ws.addRow(r);
  return Buffer.from(await wb.xlsx.writeBuffer());
}

let counter = 0;
/** A unique file name, so that each test finds its own rows. */
export function uniqueName(stem: string, ext = 'xlsx'): string {
  counter += 1;
  return `${stem}-${Date.now()}-${process.pid}-${counter}.${ext}`;
}

export interface CanaryEnding {
  upload: UploadJson;
  /** The error workbook's reasons, when the import completed with errors. */
  reasons?: string[];
}

/** Uploads a fresh canary and follows it to its final status. */
export async function runCanary(api: AxiosInstance, timeoutMs = 30_000): Promise<CanaryEnding> {
  const { buildCanaryWorkbook, canaryFileName, readImportFailureReasons } = await import('../../src/canary.ts');
  const res = await uploadFile(api, canaryFileName('synthetic-probe', 'box'), await buildCanaryWorkbook());
  if (res.status !== 200) throw new Error(`canary upload answered ${res.status}: ${String(res.data)}`);
  const upload = await waitForFinal(api, res.data as UploadJson, timeoutMs);
  if (upload.fileStatus !== 'COMPLETED' || !upload.numberOfErrors) return { upload };
  const errors = await errorReasons(api, upload.logId);
  if (errors.status !== 200) throw new Error(`error workbook answered ${errors.status}`);
  return { upload, reasons: await readImportFailureReasons(errors.xlsx) };
}

export const HEALTHY_REASON = 'Person with id 999999999 does not exist';

/**
 * Waits until nothing is PENDING or IN_PROGRESS, so that a suite that uploads without waiting
 * does not leave a queue that delays the next suite's canary.
 */
export async function waitForQueueDrained(api: AxiosInstance, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const res = await api.get<UploadJson[]>('/status', { params: { size: 2000 } });
    if (res.status === 200 && !res.data.some((u) => u.fileStatus === 'PENDING' || u.fileStatus === 'IN_PROGRESS')) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`the upload queue did not drain within ${timeoutMs} ms`);
}
