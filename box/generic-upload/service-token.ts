// generic-upload's own Keycloak login: the `bulk_upload` service account's token by a
// resource-owner password grant, configured the way the real service is (KC_* settings).
import axios from 'axios';

export interface KeycloakClientConfig {
  /** KC_SERVER_URL: Keycloak as the service sees it (the front URL). */
  serverUrl: string;
  /** KC_REALM */
  realm: string;
  /** KC_CLIENT_ID */
  clientId: string;
  /** KC_USERNAME */
  username: string;
  /** KC_PASSWORD */
  password: string;
  /** KC_TIMEOUT, milliseconds. */
  timeoutMs: number;
}

/** Not an HTTP client error of a downstream call: the import ends UNEXPECTED_ERROR. */
export class ServiceTokenError extends Error {}

export async function serviceAccountToken(kc: KeycloakClientConfig): Promise<string> {
  const url = `${kc.serverUrl}/realms/${kc.realm}/protocol/openid-connect/token`;
  try {
    const res = await axios.post<{ access_token: string }>(
      url,
      new URLSearchParams({ grant_type: 'password', client_id: kc.clientId, username: kc.username, password: kc.password }),
      { timeout: kc.timeoutMs },
    );
    return res.data.access_token;
  } catch (err) {
    const detail = axios.isAxiosError(err) && err.response ? `${err.response.status} ${JSON.stringify(err.response.data)}` : String(err);
    throw new ServiceTokenError(`could not obtain a token for ${kc.username}: ${detail}`);
  }
}
