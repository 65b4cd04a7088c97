// What each fault does to the box: every one acts where it happened in production (Keycloak
// itself, Profile's table, generic-upload's deployment, TCS, the network in front of Keycloak).
import { DEFAULT_CANARY_PERSON_ID as CANARY_PERSON_ID } from '../src/canary.ts';
import type { Logger } from '../src/log.ts';
import type { FaultHandlers } from './faults.ts';
import type { GenericUploadFaults } from './generic-upload/app.ts';
import type { Deployment } from './generic-upload/config.ts';
import type { UploadStore } from './generic-upload/store.ts';
import type { KeycloakAdmin } from './keycloak-admin.ts';
import type { KeycloakFront } from './keycloak-front.ts';
import type { ProfileUsers } from './profile.ts';
import { insertBlocker } from './queue-blocker.ts';
import { SERVICE_ACCOUNT, TEST_USER } from './realm.ts';
import type { People, TcsFaults } from './tcs.ts';

export interface FaultTargets {
  keycloakAdmin: KeycloakAdmin;
  keycloakFront: KeycloakFront;
  profileUsers: ProfileUsers;
  people: People;
  tcs: TcsFaults;
  uploads: UploadStore;
  deployment: Deployment;
  genericUpload: GenericUploadFaults;
  log: Logger;
}

export function faultHandlers(t: FaultTargets): FaultHandlers {
  return {
    'stale-config': {
      apply: async () => t.deployment.deployStale(),
      clear: async () => t.deployment.deployCurrent(),
    },
    'service-account-disabled': {
      apply: () => t.keycloakAdmin.setUserEnabled(SERVICE_ACCOUNT.username, false),
      clear: () => t.keycloakAdmin.setUserEnabled(SERVICE_ACCOUNT.username, true),
    },
    'service-account-inactive-in-profile': {
      apply: async () => t.profileUsers.setActive(SERVICE_ACCOUNT.username, false),
      clear: async () => t.profileUsers.setActive(SERVICE_ACCOUNT.username, true),
    },
    'test-user-disabled': {
      apply: () => t.keycloakAdmin.setUserEnabled(TEST_USER.username, false),
      clear: () => t.keycloakAdmin.setUserEnabled(TEST_USER.username, true),
    },
    'queue-blocked': {
      apply: async () => {
        t.tcs.placementsUnavailable = true;
        const blocker = await insertBlocker(t.uploads);
        t.log.info({ logId: blocker.logId }, 'queue-blocked: inserted an older PENDING placements upload');
      },
      // The blocking file then imports normally and the queue drains behind it.
      clear: async () => void (t.tcs.placementsUnavailable = false),
    },
    slow: {
      apply: async ({ delayMs }) => void (t.genericUpload.delayMs = delayMs),
      clear: async () => void (t.genericUpload.delayMs = undefined),
    },
    'server-error': {
      apply: async ({ status }) => void (t.genericUpload.status = status),
      clear: async () => void (t.genericUpload.status = undefined),
    },
    'login-down': {
      apply: ({ mode }) => t.keycloakFront.setDown(mode),
      clear: () => t.keycloakFront.setUp(),
    },
    'canary-imported': {
      apply: async () => t.people.add({ id: CANARY_PERSON_ID, forenames: 'Canary', surname: 'Imported' }),
      clear: async () => t.people.remove(CANARY_PERSON_ID),
    },
  };
}
