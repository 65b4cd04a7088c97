// TIS in a box: a real Keycloak plus stand-ins for Profile, TCS, generic-upload and the admin
// page, each on its own loopback port, with faults that can be switched on and off.
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp } from 'node:fs/promises';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createLogger } from '../src/log.ts';
import { controlApp } from './control.ts';
import { FaultRegistry, type FaultHandlers } from './faults.ts';
import { genericUploadApp, type GenericUploadFaults } from './generic-upload/app.ts';
import { ImportTask, type GenericUploadConfig } from './generic-upload/import-task.ts';
import { UploadStore } from './generic-upload/store.ts';
import { close, listen, origin } from './http.ts';
import { startKeycloak, type KeycloakServer } from './keycloak.ts';
import { KeycloakAdmin } from './keycloak-admin.ts';
import { KeycloakFront } from './keycloak-front.ts';
import { allocatePorts, type BoxPorts } from './ports.ts';
import { writeProbeConfig } from './probe-config.ts';
import { ProfileUsers, profileApp, realmIssuer } from './profile.ts';
import { insertBlocker } from './queue-blocker.ts';
import { REALM, SERVICE_ACCOUNT, TEST_USER, TOKEN_CLIENT_ID } from './realm.ts';
import { People, tcsApp } from './tcs.ts';
import { frontDoorApp } from './ui/front-door.ts';

export interface BoxOptions {
  portBase?: number; // undefined/0 => every port picked free at random (tests); CLI default 18080
  stateDir?: string; // default: mkdtemp for tests; CLI default <repo>/.state/box
  quiet?: boolean; // don't echo service logs
}
export interface BoxUrls {
  app: string;
  keycloak: string;
  genericUpload: string;
  profile: string;
  tcs: string;
  control: string;
}
export interface Box {
  urls: BoxUrls;
  realm: 'lin';
  testUser: { username: string; password: string };
  configPath: string;
  stop(): Promise<void>;
}

/** What startBox() knows beyond the contract (used by the CLI and docs measurements). */
export interface BoxDetails extends Box {
  ports: BoxPorts;
  stateDir: string;
  keycloakInternalUrl: string;
  keycloakStartMs: number;
  startMs: number;
}

/** The id every healthy canary uses; the canary-imported fault makes it exist in TCS. */
export const CANARY_PERSON_ID = 999999999;

