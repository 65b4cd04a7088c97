// Light runs against TIS in a box: log in, check the page / API answers the user's token, count
// real users' recent uploads, and write nothing. They must see the 2024-10-15 class (every API
// call 401) and a refused login as a full run does, in seconds; the 2021-03-18 class (imports
// failing) is the full run's and the passive signal's.
import { describe, expect, inject, it } from 'vitest';
import { setFault } from '../../box/control-client.ts';
import { buildCanaryWorkbook } from '../../src/canary.ts';
import type { ProbeName, RunResult } from '../../src/model/result.ts';
import { testUserToken, uploadApi, uploadCount, uploadFile, waitForFinal, workbook, type UploadJson } from '../support/tis-client.ts';
import { useBoxProbes } from './setup.ts';

const box = inject('box');
const probes = useBoxProbes(box);

const light = (probe: ProbeName) => probes().run(probe, { depth: 'light' });
const explain = (r: RunResult) =>
  `${r.probe}/${r.depth}: ${r.ok ? 'ok' : `${r.reason} at ${r.failedStep}: ${r.message}`} (${r.durationSeconds.toFixed(1)} s)`;

describe('light runs', () => {
  it('pass on a healthy box, with the light steps only, and upload nothing', async () => {
    const before = await uploadCount(box);
    const b = await light('browser');
    const a = await light('api');
    expect(b.ok, explain(b)).toBe(true);
    expect(a.ok, explain(a)).toBe(true);
    expect(b.steps.map((s) => s.name)).toEqual(['login', 'open_page']);
    expect(a.steps.map((s) => s.name)).toEqual(['login', 'list_uploads']);
    expect(b.canary).toBeUndefined();
    expect(a.canary).toBeUndefined();
    expect(a.message).toMatch(/light run: nothing uploaded/);
    expect(await uploadCount(box)).toBe(before);
  });

  it("count real users' recent uploads by outcome, without the probe's canaries, file names or user names", async () => {
    const api = uploadApi(box, await testUserToken(box));
    // A real user's upload that fails validation: a workbook of an unknown template ends INVALID_* or is refused.
    const good = await uploadFile(api, `people-${Date.now()}.xlsx`, await buildCanaryWorkbook());
    if (good.status === 200) await waitForFinal(api, good.data as UploadJson);
    const bad = await uploadFile(api, `broken-${Date.now()}.xlsx`, await workbook([['Not a template header'], ['x']]));
    if (bad.status === 200) await waitForFinal(api, bad.data as UploadJson);
    const r = await light('api');
    expect(r.ok, explain(r)).toBe(true);
    expect(r.recentUploads?.listed).toBeGreaterThan(0);
    const total = Object.values(r.recentUploads!.byOutcome).reduce((x, y) => x + y, 0);
    expect(total).toBe(r.recentUploads!.listed);
    expect(JSON.stringify(r)).not.toMatch(/people-|broken-|synthetic-probe|probe-user|bulk-upload-probe@/);
  });

  for (const probe of ['browser', 'api'] as const) {
    it(`${probe}: the 2024-10-15 class (stale-config: every API call 401) is auth_rejected within seconds`, async () => {
      await setFault(box.urls.control, 'stale-config');
      const r = await light(probe);
      expect(r, explain(r)).toMatchObject({ ok: false, depth: 'light', reason: 'auth_rejected' });
      expect(r.durationSeconds).toBeLessThan(probe === 'browser' ? 15 : 5);
      console.log(`light ${explain(r)}`);
    });

    it(`${probe}: a disabled test user is login_failed within seconds`, async () => {
      await setFault(box.urls.control, 'test-user-disabled');
      const r = await light(probe);
      expect(r, explain(r)).toMatchObject({ ok: false, reason: 'login_failed', failedStep: 'login' });
      expect(r.durationSeconds).toBeLessThan(15);
    });
  }

  it('do not see imports failing (service-account-disabled): that is the full run and the passive signal', async () => {
    await setFault(box.urls.control, 'service-account-disabled');
    const r = await light('api');
    expect(r.ok, explain(r)).toBe(true);
  });
});
