// The command line's exit codes as a pipeline sees them: 2 and one line on stderr for a usage
// error (never a stack trace, never 1, which means "unhealthy"), 0 for --help and --version.
// Usage errors happen before any configuration is read, so no box is needed.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../../..');

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli.ts', ...args],
      // A configuration that does not exist: a usage error must not get as far as reading one.
      {
        cwd: root,
        timeout: 60_000,
        env: { ...process.env, BULK_UPLOAD_PROBE_CONFIG: join(root, 'no-such-config.yaml'), LOG_LEVEL: '', ...env },
      },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr }),
    );
  });
}

const lines = (s: string) => s.split('\n').filter((l) => l !== '');

// Each case starts the CLI afresh (a few seconds each on a busy machine).
describe('bulk-upload-probe usage errors', { timeout: 120_000 }, () => {
  const cases: [string, string[], RegExp][] = [
    ['no command', [], /^error: missing command: check-config, smoke, doctor, serve/],
    ['an unknown command', ['smok'], /^error: unknown command 'smok' \(Did you mean smoke\?\)$/],
    ['an unknown option', ['--colour'], /^error: unknown option '--colour'$/],
    ['an unknown option of a command', ['smoke', '--target', 'box', '--colour'], /^error: unknown option '--colour'$/],
    ['smoke without --target', ['smoke'], /^error: required option '-t, --target <name>' not specified$/],
    [
      'an unknown probe',
      ['smoke', '--target', 'box', '--probe', 'api', '--probe', 'foo'],
      /argument 'foo' is invalid\. Allowed choices are browser, api\.$/,
    ],
    ['a port that is not a number', ['serve', '--port', 'abc'], /argument 'abc' is invalid\. Not a port number/],
    ['a port out of range', ['serve', '--port', '70000'], /argument '70000' is invalid/],
    ['an empty port', ['serve', '--port', ''], /argument '' is invalid/],
    ['a stray argument', ['check-config', 'extra'], /^error: too many arguments for 'check-config'/],
    [
      'a --slow-mo that is not milliseconds',
      ['smoke', '--target', 'box', '--slow-mo', '1s'],
      /argument '1s' is invalid\. Not a number of milliseconds/,
    ],
    [
      'an unknown --trace',
      ['smoke', '--target', 'box', '--trace', 'never'],
      /argument 'never' is invalid\. Allowed choices are on-failure, always\.$/,
    ],
    ['doctor without --target', ['doctor'], /^error: required option '-t, --target <name>' not specified$/],
    ['doctor with an unknown option', ['doctor', '--target', 'box', '--uplaod'], /^error: unknown option '--uplaod'/],
  ];

  it.concurrent.each(cases)('%s: exit 2 and one line on stderr', async (_name, args, message) => {
    const r = await cli(args);
    expect(r.code, r.stderr).toBe(2);
    expect(lines(r.stderr)).toHaveLength(1);
    expect(r.stderr.trim()).toMatch(message);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(r.stdout).toBe('');
  });

  it.concurrent('a bad --pushgateway URL is a usage error that does not print its password', async () => {
    const r = await cli(['smoke', '--target', 'box', '--pushgateway', 'http://pusher:Gateway-Pa55@[not-a-host:9091/']);
    expect(r.code).toBe(2);
    expect(lines(r.stderr)).toEqual([
      "error: option '--pushgateway <url>' argument 'http://***@[not-a-host:9091/' is invalid. Not an http(s) URL.",
    ]);
  });

  it.concurrent.each([['--help'], ['--version'], ['smoke', '--help'], ['help', 'serve']].map((a) => [a.join(' '), a] as const))(
    '%s: exit 0',
    async (_name, args) => {
      const r = await cli([...args]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toBe('');
      expect(r.stdout).not.toBe('');
    },
  );
});

describe('bulk-upload-probe with a configuration', { timeout: 120_000 }, () => {
  async function configFile(): Promise<{ dir: string; path: string }> {
    const dir = await mkdtemp(join(tmpdir(), 'bup-cli-'));
    const path = join(dir, 'probe.yaml');
    // Port 9 on loopback: nothing listens, every request is refused at once.
    await writeFile(
      path,
      `evidence: { dir: ${JSON.stringify(join(dir, 'evidence'))} }
history: { file: ${JSON.stringify(join(dir, 'history.jsonl'))} }
browser: { trace: false }
targets:
  dead:
    appUrl: http://127.0.0.1:9
    keycloak: { url: "http://127.0.0.1:9" }
    credentials: { username: probe, password: not-a-real-secret }
`,
    );
    return { dir, path };
  }

  it.concurrent('check-config: 0 for a valid file, 2 (one line) for an unknown option', async () => {
    const { path } = await configFile();
    const ok = await cli(['check-config', '--config', path]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('configuration OK');
    const bad = await cli(['check-config', '--config', path, '--strict']);
    expect(bad.code).toBe(2);
    expect(lines(bad.stderr)).toEqual(["error: unknown option '--strict'"]);
  });

  it.concurrent.each([
    ['smoke, an unknown target', ['smoke', '--target', 'nope'], /^no target named "nope" in .*probe\.yaml \(have: dead\)$/],
    ['serve, an unknown target', ['serve', '--target', 'nope'], /^unknown target "nope" \(configured: dead\) in .*probe\.yaml$/],
    [
      'smoke, a secret that does not resolve',
      ['smoke', '--target', 'dead'],
      /^targets\.dead\.credentials\.password: .*BUP_NO_SUCH_VAR is not set$/,
    ],
  ] as const)('%s: exit 2 (bad configuration) and one line on stderr', async (_name, args, message) => {
    const { path } = await configFile();
    await writeFile(path, (await readFile(path, 'utf8')).replace('not-a-real-secret', '{ env: BUP_NO_SUCH_VAR }'));
    // serve makes its logger first, and LOG_LEVEL='' (cli's default here) is no level pino knows.
    const r = await cli([...args, '--config', path], { LOG_LEVEL: 'info' });
    expect(r.code, r.stderr).toBe(2);
    expect(lines(r.stderr)).toEqual([expect.stringMatching(message)]);
    expect(r.stdout).toBe('');
  });

  it.concurrent('smoke against a dead target exits 1 (unhealthy), and a failed push never shows the gateway password', async () => {
    const { path } = await configFile();
    const r = await cli([
      'smoke',
      '--config',
      path,
      '--target',
      'dead',
      '--probe',
      'api',
      '--pushgateway',
      'http://pusher:Gateway-Pa55@127.0.0.1:9/?token=t0ken',
    ]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/^could not push to http:\/\/\*\*\*@127\.0\.0\.1:9\/: /m);
    expect(r.stdout + r.stderr).not.toContain('Gateway-Pa55');
    expect(r.stdout + r.stderr).not.toContain('t0ken');
  });

  it.concurrent('an internal error (here: the JUnit file cannot be written) exits 3 with one line, not 1 or 2', async () => {
    const { path } = await configFile();
    const r = await cli([
      'smoke',
      '--config',
      path,
      '--target',
      'dead',
      '--probe',
      'api',
      '--junit',
      join(root, 'no-such-folder', 'report.xml'),
    ]);
    expect(r.code, r.stderr).toBe(3);
    expect(lines(r.stderr)).toEqual([expect.stringMatching(/^bulk-upload-probe: internal error: ENOENT/)]);
  });
});
