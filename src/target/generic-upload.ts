// The Bulk Upload back end's API (generic-upload), as a bearer-token client. Every call goes
// through send(): recorded, bounded in time and size; every answer is validated against the
// API's contract at this edge (zod), and anything else ends the journey saying what came.
import { z } from 'zod';
import { jsonBody, looksLikeLoginPage, send, unexpected, type Answer, type Exchange } from './http.ts';
import { JourneyStop } from '../model/stop.ts';
import { capText } from '../model/text.ts';
import { uploadSchema, XLSX_TYPE, type Upload } from '../model/upload.ts';

/** The limits the client reads answers under (bytes). */
export interface ApiLimits {
  statusList: number;
  uploadAnswer: number;
  errorWorkbook: number;
}

/** The API base: apiPath absolute, or relative to the app's origin. */
export function apiBase(appUrl: string, apiPath: string): string {
  return new URL(apiPath, appUrl.replace(/\/*$/, '/')).toString().replace(/\/+$/, '');
}

export class GenericUploadApi {
  constructor(
    private readonly base: string,
    /** The current access token (renewed by the caller's session when it nears expiry). */
    private readonly accessToken: (ex: Exchange) => Promise<string>,
    private readonly limits: ApiLimits,
  ) {}

  private async headers(ex: Exchange, extra: Record<string, string> = {}) {
    return { authorization: `Bearer ${await this.accessToken(ex)}`, accept: 'application/json', ...extra };
  }

  /** GET /status with Spring paging and filters. */
  async listUploads(ex: Exchange, params: { page?: number; size?: number; file?: string; sort?: string }): Promise<Upload[]> {
    const url = `${this.base}/status?${new URLSearchParams(Object.entries(params).map(([k, v]) => [k, String(v)])).toString()}`;
    const res = await send(ex, { method: 'GET', url, headers: await this.headers(ex), maxBytes: this.limits.statusList });
    expectStatus(res, [200]);
    return validate(res, z.array(z.unknown()).max(10_000), 'a JSON list of uploads').map((item, i) =>
      validateUpload(res, item, `item ${i}`),
    );
  }

  /** POST /file, multipart part `file` as the UI sends it; the new upload's JSON (200 today, 202 as documented). */
  async uploadFile(ex: Exchange, fileName: string, workbook: Buffer): Promise<Upload> {
    const url = `${this.base}/file`;
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(workbook)], { type: XLSX_TYPE }), fileName);
    const res = await send(ex, { method: 'POST', url, data: form, headers: await this.headers(ex), maxBytes: this.limits.uploadAnswer });
    expectStatus(res, [200, 202]);
    return validateUpload(res, jsonBody(res, "the new upload's JSON"), 'the new upload');
  }

  /** GET /uploadedFileErrors/{logId}: the error workbook, refused unread when larger than its limit. */
  async errorWorkbook(ex: Exchange, logId: string | number): Promise<Buffer> {
    const url = `${this.base}/uploadedFileErrors/${encodeURIComponent(String(logId))}`;
    const res = await send(ex, {
      method: 'GET',
      url,
      headers: await this.headers(ex, { accept: '*/*' }),
      maxBytes: this.limits.errorWorkbook,
    });
    expectStatus(res, [200]);
    return res.body;
  }
}

function expectStatus(res: Answer, ok: number[]): void {
  if (ok.includes(res.status)) return;
  // A login page, whatever its status, says the token was not accepted.
  if (looksLikeLoginPage(res.body, res.headers['content-type'])) {
    throw new JourneyStop({ kind: 'login_page', where: `${res.method} ${res.url} answered ${res.status} with a login page` });
  }
  throw unexpected(res);
}

function validate<T>(res: Answer, schema: z.ZodType<T>, what: string): T {
  const parsed = schema.safeParse(jsonBody(res, what));
  if (parsed.success) return parsed.data;
  throw new JourneyStop({
    kind: 'bad_answer',
    side: 'app',
    what: `${res.method} ${res.url} answered ${res.status} with JSON that is not ${what}`,
  });
}

function validateUpload(res: Answer, item: unknown, which: string): Upload {
  const parsed = uploadSchema.safeParse(item);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => `${i.path.join('.') || 'value'}: ${i.message}`).join('; ');
  throw new JourneyStop({
    kind: 'bad_answer',
    side: 'app',
    what: `${res.method} ${res.url}: ${which} breaks the agreed shape (${capText(problems, 200)})`,
  });
}
