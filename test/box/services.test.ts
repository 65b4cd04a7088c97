// Profile and TCS as generic-upload (and the front door) see them.
import axios from 'axios';
import { afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { clearFault } from '../../box/control-client.ts';
import { SERVICE_ACCOUNT } from '../../box/realm.ts';
import { passwordGrant, testUserToken } from '../support/tis-client.ts';

const box = inject('box');

// Faults are cleared after every test, so none leaks into the next one.
afterEach(async () => {
  await clearFault(box.urls.control);
});

describe('Profile', () => {
  const userinfo = `${box.urls.profile}/profile/api/userinfo`;

  it('answers who the bearer is, with permissions', async () => {
    const res = await axios.get(userinfo, { headers: { authorization: `Bearer ${await testUserToken(box)}` } });
    expect(res.data).toMatchObject({ userName: box.testUser.username, firstName: 'Synthetic', lastName: 'Probe', active: true });
    expect(Array.isArray(res.data.permissions)).toBe(true);
  });

  it('answers 401 without a token or with one Keycloak did not sign', async () => {
    expect((await axios.get(userinfo, { validateStatus: () => true })).status).toBe(401);
    const token = await testUserToken(box);
    const [h, p] = token.split('.');
    const tampered = `${h}.${p}.${Buffer.from('not the signature').toString('base64url')}`;
    expect((await axios.get(userinfo, { headers: { authorization: `Bearer ${tampered}` }, validateStatus: () => true })).status).toBe(401);
  });
});

describe('TCS bulk people update', () => {
  let serviceToken: string;
  let userToken: string;
  const url = `${box.urls.tcs}/tcs/api/bulk-people/`;
  beforeAll(async () => {
    serviceToken = (await passwordGrant(box, SERVICE_ACCOUNT.username, SERVICE_ACCOUNT.password)).data.access_token!;
    userToken = await testUserToken(box);
  });

  it('answers per person: unknown ids get "does not exist", known ones are updated', async () => {
    const res = await axios.patch(url, [{ id: 999999999 }, { id: 1001, knownAs: 'Al' }], {
      headers: { authorization: `Bearer ${serviceToken}` },
    });
    expect(res.status).toBe(200);
    expect(res.data[0].messageList).toEqual(['Person with id 999999999 does not exist']);
    expect(res.data[1].messageList).toEqual([]);
    expect(res.data[1].knownAs).toBe('Al');
  });

  it('needs permission to update people (403) and a token Profile accepts (401)', async () => {
    const forbidden = await axios.patch(url, [{ id: 1001 }], {
      headers: { authorization: `Bearer ${userToken}` },
      validateStatus: () => true,
    });
    expect(forbidden.status).toBe(403);
    expect((await axios.patch(url, [{ id: 1001 }], { validateStatus: () => true })).status).toBe(401);
  });
});

describe('the app front door', () => {
  it('serves the admin page, the real keycloak-js and the page config', async () => {
    const page = await axios.get<string>(`${box.urls.app}/admin/uploads`);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    for (const id of ['current-user', 'upload-file', 'upload-button', 'upload-message', 'refresh-button', 'uploads-table']) {
      expect(page.data).toContain(`id="${id}"`);
    }
    const ths = [...page.data.matchAll(/<th>([^<]*)<\/th>/g)].map((m) => m[1]);
    expect(ths).toEqual(['File name', 'Uploaded', 'User', 'Status', 'Errors', 'Imported', 'Error workbook']);

    const kc = await axios.get<string>(`${box.urls.app}/admin/assets/keycloak.js`);
    expect(kc.headers['content-type']).toMatch(/javascript/);
    expect(kc.data).toContain('export default class Keycloak');

    const cfg = await axios.get(`${box.urls.app}/admin/config.json`);
    expect(cfg.data).toEqual({ keycloakUrl: box.urls.keycloak, realm: 'lin', clientId: 'admin-ui', apiPath: '/generic-upload/api' });
  });

  it('routes /generic-upload, /profile and /tcs to each service', async () => {
    const token = await testUserToken(box);
    const auth = { authorization: `Bearer ${token}` };
    expect((await axios.get(`${box.urls.app}/generic-upload/api/status`, { headers: auth })).status).toBe(200);
    expect((await axios.get(`${box.urls.app}/profile/api/userinfo`, { headers: auth })).data.userName).toBe(box.testUser.username);
    expect((await axios.patch(`${box.urls.app}/tcs/api/bulk-people/`, [], { validateStatus: () => true })).status).toBe(401);
  });
});
