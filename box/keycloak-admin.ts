// Changes made IN Keycloak through its admin API, as an operator would (incident 2021-03-18
// began with an account disabled this way). Talks to Keycloak's own port, not the front proxy,
// so that the login-down fault never blocks the box's control.
import KcAdminClient from '@keycloak/keycloak-admin-client';
import { REALM } from './realm.ts';

export class KeycloakAdmin {
  constructor(
    private readonly baseUrl: string,
    private readonly admin: { username: string; password: string },
  ) {}

  private async client(): Promise<KcAdminClient> {
    // A fresh login per change: master admin tokens are short-lived and changes are rare.
    const kc = new KcAdminClient({ baseUrl: this.baseUrl, realmName: 'master' });
    await kc.auth({ grantType: 'password', clientId: 'admin-cli', username: this.admin.username, password: this.admin.password });
    kc.setConfig({ realmName: REALM });
    return kc;
  }

  async setUserEnabled(username: string, enabled: boolean): Promise<void> {
    const kc = await this.client();
    const [user] = await kc.users.find({ username, exact: true });
    if (!user?.id) throw new Error(`no user ${username} in realm ${REALM}`);
    await kc.users.update({ id: user.id }, { enabled });
  }

  /** Sets a user's password (not temporary), as an operator would in the admin console. */
  async setUserPassword(username: string, password: string): Promise<void> {
    const kc = await this.client();
    const [user] = await kc.users.find({ username, exact: true });
    if (!user?.id) throw new Error(`no user ${username} in realm ${REALM}`);
    await kc.users.resetPassword({ id: user.id, credential: { type: 'password', value: password, temporary: false } });
  }

  /**
   * Sets the realm's access token lifespan (Realm settings > Tokens), as an operator would;
   * returns the lifespan it replaced, so that a caller can put it back.
   */
  async setAccessTokenLifespan(seconds: number): Promise<number | undefined> {
    const kc = await this.client();
    const realm = await kc.realms.findOne({ realm: REALM });
    if (!realm) throw new Error(`no realm ${REALM}`);
    await kc.realms.update({ realm: REALM }, { accessTokenLifespan: seconds });
    return realm.accessTokenLifespan;
  }

  async isUserEnabled(username: string): Promise<boolean> {
    const kc = await this.client();
    const [user] = await kc.users.find({ username, exact: true });
    if (!user) throw new Error(`no user ${username} in realm ${REALM}`);
    return user.enabled === true;
  }
}
