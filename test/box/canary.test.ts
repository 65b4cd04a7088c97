// The canary's healthy ending, end to end: password grant → upload through the front door →
// the import task (bulk_upload token → TCS → Profile) → the error workbook.
import { afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { clearFault } from '../../box/control-client.ts';
import { buildCanaryWorkbook, canaryFileName, readImportFailureReasons } from '../../src/canary.ts';
import { errorReasons, testUserToken, uploadApi, uploadFile, waitForFinal, type UploadJson } from '../support/tis-client.ts';
import { UPLOAD_JSON_FIELDS } from '../../src/model/upload.ts';

const box = inject('box');

describe('the canary on a healthy box', () => {
  let token: string;
  beforeAll(async () => {
    token = await testUserToken(box);
  });
  afterEach(async () => {
    await clearFault(box.urls.control);
  });

  it('is accepted PENDING, then ends COMPLETED with 1 error, 0 imported and the "does not exist" reason', async () => {
    const api = uploadApi(box, token);
    const fileName = canaryFileName('synthetic-probe', 'box');
    const res = await uploadFile(api, fileName, await buildCanaryWorkbook());
    expect(res.status).toBe(200);
    const upload = res.data as UploadJson;
    expect(upload).toMatchObject({
      fileName,
      fileType: 'PEOPLE_UPDATE',
      fileStatus: 'PENDING',
      username: box.testUser.username,
      firstName: 'Synthetic',
      lastName: 'Probe',
      processedDate: null,
      jobStartTime: null,
    });
    expect(Object.keys(upload).sort()).toEqual([...UPLOAD_JSON_FIELDS].sort());
    // logId is the upload's millisecond timestamp; dates are ISO local date-times.
    expect(Math.abs(upload.logId - Date.now())).toBeLessThan(60_000);
    expect(upload.uploadedDate).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}$/);

    const done = await waitForFinal(api, upload);
    expect(done).toMatchObject({ fileStatus: 'COMPLETED', numberOfErrors: 1, numberImported: 0 });
    expect(done.jobStartTime).not.toBeNull();
    expect(done.processedDate! >= done.jobStartTime!).toBe(true);
    expect(done.jobStartTime! >= done.uploadedDate).toBe(true);

    const errors = await errorReasons(api, upload.logId);
    expect(errors.status).toBe(200);
    expect(await readImportFailureReasons(errors.xlsx)).toEqual(['Person with id 999999999 does not exist']);
  });
});
