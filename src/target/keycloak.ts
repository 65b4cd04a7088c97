// Keycloak's token endpoint: the API probe logs in with a resource-owner password grant, as the
// back end itself does for the bulk_upload service account (or, where the realm allows no
// password grants, with a confidential client's client_credentials grant), and renews its token
// before it expires (an import queue can be slower than a 5-minute token). Every answer is
// validated: a token is a non-empty string or the login fails with bad_answer, never a half-token.
import { z } from 'zod';
import { jsonBody, jsonOrUndefined, looksLikeLoginPage, send, unexpected, type Answer, type Exchange } from './http.ts';
import { JourneyStop } from '../model/stop.ts';
import { capText } from '../model/text.ts';

export interface KeycloakTarget {
  /** Base URL, with the /auth prefix for older Keycloak. */
  url: string;
  realm: string;
  clientId: string;
  /** A confidential client's secret, sent with every grant (client_secret_post); none for a public client. */
  clientSecret?: string;
}

export function tokenEndpoint(kc: KeycloakTarget): string {
  return `${kc.url.replace(/\/+$/, '')}/realms/${encodeURIComponent(kc.realm)}/protocol/openid-connect/token`;
}

export interface Tokens {
  accessToken: string;
  refreshToken?: string;
  idToken?: string;
  /** Seconds the access token lives, as Keycloak said. */
  expiresIn?: number;
}

const token = z.string().min(8).max(16_384);
const tokenAnswer = z.object({
  access_token: token,
  refresh_token: token.optional(),
  id_token: token.optional(),
  expires_in: z.number().positive().finite().optional(),
});
/**
 * The tokens in a token answer someone else asked for (the page's keycloak-js): each field that
 * is a string, whatever the rest holds; the probe only registers them as secrets.
 */
export const seenTokens = z.object({
  access_token: z.string().optional().catch(undefined),
  refresh_token: z.string().optional().catch(undefined),
  id_token: z.string().optional().catch(undefined),
});
const errorAnswer = z.object({ error: z.string(), error_description: z.string().optional() });

/** A grant's form body: password or client_credentials (login), refresh_token (renewal). */
type Grant = Record<string, string>;

async function grant(ex: Exchange, kc: KeycloakTarget, form: Grant, maxBytes: number): Promise<Tokens> {
  const url = tokenEndpoint(kc);
  const client: Record<string, string> = { client_id: kc.clientId };
  if (kc.clientSecret !== undefined) client.client_secret = kc.clientSecret;
  const body = new URLSearchParams({ ...client, ...form });
  const res = await send(ex, {
    method: 'POST',
    url,
    maxBytes,
    data: body.toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
  });
  if (res.status === 200) return tokensFrom(res);
  if (looksLikeLoginPage(res.body, res.headers['content-type'])) {
    throw new JourneyStop({
      kind: 'bad_answer',
      side: 'keycloak',
      what: `POST ${res.url} answered ${res.status} with a login page, not a token`,
    });
  }
  if (res.status === 400 || res.status === 401) {
    // invalid_grant: account disabled / bad credentials; unauthorized_client, invalid_client: client setup.
    const e = errorAnswer.safeParse(jsonOrUndefined(res));
    if (e.success)
      throw new JourneyStop({ kind: 'login_rejected', text: capText(`${e.data.error}: ${e.data.error_description ?? ''}`.trim(), 200) });
  }
  throw unexpected(res);
}

function tokensFrom(res: Answer): Tokens {
  const parsed = tokenAnswer.safeParse(jsonBody(res, 'a token answer'));
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => `${i.path.join('.') || 'body'} ${i.message}`).join('; ');
    throw new JourneyStop({
      kind: 'bad_answer',
      side: 'keycloak',
      what: `POST ${res.url} answered 200 without a usable token (${capText(fields, 160)})`,
    });
  }
  const d = parsed.data;
  const t: Tokens = { accessToken: d.access_token };
  if (d.refresh_token) t.refreshToken = d.refresh_token;
  if (d.id_token) t.idToken = d.id_token;
  if (d.expires_in) t.expiresIn = d.expires_in;
  return t;
}

export function passwordGrant(ex: Exchange, kc: KeycloakTarget, username: string, password: string, maxBytes = 65_536): Promise<Tokens> {
  return grant(ex, kc, { grant_type: 'password', username, password, scope: 'openid' }, maxBytes);
}

/** The client's own service account's token: `kc` names a confidential client and its secret. */
export function clientCredentialsGrant(ex: Exchange, kc: KeycloakTarget, maxBytes = 65_536): Promise<Tokens> {
  return grant(ex, kc, { grant_type: 'client_credentials' }, maxBytes);
}

/** Who the session logs in as: the test user (password grant), or the client itself (client_credentials, `kc.clientSecret`). */
export type TokenLogin = { grant: 'password'; username: string; password: string } | { grant: 'client_credentials' };

export interface TokenSessionOptions {
  kc: KeycloakTarget;
  login: TokenLogin;
  maxBytes: number;
  /** Every token obtained is handed here first (the run registers it as a secret). */
  onTokens: (t: Tokens) => void;
  /** Monotonic milliseconds. */
  now?: () => number;
}

/**
 * A logged-in session's access token, renewed before it expires: with the refresh token when
 * there is one, else (or when the refresh is refused) with a new grant of the same kind (a
 * client_credentials answer has no refresh token: its renewal is always a new grant). Renewal
 * starts when a third of the token's life or 30 s is left, whichever is less.
 */
export class TokenSession {
  private tokens?: Tokens;
  private renewAt = 0;
  private readonly now: () => number;

  constructor(private readonly opts: TokenSessionOptions) {
    this.now = opts.now ?? (() => performance.now());
  }

  async login(ex: Exchange): Promise<Tokens> {
    const t = await this.newGrant(ex);
    this.keep(t);
    return t;
  }

  private newGrant(ex: Exchange): Promise<Tokens> {
    const { kc, login, maxBytes } = this.opts;
    return login.grant === 'password'
      ? passwordGrant(ex, kc, login.username, login.password, maxBytes)
      : clientCredentialsGrant(ex, kc, maxBytes);
  }

  /** A token that is still good for a while; renews first when it is about to expire. */
  async accessToken(ex: Exchange): Promise<string> {
    if (!this.tokens) return (await this.login(ex)).accessToken;
    if (this.now() < this.renewAt) return this.tokens.accessToken;
    let renewed: Tokens | undefined;
    if (this.tokens.refreshToken) {
      renewed = await grant(
        ex,
        this.opts.kc,
        { grant_type: 'refresh_token', refresh_token: this.tokens.refreshToken },
        this.opts.maxBytes,
      ).catch((err: unknown) => {
        // A refused refresh (session ended, refresh token expired) is not an outage: log in again.
        if (err instanceof JourneyStop && err.stop.kind === 'login_rejected') return undefined;
        throw err;
      });
    }
    renewed ??= await this.newGrant(ex);
    this.keep(renewed);
    return renewed.accessToken;
  }

  /** How many times the token was renewed. */
  renewals = -1;

  private keep(t: Tokens): void {
    this.opts.onTokens(t);
    this.tokens = t;
    this.renewals++;
    const life = t.expiresIn ?? 300;
    const margin = Math.min(30, life / 3);
    this.renewAt = this.now() + (life - margin) * 1000;
  }
}
