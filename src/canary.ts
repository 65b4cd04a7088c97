// The canary: a harmless people-update workbook (header `TIS_Person_ID*`, one row with a
// numeric person id that does not exist). It travels the whole import chain and writes nothing.
import { Worker } from 'node:worker_threads';
import ExcelJS from 'exceljs';

export const CANARY_HEADER = 'TIS_Person_ID*';
export const REASON_HEADER = 'Reason for import failure';
export const DEFAULT_CANARY_PERSON_ID = 999999999;

/**
 * `${prefix}-${target}-20261125T101500123Z.xlsx`, or with what wrote it (`-api-full`) after the
 * target: recognisable in the list every admin sees, UTC to the millisecond, unique per run. Before
 * the extension only letters, digits and hyphens (a target's `_` becomes `-`): older
 * generic-upload releases drop `.` and `_` from the `file` filter of GET /status, so a name with
 * them could never be found again.
 */
export function canaryFileName(prefix: string, target: string, at: Date = new Date(), writer?: string): string {
  const stamp = at.toISOString().replace(/[-:]/g, '').replace('.', '');
  const by = writer ? `${searchable(writer)}-` : '';
  return `${searchable(prefix)}-${searchable(target)}-${by}${stamp}.xlsx`;
}

/** Whether an upload's file name is one of this prefix's canaries (left out of the counts of real uploads). */
export function isCanaryName(prefix: string, fileName: string): boolean {
  return fileName.startsWith(`${searchable(prefix)}-`);
}

/** The part of a canary's file name to search GET /status with: its name without the extension, which every release's filter keeps whole. */
export function canarySearchTerm(fileName: string): string {
  return searchable(fileName.replace(/\.xlsx?$/i, ''));
}

function searchable(s: string): string {
  return s.replace(/[^A-Za-z0-9-]+/g, '-');
}

/** The canary per person id, built once (every run uploads the same bytes under its own name). */
const built = new Map<number, Promise<Buffer>>();

export async function buildCanaryWorkbook(personId: number = DEFAULT_CANARY_PERSON_ID): Promise<Buffer> {
  if (!Number.isSafeInteger(personId) || personId <= 0) throw new Error(`canary person id must be a positive integer, got ${personId}`);
  let workbook = built.get(personId);
  if (!workbook) {
    workbook = writeCanary(personId);
    built.set(personId, workbook);
    workbook.catch(() => built.delete(personId));
  }
  return workbook;
}

async function writeCanary(personId: number): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet('People');
  ws.addRow([CANARY_HEADER]);
  // Numeric on purpose: a text id makes the import end UNEXPECTED_ERROR.
  ws.addRow([personId]);
  return Buffer.from(await wb.xlsx.writeBuffer());
}

export interface ReadReasonsOptions {
  /** Largest workbook read at all (bytes); a larger one is refused unread. */
  maxBytes?: number;
  /** How long parsing may take before the worker is stopped. */
  timeoutMs?: number;
  /** Longest reason text kept (characters, with an ellipsis and the original length). */
  maxChars?: number;
  /** Most reason texts kept. */
  maxReasons?: number;
}

/** Memory one workbook parse may take; ExcelJS needs ~200× the file size for large sheets. */
const PARSE_HEAP_MB = 256;

/**
 * The `Reason for import failure` cells of an error workbook's first sheet, in row order.
 * Parsed in a worker thread with a heap limit and a time limit, after a size check, so that a
 * hostile workbook neither blocks the service's event loop nor takes its memory.
 */
export async function readImportFailureReasons(xlsx: Buffer, opts: ReadReasonsOptions = {}): Promise<string[]> {
  const maxBytes = opts.maxBytes ?? 1_048_576;
  if (xlsx.length > maxBytes) throw new Error(`the error workbook is ${xlsx.length} bytes, over the ${maxBytes}-byte limit`);
  // A worker that answered is kept for the next read; one that ran out of time or memory is ended.
  const worker = idleReader ?? newReader();
  idleReader = undefined;
  worker.ref();
  let answered = false;
  const maxReasons = opts.maxReasons ?? 20;
  worker.postMessage({ xlsx: new Uint8Array(xlsx), header: REASON_HEADER, maxReasons, maxChars: opts.maxChars ?? 300 });
  const timeoutMs = opts.timeoutMs ?? 15_000;
  let timer: NodeJS.Timeout | undefined;
  let onMessage: (m: { ok: boolean; reasons?: string[]; error?: string }) => void = () => {};
  let onError: (err: Error) => void = () => {};
  let onExit: (code: number) => void = () => {};
  try {
    return await new Promise<string[]>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`the error workbook took longer than ${timeoutMs} ms to read`)), timeoutMs);
      onMessage = (m) => {
        answered = true;
        if (m.ok) resolve(m.reasons ?? []);
        else reject(new Error(m.error ?? 'the error workbook cannot be read'));
      };
      onError = (err) =>
        reject(
          new Error(
            /ERR_WORKER_OUT_OF_MEMORY|out of memory/i.test(`${(err as NodeJS.ErrnoException).code} ${err.message}`)
              ? `reading the error workbook took more than ${PARSE_HEAP_MB} MB`
              : err.message.split('\n')[0],
          ),
        );
      onExit = (code) => reject(new Error(`the workbook reader stopped (exit ${code})`));
      worker.once('message', onMessage).once('error', onError).once('exit', onExit);
    });
  } finally {
    clearTimeout(timer);
    worker.off('message', onMessage).off('error', onError).off('exit', onExit);
    if (answered && !idleReader) keepReader(worker);
    else await worker.terminate().catch(() => 0);
  }
}

/** The reader kept between reads (none while a read is under way). */
let idleReader: Worker | undefined;

function newReader(): Worker {
  const worker = new Worker(new URL('./canary-reasons.worker.mjs', import.meta.url), {
    resourceLimits: { maxOldGenerationSizeMb: PARSE_HEAP_MB, maxYoungGenerationSizeMb: 32 },
    stdout: true,
    stderr: true,
  });
  worker.once('exit', () => {
    if (idleReader === worker) idleReader = undefined;
  });
  return worker;
}

/** Keeps a reader for the next read, without holding the process open for it. */
function keepReader(worker: Worker): void {
  worker.unref();
  idleReader = worker;
}
