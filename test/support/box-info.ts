// What the integration tests get to know about the shared box (provided by test/global-setup.ts).
import type { BoxUrls } from '../../box/box.ts';

export interface BoxInfo {
  urls: BoxUrls;
  realm: 'lin';
  testUser: { username: string; password: string };
  configPath: string;
  stateDir: string;
  keycloakInternalUrl: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    box: BoxInfo;
  }
}
