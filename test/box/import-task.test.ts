// Queue rules of the import task that take hours to show on a live box.
import { describe, expect, it } from 'vitest';
import { resetStuckJobs } from '../../box/generic-upload/import-task.ts';
import { UploadStore, type Upload } from '../../box/generic-upload/store.ts';

function upload(store: UploadStore, minutesAgo: number, status: Upload['fileStatus'], startedMinutesAgo?: number): Upload {
  const now = Date.now();
  return store.add({
    fileName: `f-${minutesAgo}.xlsx`,
    fileType: 'PEOPLE_UPDATE',
    uploadedDate: new Date(now - minutesAgo * 60_000),
    jobStartTime: startedMinutesAgo === undefined ? undefined : new Date(now - startedMinutesAgo * 60_000),
    fileStatus: status,
    username: 'u',
    firstName: 'F',
    lastName: 'L',
    content: Buffer.alloc(0),
    rowErrors: new Map(),
  });
}

describe('the queue', () => {
  it('takes the oldest PENDING upload first, whatever the order of arrival', () => {
    const store = new UploadStore();
    upload(store, 5, 'PENDING');
    const oldest = upload(store, 50, 'PENDING');
    upload(store, 500, 'COMPLETED');
    expect(store.oldestPending()).toBe(oldest);
  });

  it('puts jobs IN_PROGRESS for more than 3 h back to PENDING, and only those', () => {
    const store = new UploadStore();
    const stuck = upload(store, 200, 'IN_PROGRESS', 181);
    const running = upload(store, 10, 'IN_PROGRESS', 1);
    resetStuckJobs(store);
    expect(stuck.fileStatus).toBe('PENDING');
    expect(running.fileStatus).toBe('IN_PROGRESS');
  });

  it('gives uploads in the same millisecond distinct, increasing logIds', () => {
    const store = new UploadStore();
    const at = new Date();
    const ids = [0, 1, 2].map(() => store.nextLogId(at));
    expect(ids).toEqual([at.getTime(), at.getTime() + 1, at.getTime() + 2]);
  });
});
