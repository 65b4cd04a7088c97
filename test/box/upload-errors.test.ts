// Every answer of POST /generic-upload/api/file, as the shared document lists them.
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { clearFault } from '../../box/control-client.ts';
import { buildCanaryWorkbook } from '../../src/canary.ts';
import { testUserToken, uniqueName, uploadApi, uploadFile, workbook, type UploadJson, waitForQueueDrained } from '../support/tis-client.ts';

const box = inject('box');

// Faults are cleared after every test, so none leaks into the next one.
afterEach(async () => {
  await clearFault(box.urls.control);
});

describe('POST /file', () => {
  let api: ReturnType<typeof uploadApi>;
  beforeAll(async () => {
    api = uploadApi(box, await testUserToken(box));
  });
  // The uploads above are imported one per second; let them finish before the next suite.
  afterAll(async () => {
    await waitForQueueDrained(api);
  });

  it('accepts any multipart part name and answers 200 with the upload JSON', async () => {
    const fileName = uniqueName('part-name');
    const res = await uploadFile(api, fileName, await buildCanaryWorkbook(), 'whatever');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.data as UploadJson).toMatchObject({ fileName, fileStatus: 'PENDING', fileType: 'PEOPLE_UPDATE' });
  });

  it('accepts .xls by extension too (only the extension is checked)', async () => {
    const res = await uploadFile(api, uniqueName('legacy', 'xls'), await buildCanaryWorkbook());
    expect(res.status).toBe(200);
  });

  it('answers 415 with the literal, unformatted text for another extension', async () => {
    for (const name of [uniqueName('notes', 'csv'), uniqueName('canary', 'XLSX'), 'no-extension']) {
      const res = await uploadFile(api, name, await buildCanaryWorkbook());
      expect(res.status, name).toBe(415);
      expect(res.headers['content-type']).toMatch(/^text\/plain/);
      expect(res.data).toBe('Content type %s not supported');
    }
  });

  it('answers 400 "expecting a file to be uploaded" without a file part', async () => {
    const form = new FormData();
    form.append('comment', 'no file here');
    const res = await api.post('/file', form);
    expect(res.status).toBe(400);
    expect(res.data).toBe('expecting a file to be uploaded');
  });

  it('answers 400 "Unrecognised upload template" for an unknown header set', async () => {
    const res = await uploadFile(api, uniqueName('unknown'), await workbook([['Favourite colour'], ['blue']]));
    expect(res.status).toBe(400);
    expect(res.data).toBe('File uploaded cannot be processed : Unrecognised upload template');
  });

  it('answers 400 "failed validation" when a mandatory (*) cell is empty in a data row', async () => {
    const res = await uploadFile(
      api,
      uniqueName('missing-id'),
      await workbook([
        ['TIS_Person_ID*', 'Surname'],
        [null, 'Smith'],
      ]),
    );
    expect(res.status).toBe(400);
    expect(res.data).toMatch(/^File uploaded failed validation : \n.*TIS_Person_ID\*.*row 2/);
  });

  it('answers 400 "cannot be processed" for a file that is not a workbook', async () => {
    const res = await uploadFile(api, uniqueName('garbage'), Buffer.from('this is not a spreadsheet'));
    expect(res.status).toBe(400);
    expect(res.data).toMatch(/^File uploaded cannot be processed : /);
  });

  it('detects the template from the header set, ignoring column order and extra columns', async () => {
    const res = await uploadFile(
      api,
      uniqueName('reordered'),
      await workbook([
        ['Notes', 'TIS_Person_ID*'],
        ['first', 999999999],
      ]),
    );
    expect(res.status).toBe(200);
    expect(res.data.fileType).toBe('PEOPLE_UPDATE');
  });

  it('answers 401 without a token or with one Keycloak did not sign', async () => {
    const anonymous = uploadApi(box, undefined);
    expect((await uploadFile(anonymous, uniqueName('anon'), await buildCanaryWorkbook())).status).toBe(401);
    const forged = uploadApi(box, 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl');
    expect((await uploadFile(forged, uniqueName('forged'), await buildCanaryWorkbook())).status).toBe(401);
    expect((await forged.get('/status')).status).toBe(401);
  });

  it('gives every upload its own millisecond-timestamp logId', async () => {
    const content = await buildCanaryWorkbook();
    const answers = await Promise.all([0, 1, 2, 3].map((i) => uploadFile(api, uniqueName(`burst-${i}`), content)));
    const ids = answers.map((r) => (r.data as UploadJson).logId);
    expect(new Set(ids).size).toBe(4);
    for (const id of ids) expect(Math.abs(id - Date.now())).toBeLessThan(60_000);
  });
});
