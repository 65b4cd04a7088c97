// GET /status: Spring paging, sorting, the filters and free-text search, and the headers.
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { clearFault } from '../../box/control-client.ts';
import { buildCanaryWorkbook } from '../../src/canary.ts';
import { localDateTime } from '../../box/generic-upload/store.ts';
import { testUserToken, uploadApi, uploadFile, type UploadJson, waitForQueueDrained } from '../support/tis-client.ts';

const box = inject('box');

// Faults are cleared after every test, so none leaks into the next one.
afterEach(async () => {
  await clearFault(box.urls.control);
});

describe('GET /status', () => {
  let api: ReturnType<typeof uploadApi>;
  const stem = `status-${Date.now()}`;
  const names = ['b', 'a', 'c'].map((x) => `${stem}-${x}.xlsx`);

  beforeAll(async () => {
    api = uploadApi(box, await testUserToken(box));
    for (const n of names) {
      expect((await uploadFile(api, n, await buildCanaryWorkbook())).status).toBe(200);
      await new Promise((r) => setTimeout(r, 5)); // distinct upload times
    }
  });
  // The uploads above are imported one per second; let them finish before the next suite.
  afterAll(async () => {
    await waitForQueueDrained(api);
  });

  it('answers a JSON array, newest first by default, with X-Total-Count and Link', async () => {
    const res = await api.get<UploadJson[]>('/status');
    expect(res.status).toBe(200);
    expect(Array.isArray(res.data)).toBe(true);
    expect(res.data.length).toBeLessThanOrEqual(20); // default page size
    const total = Number(res.headers['x-total-count']);
    expect(total).toBeGreaterThanOrEqual(3);
    const dates = res.data.map((u) => u.uploadedDate);
    expect([...dates].sort().reverse()).toEqual(dates);
    expect(res.headers.link).toContain('rel="first"');
    expect(res.headers.link).toContain('rel="last"');
  });

  it('cleans the file filter as older releases do: a full name with "." finds nothing, its stem finds it', async () => {
    const full = await api.get<UploadJson[]>('/status', { params: { file: names[0] } });
    expect(full.status).toBe(200);
    expect(full.data.map((u) => u.fileName)).not.toContain(names[0]); // searched as "status-…-bxlsx"
    const byStem = await api.get<UploadJson[]>('/status', { params: { file: names[0]!.replace(/\.xlsx$/, '') } });
    expect(byStem.data.map((u) => u.fileName)).toEqual([names[0]]);
    const underscore = await api.get<UploadJson[]>('/status', { params: { file: `${stem}_b` } });
    expect(underscore.data.map((u) => u.fileName)).not.toContain(names[0]); // "_" dropped: "status-…b"
  });

  it('filters by file name substring and pages through with size and page', async () => {
    const first = await api.get<UploadJson[]>('/status', { params: { file: stem, size: 2, page: 0, sort: 'fileName,asc' } });
    expect(first.status).toBe(200);
    expect(first.headers['x-total-count']).toBe('3');
    expect(first.data.map((u) => u.fileName)).toEqual([names[1], names[0]]);
    expect(first.headers.link).toBe(
      '</api/generic-upload/status?page=1&size=2>; rel="next",' +
        '</api/generic-upload/status?page=1&size=2>; rel="last",' +
        '</api/generic-upload/status?page=0&size=2>; rel="first"',
    );

    const second = await api.get<UploadJson[]>('/status', { params: { file: stem, size: 2, page: 1, sort: 'fileName,asc' } });
    expect(second.data.map((u) => u.fileName)).toEqual([names[2]]);
    expect(second.headers.link).toContain('</api/generic-upload/status?page=0&size=2>; rel="prev"');
    expect(second.headers.link).not.toContain('rel="next"');

    const beyond = await api.get<UploadJson[]>('/status', { params: { file: stem, size: 2, page: 5 } });
    expect(beyond.status).toBe(200);
    expect(beyond.data).toEqual([]);
    expect(beyond.headers['x-total-count']).toBe('3');
  });

  it('sorts by any property, ascending or descending', async () => {
    const desc = await api.get<UploadJson[]>('/status', { params: { file: stem, sort: 'fileName,desc' } });
    expect(desc.data.map((u) => u.fileName)).toEqual([names[2], names[0], names[1]]);
    const byLogId = await api.get<UploadJson[]>('/status', { params: { file: stem, sort: 'logId,asc' } });
    expect(byLogId.data.map((u) => u.fileName)).toEqual(names);
  });

  it('filters by user (username, first or last name) and by upload date', async () => {
    const today = localDateTime(new Date()).slice(0, 10);
    for (const user of ['bulk-upload', 'synthetic', 'PROBE']) {
      const res = await api.get<UploadJson[]>('/status', { params: { file: stem, user } });
      expect(res.data, user).toHaveLength(3);
    }
    expect((await api.get<UploadJson[]>('/status', { params: { file: stem, user: 'someone-else' } })).data).toEqual([]);
    expect((await api.get<UploadJson[]>('/status', { params: { file: stem, uploadedDate: today } })).data).toHaveLength(3);
    expect((await api.get<UploadJson[]>('/status', { params: { uploadedDate: '2000-01-01' } })).data).toEqual([]);
  });

  it('uses searchQuery as a free-text match only when no filter is given', async () => {
    const search = await api.get<UploadJson[]>('/status', { params: { searchQuery: `${stem}-a` } });
    expect(search.data.map((u) => u.fileName)).toEqual([names[1]]);
    // With a filter present, searchQuery is ignored.
    const both = await api.get<UploadJson[]>('/status', { params: { file: stem, searchQuery: 'no-such-thing' } });
    expect(both.data).toHaveLength(3);
  });

  it('answers 400 for a malformed page or an unknown sort property', async () => {
    expect((await api.get('/status', { params: { page: 'x' } })).status).toBe(400);
    expect((await api.get('/status', { params: { sort: 'password,asc' } })).status).toBe(400);
    expect((await api.get('/status', { params: { uploadedDate: '25/11/2026' } })).status).toBe(400);
  });
});
