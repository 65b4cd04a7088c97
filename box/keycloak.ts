// A real Keycloak server (the Quarkus distribution fetched by scripts/setup.sh), started in
// dev mode on loopback with an in-memory database: every start is fresh, realm `lin` is
// imported from fixtures/keycloak/realm-lin.json.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { copyFile, mkdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import axios from 'axios';
import { REALM } from './realm.ts';

const REPO = resolve(fileURLToPath(new URL('..', import.meta.url)));
export const REALM_FILE = join(REPO, 'fixtures/keycloak/realm-lin.json');

export function keycloakVersion(): string {
  const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { config: { keycloakVersion: string } };
  return pkg.config.keycloakVersion;
}

export function keycloakHome(): string {
  const cache = process.env.BUP_CACHE_DIR ?? join(homedir(), '.cache/bulk-upload-probe');
  return join(cache, `keycloak-${keycloakVersion()}`);
}

/**
 * Runs kc.sh and watches this Node process: when it dies (even by SIGKILL) the pipe on stdin
 * closes and the whole process group, JVM included, is terminated. No orphaned Keycloak.
 */
const WATCHDOG = [
  'exec 3<&0',
  'kc="$1"; shift',
  '"$kc" "$@" </dev/null & child=$!',
  '{ cat <&3 >/dev/null; kill -TERM -- -$$; } &',
  'wait "$child"',
].join('\n');

export interface KeycloakOptions {
  /** Keycloak's own HTTP port (loopback). */
  httpPort: number;
  managementPort: number;
  /** The URL everyone else uses (the front proxy): issued tokens carry it as issuer. */
  frontUrl: string;
  /** Where the server log goes. */
  logFile: string;
  readyTimeoutMs?: number;
  /** Aborting stops a Keycloak that is still starting (the rest of the box failed). */
  signal?: AbortSignal;
}

export interface KeycloakServer {
  /** Keycloak's own origin, for the box's internal use (admin API, JWKS). */
  internalUrl: string;
  admin: { username: string; password: string };
  /** Milliseconds from spawn to realm `lin` answering. */
  startMs: number;
  stop(): Promise<void>;
}

export async function startKeycloak(opts: KeycloakOptions): Promise<KeycloakServer> {
  const home = keycloakHome();
  const kcSh = join(home, 'bin/kc.sh');
  if (!existsSync(kcSh)) {
    throw new Error(`Keycloak ${keycloakVersion()} not found in ${home}: run \`bash scripts/setup.sh\` first`);
  }
  // --import-realm reads <home>/data/import; the file is the same for every box, so sharing is safe.
  await mkdir(join(home, 'data/import'), { recursive: true });
  await copyFile(REALM_FILE, join(home, 'data/import/realm-lin.json'));

  const admin = { username: 'admin', password: randomBytes(18).toString('base64url') };
  const internalUrl = `http://127.0.0.1:${opts.httpPort}`;
  const log = createWriteStream(opts.logFile, { flags: 'a' });
  const started = Date.now();
  const child = spawn(
    'bash',
    [
      '-c',
      WATCHDOG,
      'keycloak',
      kcSh,
      'start-dev',
      '--db=dev-mem',
      '--import-realm',
      '--http-host=127.0.0.1',
      `--http-port=${opts.httpPort}`,
      '--http-management-host=127.0.0.1',
      `--http-management-port=${opts.managementPort}`,
      `--hostname=${opts.frontUrl}`,
      '--hostname-backchannel-dynamic=true',
      '--cache=local',
    ],
    {
      cwd: home,
      // Own process group: stop() kills kc.sh and the JVM it starts together.
      detached: true,
      // stdin stays open as the watchdog's lifeline (see WATCHDOG).
      stdio: ['pipe', 'pipe', 'pipe'],
      env: {
        ...process.env,
        KC_BOOTSTRAP_ADMIN_USERNAME: admin.username,
        KC_BOOTSTRAP_ADMIN_PASSWORD: admin.password,
      },
    },
  );
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  // If this Node process dies without stop(), the JVM must not outlive it.
  const killOnExit = (): void => killGroup(child, 'SIGKILL');
  process.once('exit', killOnExit);

  const stop = async (): Promise<void> => {
    process.off('exit', killOnExit);
    // TERM lets the JVM shut down cleanly; whatever is left after 10 s is killed.
    killGroup(child, 'SIGTERM');
    if (!(await groupGone(child, 10_000))) {
      killGroup(child, 'SIGKILL');
      await groupGone(child, 5_000);
    }
    await exited;
    log.end();
  };

  try {
    await waitReady(internalUrl, exited, opts.readyTimeoutMs ?? 180_000, opts.logFile, opts.signal);
  } catch (err) {
    await stop();
    throw err;
  }
  return { internalUrl, admin, startMs: Date.now() - started, stop };
}

/** Waits until no process of the child's group is left. */
async function groupGone(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      process.kill(-child.pid!, 0);
    } catch {
      return true;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

async function waitReady(
  internalUrl: string,
  exited: Promise<number | null>,
  timeoutMs: number,
  logFile: string,
  signal?: AbortSignal,
): Promise<void> {
  let dead: number | null | undefined;
  void exited.then((code) => (dead = code));
  const deadline = Date.now() + timeoutMs;
  const url = `${internalUrl}/realms/${REALM}/.well-known/openid-configuration`;
  while (Date.now() < deadline) {
    if (dead !== undefined) throw new Error(`Keycloak exited (code ${dead}) before it was ready; see ${logFile}`);
    if (signal?.aborted) throw new Error('Keycloak start aborted');
    try {
      const res = await axios.get(url, { timeout: 2000, validateStatus: () => true });
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`Keycloak not ready after ${timeoutMs} ms; see ${logFile}`);
}
