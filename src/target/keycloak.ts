// Keycloak's token endpoint: the API probe logs in with a resource-owner password grant,
// as the back end itself does for the bulk_upload service account.
import { bodySnippet, looksLikeLoginPage, send, type Exchange } from './http.ts';
import { JourneyStop } from '../run/steps.ts';

export interface KeycloakTarget {
  /** Base URL, with the /auth prefix for older Keycloak. */
  url: string;
  realm: string;
  clientId: string;
}

export function tokenEndpoint(kc: KeycloakTarget): string {
  return `${kc.url.replace(/\/+$/, '')}/realms/${encodeURIComponent(kc.realm)}/protocol/openid-connect/token`;
}

export interface Tokens {
  accessToken: string;
  refreshToken?: string;
  idToken?: string;
  expiresIn?: number;
}

interface TokenAnswer {
  access_token?: string;
  refresh_token?: string;
  id_token?: string;
  expires_in?: number;
  error?: string;
  error_description?: string;
}

export async function passwordGrant(ex: Exchange, kc: KeycloakTarget, username: string, password: string): Promise<Tokens> {
  const url = tokenEndpoint(kc);
  const body = new URLSearchParams({ grant_type: 'password', client_id: kc.clientId, username, password, scope: 'openid' });
  const res = await send<TokenAnswer | string>(ex, {
    method: 'POST',
    url,
    data: body.toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
  });
  const data = res.data;
  if (res.status === 200 && typeof data === 'object' && data?.access_token) {
    const t: Tokens = { accessToken: data.access_token };
    if (data.refresh_token) t.refreshToken = data.refresh_token;
    if (data.id_token) t.idToken = data.id_token;
    if (data.expires_in) t.expiresIn = data.expires_in;
    return t;
  }
  if (looksLikeLoginPage(data, res.headers['content-type']) || (res.status === 200 && typeof data !== 'object')) {
    throw new JourneyStop({ kind: 'login_page', where: `${url} (answered a page, not a token)` });
  }
  if ((res.status === 400 || res.status === 401) && typeof data === 'object' && data?.error) {
    // invalid_grant: account disabled / bad credentials; unauthorized_client, invalid_client: client setup.
    throw new JourneyStop({ kind: 'login_rejected', text: `${data.error}: ${data.error_description ?? ''}`.trim() });
  }
  throw new JourneyStop({ kind: 'http', side: 'keycloak', method: 'POST', url, status: res.status, body: bodySnippet(data) });
}
