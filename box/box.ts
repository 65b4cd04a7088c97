// TIS in a box: a real Keycloak plus stand-ins for Profile, TCS, generic-upload and the admin
// page, each on its own loopback port, with faults that can be switched on and off.
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp } from 'node:fs/promises';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createLogger } from '../src/log.ts';
import { controlApp } from './control.ts';
import { faultHandlers } from './fault-handlers.ts';
import { FaultRegistry } from './faults.ts';
import { genericUploadApp, type GenericUploadFaults } from './generic-upload/app.ts';
import { Deployment } from './generic-upload/config.ts';
import { ImportTask } from './generic-upload/import-task.ts';
import { UploadStore } from './generic-upload/store.ts';
import { close, listen, origin } from './http.ts';
import { startKeycloak, type KeycloakServer } from './keycloak.ts';
import { KeycloakAdmin } from './keycloak-admin.ts';
import { KeycloakFront } from './keycloak-front.ts';
import { allocatePorts, type BoxPorts } from './ports.ts';
import { writeProbeConfig } from './probe-config.ts';
import { ProfileUsers, profileApp, realmIssuer } from './profile.ts';
import { REALM, SERVICE_ACCOUNT, TEST_USER, TOKEN_CLIENT_ID } from './realm.ts';
import { People, tcsApp, type TcsFaults } from './tcs.ts';
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
  /** Keycloak's bootstrap admin (master realm, random per start), for changes made in Keycloak as an operator would. */
  keycloakAdmin: { username: string; password: string };
  keycloakStartMs: number;
  startMs: number;
}

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
  const abortKeycloak = new AbortController();
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
      signal: abortKeycloak.signal,
    });
    keycloakReady.catch(() => undefined);

    const front = new KeycloakFront(ports.keycloak, keycloakInternalUrl);
    await front.start();
    stoppers.push(() => front.stop());

    const profileUsers = new ProfileUsers();
    const people = new People();
    const uploads = new UploadStore();
    const genericUploadFaults: GenericUploadFaults = {};
    const tcsFaults: TcsFaults = {};
    // generic-upload's deployed configuration; the stale-config fault deploys an older one.
    const deployment = new Deployment({
      PROFILE_URL: urls.profile,
      TCS_URL: urls.tcs,
      KC_SERVER_URL: urls.keycloak,
      KC_REALM: REALM,
      KC_CLIENT_ID: TOKEN_CLIENT_ID,
      KC_USERNAME: SERVICE_ACCOUNT.username,
      KC_PASSWORD: SERVICE_ACCOUNT.password,
      KC_TIMEOUT: '10000',
    });
    const config = () => deployment.config();

    servers.push(
      await listen(
        profileApp({
          users: profileUsers,
          jwksUrl: `${keycloakInternalUrl}/realms/${REALM}/protocol/openid-connect/certs`,
          issuer: realmIssuer(urls.keycloak),
        }),
        ports.profile,
      ),
      await listen(tcsApp({ people, profileUrl: urls.profile, faults: tcsFaults }), ports.tcs),
      await listen(genericUploadApp({ store: uploads, config, faults: genericUploadFaults }), ports.genericUpload),
      await listen(
        frontDoorApp({ keycloakUrl: urls.keycloak, genericUploadUrl: urls.genericUpload, profileUrl: urls.profile, tcsUrl: urls.tcs }),
        ports.app,
      ),
    );

    keycloak = await keycloakReady;
    const importTask = new ImportTask(uploads, config, (msg) => log.info({ service: 'generic-upload' }, msg));
    importTask.start();
    stoppers.push(() => importTask.stop());

    const faults = new FaultRegistry(
      faultHandlers({
        keycloakAdmin: new KeycloakAdmin(keycloak.internalUrl, keycloak.admin),
        keycloakFront: front,
        profileUsers,
        people,
        tcs: tcsFaults,
        uploads,
        deployment,
        genericUpload: genericUploadFaults,
        log,
      }),
    );
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
      keycloakAdmin: { ...keycloak.admin },
      keycloakStartMs: keycloak.startMs,
      startMs,
    };
  } catch (err) {
    abortKeycloak.abort();
    await stop();
    // Keycloak may still be starting when something else failed: it stops within half a second.
    await keycloakReady?.then((kc) => (kc === keycloak ? undefined : kc.stop())).catch(() => undefined);
    throw err;
  }
}
