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

  /** How many sessions a user has: each login to Keycloak opens one. */
  async sessionCount(username: string): Promise<number> {
    const kc = await this.client();
    const [user] = await kc.users.find({ username, exact: true });
    if (!user?.id) throw new Error(`no user ${username} in realm ${REALM}`);
    return (await kc.users.listSessions({ id: user.id })).length;
  }

  async isUserEnabled(username: string): Promise<boolean> {
    const kc = await this.client();
    const [user] = await kc.users.find({ username, exact: true });
    if (!user) throw new Error(`no user ${username} in realm ${REALM}`);
    return user.enabled === true;
  }

  /**
   * Sets a user's required actions (Users > user > Required user actions), as an operator would:
   * Keycloak then shows their pages after the password, before the app. `[]` clears them.
   * An action the realm has disabled (terms and conditions, by default) is enabled first, or
   * Keycloak would skip it.
   */
  async setRequiredActions(username: string, actions: string[]): Promise<void> {
    const kc = await this.client();
    for (const alias of actions) await this.enableRequiredAction(kc, alias);
    const [user] = await kc.users.find({ username, exact: true });
    if (!user?.id) throw new Error(`no user ${username} in realm ${REALM}`);
    await kc.users.update({ id: user.id }, { requiredActions: actions });
  }

  /**
   * Marks a user's e-mail address verified or not. Keycloak skips VERIFY_EMAIL for a verified
   * address, so that action shows its page only for an unverified one.
   */
  async setEmailVerified(username: string, emailVerified: boolean): Promise<void> {
    const kc = await this.client();
    const [user] = await kc.users.find({ username, exact: true });
    if (!user?.id) throw new Error(`no user ${username} in realm ${REALM}`);
    await kc.users.update({ id: user.id }, { emailVerified });
  }

  /**
   * Sets the realm's mail server (Realm settings > Email), `{}` for none; returns the one it
   * replaced, so that a caller can put it back. Without one, Keycloak answers 500 "Failed to send
   * email" where production (which has mail) shows the verify-e-mail page.
   */
  async setSmtpServer(smtp: Record<string, string>): Promise<Record<string, string>> {
    const kc = await this.client();
    const realm = await kc.realms.findOne({ realm: REALM });
    if (!realm) throw new Error(`no realm ${REALM}`);
    await kc.realms.update({ realm: REALM }, { smtpServer: smtp });
    return realm.smtpServer ?? {};
  }

  async requiredActions(username: string): Promise<string[]> {
    const kc = await this.client();
    const [user] = await kc.users.find({ username, exact: true });
    if (!user?.id) throw new Error(`no user ${username} in realm ${REALM}`);
    return (await kc.users.findOne({ id: user.id }))?.requiredActions ?? [];
  }

  /** Enables a required action in the realm (Authentication > Required actions) when it is disabled. */
  private async enableRequiredAction(kc: KcAdminClient, alias: string): Promise<void> {
    const action = await kc.authenticationManagement.getRequiredActionForAlias({ alias });
    if (!action) throw new Error(`no required action ${alias} in realm ${REALM}`);
    if (action.enabled) return;
    await kc.authenticationManagement.updateRequiredAction({ alias }, { ...action, enabled: true });
  }
}
