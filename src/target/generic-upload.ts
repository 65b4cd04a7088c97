// The Bulk Upload back end's API (generic-upload), as a bearer-token client. Every call goes
// through send(): recorded, bounded, and any answer other than the expected one ends the
// journey with what was seen.
import { bodySnippet, looksLikeLoginPage, send, type Exchange } from './http.ts';
import { JourneyStop } from '../run/steps.ts';

const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

/** One upload as /status lists it (the fields the probe reads). */
export interface Upload {
  logId: number | string;
  fileName: string;
  fileStatus: string;
  uploadedDate?: string;
  jobStartTime?: string | null;
  processedDate?: string | null;
  username?: string;
  numberOfErrors?: number | null;
  numberImported?: number | null;
}

/** The API base: apiPath absolute, or relative to the app's origin. */
export function apiBase(appUrl: string, apiPath: string): string {
  return new URL(apiPath, appUrl.replace(/\/*$/, '/')).toString().replace(/\/+$/, '');
}

export class GenericUploadApi {
  constructor(
    private readonly base: string,
    private readonly accessToken: string,
  ) {}

  private headers(extra: Record<string, string> = {}) {
    return { authorization: `Bearer ${this.accessToken}`, accept: 'application/json', ...extra };
  }

  /** GET /status with Spring paging and filters. */
  async listUploads(ex: Exchange, params: { page?: number; size?: number; file?: string; sort?: string }): Promise<Upload[]> {
    const url = `${this.base}/status?${new URLSearchParams(Object.entries(params).map(([k, v]) => [k, String(v)])).toString()}`;
    const res = await send<unknown>(ex, { method: 'GET', url, headers: this.headers() });
    this.expect(res, 'GET', url, 200);
    if (!Array.isArray(res.data)) throw new JourneyStop({ kind: 'page', what: `GET ${this.base}/status answered 200 but not a JSON list: ${bodySnippet(res.data)}` });
    return res.data as Upload[];
  }

  /** POST /file, multipart part `file` as the UI sends it; the new upload's JSON. */
  async uploadFile(ex: Exchange, fileName: string, workbook: Buffer): Promise<Upload> {
    const url = `${this.base}/file`;
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(workbook)], { type: XLSX_TYPE }), fileName);
    const res = await send<unknown>(ex, { method: 'POST', url, data: form, headers: this.headers() });
    this.expect(res, 'POST', url, 200);
    const up = res.data as Upload;
    if (typeof res.data !== 'object' || !up || up.logId === undefined) {
      throw new JourneyStop({ kind: 'page', what: `POST ${url} answered 200 without the new upload's JSON: ${bodySnippet(res.data)}` });
    }
    return up;
  }

  /** GET /uploadedFileErrors/{logId}: the error workbook. */
  async errorWorkbook(ex: Exchange, logId: string | number): Promise<Buffer> {
    const url = `${this.base}/uploadedFileErrors/${encodeURIComponent(String(logId))}`;
    const res = await send<ArrayBuffer>(ex, { method: 'GET', url, headers: this.headers({ accept: '*/*' }), responseType: 'arraybuffer' });
    this.expect(res, 'GET', url, 200);
    return Buffer.from(res.data);
  }

  private expect(res: { status: number; data: unknown; headers: Record<string, unknown> }, method: string, url: string, status: number) {
    const plainUrl = url.split('?')[0]!;
    if (looksLikeLoginPage(res.data, res.headers['content-type'])) {
      throw new JourneyStop({ kind: 'login_page', where: `${method} ${plainUrl} answered ${res.status} with a login page` });
    }
    if (res.status !== status) {
      const body = Buffer.isBuffer(res.data) || res.data instanceof ArrayBuffer ? Buffer.from(res.data as ArrayBuffer).toString('utf8') : res.data;
      throw new JourneyStop({ kind: 'http', side: 'app', method, url: plainUrl, status: res.status, body: bodySnippet(body) });
    }
  }
}
