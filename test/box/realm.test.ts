// Realm `lin` in the real Keycloak: users, group, clients and tokens as the probe expects them.
import { readFileSync } from 'node:fs';
import axios from 'axios';
import { decodeJwt } from 'jose';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { clearFault } from '../../box/control-client.ts';
import { REALM_FILE } from '../../box/keycloak.ts';
import { ADMIN_GROUP, PROBE_CLIENT, SERVICE_ACCOUNT, TEST_USER, TOKEN_CLIENT_ID, UI_CLIENT_ID } from '../../box/realm.ts';
import { passwordGrant, testUserToken } from '../support/tis-client.ts';

const box = inject('box');

// Faults are cleared after every test, so none leaks into the next one.
afterEach(async () => {
  await clearFault(box.urls.control);
});

interface RealmFile {
  realm: string;
  groups: { name: string }[];
  users: {
    username: string;
    enabled: boolean;
    emailVerified: boolean;
    firstName: string;
    lastName: string;
    email: string;
    serviceAccountClientId?: string;
    requiredActions: string[];
    credentials: { value: string }[];
    groups: string[];
  }[];
  clients: {
    clientId: string;
    publicClient: boolean;
    standardFlowEnabled: boolean;
    directAccessGrantsEnabled: boolean;
    serviceAccountsEnabled: boolean;
    secret?: string;
    attributes?: Record<string, string>;
  }[];
}

