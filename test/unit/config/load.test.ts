// Configuration loading: YAML and JSON, defaults, errors that name the field, secrets from
// environment, .env beside the file, and files.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, configPath, loadConfig, probesFor, resolveCredentials, resolveSecret } from '../../../src/config/load.ts';
import { checkConfig } from '../../../src/commands/check-config.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bup-config-'));
});

const MINIMAL = `
targets:
  box:
    appUrl: http://127.0.0.1:18080
    keycloak: { url: "http://127.0.0.1:18081" }
    credentials:
      username: bulk-upload-probe
      password: { env: PROBE_PASSWORD }
`;

async function file(name: string, text: string): Promise<string> {
  const p = join(dir, name);
  await writeFile(p, text);
  return p;
}

async function configError(path: string): Promise<ConfigError> {
  try {
    await loadConfig(path);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('loads YAML with the schema defaults filled in and relative paths anchored at the file', async () => {
    const c = await loadConfig(await file('c.yaml', MINIMAL));
    expect(c.targets.box!.uploadsPath).toBe('/admin/uploads');
    expect(c.targets.box!.selectors.loginUsername).toContain('#username');
    expect(c.targets.box!.timeouts.run).toBe(180);
    expect(c.evidence.dir).toBe(join(dir, 'evidence'));
    expect(probesFor(c, 'box')).toEqual(['browser', 'api']);
  });

  it('loads JSON, with durations as text', async () => {
    const c = await loadConfig(
      await file(
        'c.json',
        JSON.stringify({
          targets: {
            prod: {
              appUrl: 'https://tis.example',
              keycloak: { url: 'https://tis.example/auth' },
              credentials: { username: 'u', password: 'literal-pass' },
              timeouts: { importStarted: '2m', request: '1500ms' },
              probes: ['api'],
            },
          },
        }),
      ),
    );
    expect(c.targets.prod!.timeouts.importStarted).toBe(120);
    expect(c.targets.prod!.timeouts.request).toBe(1.5);
    expect(probesFor(c, 'prod')).toEqual(['api']);
  });

  it('names each bad field by its path', async () => {
    const e = await configError(
      await file(
        'bad.yaml',
        `targets:
  prod:
    appUrl: not-a-url
    keycloak: { url: "ftp://x" }
    credentials: { username: u, password: { vault: x } }
    timeouts: { login: soon }
    colour: blue
`,
      ),
    );
    const text = e.issues.join('\n');
    expect(text).toContain('targets.prod.appUrl:');
    expect(text).toContain('targets.prod.keycloak.url:');
    expect(text).toContain('targets.prod.credentials.password:');
    expect(text).toContain('targets.prod.timeouts.login: a duration such as 30s');
    expect(text).toContain('targets.prod: unknown field(s) "colour"');
  });

  it('holds every duration to bounds that no timer overflows, and names the bounds', async () => {
    const e = await configError(
      await file(
        'bounds.yaml',
        `schedule: { interval: 25h, jitter: -1 }
targets:
  prod:
    appUrl: https://tis.example
    keycloak: { url: "https://tis.example/auth" }
    credentials: { username: u, password: p }
    interval: 0.5
    canary: { pollInterval: 1ms }
    timeouts: { run: 600h, request: 0.5ms, login: 2h, importStarted: .inf, upload: 0 }
`,
      ),
    );
    expect(e.issues).toEqual(
      expect.arrayContaining([
        'schedule.interval: must be between 1s and 24h (got 25h)',
        'schedule.jitter: must be between 0s and 1h (got -1 s)',
        'targets.prod.interval: must be between 1s and 24h (got 0.5 s)',
        'targets.prod.canary.pollInterval: must be between 200ms and 5m (got 1ms)',
        // 600 h would overflow setTimeout and fire at once; 0.5 ms would mean no time at all.
        'targets.prod.timeouts.run: must be between 5s and 6h (got 600h)',
        'targets.prod.timeouts.request: must be between 1s and 1h (got 0.5ms)',
        'targets.prod.timeouts.login: must be between 1s and 1h (got 2h)',
        'targets.prod.timeouts.importStarted: a duration such as 30s, 2m or 1h (between 1s and 1h)',
        'targets.prod.timeouts.upload: must be between 1s and 1h (got 0 s)',
      ]),
    );
    expect(e.issues).toHaveLength(9);
  });

  it('refuses a canary prefix that an older release could not search for ("." or "_")', async () => {
    const e = await configError(
      await file(
        'prefix.yaml',
        `targets:
  prod:
    appUrl: https://tis.example
    keycloak: { url: "https://tis.example/auth" }
    credentials: { username: u, password: p }
    canary: { filePrefix: synthetic_probe.v2 }
`,
      ),
    );
    expect(e.issues).toEqual([expect.stringMatching(/^targets\.prod\.canary\.filePrefix: letters, digits and hyphens only/)]);
  });

  it('accepts durations at their bounds, and no jitter at all', async () => {
    const c = await loadConfig(
      await file(
        'edges.yaml',
        `schedule: { interval: 24h, jitter: 0 }
targets:
  prod:
    appUrl: https://tis.example
    keycloak: { url: "https://tis.example/auth" }
    credentials: { username: u, password: p }
    interval: 1s
    canary: { pollInterval: 200ms }
    timeouts: { run: 6h, request: 1s, login: 1h, upload: 5s }
`,
      ),
    );
    expect(c.schedule).toEqual({ interval: 86_400, light: 60, retry: 60, jitter: 0, maxConcurrentRuns: { browser: 2, api: 8 } });
    expect(c.targets.prod!.interval).toBe(1);
    expect(c.targets.prod!.canary.pollInterval).toBe(0.2);
    expect(c.targets.prod!.timeouts).toMatchObject({ run: 21_600, request: 1, login: 3600, upload: 5, importFinished: 60 });
  });

  it('bounds the history and evidence it keeps', async () => {
    const e = await configError(
      await file(
        'keep.yaml',
        `${MINIMAL}history: { keep: 1000000, maxBytes: 10 }
evidence: { keep: 0, dir: "" }
`,
      ),
    );
    expect(e.issues.map((i) => i.split(':')[0]).sort()).toEqual(['evidence.dir', 'evidence.keep', 'history.keep', 'history.maxBytes']);
  });

  it('rejects a file without targets, bad target names, unreadable files and bad YAML', async () => {
    expect((await configError(await file('none.yaml', 'probes: [api]\n'))).message).toContain('targets');
    expect((await configError(await file('name.yaml', MINIMAL.replace('  box:', '  Box Prod:')))).message).toContain('a target name');
    expect((await configError(join(dir, 'missing.yaml'))).message).toContain('ENOENT');
    expect((await configError(await file('broken.yaml', 'targets: [\n'))).message).toContain('not valid YAML');
  });

  it('resolves secrets from the environment, a .env beside the file, and files', async () => {
    const path = await file('c.yaml', MINIMAL);
    await writeFile(join(dir, '.env'), 'PROBE_PASSWORD=from-dotenv-file\n');
    const c = await loadConfig(path, { env: {} });
    expect((await resolveCredentials(c, 'box')).password).toBe('from-dotenv-file');
    // The real environment wins over .env.
    const c2 = await loadConfig(path, { env: { PROBE_PASSWORD: 'from-environment' } });
    expect((await resolveCredentials(c2, 'box')).password).toBe('from-environment');
    await writeFile(join(dir, 'pw'), 'from-a-file\n');
    expect(await resolveSecret({ file: join(dir, 'pw') })).toBe('from-a-file');
  });

  it('drops trailing whitespace from secrets in files and the environment, and keeps the rest', async () => {
    for (const [text, want] of [
      ['pw\n', 'pw'],
      ['pw\r\n', 'pw'],
      ['pw \t\r\n\n', 'pw'],
      ['  pw with inner space\t\n', '  pw with inner space'],
    ] as const) {
      await writeFile(join(dir, 'pw'), text);
      expect(await resolveSecret({ file: join(dir, 'pw') })).toBe(want);
      expect(await resolveSecret({ env: 'PW' }, { PW: text })).toBe(want);
    }
    // A literal in the file is taken as written.
    expect(await resolveSecret('pw ')).toBe('pw ');
  });

  it('a secret that is only whitespace is an error, as an empty one is', async () => {
    await writeFile(join(dir, 'blank'), ' \r\n\t\n');
    await expect(resolveSecret({ file: join(dir, 'blank') })).rejects.toThrow(/secret file .*blank is empty \(only whitespace\)/);
    await writeFile(join(dir, 'empty'), '');
    await expect(resolveSecret({ file: join(dir, 'empty') })).rejects.toThrow(/empty$/);
    await expect(resolveSecret({ env: 'PW' }, { PW: '\r\n' })).rejects.toThrow('environment variable PW holds only whitespace');
    await expect(resolveSecret({ env: 'PW' }, { PW: '' })).rejects.toThrow('environment variable PW is not set');
  });

  it('secretEnv holds only the variables the secrets name, the real environment over the .env beside the file', async () => {
    const path = await file('c.yaml', MINIMAL.replace('username: bulk-upload-probe', 'username: { env: PROBE_USER }'));
    await writeFile(join(dir, '.env'), 'PROBE_PASSWORD="from-dotenv \t"\nOTHER=x\n');
    const c = await loadConfig(path, { env: { OTHER: 'real' } });
    // Not OTHER (no secret names it), and not PROBE_USER (set nowhere).
    expect(c.secretEnv).toEqual({ PROBE_PASSWORD: 'from-dotenv \t' });
    expect((await loadConfig(path, { env: { PROBE_PASSWORD: 'real', OTHER: 'real' } })).secretEnv).toEqual({ PROBE_PASSWORD: 'real' });
    await expect(resolveCredentials(c, 'box')).rejects.toThrow('credentials.username: environment variable PROBE_USER is not set');
    // A spread copy carries the field, so it resolves the same secrets as the loaded config.
    const withUser = await loadConfig(path, { env: { PROBE_USER: 'probe-user' } });
    expect(await resolveCredentials({ ...withUser }, 'box')).toEqual(await resolveCredentials(withUser, 'box'));
    expect(await resolveCredentials({ ...withUser }, 'box')).toEqual({ username: 'probe-user', password: 'from-dotenv' });
  });

  it('a config not loaded from a file resolves its secrets against the process environment', async () => {
    const { secretEnv: _, ...built } = await loadConfig(await file('c.yaml', MINIMAL), { env: { PROBE_PASSWORD: 'from-the-file-load' } });
    const before = process.env.PROBE_PASSWORD;
    process.env.PROBE_PASSWORD = 'from-process-env';
    try {
      expect((await resolveCredentials(built, 'box')).password).toBe('from-process-env');
    } finally {
      if (before === undefined) delete process.env.PROBE_PASSWORD;
      else process.env.PROBE_PASSWORD = before;
    }
  });

  it('a secret that does not resolve names the field', async () => {
    const c = await loadConfig(await file('c.yaml', MINIMAL), { env: {} });
    await expect(resolveCredentials(c, 'box')).rejects.toThrow(
      'targets.box.credentials.password: environment variable PROBE_PASSWORD is not set',
    );
    await expect(resolveSecret({ file: join(dir, 'nope') })).rejects.toThrow('cannot read secret file');
  });

  it('default path: --config, else $BULK_UPLOAD_PROBE_CONFIG, else ./bulk-upload-probe.yaml', () => {
    expect(configPath('/x/a.yaml', {})).toBe('/x/a.yaml');
    expect(configPath(undefined, { BULK_UPLOAD_PROBE_CONFIG: '/y/b.yaml' })).toBe('/y/b.yaml');
    expect(configPath(undefined, {})).toBe(join(process.cwd(), 'bulk-upload-probe.yaml'));
  });

  it('the shipped example configuration is valid', async () => {
    const c = await loadConfig(join(import.meta.dirname, '../../../bulk-upload-probe.example.yaml'), { env: {} });
    expect(Object.keys(c.targets)).toEqual(['box', 'stage', 'prod']);
    expect(c.targets.prod!.keycloak.url).toMatch(/\/auth$/);
  });
});

describe('check-config', () => {
  it('exits 0 and never prints the password', async () => {
    const path = await file('c.yaml', MINIMAL.replace('{ env: PROBE_PASSWORD }', 'very-secret-password-1'));
    const out: string[] = [];
    const err: string[] = [];
    expect(
      await checkConfig(
        path,
        (l) => out.push(l),
        (l) => err.push(l),
      ),
    ).toBe(0);
    const all = [...out, ...err].join('\n');
    expect(all).toContain('target box');
    expect(all).toContain('password  resolved from literal in the file');
    expect(all).not.toContain('very-secret-password-1');
  });

  it('exits 2 on an invalid file or an unresolved secret', async () => {
    const err: string[] = [];
    expect(
      await checkConfig(
        await file('bad.yaml', 'targets: {}\n'),
        () => {},
        (l) => err.push(l),
      ),
    ).toBe(2);
    expect(err.join('\n')).toContain('targets');
    delete process.env.PROBE_PASSWORD;
    expect(
      await checkConfig(
        await file('c.yaml', MINIMAL),
        () => {},
        (l) => err.push(l),
      ),
    ).toBe(2);
    expect(err.join('\n')).toContain('PROBE_PASSWORD');
  });
});