export async function startBox(opts: BoxOptions = {}): Promise<BoxDetails> {
  const started = Date.now();
  const stateDir = resolve(opts.stateDir ?? (await mkdtemp(join(tmpdir(), 'tis-box-'))));
  const logDir = join(stateDir, 'logs');
  await mkdir(logDir, { recursive: true });
  const log = createLogger({
    name: 'tis-box',
    destination: opts.quiet ? createWriteStream(join(logDir, 'box.log'), { flags: 'a' }) : process.stderr,
  });

  const ports = await allocatePorts(opts.portBase || undefined);
  const urls: BoxUrls = {
    app: origin(ports.app),
    keycloak: origin(ports.keycloak),
    genericUpload: origin(ports.genericUpload),
    profile: origin(ports.profile),
    tcs: origin(ports.tcs),
    control: origin(ports.control),
  };
  const keycloakInternalUrl = origin(ports.keycloakHttp);

  const servers: Server[] = [];
  const stoppers: (() => Promise<void>)[] = [];
  let keycloak: KeycloakServer | undefined;
  let keycloakReady: Promise<KeycloakServer> | undefined;
  const stop = async (): Promise<void> => {
    for (const s of stoppers.reverse()) await s().catch((err) => log.warn({ err }, 'stop failed'));
    stoppers.length = 0;
    for (const s of servers.splice(0)) await close(s);
    await keycloak?.stop();
    keycloak = undefined;
  };

  try {
    // Keycloak is the slow part: start it first and bring up the rest meanwhile.
    keycloakReady = startKeycloak({
      httpPort: ports.keycloakHttp,
      managementPort: ports.keycloakManagement,
      frontUrl: urls.keycloak,
      logFile: join(logDir, 'keycloak.log'),
    });
    keycloakReady.catch(() => undefined);

    const front = new KeycloakFront(ports.keycloak, keycloakInternalUrl);
    await front.start();
    stoppers.push(() => front.stop());

    const users = new ProfileUsers();
    const people = new People();
    const store = new UploadStore();
    const guFaults: GenericUploadFaults = {};
    let staleConfig = false;
    let placementsUnavailable = false;

    // generic-upload's deployed configuration; the stale-config fault swaps in an old Profile address.
    const guConfig = (): GenericUploadConfig => ({
      profileUrl: staleConfig ? `${urls.profile}/decommissioned` : urls.profile,
      tcsUrl: urls.tcs,
      keycloak: {
        serverUrl: urls.keycloak,
        realm: REALM,
        clientId: TOKEN_CLIENT_ID,
        username: SERVICE_ACCOUNT.username,
        password: SERVICE_ACCOUNT.password,
        timeoutMs: 10_000,
      },
    });

    servers.push(
      await listen(
        profileApp({ users, jwksUrl: `${keycloakInternalUrl}/realms/${REALM}/protocol/openid-connect/certs`, issuer: realmIssuer(urls.keycloak) }),
        ports.profile,
      ),
      await listen(tcsApp({ people, profileUrl: urls.profile, placementsUnavailable: () => placementsUnavailable }), ports.tcs),
      await listen(genericUploadApp({ store, config: guConfig, faults: guFaults }), ports.genericUpload),
      await listen(
        frontDoorApp({ keycloakUrl: urls.keycloak, genericUploadUrl: urls.genericUpload, profileUrl: urls.profile, tcsUrl: urls.tcs }),
        ports.app,
      ),
    );

    keycloak = await keycloakReady;
    const admin = new KeycloakAdmin(keycloak.internalUrl, keycloak.admin);

    const importTask = new ImportTask(store, guConfig, (msg) => log.info({ service: 'generic-upload' }, msg));
    importTask.start();
    stoppers.push(() => importTask.stop());

    const handlers: FaultHandlers = {
      'stale-config': {
        apply: async () => void (staleConfig = true),
        clear: async () => void (staleConfig = false),
      },
      'service-account-disabled': {
        apply: () => admin.setUserEnabled(SERVICE_ACCOUNT.username, false),
        clear: () => admin.setUserEnabled(SERVICE_ACCOUNT.username, true),
      },
      'service-account-inactive-in-profile': {
        apply: async () => users.setActive(SERVICE_ACCOUNT.username, false),
        clear: async () => users.setActive(SERVICE_ACCOUNT.username, true),
      },
      'test-user-disabled': {
        apply: () => admin.setUserEnabled(TEST_USER.username, false),
        clear: () => admin.setUserEnabled(TEST_USER.username, true),
      },
      'queue-blocked': {
        apply: async () => {
          placementsUnavailable = true;
          const blocker = await insertBlocker(store);
          log.info({ logId: blocker.logId }, 'queue-blocked: inserted an older PENDING placements upload');
        },
        // The blocked file then imports normally and the queue drains behind it.
        clear: async () => void (placementsUnavailable = false),
      },
      slow: {
        apply: async ({ delayMs }) => void (guFaults.delayMs = delayMs),
        clear: async () => void (guFaults.delayMs = undefined),
      },
      'server-error': {
        apply: async ({ status }) => void (guFaults.status = status),
        clear: async () => void (guFaults.status = undefined),
      },
      'login-down': {
        apply: ({ mode }) => front.setDown(mode),
        clear: () => front.setUp(),
      },
      'canary-imported': {
        apply: async () => people.add({ id: CANARY_PERSON_ID, forenames: 'Canary', surname: 'Imported' }),
        clear: async () => people.remove(CANARY_PERSON_ID),
      },
    };
    const faults = new FaultRegistry(handlers);
    servers.push(await listen(controlApp(faults), ports.control));

    const configPath = await writeProbeConfig({ stateDir, appUrl: urls.app, keycloakUrl: urls.keycloak });
    const startMs = Date.now() - started;
    log.info({ urls, keycloakStartMs: keycloak.startMs, startMs }, 'TIS in a box is up');
    return {
      urls,
      realm: REALM,
      testUser: { username: TEST_USER.username, password: TEST_USER.password },
      configPath,
      stop,
      ports,
      stateDir,
      keycloakInternalUrl,
      keycloakStartMs: keycloak.startMs,
      startMs,
    };
  } catch (err) {
    await stop();
    // Keycloak may still be starting when something else failed: wait for it and stop it too.
    await keycloakReady?.then((kc) => (kc === keycloak ? undefined : kc.stop())).catch(() => undefined);
    throw err;
  }
}
