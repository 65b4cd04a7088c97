// The import task's endings and the error workbook, beyond the canary.
import ExcelJS from 'exceljs';
import { afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { clearFault } from '../../box/control-client.ts';
import { readImportFailureReasons } from '../../src/canary.ts';
import {
  errorReasons,
  testUserToken,
  uniqueName,
  uploadApi,
  uploadFile,
  waitForFinal,
  workbook,
  type UploadJson,
} from '../support/tis-client.ts';

const box = inject('box');

// Faults are cleared after every test, so none leaks into the next one.
afterEach(async () => {
  await clearFault(box.urls.control);
});

describe('the import task', () => {
  let api: ReturnType<typeof uploadApi>;
  beforeAll(async () => {
    api = uploadApi(box, await testUserToken(box));
  });

  async function importOf(rows: ExcelJS.CellValue[][]): Promise<UploadJson> {
    const res = await uploadFile(api, uniqueName('import'), await workbook(rows));
    expect(res.status).toBe(200);
    return waitForFinal(api, res.data as UploadJson);
  }

  it('imports existing people, skips blank rows, and lists only failed rows (all their columns) in the error workbook', async () => {
    const done = await importOf([
      ['Surname', 'TIS_Person_ID*', 'Notes'],
      ['Example', 1001, 'exists'],
      [null, null, null],
      ['Nobody', 999999998, 'missing'],
    ]);
    expect(done).toMatchObject({ fileStatus: 'COMPLETED', numberImported: 1, numberOfErrors: 1 });

    const { status, xlsx } = await errorReasons(api, done.logId);
    expect(status).toBe(200);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(xlsx as unknown as ArrayBuffer);
    const ws = wb.worksheets[0]!;
    expect(ws.getRow(1).values).toEqual([undefined, 'Surname', 'TIS_Person_ID*', 'Notes', 'Reason for import failure']);
    expect(ws.getRow(2).values).toEqual([undefined, 'Nobody', 999999998, 'missing', 'Person with id 999999998 does not exist']);
    expect(ws.actualRowCount).toBe(2);
  });

  it('ends UNEXPECTED_ERROR for a non-numeric person id', async () => {
    const done = await importOf([['TIS_Person_ID*'], ['not-a-number']]);
    expect(done.fileStatus).toBe('UNEXPECTED_ERROR');
    expect(done.processedDate).not.toBeNull();
  });

  it('ends INVALID_FILE_FORMAT for a cell of the wrong type (a date as person id)', async () => {
    const done = await importOf([['TIS_Person_ID*'], [new Date('2024-10-15T00:00:00Z')]]);
    expect(done.fileStatus).toBe('INVALID_FILE_FORMAT');
  });

  it('writes nothing for an unknown id: the same canary id stays unknown on a second run', async () => {
    for (let i = 0; i < 2; i++) {
      const done = await importOf([['TIS_Person_ID*'], [999999999]]);
      expect(done).toMatchObject({ fileStatus: 'COMPLETED', numberImported: 0, numberOfErrors: 1 });
    }
  });

  it('answers 500 with an empty body for the error workbook of an unknown upload', async () => {
    const res = await api.get(`/uploadedFileErrors/${Date.now() + 10_000_000}`, { responseType: 'arraybuffer' });
    expect(res.status).toBe(500);
    expect(Buffer.from(res.data as ArrayBuffer).length).toBe(0);
  });

  it('serves the error workbook as a download named after the upload', async () => {
    const done = await importOf([['TIS_Person_ID*'], [999999999]]);
    const res = await api.get(`/uploadedFileErrors/${done.logId}`, { responseType: 'arraybuffer' });
    expect(res.status).toBe(200);
    expect(res.headers['content-disposition']).toContain(`filename="${done.fileName}"`);
    expect(await readImportFailureReasons(Buffer.from(res.data as ArrayBuffer))).toEqual(['Person with id 999999999 does not exist']);
  });
});
