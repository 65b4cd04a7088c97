// The uploads generic-upload knows about (production: a database table plus blob storage).
// Its JSON is the API's record as the product describes it (src/model/upload.ts): one shape for both.
import type { FileStatus, UploadJson } from '../../src/model/upload.ts';
import type { FileType } from './templates.ts';

export type { FileStatus, UploadJson };

export interface Upload {
  logId: number;
  fileName: string;
  fileType: FileType;
  uploadedDate: Date;
  processedDate?: Date;
  jobStartTime?: Date;
  fileStatus: FileStatus;
  username: string;
  firstName: string;
  lastName: string;
  numberOfErrors?: number;
  numberImported?: number;
  /** The workbook as uploaded. */
  content: Buffer;
  /** Reason for import failure by spreadsheet row number (1-based, header is row 1). */
  rowErrors: Map<number, string>;
}

/** ISO local date-time (no zone), as Java's LocalDateTime serialises. */
export function localDateTime(d: Date): string {
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return (
    `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T` +
    `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`
  );
}

export function toJson(u: Upload): UploadJson {
  return {
    fileName: u.fileName,
    fileType: u.fileType,
    uploadedDate: localDateTime(u.uploadedDate),
    processedDate: u.processedDate ? localDateTime(u.processedDate) : null,
    jobStartTime: u.jobStartTime ? localDateTime(u.jobStartTime) : null,
    fileStatus: u.fileStatus,
    logId: u.logId,
    username: u.username,
    firstName: u.firstName,
    lastName: u.lastName,
    numberOfErrors: u.numberOfErrors ?? null,
    numberImported: u.numberImported ?? null,
  };
}

export class UploadStore {
  private readonly uploads = new Map<number, Upload>();
  private lastLogId = 0;

  /** A millisecond timestamp, unique even for uploads within the same millisecond. */
  nextLogId(at: Date = new Date()): number {
    this.lastLogId = Math.max(at.getTime(), this.lastLogId + 1);
    return this.lastLogId;
  }

  add(u: Omit<Upload, 'logId'> & { logId?: number }): Upload {
    const upload: Upload = { ...u, logId: u.logId ?? this.nextLogId(u.uploadedDate) };
    this.uploads.set(upload.logId, upload);
    return upload;
  }

  get(logId: number): Upload | undefined {
    return this.uploads.get(logId);
  }

  all(): Upload[] {
    return [...this.uploads.values()];
  }

  /** The queue's head: the oldest PENDING upload. */
  oldestPending(): Upload | undefined {
    let oldest: Upload | undefined;
    for (const u of this.uploads.values()) {
      if (u.fileStatus !== 'PENDING') continue;
      if (!oldest || u.uploadedDate < oldest.uploadedDate || (+u.uploadedDate === +oldest.uploadedDate && u.logId < oldest.logId)) {
        oldest = u;
      }
    }
    return oldest;
  }

  /** The earliest upload time on record (the queue-blocked fault inserts a file before it). */
  earliestUploadedDate(): Date | undefined {
    let earliest: Date | undefined;
    for (const u of this.uploads.values()) if (!earliest || u.uploadedDate < earliest) earliest = u.uploadedDate;
    return earliest;
  }
}
