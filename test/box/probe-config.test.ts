// The probe configuration the box writes for itself is valid and points at the box.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { clearFault } from '../../box/control-client.ts';
import { loadConfig, resolveCredentials } from '../../src/config/load.ts';

const box = inject('box');

// Faults are cleared after every test, so none leaks into the next one.
afterEach(async () => {
  await clearFault(box.urls.control);
});

describe('the box-written probe config', () => {
  it('has one target "box" pointing at the box, with the test user', async () => {
    expect(box.configPath).toBe(join(box.stateDir, 'bulk-upload-probe.yaml'));
    const config = await loadConfig(box.configPath, { env: {} });
    expect(Object.keys(config.targets)).toEqual(['box']);
    const target = config.targets.box!;
    expect(target.appUrl).toBe(box.urls.app);
    expect(target.keycloak).toMatchObject({ url: box.urls.keycloak, realm: 'lin', tokenClientId: 'api-tokens' });
    expect(target.credentials.username).toBe(box.testUser.username);
    expect(target.credentials.password).toEqual({ file: join(box.stateDir, 'secrets/probe-password') });
    expect(await resolveCredentials(config, 'box')).toMatchObject(box.testUser);
    expect(config.evidence.dir.startsWith(box.stateDir)).toBe(true);
    expect(config.history.file.startsWith(box.stateDir)).toBe(true);
  });

  it('keeps the password out of the config file, in a file only its owner can read', () => {
    expect(readFileSync(box.configPath, 'utf8')).not.toContain(box.testUser.password);
    const secret = join(box.stateDir, 'secrets/probe-password');
    expect(readFileSync(secret, 'utf8')).toBe(box.testUser.password);
    expect(statSync(secret).mode & 0o077).toBe(0);
  });
});
