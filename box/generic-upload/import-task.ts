// generic-upload's scheduled import: every second it takes the OLDEST PENDING upload and runs
// it through the chain (bulk_upload token from Keycloak → TCS → Profile). A downstream HTTP
// error that escapes puts the file back to PENDING; since the oldest file is always taken
// first, such a file blocks every later upload.
import axios from 'axios';
import type { Upload, UploadStore } from './store.ts';
import type { GenericUploadConfig } from './config.ts';
import { serviceAccountToken } from './service-token.ts';
import { readFirstSheet, type CellValue, type SheetRow } from './workbook.ts';

export const PERSON_ID_HEADER = 'TIS_Person_ID*';
export const PLACEMENT_TYPE_HEADER = 'Placement Type*';
const IMPORT_INTERVAL_MS = 1000;
const STUCK_AFTER_MS = 3 * 3600_000;

/** A cell of the wrong type: the file ends INVALID_FILE_FORMAT. */
export class InvalidFileFormatError extends Error {}
/** An HTTP client/server error of a downstream call that the importer does not handle. */
export class DownstreamHttpError extends Error {}

interface ImportOutcome {
  numberImported: number;
  rowErrors: Map<number, string>;
}

interface TcsAnswer {
  messageList?: string[];
}

export class ImportTask {
  private timer?: NodeJS.Timeout;
  private current?: Promise<void>;

  constructor(
    private readonly store: UploadStore,
    private readonly config: () => GenericUploadConfig,
    private readonly log: (msg: string) => void = () => {},
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      if (!this.current) this.current = this.tick().finally(() => (this.current = undefined));
    }, IMPORT_INTERVAL_MS);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.current;
  }

  private async tick(): Promise<void> {
    resetStuckJobs(this.store);
    const upload = this.store.oldestPending();
    if (!upload) return;
    upload.fileStatus = 'IN_PROGRESS';
    upload.jobStartTime = new Date();
    try {
      const outcome = await this.importUpload(upload);
      upload.rowErrors = outcome.rowErrors;
      upload.numberOfErrors = outcome.rowErrors.size;
      upload.numberImported = outcome.numberImported;
      upload.fileStatus = 'COMPLETED';
      upload.processedDate = new Date();
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (err instanceof DownstreamHttpError) {
        this.log(`import of ${upload.logId} (${upload.fileName}) hit ${message}: back to PENDING`);
        upload.fileStatus = 'PENDING';
        return;
      }
      upload.fileStatus = err instanceof InvalidFileFormatError ? 'INVALID_FILE_FORMAT' : 'UNEXPECTED_ERROR';
      upload.processedDate = new Date();
      this.log(`import of ${upload.logId} (${upload.fileName}) ended ${upload.fileStatus}: ${message}`);
    }
  }

  private async importUpload(upload: Upload): Promise<ImportOutcome> {
    const sheet = await readFirstSheet(upload.content);
    const cfg = this.config();
    switch (upload.fileType) {
      case 'PEOPLE_UPDATE':
        return this.importPeopleUpdate(sheet.rows, cfg);
      case 'PLACEMENTS':
        return this.importPlacements(sheet.rows, cfg);
      default:
        throw new Error(`no importer for ${upload.fileType}`);
    }
  }

  private async importPeopleUpdate(rows: SheetRow[], cfg: GenericUploadConfig): Promise<ImportOutcome> {
    const updates = rows.map((row) => ({ row, body: { ...otherFields(row, PERSON_ID_HEADER), id: personId(row) } }));
    const token = await serviceAccountToken(cfg.keycloak);
    let answers: TcsAnswer[];
    try {
      const res = await axios.patch<TcsAnswer[]>(
        `${cfg.tcsUrl}/tcs/api/bulk-people/`,
        updates.map((u) => u.body),
        {
          headers: { authorization: `Bearer ${token}` },
          timeout: 30_000,
        },
      );
      answers = res.data;
    } catch (err) {
      // The people-update importer catches the TCS failure: every row of the batch gets its text.
      const reason = restClientMessage(err, 'PATCH', `${cfg.tcsUrl}/tcs/api/bulk-people/`);
      return { numberImported: 0, rowErrors: new Map(updates.map((u) => [u.row.rowNumber, reason])) };
    }
    return tally(updates, answers);
  }

  private async importPlacements(rows: SheetRow[], cfg: GenericUploadConfig): Promise<ImportOutcome> {
    const placements = rows.map((row) => ({
      row,
      body: { ...otherFields(row, PERSON_ID_HEADER), personId: personId(row), placementType: row.cells.get(PLACEMENT_TYPE_HEADER) },
    }));
    const token = await serviceAccountToken(cfg.keycloak);
    let answers: TcsAnswer[];
    try {
      const res = await axios.post<TcsAnswer[]>(
        `${cfg.tcsUrl}/tcs/api/bulk-placements/`,
        placements.map((p) => p.body),
        {
          headers: { authorization: `Bearer ${token}` },
          timeout: 30_000,
        },
      );
      answers = res.data;
    } catch (err) {
      // Not caught by the placements importer: the error escapes the job.
      if (axios.isAxiosError(err) && err.response) throw new DownstreamHttpError(restClientMessage(err, 'POST', ''));
      throw err;
    }
    return tally(placements, answers);
  }
}

