// The runner's promises without a target: it never throws, ends by its deadlines when the
// target never answers, and keeps scrubbed evidence of a failed run.
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema, type Config } from '../../../src/config/schema.ts';
import { runProbe } from '../../../src/run/runner.ts';

const PASSWORD = 'Runner-Test-Secret-991';
let silent: Server;
let silentPort = 0;
const sockets: Socket[] = [];

beforeAll(async () => {
  // Accepts connections and never answers: a target that hangs.
  silent = createServer((s) => sockets.push(s));
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  silentPort = (silent.address() as { port: number }).port;
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((r) => silent.close(r));
});

async function config(keycloakUrl: string, password: unknown = PASSWORD): Promise<Config> {
  const c = configSchema.parse({
    evidence: { dir: await mkdtemp(join(tmpdir(), 'bup-runner-')), keep: 5 },
    targets: {
      t: {
        appUrl: 'http://127.0.0.1:9',
        keycloak: { url: keycloakUrl },
        credentials: { username: 'probe', password },
      },
    },
  });
  // Shorter than the file allows, so the tests stay fast.
  c.targets.t!.timeouts = { ...c.targets.t!.timeouts, request: 0.5, login: 2, run: 3 };
  return c;
}

describe('runProbe', () => {
  it('a Keycloak that never answers ends in timeout within the request timeout, with evidence and no password', async () => {
    const c = await config(`http://127.0.0.1:${silentPort}`);
    const r = await runProbe({ probe: 'api', targetName: 't', target: c.targets.t!, config: c });
    expect(r).toMatchObject({ ok: false, reason: 'timeout', failedStep: 'login' });
    expect(r.message).toContain('Keycloak did not answer POST');
    expect(r.durationSeconds).toBeLessThan(2);
    const files = await readdir(r.evidenceDir!);
    expect(files.sort()).toEqual(['network.json', 'probe.log', 'result.json']);
    for (const f of files) expect(await readFile(join(r.evidenceDir!, f), 'utf8')).not.toContain(PASSWORD);
  });

  it('a refused connection to Keycloak is login_unavailable', async () => {
    const c = await config('http://127.0.0.1:9');
    const r = await runProbe({ probe: 'api', targetName: 't', target: c.targets.t!, config: c });
    expect(r).toMatchObject({ ok: false, reason: 'login_unavailable' });
    expect(r.http.firstBad).toMatchObject({ status: 0, failure: 'ECONNREFUSED' });
  });

  it('never throws: an unresolvable secret becomes a probe_error result naming the field', async () => {
    const c = await config('http://127.0.0.1:9', { env: 'BUP_TEST_UNSET_VARIABLE' });
    const r = await runProbe({ probe: 'api', targetName: 't', target: c.targets.t!, config: c });
    expect(r).toMatchObject({ ok: false, reason: 'probe_error' });
    expect(r.message).toContain('targets.t.credentials.password');
  });

  it('an aborted run is cancelled at once and keeps no evidence', async () => {
    const c = await config(`http://127.0.0.1:${silentPort}`);
    c.targets.t!.timeouts.request = 30;
    c.targets.t!.timeouts.login = 30;
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 200);
    const r = await runProbe({ probe: 'api', targetName: 't', target: c.targets.t!, config: c, signal: abort.signal });
    expect(r.cancelled).toBe(true);
    expect(r.durationSeconds).toBeLessThan(1);
    expect(r.evidenceDir).toBeUndefined();
  });

  it('evidence that cannot be written leaves the result without a folder, says why, and the next run keeps its evidence', async () => {
    const c = await config('http://127.0.0.1:9');
    const good = c.evidence.dir;
    // A file where the evidence folder should be: every write fails, as on a full or read-only disk.
    const blocked = join(good, 'blocked');
    await writeFile(blocked, 'not a folder');
    c.evidence = { ...c.evidence, dir: blocked };
    const r = await runProbe({ probe: 'api', targetName: 't', target: c.targets.t!, config: c });
    expect(r).toMatchObject({ ok: false, reason: 'login_unavailable' });
    expect(r.evidenceDir).toBeUndefined();
    expect(r.evidenceError).toMatch(/ENOTDIR|EEXIST|not a directory/i);
    c.evidence = { ...c.evidence, dir: good };
    const next = await runProbe({ probe: 'api', targetName: 't', target: c.targets.t!, config: c });
    expect(next.evidenceDir).toBeDefined();
    expect(next.evidenceError).toBeUndefined();
  });

  it('old evidence is pruned before a new folder is written, so a full evidence folder recovers', async () => {
    const c = await config('http://127.0.0.1:9');
    c.evidence = { ...c.evidence, keep: 2 };
    for (let i = 0; i < 4; i++) await runProbe({ probe: 'api', targetName: 't', target: c.targets.t!, config: c });
    expect(await readdir(join(c.evidence.dir, 't', 'api'))).toHaveLength(2);
  });
});
