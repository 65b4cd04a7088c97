// Planted passwords with awkward characters: the test user's password is set (through Keycloak's
// admin API) to passwords of 3, 8 and 40 characters made of `&=%+"\` and letters, each of which
// changes under URL, form and JSON encoding. For each one, the smoke command runs for real
// (healthy, then failing with evidence: stale-config logs in and gets real tokens,
// test-user-disabled fails at the login page) and the service runs a few runs; then every byte
// the probe wrote or printed (history, evidence with each trace.zip entry, JUnit, the JSON,
// stdout, stderr, service log) is scanned for the password in every spelling and for anything
// JWT-shaped. Expected: no hit. The original password is restored afterwards, whatever happened.
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import YAML from 'yaml';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { clearFault, setFault } from '../../box/control-client.ts';
import { KeycloakAdmin } from '../../box/keycloak-admin.ts';
import { loadConfig } from '../../src/config/load.ts';
import { createLogger } from '../../src/log.ts';
import type { RunResult } from '../../src/model/result.ts';
import { runProbe } from '../../src/run/runner.ts';
import { startService } from '../../src/service/service.ts';
import { fileEntries, filesUnder } from '../support/leak-scan.ts';
import { SHORT_TIMEOUTS } from './setup.ts';

const box = inject('box');
const REPO = join(import.meta.dirname, '../..');
const JWT_SHAPED = /eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*/;

const PLANTED = {
  short: 'a&"',
  eight: 'p%+=\\"&x',
  forty: 'Q&z=%2B+"\\k%26&p=1"+\\%&=T%"\\x+=&%7E"z\\9w',
};

/** Every spelling the password can take on the wire or on disk. */
function spellings(password: string): Array<{ how: string; text: string }> {
  const json = JSON.stringify(password).slice(1, -1);
  const all = [
    { how: 'as is', text: password },
    { how: 'URL-encoded', text: encodeURIComponent(password) },
    { how: 'form-encoded', text: new URLSearchParams({ v: password }).toString().slice(2) },
    { how: 'JSON-escaped', text: json },
    { how: 'JSON-escaped twice', text: JSON.stringify(json).slice(1, -1) },
    {
      how: 'HTML-escaped',
      text: password.replaceAll('&', '&amp;').replaceAll('"', '&quot;').replaceAll('<', '&lt;').replaceAll('>', '&gt;'),
    },
  ];
  // One entry per distinct text (a spelling may equal another), named by every way it arises.
  const byText = new Map<string, string[]>();
  for (const s of all) byText.set(s.text, [...(byText.get(s.text) ?? []), s.how]);
  return [...byText].map(([text, hows]) => ({ how: hows.join(' = '), text }));
}

/**
 * Binary data (PNG/JPEG screenshots, zipped workbooks) is scanned too, but not for spellings
 * shorter than this: a 3- or 4-byte sequence turns up by chance in megabytes of image data.
 */
const MIN_SPELLING_IN_BINARY = 6;

function isBinary(data: Buffer): boolean {
  const head = data.subarray(0, 8192);
  const magic = head.subarray(0, 4).toString('latin1');
  return (
    head.includes(0) ||
    magic.startsWith('\x89PNG') ||
    magic.startsWith('\xff\xd8') ||
    magic.startsWith('PK') ||
    magic.startsWith('GIF8') ||
    magic.startsWith('RIFF')
  );
}

interface Hit {
  where: string;
  what: string;
  at: number;
  context: string;
}

function scan(name: string, data: Buffer, password: string): Hit[] {
  const hits: Hit[] = [];
  const binary = isBinary(data);
  const text = data.toString('latin1');
  const around = (at: number, len: number) => JSON.stringify(text.slice(Math.max(0, at - 60), at + len + 60));
  for (const s of spellings(password)) {
    const needle = Buffer.from(s.text, 'utf8').toString('latin1');
    if (binary && needle.length < MIN_SPELLING_IN_BINARY) continue;
    for (let at = text.indexOf(needle); at >= 0; at = text.indexOf(needle, at + 1)) {
      hits.push({ where: name, what: `password ${s.how} (${JSON.stringify(s.text)})`, at, context: around(at, needle.length) });
    }
  }
  const jwt = new RegExp(JWT_SHAPED.source, 'g');
  for (const m of text.matchAll(jwt))
    hits.push({ where: name, what: 'JWT-shaped', at: m.index, context: around(m.index, Math.min(m[0].length, 40)) });
  return hits;
}

