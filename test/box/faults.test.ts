// Each fault's production symptom, seen as a client sees it, and the healthy ending back
// once it is cleared.
import axios from 'axios';
import { afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { clearFault, listFaults, setFault } from '../../box/control-client.ts';
import { SERVICE_ACCOUNT } from '../../box/realm.ts';
import { HEALTHY_REASON, passwordGrant, runCanary, testUserToken, uploadApi } from '../support/tis-client.ts';

const box = inject('box');

async function expectHealthyCanary(api: ReturnType<typeof uploadApi>): Promise<void> {
  const ending = await runCanary(api);
  expect(ending.upload).toMatchObject({ fileStatus: 'COMPLETED', numberOfErrors: 1, numberImported: 0 });
  expect(ending.reasons).toEqual([HEALTHY_REASON]);
}

describe('faults', () => {
  let token: string;
  let api: ReturnType<typeof uploadApi>;
  beforeAll(async () => {
    token = await testUserToken(box);
    api = uploadApi(box, token);
  });
  afterEach(async () => {
    await clearFault(box.urls.control);
    expect((await listFaults(box.urls.control)).active).toEqual([]);
  });

  it('stale-config: every generic-upload API call answers 401, though the token is fine for Profile', async () => {
    await setFault(box.urls.control, 'stale-config');
    const status = await api.get('/status');
    expect(status.status).toBe(401);
    expect((await api.post('/file', new FormData())).status).toBe(401);
    expect((await api.get('/uploadedFileErrors/1')).status).toBe(401);
    // Directly on the service too, not just through the front door.
    const direct = uploadApi(box, token, `${box.urls.genericUpload}/generic-upload/api`);
    expect((await direct.get('/status')).status).toBe(401);
    // The token itself is fine: Profile, asked at its current address, knows the user.
    const profile = await axios.get(`${box.urls.app}/profile/api/userinfo`, {
      headers: { authorization: `Bearer ${token}` },
      validateStatus: () => true,
    });
    expect(profile.status).toBe(200);

    await clearFault(box.urls.control, 'stale-config');
    expect((await api.get('/status')).status).toBe(200);
    expect((await direct.get('/status')).status).toBe(200);
  });

  it('service-account-disabled: bulk_upload is disabled IN Keycloak and the canary ends UNEXPECTED_ERROR', async () => {
    await setFault(box.urls.control, 'service-account-disabled');
    const grant = await passwordGrant(box, SERVICE_ACCOUNT.username, SERVICE_ACCOUNT.password);
    expect(grant.status).toBe(400);
    expect(grant.data).toMatchObject({ error: 'invalid_grant', error_description: 'Account disabled' });

    const ending = await runCanary(api);
    expect(ending.upload.fileStatus).toBe('UNEXPECTED_ERROR');

    await clearFault(box.urls.control, 'service-account-disabled');
    expect((await passwordGrant(box, SERVICE_ACCOUNT.username, SERVICE_ACCOUNT.password)).status).toBe(200);
    await expectHealthyCanary(api);
  });

  it('service-account-inactive-in-profile: Keycloak is fine, Profile says 404, TCS fails 500, the canary reason is "500 Internal Server Error"', async () => {
    await setFault(box.urls.control, 'service-account-inactive-in-profile');
    const grant = await passwordGrant(box, SERVICE_ACCOUNT.username, SERVICE_ACCOUNT.password);
    expect(grant.status).toBe(200);
    const serviceAuth = { authorization: `Bearer ${grant.data.access_token}` };
    const profile = await axios.get(`${box.urls.profile}/profile/api/userinfo`, { headers: serviceAuth, validateStatus: () => true });
    expect(profile.status).toBe(404);
    expect(profile.data).toBe('User with username bulk_upload either not found or not active');
    const tcs = await axios.patch(`${box.urls.tcs}/tcs/api/bulk-people/`, [{ id: 999999999 }], {
      headers: serviceAuth,
      validateStatus: () => true,
    });
    expect(tcs.status).toBe(500);

    const ending = await runCanary(api);
    expect(ending.upload).toMatchObject({ fileStatus: 'COMPLETED', numberOfErrors: 1, numberImported: 0 });
    expect(ending.reasons).toEqual(['500 Internal Server Error']);

    await clearFault(box.urls.control, 'service-account-inactive-in-profile');
    await expectHealthyCanary(api);
  });

  it('incident 2021-03-18 replayed: re-enabling bulk_upload in Keycloak alone leaves Profile inactive', async () => {
    await setFault(box.urls.control, 'service-account-disabled');
    await setFault(box.urls.control, 'service-account-inactive-in-profile');
    expect((await runCanary(api)).upload.fileStatus).toBe('UNEXPECTED_ERROR');

    // 13:52 "User reenabled in keycloak": uploads complete, but with an internal server error as reason.
    await clearFault(box.urls.control, 'service-account-disabled');
    const second = await runCanary(api);
    expect(second.upload).toMatchObject({ fileStatus: 'COMPLETED', numberOfErrors: 1, numberImported: 0 });
    expect(second.reasons).toEqual(['500 Internal Server Error']);

    // 17:07 "bulk_upload user enabled in profile service": healthy again.
    await clearFault(box.urls.control, 'service-account-inactive-in-profile');
    await expectHealthyCanary(api);
  });

  it('test-user-disabled: the probe account is disabled in Keycloak, its password grant fails "Account disabled"', async () => {
    await setFault(box.urls.control, 'test-user-disabled');
    const grant = await passwordGrant(box, box.testUser.username, box.testUser.password);
    expect(grant.status).toBe(400);
    expect(grant.data).toMatchObject({ error: 'invalid_grant', error_description: 'Account disabled' });

    await clearFault(box.urls.control, 'test-user-disabled');
    expect((await passwordGrant(box, box.testUser.username, box.testUser.password)).status).toBe(200);
  });

  it('slow: generic-upload answers only after delayMs', async () => {
    await setFault(box.urls.control, 'slow', { delayMs: 1500 });
    let t = Date.now();
    expect((await api.get('/status')).status).toBe(200);
    expect(Date.now() - t).toBeGreaterThanOrEqual(1400);
    // A client that gives up earlier sees a timeout.
    await expect(api.get('/status', { timeout: 300 })).rejects.toThrow(/timeout/);

    await clearFault(box.urls.control, 'slow');
    t = Date.now();
    expect((await api.get('/status')).status).toBe(200);
    expect(Date.now() - t).toBeLessThan(1000);
  });

  it('slow: the default delay is 60 s', async () => {
    const active = await setFault(box.urls.control, 'slow');
    expect(active).toEqual([expect.objectContaining({ name: 'slow', params: { delayMs: 60_000 } })]);
  });

  it('server-error: generic-upload answers the status (503 by default, 500 and 502 on request)', async () => {
    for (const [params, status] of [
      [undefined, 503],
      [{ status: 500 }, 500],
      [{ status: 502 }, 502],
    ] as const) {
      await setFault(box.urls.control, 'server-error', params);
      const res = await api.get('/status');
      expect(res.status).toBe(status);
      expect(typeof res.data).toBe('string');
    }
    await clearFault(box.urls.control, 'server-error');
    expect((await api.get('/status')).status).toBe(200);
  });

  it('login-down 5xx: the Keycloak front answers 503; the control path to Keycloak still works', async () => {
    await setFault(box.urls.control, 'login-down');
    const grant = await passwordGrant(box, box.testUser.username, box.testUser.password);
    expect(grant.status).toBe(503);
    const page = await axios.get(`${box.urls.keycloak}/realms/lin/protocol/openid-connect/auth`, { validateStatus: () => true });
    expect(page.status).toBe(503);
    // Keycloak-side faults go through Keycloak's own port, so they work while login is down.
    await setFault(box.urls.control, 'test-user-disabled');
    await clearFault(box.urls.control, 'test-user-disabled');

    await clearFault(box.urls.control, 'login-down');
    expect((await passwordGrant(box, box.testUser.username, box.testUser.password)).status).toBe(200);
  });

  it('login-down refuse: connections to the Keycloak front are refused', async () => {
    await setFault(box.urls.control, 'login-down', { mode: 'refuse' });
    await expect(passwordGrant(box, box.testUser.username, box.testUser.password)).rejects.toMatchObject({ code: 'ECONNREFUSED' });

    await clearFault(box.urls.control, 'login-down');
    expect((await passwordGrant(box, box.testUser.username, box.testUser.password)).status).toBe(200);
  });

  it('login-down also stops the import from getting its service token: UNEXPECTED_ERROR', async () => {
    await setFault(box.urls.control, 'login-down');
    const ending = await runCanary(api);
    expect(ending.upload.fileStatus).toBe('UNEXPECTED_ERROR');
  });

  it('canary-imported: person 999999999 exists in TCS, the canary is COMPLETED with 1 imported and 0 errors', async () => {
    await setFault(box.urls.control, 'canary-imported');
    const ending = await runCanary(api);
    expect(ending.upload).toMatchObject({ fileStatus: 'COMPLETED', numberOfErrors: 0, numberImported: 1 });

    await clearFault(box.urls.control, 'canary-imported');
    await expectHealthyCanary(api);
  });
});
