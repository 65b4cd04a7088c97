// The queue: the oldest PENDING file is always taken first, and a file whose downstream call
// fails with an HTTP error goes back to PENDING, blocking everything behind it.
import { afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { clearFault, setFault } from '../../box/control-client.ts';
import { buildCanaryWorkbook, canaryFileName } from '../../src/canary.ts';
import { BLOCKER_FILE_NAME } from '../../box/queue-blocker.ts';
import {
  HEALTHY_REASON,
  errorReasons,
  findUpload,
  testUserToken,
  uploadApi,
  uploadFile,
  waitForFinal,
  type UploadJson,
} from '../support/tis-client.ts';
import { readImportFailureReasons } from '../../src/canary.ts';

const box = inject('box');

describe('queue-blocked', () => {
  let api: ReturnType<typeof uploadApi>;
  beforeAll(async () => {
    api = uploadApi(box, await testUserToken(box));
  });
  afterEach(async () => {
    await clearFault(box.urls.control);
  });

  it('keeps the canary PENDING behind an older file that keeps going back to PENDING; clearing drains the queue', async () => {
    await setFault(box.urls.control, 'queue-blocked');
    // Searched without its extension: the filter drops '.', as older releases do.
    const blockers = (
      await api.get<UploadJson[]>('/status', { params: { file: BLOCKER_FILE_NAME.replace(/\.xlsx$/, ''), sort: 'logId,desc' } })
    ).data;
    const blocker = blockers[0]!;
    expect(blocker.fileStatus).toMatch(/^(PENDING|IN_PROGRESS)$/);

    const res = await uploadFile(api, canaryFileName('synthetic-probe', 'box'), await buildCanaryWorkbook());
    expect(res.status).toBe(200);
    const canary = res.data as UploadJson;
    // The blocker was uploaded earlier than the canary: it is the queue's head.
    expect(blocker.uploadedDate < canary.uploadedDate).toBe(true);

    // Several import ticks later: the blocker has been tried (and put back), the canary never started.
    await new Promise((r) => setTimeout(r, 5000));
    const waiting = await findUpload(api, canary.fileName, canary.logId);
    expect(waiting).toMatchObject({ fileStatus: 'PENDING', jobStartTime: null });
    const retried = await findUpload(api, BLOCKER_FILE_NAME, blocker.logId);
    expect(retried!.fileStatus).toMatch(/^(PENDING|IN_PROGRESS)$/);
    expect(retried!.jobStartTime).not.toBeNull();
    expect(retried!.processedDate).toBeNull();

    await clearFault(box.urls.control, 'queue-blocked');
    const blockerDone = await waitForFinal(api, blocker);
    expect(blockerDone).toMatchObject({ fileStatus: 'COMPLETED', numberImported: 1, numberOfErrors: 0 });
    const canaryDone = await waitForFinal(api, canary);
    expect(canaryDone).toMatchObject({ fileStatus: 'COMPLETED', numberOfErrors: 1, numberImported: 0 });
    expect(canaryDone.jobStartTime! >= blockerDone.processedDate!).toBe(true);
    const { xlsx } = await errorReasons(api, canary.logId);
    expect(await readImportFailureReasons(xlsx)).toEqual([HEALTHY_REASON]);
  });

  it('takes the oldest PENDING file first', async () => {
    const names = [0, 1, 2].map((i) => canaryFileName(`order-${i}`, 'box'));
    const uploads: UploadJson[] = [];
    for (const n of names) uploads.push((await uploadFile(api, n, await buildCanaryWorkbook())).data as UploadJson);
    const done = await Promise.all(uploads.map((u) => waitForFinal(api, u)));
    const starts = done.map((u) => u.jobStartTime!);
    expect([...starts].sort()).toEqual(starts);
  });
});
