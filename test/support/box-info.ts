// What the integration tests get to know about the shared box (provided by test/global-setup.ts).
import type { BoxDetails, BoxUrls } from '../../box/box.ts';

export interface BoxInfo {
  urls: BoxUrls;
  realm: 'lin';
  testUser: { username: string; password: string };
  configPath: string;
  stateDir: string;
  keycloakInternalUrl: string;
  /** Keycloak's bootstrap admin, for tests that change Keycloak through its admin API. */
  keycloakAdmin: { username: string; password: string };
}

/** The coordinates tests get of a running box. */
export function boxInfo(box: BoxDetails): BoxInfo {
  return {
    urls: box.urls,
    realm: box.realm,
    testUser: box.testUser,
    configPath: box.configPath,
    stateDir: box.stateDir,
    keycloakInternalUrl: box.keycloakInternalUrl,
    keycloakAdmin: box.keycloakAdmin,
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    box: BoxInfo;
  }
}
