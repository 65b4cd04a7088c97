// The Bulk Upload API's upload record, as generic-upload answers it (POST /file, GET /status):
// one description shared by the probe's client, the stand-in that serves it and the tests.
import { z } from 'zod';

/** The workbook media type the API takes. */
export const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

/** Every fileStatus the API's enum has (INVALID_HEADERS exists but is never set). */
export const FILE_STATUSES = ['PENDING', 'IN_PROGRESS', 'COMPLETED', 'UNEXPECTED_ERROR', 'INVALID_FILE_FORMAT', 'INVALID_HEADERS'] as const;
export type FileStatus = (typeof FILE_STATUSES)[number];

/** The statuses an import ends in. */
export const FINAL_STATUSES = ['COMPLETED', 'UNEXPECTED_ERROR', 'INVALID_FILE_FORMAT', 'INVALID_HEADERS'] as const;

export function isFinalStatus(status: string | undefined): boolean {
  return status !== undefined && (FINAL_STATUSES as readonly string[]).includes(status);
}

export function isFileStatus(status: string): status is FileStatus {
  return (FILE_STATUSES as readonly string[]).includes(status);
}

/** One upload as the API answers it: dates are ISO local date-times (Java's LocalDateTime). */
export interface UploadJson {
  logId: number;
  fileName: string;
  fileType: string;
  fileStatus: FileStatus;
  uploadedDate: string;
  jobStartTime: string | null;
  processedDate: string | null;
  username: string;
  firstName: string;
  lastName: string;
  numberOfErrors: number | null;
  numberImported: number | null;
}

/** Every field of an UploadJson, in the API's order. */
export const UPLOAD_JSON_FIELDS = [
  'fileName',
  'fileType',
  'uploadedDate',
  'processedDate',
  'jobStartTime',
  'fileStatus',
  'logId',
  'username',
  'firstName',
  'lastName',
  'numberOfErrors',
  'numberImported',
] as const satisfies readonly (keyof UploadJson)[];
// Every field listed, none twice: a field added to UploadJson and not here fails to compile.
type Missing = Exclude<keyof UploadJson, (typeof UPLOAD_JSON_FIELDS)[number]>;
const _allFields: Missing extends never ? true : never = true;

const localDateTime = z.string().max(64);
const count = z.number().int().nonnegative().nullable().optional();

/**
 * The fields of an UploadJson the probe reads, as it checks them on what a server sends: other
 * releases may leave fields out or send a logId as a string, and a status outside the enum is
 * read as text so that the probe can name it.
 */
export const uploadSchema = z.object({
  logId: z.union([z.number().int(), z.string().min(1).max(64)]),
  fileName: z.string().max(1024),
  fileStatus: z.string().max(64),
  uploadedDate: localDateTime.nullable().optional(),
  jobStartTime: localDateTime.nullable().optional(),
  processedDate: localDateTime.nullable().optional(),
  numberOfErrors: count,
  numberImported: count,
});
export type Upload = z.infer<typeof uploadSchema>;

/** How an upload ended, or that it has not: the passive signal's categories. */
export const UPLOAD_OUTCOMES = ['completed', 'completed_with_errors', 'unexpected_error', 'invalid', 'not_ended'] as const;
export type UploadOutcome = (typeof UPLOAD_OUTCOMES)[number];

export function outcomeOf(u: Pick<Upload, 'fileStatus' | 'numberOfErrors'>): UploadOutcome {
  switch (u.fileStatus) {
    case 'COMPLETED':
      return (u.numberOfErrors ?? 0) > 0 ? 'completed_with_errors' : 'completed';
    case 'UNEXPECTED_ERROR':
      return 'unexpected_error';
    case 'INVALID_FILE_FORMAT':
    case 'INVALID_HEADERS':
      return 'invalid';
    default:
      return 'not_ended';
  }
}

/** The canary's upload as last seen (from /status JSON or the page's table). */
export interface UploadSnapshot {
  logId?: string;
  status?: string;
  numberOfErrors?: number;
  numberImported?: number;
}