interface Ran {
  code: number | null;
  stdout: Buffer;
  stderr: Buffer;
}

/** `node --import tsx src/cli.ts smoke ...`, as a pipeline runs it, with debug logs. */
async function smoke(configFile: string, junit: string): Promise<Ran> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/cli.ts', 'smoke', '--target', 'box', '--config', configFile, '--json', '--junit', junit],
    {
      cwd: REPO,
      env: { ...process.env, LOG_LEVEL: 'debug' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (c: Buffer) => out.push(c));
  child.stderr.on('data', (c: Buffer) => err.push(c));
  const killer = setTimeout(() => child.kill('SIGKILL'), 150_000);
  const [code] = (await once(child, 'close')) as [number | null];
  clearTimeout(killer);
  return { code, stdout: Buffer.concat(out), stderr: Buffer.concat(err) };
}

function historyLines(text: string): RunResult[] {
  return text
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as RunResult);
}

async function waitFor(what: string, ok: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await ok()) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
}

const admin = new KeycloakAdmin(box.keycloakInternalUrl, box.keycloakAdmin);

beforeAll(async () => {
  // Any password is accepted: realm lin has no password policy.
  const realm = JSON.parse(await readFile(join(REPO, 'fixtures/keycloak/realm-lin.json'), 'utf8')) as { passwordPolicy?: string };
  expect(realm.passwordPolicy ?? '').toBe('');
});

afterAll(async () => {
  // Restore the box as the other suites expect it, even when a test failed midway.
  await clearFault(box.urls.control).catch(() => undefined);
  await admin.setUserPassword(box.testUser.username, box.testUser.password);
});

