// `bulk-upload-probe serve` as a real process against TIS in a box: it probes, serves its
// endpoints, and on SIGTERM cuts the run in flight short, records it as cancelled, exits 0.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import axios from 'axios';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { clearFault } from '../../box/control-client.ts';
import type { RunResult } from '../../src/model/result.ts';
import type { JobState } from '../../src/model/job.ts';
import { freePort, stopChild, waitFor } from './daemons.ts';

const box = inject('box');
const root = fileURLToPath(new URL('../../', import.meta.url));
let dir: string;
let configFile: string;
let child: ChildProcess | undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bup-serve-'));
  await clearFault(box.urls.control);
  const config = parse(await readFile(box.configPath, 'utf8')) as Record<string, unknown>;
  configFile = join(dir, 'probe.yaml');
  await writeFile(
    configFile,
    stringify({
      ...config,
      schedule: { interval: 5, light: false, retry: false, jitter: 1 },
      history: { file: join(dir, 'history.jsonl'), maxBytes: 1_000_000, keep: 1 },
      evidence: { dir: join(dir, 'evidence'), keep: 3 },
    }),
  );
});
afterAll(async () => {
  if (child) await stopChild(child);
  await rm(dir, { recursive: true, force: true });
});

function startServe(args: string[]): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const c = spawn(process.execPath, [join(root, 'bin/bulk-upload-probe.js'), 'serve', ...args], { cwd: dir });
  let out = '';
  c.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  c.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => c.on('exit', (code) => resolve(code)));
  return { child: c, output: () => out, exited };
}

describe('bulk-upload-probe serve', () => {
  it('refuses an unknown target with exit code 2 and says which targets exist', async () => {
    const s = startServe(['--config', configFile, '--target', 'prod']);
    expect(await s.exited).toBe(2);
    expect(s.output()).toMatch(/unknown target "prod".*box/);
  });

  it('probes the box, serves health and runs, and on SIGTERM records the run in flight as cancelled', async () => {
    const port = await freePort();
    const s = startServe(['--config', configFile, '--port', String(port)]);
    child = s.child;
    const url = `http://127.0.0.1:${port}`;
    await waitFor(async () => (await axios.get(`${url}/readyz`, { timeout: 1000 })).status === 200, 'serve ready', 30_000);
    expect((await axios.get(`${url}/healthz`)).data).toMatchObject({ status: 'ok' });

    // Let one run of each probe finish, then catch one in flight.
    await waitFor(
      async () => (await axios.get<{ runs: RunResult[] }>(`${url}/api/runs`)).data.runs.filter((r) => r.ok).length >= 2,
      'two healthy runs',
      90_000,
      500,
    );
    await waitFor(
      async () => (await axios.get<{ jobs: JobState[] }>(`${url}/api/jobs`)).data.jobs.some((j) => j.running),
      'a run in flight',
      30_000,
      100,
    );
    const sent = Date.now();
    process.kill(s.child.pid!, 'SIGTERM');
    expect(await s.exited).toBe(0);
    expect(Date.now() - sent).toBeLessThan(20_000);
    child = undefined;

    const history = (await readFile(join(dir, 'history.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as RunResult);
    expect(history.some((r) => r.cancelled === true && !r.ok)).toBe(true);
    const logLines = s
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(logLines.filter((l) => l.event === 'run_finished').map((l) => l.result)).toContain('cancelled');
    expect(logLines.some((l) => l.event === 'service_stopped')).toBe(true);
    // Every run is one structured line, with its steps' times.
    const success = logLines.find((l) => l.event === 'run_finished' && l.result === 'success')!;
    expect(success).toMatchObject({ target: 'box', ok: true });
    expect(Object.keys(success.steps as object)).toEqual(expect.arrayContaining(['login', 'upload', 'import_started', 'import_finished']));
  }, 150_000);
});