/** Jobs IN_PROGRESS for 3 h are taken to have died with their worker: back to PENDING. */
export function resetStuckJobs(store: UploadStore, now: number = Date.now()): void {
  for (const u of store.all()) {
    if (u.fileStatus === 'IN_PROGRESS' && u.jobStartTime && now - u.jobStartTime.getTime() > STUCK_AFTER_MS) {
      u.fileStatus = 'PENDING';
    }
  }
}

/** TCS answers per record, in order: a record with messages is a row error, one without is imported. */
function tally(sent: Array<{ row: SheetRow }>, answers: TcsAnswer[]): ImportOutcome {
  const rowErrors = new Map<number, string>();
  let numberImported = 0;
  sent.forEach((s, i) => {
    const messages = answers[i]?.messageList ?? [];
    if (messages.length > 0) rowErrors.set(s.row.rowNumber, messages.join(', '));
    else numberImported++;
  });
  return { numberImported, rowErrors };
}

/** The person id cell: numeric, or the file is not importable. */
function personId(row: SheetRow): number {
  const v: CellValue | undefined = row.cells.get(PERSON_ID_HEADER);
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new InvalidFileFormatError(`row ${row.rowNumber}: ${PERSON_ID_HEADER} is not a whole number`);
    return v;
  }
  if (typeof v === 'string') {
    const s = v.trim();
    // A text id that is not a number is not foreseen by the importer: UNEXPECTED_ERROR.
    if (!/^\d+$/.test(s)) throw new Error(`For input string: "${s}"`);
    return Number(s);
  }
  if (v === null || v === undefined) throw new Error(`row ${row.rowNumber}: ${PERSON_ID_HEADER} is empty`);
  throw new InvalidFileFormatError(`row ${row.rowNumber}: cannot get a numeric value from a ${v instanceof Date ? 'date' : typeof v} cell`);
}

function otherFields(row: SheetRow, except: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [header, value] of row.cells) {
    if (header === except || value === null) continue;
    out[header.replace(/\*$/, '')] = value instanceof Date ? value.toISOString() : value;
  }
  return out;
}

/** The message a Spring RestTemplate exception carries, e.g. `500 Internal Server Error`. */
export function restClientMessage(err: unknown, method: string, url: string): string {
  if (axios.isAxiosError(err)) {
    if (err.response) return `${err.response.status} ${err.response.statusText}`.trim();
    return `I/O error on ${method} request for "${url}": ${err.message}`;
  }
  return err instanceof Error ? err.message : String(err);
}