describe('realm lin', () => {
  const realm = JSON.parse(readFileSync(REALM_FILE, 'utf8')) as RealmFile;

  it('the realm file and box/realm.ts agree', () => {
    expect(realm.realm).toBe(box.realm);
    expect(realm.groups.map((g) => g.name)).toContain(ADMIN_GROUP);
    const user = realm.users.find((u) => u.username === TEST_USER.username)!;
    expect(user.credentials[0]!.value).toBe(TEST_USER.password);
    expect(user.groups).toEqual([`/${ADMIN_GROUP}`]);
    const service = realm.users.find((u) => u.username === SERVICE_ACCOUNT.username)!;
    expect(service.credentials[0]!.value).toBe(SERVICE_ACCOUNT.password);
    // Nothing may stand between a user and the login: no required actions, a complete profile.
    for (const u of realm.users.filter((u) => !u.serviceAccountClientId)) {
      expect(u).toMatchObject({ enabled: true, emailVerified: true, requiredActions: [] });
      expect(u.firstName && u.lastName && u.email).toBeTruthy();
    }
    const ui = realm.clients.find((c) => c.clientId === UI_CLIENT_ID)!;
    expect(ui).toMatchObject({ publicClient: true, standardFlowEnabled: true, directAccessGrantsEnabled: false });
    expect(ui.attributes?.['pkce.code.challenge.method']).toBe('S256');
    expect(realm.clients.find((c) => c.clientId === TOKEN_CLIENT_ID)).toMatchObject({
      publicClient: true,
      standardFlowEnabled: false,
      directAccessGrantsEnabled: true,
    });
    expect(realm.clients.find((c) => c.clientId === PROBE_CLIENT.clientId)).toMatchObject({
      publicClient: false,
      secret: PROBE_CLIENT.secret,
      standardFlowEnabled: false,
      directAccessGrantsEnabled: false,
      serviceAccountsEnabled: true,
    });
    expect(realm.users.find((u) => u.serviceAccountClientId === PROBE_CLIENT.clientId)?.username).toBe(PROBE_CLIENT.serviceAccount);
    expect(box.testUser).toEqual({ username: TEST_USER.username, password: TEST_USER.password });
  });

  it("gives the probe's confidential client a token for its service account (client_credentials), and refuses a wrong secret", async () => {
    const token = `${box.urls.keycloak}/realms/lin/protocol/openid-connect/token`;
    const grant = (secret: string) =>
      axios.post<{ access_token?: string; refresh_token?: string; error?: string }>(
        token,
        new URLSearchParams({ grant_type: 'client_credentials', client_id: PROBE_CLIENT.clientId, client_secret: secret }),
        { validateStatus: () => true },
      );
    const ok = await grant(PROBE_CLIENT.secret);
    expect(ok.status).toBe(200);
    expect(ok.data.refresh_token).toBeUndefined();
    const claims = decodeJwt(ok.data.access_token!);
    expect(claims.preferred_username).toBe(PROBE_CLIENT.serviceAccount);
    expect(claims.azp).toBe(PROBE_CLIENT.clientId);
    const wrong = await grant('not-the-secret');
    expect(wrong.status).toBe(401);
    // Keycloak 26.7 says unauthorized_client here; older releases (as production may run) invalid_client.
    expect(['unauthorized_client', 'invalid_client']).toContain(wrong.data.error);
  });

  it('issues tokens whose issuer is Keycloak as everyone sees it (the front URL)', async () => {
    const claims = decodeJwt(await testUserToken(box));
    expect(claims.iss).toBe(`${box.urls.keycloak}/realms/lin`);
    expect(claims.azp).toBe(TOKEN_CLIENT_ID);
    expect(claims.preferred_username).toBe(TEST_USER.username);
  });

  it('refuses wrong credentials with invalid_grant "Invalid user credentials"', async () => {
    const answer = await passwordGrant(box, TEST_USER.username, 'wrong-password');
    expect(answer.data).toMatchObject({ error: 'invalid_grant', error_description: 'Invalid user credentials' });
    // Keycloak 26.7 answers 400 here; older releases (as production may run) answer 401.
    expect([400, 401]).toContain(answer.status);
  });

  it('lets the service account log in by password grant', async () => {
    const answer = await passwordGrant(box, SERVICE_ACCOUNT.username, SERVICE_ACCOUNT.password);
    expect(answer.status).toBe(200);
    expect(decodeJwt(answer.data.access_token!).preferred_username).toBe(SERVICE_ACCOUNT.username);
  });

  describe('the admin UI client', () => {
    const auth = `${box.urls.keycloak}/realms/lin/protocol/openid-connect/auth`;
    const params = (redirect: string, pkce: boolean) => ({
      client_id: UI_CLIENT_ID,
      redirect_uri: redirect,
      response_type: 'code',
      scope: 'openid',
      state: 's',
      ...(pkce ? { code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' } : {}),
    });

    it('shows the login form for a PKCE request from any loopback port', async () => {
      for (const redirect of [`${box.urls.app}/admin/uploads`, 'http://localhost:4200/admin/uploads']) {
        const res = await axios.get<string>(auth, { params: params(redirect, true), validateStatus: () => true });
        expect(res.status, redirect).toBe(200);
        expect(res.data).toContain('id="username"');
        expect(res.data).toContain('id="password"');
        expect(res.data).toContain('id="kc-login"');
      }
    });

    it('requires PKCE', async () => {
      const res = await axios.get(auth, {
        params: params(`${box.urls.app}/admin/uploads`, false),
        maxRedirects: 0,
        validateStatus: () => true,
      });
      expect(res.status).toBe(302);
      expect(res.headers.location).toContain('error=invalid_request');
      expect(decodeURIComponent(res.headers.location as string)).toContain('code_challenge_method');
    });

    it('refuses a redirect URI off the machine', async () => {
      const res = await axios.get(auth, { params: params('https://example.org/admin/uploads', true), validateStatus: () => true });
      expect(res.status).toBe(400);
    });

    it('cannot be used for password grants', async () => {
      const res = await axios.post(
        `${box.urls.keycloak}/realms/lin/protocol/openid-connect/token`,
        new URLSearchParams({
          grant_type: 'password',
          client_id: UI_CLIENT_ID,
          username: TEST_USER.username,
          password: TEST_USER.password,
        }),
        { validateStatus: () => true },
      );
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.data.error).toBe('unauthorized_client');
    });
  });
});
