// generic-upload's deployed configuration, as environment-style settings (the names the real
// service uses for its Keycloak client: KC_*). Incident 2024-10-15 was a deployment with an
// out-of-date set of these values; the stale-config fault deploys one.
import type { KeycloakClientConfig } from './service-token.ts';

export interface DeployedSettings {
  PROFILE_URL: string;
  TCS_URL: string;
  KC_SERVER_URL: string;
  KC_REALM: string;
  KC_CLIENT_ID: string;
  KC_USERNAME: string;
  KC_PASSWORD: string;
  /** Milliseconds. */
  KC_TIMEOUT: string;
}

export interface GenericUploadConfig {
  /** Profile's origin, used to authenticate every API call. */
  profileUrl: string;
  /** TCS's origin. */
  tcsUrl: string;
  keycloak: KeycloakClientConfig;
}

export function parseSettings(s: DeployedSettings): GenericUploadConfig {
  return {
    profileUrl: s.PROFILE_URL,
    tcsUrl: s.TCS_URL,
    keycloak: {
      serverUrl: s.KC_SERVER_URL,
      realm: s.KC_REALM,
      clientId: s.KC_CLIENT_ID,
      username: s.KC_USERNAME,
      password: s.KC_PASSWORD,
      timeoutMs: Number(s.KC_TIMEOUT),
    },
  };
}

/**
 * The settings of an earlier deployment: Profile has moved since, so the old address answers
 * 404 to every user lookup (and generic-upload turns that into 401).
 */
export function staleSettings(current: DeployedSettings): DeployedSettings {
  return { ...current, PROFILE_URL: `${current.PROFILE_URL}/decommissioned` };
}

/** What is deployed right now: the current settings, or a stale set (stale-config fault). */
export class Deployment {
  private active: DeployedSettings;

  constructor(private readonly current: DeployedSettings) {
    this.active = current;
  }

  config(): GenericUploadConfig {
    return parseSettings(this.active);
  }

  deployStale(): void {
    this.active = staleSettings(this.current);
  }

  deployCurrent(): void {
    this.active = this.current;
  }
}
