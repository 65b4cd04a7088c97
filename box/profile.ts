// Stand-in for TIS Profile: `GET /profile/api/userinfo` tells who the bearer of a token is,
// after verifying the JWT against Keycloak's keys and checking its own user table. Keycloak
// changes are not synced here (the second half of incident 2021-03-18).
import express from 'express';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { bearerToken } from './bearer.ts';
import { PROBE_CLIENT, REALM, SERVICE_ACCOUNT, TEST_USER } from './realm.ts';

/** TCS permission to create/modify people (and placements). */
export const PERMISSION_MODIFY_ENTITIES = 'tcs:add:modify:entities';
export const PERMISSION_BULK_UPLOAD = 'bulk-upload:upload';

export interface ProfileUser {
  userName: string;
  firstName: string;
  lastName: string;
  active: boolean;
  permissions: string[];
}

/** Profile's own user table (production: a database, edited through user management). */
export class ProfileUsers {
  private readonly users = new Map<string, ProfileUser>();

  constructor(seed: ProfileUser[] = defaultUsers()) {
    for (const u of seed) this.users.set(u.userName, { ...u });
  }

  get(userName: string): ProfileUser | undefined {
    return this.users.get(userName);
  }

  setActive(userName: string, active: boolean): void {
    const u = this.users.get(userName);
    if (!u) throw new Error(`no Profile user ${userName}`);
    u.active = active;
  }
}

export function defaultUsers(): ProfileUser[] {
  return [
    {
      userName: TEST_USER.username,
      firstName: TEST_USER.firstName,
      lastName: TEST_USER.lastName,
      active: true,
      permissions: [PERMISSION_BULK_UPLOAD],
    },
    {
      userName: SERVICE_ACCOUNT.username,
      firstName: SERVICE_ACCOUNT.firstName,
      lastName: SERVICE_ACCOUNT.lastName,
      active: true,
      permissions: [PERMISSION_MODIFY_ENTITIES],
    },
    {
      // The probe's confidential client's service account (client_credentials grant).
      userName: PROBE_CLIENT.serviceAccount,
      firstName: 'Synthetic',
      lastName: 'Probe Client',
      active: true,
      permissions: [PERMISSION_BULK_UPLOAD],
    },
    {
      userName: 'placements.admin',
      firstName: 'Pat',
      lastName: 'Placements',
      active: true,
      permissions: [PERMISSION_BULK_UPLOAD],
    },
  ];
}

export interface ProfileOptions {
  users: ProfileUsers;
  /** Keycloak's certs endpoint (internal). */
  jwksUrl: string;
  /** The issuer tokens must carry: the realm as everyone sees it. */
  issuer: string;
}

export function profileApp(opts: ProfileOptions): express.Express {
  const jwks = createRemoteJWKSet(new URL(opts.jwksUrl), { cooldownDuration: 1000 });
  const app = express();

  app.get('/profile/api/userinfo', async (req, res) => {
    const token = bearerToken(req.headers);
    if (!token) {
      res.status(401).type('text/plain').send('Full authentication is required to access this resource');
      return;
    }
    let userName: string;
    try {
      const { payload } = await jwtVerify(token, jwks, { issuer: opts.issuer });
      userName = String(payload.preferred_username ?? '');
    } catch {
      res.status(401).type('text/plain').send('Invalid token');
      return;
    }
    const user = opts.users.get(userName);
    if (!user || !user.active) {
      res.status(404).type('text/plain').send(`User with username ${userName} either not found or not active`);
      return;
    }
    res.json({
      userName: user.userName,
      firstName: user.firstName,
      lastName: user.lastName,
      fullName: `${user.firstName} ${user.lastName}`,
      active: user.active,
      permissions: user.permissions,
      designatedBodyCodes: [],
    });
  });
  return app;
}

export function realmIssuer(keycloakUrl: string): string {
  return `${keycloakUrl}/realms/${REALM}`;
}