describe('planted passwords with &=%+"\\ are nowhere in what the probe writes or prints', () => {
  it('the planted passwords are what they claim', () => {
    expect(PLANTED.short).toHaveLength(3);
    expect(PLANTED.eight).toHaveLength(8);
    expect(PLANTED.forty).toHaveLength(40);
    for (const p of Object.values(PLANTED)) for (const c of '&"') expect(p).toContain(c);
    for (const c of '&=%+"\\') {
      expect(PLANTED.eight).toContain(c);
      expect(PLANTED.forty).toContain(c);
    }
    // Each one has distinct URL, form and JSON spellings worth scanning for.
    expect(spellings(PLANTED.forty).length).toBeGreaterThanOrEqual(5);
  });

  for (const [label, password] of Object.entries(PLANTED)) {
    it(`${password.length}-character password ${JSON.stringify(password)} (${label})`, { timeout: 600_000 }, async () => {
      const work = await mkdtemp(join(tmpdir(), `bup-planted-${label}-`));
      // What the probe writes goes under out/; the password file and the configuration are ours.
      const out = join(work, 'out');
      await mkdir(out);
      const secretFile = join(work, 'password');
      await writeFile(secretFile, password, { mode: 0o600 });
      const raw = YAML.parse(await readFile(box.configPath, 'utf8')) as Record<string, any>;
      raw.evidence = { dir: join(out, 'evidence'), keep: 100 };
      raw.history = { file: join(out, 'history.jsonl'), maxBytes: 5_000_000, keep: 3 };
      raw.schedule = { interval: 2, light: false, jitter: 0 };
      raw.targets.box.credentials.password = { file: secretFile };
      raw.targets.box.timeouts = { ...SHORT_TIMEOUTS };
      const configFile = join(work, 'probe.yaml');
      await writeFile(configFile, YAML.stringify(raw));

      await admin.setUserPassword(box.testUser.username, password);

      // The smoke command: healthy, then failing two ways with evidence.
      const cases = [
        { name: 'healthy', fault: undefined, code: 0, reasons: [undefined, undefined] },
        { name: 'stale-config', fault: 'stale-config', code: 1, reasons: ['auth_rejected', 'auth_rejected'] },
        { name: 'test-user-disabled', fault: 'test-user-disabled', code: 1, reasons: ['login_failed', 'login_failed'] },
      ] as const;
      for (const c of cases) {
        if (c.fault) await setFault(box.urls.control, c.fault);
        const ran = await smoke(configFile, join(out, `smoke-${c.name}.junit.xml`)).finally(() =>
          c.fault ? clearFault(box.urls.control) : undefined,
        );
        await writeFile(join(out, `smoke-${c.name}.stdout`), ran.stdout);
        await writeFile(join(out, `smoke-${c.name}.stderr`), ran.stderr);
        expect.soft(ran.code, `smoke ${c.name} exit code; stderr:\n${ran.stderr.toString().slice(-3000)}`).toBe(c.code);
        let results: RunResult[] = [];
        try {
          results = JSON.parse(ran.stdout.toString()) as RunResult[];
        } catch {
          expect.soft(false, `smoke ${c.name}: stdout is not the JSON results: ${ran.stdout.toString().slice(0, 500)}`).toBe(true);
        }
        expect
          .soft(
            results.map((r) => r.reason),
            `smoke ${c.name} reasons`,
          )
          .toEqual(c.reasons);
      }

      // The service: two healthy runs, then runs under stale-config (they log in and get tokens).
      const config = await loadConfig(configFile);
      const logFile = join(out, 'service.log');
      const logStream = createWriteStream(logFile);
      const logger = createLogger({ level: 'debug', destination: logStream });
      const service = await startService({ config, run: runProbe, logger, port: 0, tickMs: 250 });
      const history = async () => historyLines(await readFile(join(out, 'history.jsonl'), 'utf8').catch(() => ''));
      try {
        await waitFor(
          'a healthy run of each probe',
          async () => new Set((await history()).filter((r) => r.ok).map((r) => r.probe)).size === 2,
          90_000,
        );
        await setFault(box.urls.control, 'stale-config');
        await waitFor(
          'a stale-config failure of each probe',
          async () => new Set((await history()).filter((r) => r.reason === 'auth_rejected').map((r) => r.probe)).size === 2,
          90_000,
        );
      } finally {
        await service.stop();
        await clearFault(box.urls.control);
        logStream.end();
        await once(logStream, 'finish');
      }
      const runs = await history();
      expect.soft(runs.filter((r) => !r.ok && !r.cancelled).every((r) => r.evidenceDir)).toBe(true);

      // The scan: every byte under out/.
      const files = await filesUnder(out);
      const traces = files.filter((f) => f.endsWith('trace.zip'));
      // stale-config and test-user-disabled smoke runs, and the service's stale-config browser runs.
      expect(traces.length).toBeGreaterThanOrEqual(3);
      const hits: Hit[] = [];
      let scanned = 0;
      let traceText = '';
      for (const f of files) {
        for (const { name, data } of await fileEntries(f)) {
          hits.push(...scan(name.slice(out.length + 1), data, password));
          if (name.includes('trace.zip!') && !isBinary(data)) traceText += data.toString('latin1');
          scanned++;
        }
      }
      // The scan saw what matters: the traces hold the login form post and the token answer.
      expect(scanned).toBeGreaterThan(30);
      expect(traceText).toContain('login-actions/authenticate');
      expect(traceText).toContain('openid-connect/token');
      const report = hits.map((h) => `${h.where} @${h.at}: ${h.what}: ${h.context}`).join('\n');
      expect(hits, `${hits.length} hit(s) in ${work}:\n${report}`).toEqual([]);
      // Kept for inspection when anything was found; removed when clean.
      await rm(work, { recursive: true, force: true });
    });
  }
});
