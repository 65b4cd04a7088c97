// keycloak.grant: how the API probe gets its token. `password` (the default: the test user,
// through a public client) or `client_credentials` (a confidential client's id and secret; the
// secret a reference like the password's, resolved the same way). Checked at load, naming the
// field; check-config says which grant each target uses.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { checkConfig } from '../../../src/commands/check-config.ts';
import { ConfigError, loadConfig, resolveCredentials } from '../../../src/config/load.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bup-grant-'));
});

function configText(keycloak: string): string {
  return `
targets:
  box:
    appUrl: http://127.0.0.1:18080
    keycloak: ${keycloak}
    credentials:
      username: bulk-upload-probe
      password: literal-password-1
`;
}

async function file(name: string, text: string): Promise<string> {
  const p = join(dir, name);
  await writeFile(p, text);
  return p;
}

async function issues(keycloak: string): Promise<string[]> {
  try {
    await loadConfig(await file('c.yaml', configText(keycloak)), { env: {} });
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).issues;
  }
  throw new Error('expected a ConfigError');
}

async function checked(path: string, env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    const code = await checkConfig(
      path,
      (l) => lines.push(l),
      (l) => lines.push(l),
    );
    return { code, out: lines.join('\n') };
  } finally {
    for (const k of Object.keys(env)) if (!(k in saved)) delete process.env[k];
  }
}

describe('keycloak.grant', () => {
  it('is the password grant through tokenClientId by default', async () => {
    const c = await loadConfig(await file('c.yaml', configText('{ url: "http://127.0.0.1:18081" }')), { env: {} });
    expect(c.targets.box!.keycloak).toMatchObject({ grant: 'password', tokenClientId: 'api-tokens' });
    expect((await resolveCredentials(c, 'box')).clientSecret).toBeUndefined();
  });

  it('client_credentials: the client id and its secret from a file beside the configuration (trailing newline dropped)', async () => {
    await file('client-secret', 'Probe-Client-Secret-5810\n');
    const c = await loadConfig(
      await file(
        'c.yaml',
        configText(
          '{ url: "http://127.0.0.1:18081", grant: client_credentials, clientId: probe-client, clientSecret: { file: ./client-secret } }',
        ),
      ),
      { env: {} },
    );
    expect(c.targets.box!.keycloak).toMatchObject({ grant: 'client_credentials', clientId: 'probe-client' });
    expect(c.targets.box!.keycloak.clientSecret).toEqual({ file: join(dir, 'client-secret') });
    expect(await resolveCredentials(c, 'box')).toMatchObject({ username: 'bulk-upload-probe', clientSecret: 'Probe-Client-Secret-5810' });
  });

  it('client_credentials: the secret from the environment, kept in secretEnv like the password', async () => {
    const c = await loadConfig(
      await file(
        'c.yaml',
        configText(
          '{ url: "http://127.0.0.1:18081", grant: client_credentials, clientId: probe-client, clientSecret: { env: BUP_CLIENT_SECRET } }',
        ),
      ),
      { env: { BUP_CLIENT_SECRET: 'from-the-environment', UNRELATED: 'x' } },
    );
    expect(c.secretEnv).toEqual({ BUP_CLIENT_SECRET: 'from-the-environment' });
    expect((await resolveCredentials(c, 'box')).clientSecret).toBe('from-the-environment');
  });

  it('client_credentials needs both the client id and its secret', async () => {
    expect(await issues('{ url: "http://127.0.0.1:18081", grant: client_credentials }')).toEqual([
      "targets.box.keycloak.clientId: grant client_credentials needs the confidential client's id",
      "targets.box.keycloak.clientSecret: grant client_credentials needs the client's secret ({ env: NAME } or { file: PATH })",
    ]);
    expect(await issues('{ url: "http://127.0.0.1:18081", grant: client_credentials, clientId: probe-client }')).toEqual([
      "targets.box.keycloak.clientSecret: grant client_credentials needs the client's secret ({ env: NAME } or { file: PATH })",
    ]);
  });

  it('the password grant takes no client id or secret of a confidential client, and an unknown grant is refused', async () => {
    expect(await issues('{ url: "http://127.0.0.1:18081", clientSecret: { env: X } }')).toEqual([
      'targets.box.keycloak.clientSecret: only with grant: client_credentials (the password grant uses tokenClientId, a public client)',
    ]);
    const unknown = await issues('{ url: "http://127.0.0.1:18081", grant: implicit }');
    expect(unknown).toHaveLength(1);
    expect(unknown[0]).toMatch(/^targets\.box\.keycloak\.grant: .*client_credentials/);
  });

  it('a client secret that does not resolve names its field', async () => {
    const c = await loadConfig(
      await file(
        'c.yaml',
        configText(
          '{ url: "http://127.0.0.1:18081", grant: client_credentials, clientId: probe-client, clientSecret: { env: BUP_NOT_SET } }',
        ),
      ),
      { env: {} },
    );
    await expect(resolveCredentials(c, 'box')).rejects.toThrow(
      'targets.box.keycloak.clientSecret: environment variable BUP_NOT_SET is not set',
    );
  });
});

describe('check-config names each target grant', () => {
  it('password: the public client, as the test user', async () => {
    const { code, out } = await checked(await file('c.yaml', configText('{ url: "http://127.0.0.1:18081" }')));
    expect(code).toBe(0);
    expect(out).toContain('  grant     password, public client api-tokens (the test user), for the api probe');
  });

  it('client_credentials: the confidential client, where its secret comes from, never the secret', async () => {
    const path = await file(
      'c.yaml',
      configText(
        '{ url: "http://127.0.0.1:18081", grant: client_credentials, clientId: probe-client, clientSecret: { env: BUP_CHECK_SECRET } }',
      ),
    );
    const { code, out } = await checked(path, { BUP_CHECK_SECRET: 'very-secret-client-secret' });
    expect(code).toBe(0);
    expect(out).toContain('  grant     client_credentials, confidential client probe-client (its service account), for the api probe');
    expect(out).toContain('  secret    client secret resolved from environment variable BUP_CHECK_SECRET');
    expect(out).not.toContain('very-secret-client-secret');
    expect((await checked(path)).code).toBe(2);
  });
});
