// The API probe's client_credentials grant (keycloak.grant), for realms that allow no password
// grants: TIS in a box's confidential client `bulk-upload-probe-client` gets a token for its
// service account, which Profile knows as an active user with the bulk upload permission (as an
// operator would have to set up in the real TIS). The secret comes from a file beside the
// configuration, as a mounted Kubernetes Secret would, newline and all.
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import YAML from 'yaml';
import { clearFault } from '../../box/control-client.ts';
import { PROBE_CLIENT } from '../../box/realm.ts';
import { loadConfig } from '../../src/config/load.ts';
import type { Config } from '../../src/config/schema.ts';
import type { RunResult } from '../../src/model/result.ts';
import { runProbe } from '../../src/run/runner.ts';
import { scanDir, secretSet } from '../support/leak-scan.ts';
import { findUpload, testUserToken, uploadApi } from '../support/tis-client.ts';
import { SHORT_TIMEOUTS } from './setup.ts';

const box = inject('box');

beforeAll(async () => {
  await clearFault(box.urls.control);
});

function explain(r: RunResult): string {
  return `${r.probe}: ${r.ok ? 'ok' : `${r.reason} at ${r.failedStep}: ${r.message}`} (${r.durationSeconds.toFixed(1)} s)`;
}

/** The box's own configuration file, its target switched to client_credentials with `secret` in a file beside it. */
async function clientCredentialsConfig(secret: string): Promise<Config> {
  const dir = await mkdtemp(join(tmpdir(), 'bup-client-credentials-'));
  await writeFile(join(dir, 'client-secret'), `${secret}\n`, { mode: 0o600 });
  const file = YAML.parse(await readFile(box.configPath, 'utf8')) as {
    evidence: { dir: string };
    targets: { box: { keycloak: Record<string, unknown> } };
  };
  file.evidence.dir = join(dir, 'evidence');
  file.targets.box.keycloak = {
    ...file.targets.box.keycloak,
    grant: 'client_credentials',
    clientId: PROBE_CLIENT.clientId,
    clientSecret: { file: './client-secret' },
  };
  await writeFile(join(dir, 'bulk-upload-probe.yaml'), YAML.stringify(file));
  const config = await loadConfig(join(dir, 'bulk-upload-probe.yaml'));
  config.targets.box = { ...config.targets.box!, timeouts: SHORT_TIMEOUTS };
  return config;
}

const run = (config: Config) => runProbe({ probe: 'api', targetName: 'box', target: config.targets.box!, config });

describe('the API probe with grant client_credentials', () => {
  it("logs in as the confidential client's service account with the secret from a file, and runs the canary through", async () => {
    const config = await clientCredentialsConfig(PROBE_CLIENT.secret);
    expect(config.targets.box!.keycloak.clientSecret).toEqual({ file: expect.stringMatching(/^\/.*\/client-secret$/) });
    const r = await run(config);
    expect(r.ok, explain(r)).toBe(true);
    expect(r.steps.find((s) => s.name === 'login')?.ok).toBe(true);
    // The token was the service account's: generic-upload recorded the canary as its upload.
    const api = uploadApi(box, await testUserToken(box));
    const mine = await findUpload(api, r.canary!.fileName, Number(r.canary!.logId));
    expect(mine?.username).toBe(PROBE_CLIENT.serviceAccount);
  });

  it('a wrong client secret: login_failed at login, the client refused, and the secret in no evidence', async () => {
    const wrong = 'Not-The-Probe-Client-Secret-0000';
    const config = await clientCredentialsConfig(wrong);
    const r = await run(config);
    expect(r.reason, explain(r)).toBe('login_failed');
    expect(r.failedStep).toBe('login');
    // Keycloak 26.7 answers 401 unauthorized_client for a wrong secret; older releases invalid_client.
    expect(r.message).toMatch(/^login refused: (unauthorized_client|invalid_client): Invalid client or Invalid client credentials$/);
    expect(r.durationSeconds).toBeLessThan(5);
    expect(r.evidenceDir).toBeTruthy();
    const { files, leaks } = await scanDir(config.evidence.dir, secretSet([{ what: 'the client secret', value: wrong }]));
    expect(files.length).toBeGreaterThan(0);
    expect(leaks).toEqual([]);
  });
});
