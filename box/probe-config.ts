// The probe configuration the box writes for itself: one target named "box", the test user's
// password in a file beside it, evidence and history under the box's state directory.
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import YAML from 'yaml';
import { configSchema } from '../src/config/schema.ts';
import { REALM, TOKEN_CLIENT_ID, TEST_USER } from './realm.ts';

/**
 * Step timeouts for faults in the box (tests, soak): long enough for a healthy box (imports take
 * ~1-2 s), short enough that a fault fails fast. As the configuration file writes them.
 */
export const FAST_TIMEOUTS = {
  login: '15s',
  openPage: '10s',
  listUploads: '6s',
  upload: '8s',
  importStarted: '8s',
  importFinished: '8s',
  checkResult: '10s',
  request: '5s',
  run: '45s',
} as const;

export interface ProbeConfigInput {
  stateDir: string;
  appUrl: string;
  keycloakUrl: string;
}

export async function writeProbeConfig(input: ProbeConfigInput): Promise<string> {
  const secrets = join(input.stateDir, 'secrets');
  await mkdir(secrets, { recursive: true, mode: 0o700 });
  const passwordFile = join(secrets, 'probe-password');
  await writeFile(passwordFile, TEST_USER.password, { mode: 0o600 });
  await chmod(passwordFile, 0o600);

  const config = {
    probes: ['browser', 'api'],
    // The box keeps full runs every minute (faults show fast), light runs beside them.
    schedule: { interval: 60, light: 60, jitter: 5 },
    evidence: { dir: join(input.stateDir, 'evidence'), keep: 50 },
    history: { file: join(input.stateDir, 'history.jsonl'), maxBytes: 5_000_000, keep: 3 },
    targets: {
      box: {
        appUrl: input.appUrl,
        uploadsPath: '/admin/uploads',
        apiPath: '/generic-upload/api',
        keycloak: { url: input.keycloakUrl, realm: REALM, tokenClientId: TOKEN_CLIENT_ID },
        credentials: { username: TEST_USER.username, password: { file: passwordFile } },
      },
    },
  };
  // Written only if it is valid against the probe's own schema.
  configSchema.parse(config);
  const path = join(input.stateDir, 'bulk-upload-probe.yaml');
  await writeFile(path, `# Written by tis-box for the box it started; regenerated on every start.\n${YAML.stringify(config)}`);
  return path;
}
