// The pages and the evidence route over real HTTP: run pages by id, the latest failure's
// redirect, evidence with its content types and headers, and every traversal attempt refused
// (sent as raw request paths, as an attacker would, not as a client would normalise them).
import { request, type Server } from 'node:http';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobState } from '../../../src/model/job.ts';
import type { RunResult } from '../../../src/model/result.ts';
import { runIdOf } from '../../../src/model/run-id.ts';
import { createApp } from '../../../src/server/app.ts';
import { fakeResult } from '../../support/results.ts';

const SECRET = 'SECRET-MARKER-do-not-serve';
const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');
let base: string;
let root: string;
let server: Server;
let port: number;
let runs: RunResult[];

const at = (s: string) => new Date(`2026-11-25T${s}Z`);
const failed = (over: Partial<RunResult>): RunResult => ({
  ...fakeResult({ probe: 'browser', reason: 'auth_rejected', at: at('11:59:00') }),
  ...over,
});

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'bup-app-'));
  root = join(base, 'evidence');
  const folder = join(root, 'box', 'browser', '20261125T115856000Z');
  await mkdir(folder, { recursive: true });
  await writeFile(join(folder, 'screenshot.png'), PNG);
  await writeFile(join(folder, 'trace.zip'), Buffer.from('PK\u0003\u0004 not really a zip'));
  await writeFile(
    join(folder, 'network.json'),
    JSON.stringify([{ method: 'GET', url: 'http://127.0.0.1:1/api/status', status: 401, durationMs: 5, at: '2026-11-25T11:58:57Z' }]),
  );
  await writeFile(join(folder, 'probe.log'), '{"msg":"run started"}\n');
  await writeFile(join(folder, 'notes.txt'), SECRET);
  await writeFile(join(root, 'secret.txt'), SECRET);
  await writeFile(join(base, 'secret.txt'), SECRET);
  await writeFile(join(base, 'history.jsonl'), SECRET);
  // Folders that look like run folders but lead out, or hold a link in place of a file.
  await mkdir(join(base, 'outside', 'x'), { recursive: true });
  await writeFile(join(base, 'outside', 'x', 'network.json'), SECRET);
  await symlink(join(base, 'outside', 'x'), join(root, 'box', 'browser', 'linked'));
  const withLink = join(root, 'box', 'browser', 'with-link');
  await mkdir(withLink);
  await symlink(join(base, 'secret.txt'), join(withLink, 'screenshot.png'));

  runs = [
    failed({ id: '20261125T115856Z-aaaaaa', evidenceDir: folder }),
    failed({ id: '20261125T115800Z-bbbbbb', evidenceDir: join(base, 'outside', 'x') }),
    failed({ id: '20261125T115700Z-cccccc', evidenceDir: join(root, 'box', 'browser', 'linked') }),
    failed({ id: '20261125T115600Z-dddddd', evidenceDir: withLink }),
    failed({ id: '20261125T115500Z-eeeeee', evidenceDir: `${root}/box/browser/../../../outside/x` }),
    failed({ id: '20261125T115400Z-ffffff', evidenceDir: base }),
    { ...fakeResult({ probe: 'browser', ok: true, at: at('11:53:00') }), id: '20261125T115300Z-111111' },
    // Light, then an old record without an id.
    failed({ id: '20261125T115200Z-222222', depth: 'light', reason: 'login_failed' }),
    { ...failed({}), id: undefined, finishedAt: '2026-11-25T11:51:00.000Z', startedAt: '2026-11-25T11:50:56.000Z' },
  ];
  const jobs: JobState[] = [{ probe: 'browser', depth: 'full', target: 'box', running: false, runs: runs.length }];
  const app = createApp({
    health: () => ({ ok: true, problems: [] }),
    runs: (f) => runs.filter((r) => (!f.probe || r.probe === f.probe) && (!f.target || r.target === f.target)).slice(0, f.limit),
    jobs: () => jobs,
    version: 'test',
    evidenceDir: root,
    now: () => Date.parse('2026-11-25T12:00:00Z'),
  });
  server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await rm(base, { recursive: true, force: true });
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** A GET with the path sent exactly as written. */
function get(path: string, method = 'GET'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

const GOOD = '/runs/20261125T115856Z-aaaaaa';

describe('run pages and evidence over HTTP', () => {
  it('serves a run page with the screenshot inline, the trace, the network log; 404 for an unknown run', async () => {
    const page = await get(GOOD);
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.headers['content-security-policy']).toContain("default-src 'none'");
    const html = page.body.toString();
    expect(html).toContain(`<img class="shot" src="${GOOD}/evidence/screenshot.png"`);
    expect(html).toContain(`${GOOD}/evidence/trace.zip`);
    expect(html).toContain('<code>http://127.0.0.1:1/api/status</code>');
    expect(html).not.toContain('notes.txt');
    for (const path of ['/runs/20261125T000000Z-000000', '/runs/nope', '/runs/..%2F..%2Fsecret.txt', '/nothing/here']) {
      const a = await get(path);
      expect(a.status, path).toBe(404);
      expect(a.body.toString()).not.toContain(SECRET);
    }
  });

  it('a record without an id has a derived one, the same every time', async () => {
    const old = runs.at(-1)!;
    const id = runIdOf(old);
    expect(id).toMatch(/^20261125T115056Z-[0-9a-f]{6}$/);
    expect(runIdOf({ ...old })).toBe(id);
    expect((await get(`/runs/${id}`)).status).toBe(200);
  });

  it('serves evidence files with their content type, nosniff, and the trace as an attachment', async () => {
    const png = await get(`${GOOD}/evidence/screenshot.png`);
    expect(png.status).toBe(200);
    expect(png.headers['content-type']).toBe('image/png');
    expect(png.headers['x-content-type-options']).toBe('nosniff');
    expect(png.body.equals(PNG)).toBe(true);
    const trace = await get(`${GOOD}/evidence/trace.zip`);
    expect(trace.headers['content-type']).toBe('application/zip');
    expect(trace.headers['content-disposition']).toBe('attachment; filename="trace-20261125T115856Z-aaaaaa.zip"');
    expect(trace.headers['x-content-type-options']).toBe('nosniff');
    const network = await get(`${GOOD}/evidence/network.json`);
    expect(network.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(network.headers['content-security-policy']).toContain('sandbox');
    const log = await get(`${GOOD}/evidence/probe.log`);
    expect(log.headers['content-type']).toBe('text/plain; charset=utf-8');
    const head = await get(`${GOOD}/evidence/screenshot.png`, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe(String(PNG.length));
    // In the folder, but never written as evidence (result.json was not): 404.
    expect((await get(`${GOOD}/evidence/result.json`)).status).toBe(404);
  });

  it('refuses every traversal attempt: .., encoded, double-encoded, backslashes, absolute paths, other files', async () => {
    const attempts = [
      `${GOOD}/evidence/../../../secret.txt`,
      `${GOOD}/evidence/..%2F..%2F..%2Fsecret.txt`,
      `${GOOD}/evidence/%2e%2e%2f%2e%2e%2f%2e%2e%2fsecret.txt`,
      `${GOOD}/evidence/%252e%252e%252fsecret.txt`,
      `${GOOD}/evidence/..%5C..%5C..%5Csecret.txt`,
      `${GOOD}/evidence/%2Fetc%2Fpasswd`,
      `${GOOD}/evidence/${encodeURIComponent(join(base, 'secret.txt'))}`,
      `${GOOD}/evidence//etc/passwd`,
      `${GOOD}/evidence/notes.txt`,
      `${GOOD}/evidence/screenshot.png%00.txt`,
      `${GOOD}/evidence/screenshot.png%2F..%2Fnotes.txt`,
      `${GOOD}/evidence/%E0%A4%A`,
      `${GOOD}/evidence/__proto__`,
      `${GOOD}/evidence/`,
      `${GOOD}/evidence`,
      '/runs/..%2F..%2Fsecret.txt/evidence/screenshot.png',
      '/runs/20261125T115856Z-aaaaaa%2F..%2F..%2F/evidence/screenshot.png',
      '/evidence/box/browser/20261125T115856000Z/screenshot.png',
      '/secret.txt',
      '/history.jsonl',
    ];
    for (const path of attempts) {
      const a = await get(path);
      expect(a.status, path).toBeGreaterThanOrEqual(400);
      expect(a.body.toString(), path).not.toContain(SECRET);
      expect(a.headers['content-type'], path).not.toMatch(/image|zip|json/);
    }
  });

  it("refuses evidence of a run whose folder (from history on disk) is not one of the evidence folder's", async () => {
    // Outside the evidence folder, a link leading out, a link in place of a file, `..` in the path, the base folder.
    for (const id of [
      '20261125T115800Z-bbbbbb',
      '20261125T115700Z-cccccc',
      '20261125T115600Z-dddddd',
      '20261125T115500Z-eeeeee',
      '20261125T115400Z-ffffff',
    ]) {
      for (const file of ['network.json', 'screenshot.png', 'secret.txt']) {
        const a = await get(`/runs/${id}/evidence/${file}`);
        expect(a.status, `${id} ${file}`).toBe(404);
        expect(a.body.toString()).not.toContain(SECRET);
      }
      const page = await get(`/runs/${id}`);
      expect(page.status).toBe(200);
      expect(page.body.toString()).not.toContain(SECRET);
      expect(page.body.toString()).not.toContain('<img');
    }
  });

  it('redirects to the latest failed run of a target and probe (at a depth), 404 when there is none', async () => {
    const latest = await get('/targets/box/browser/last-failure');
    expect(latest.status).toBe(302);
    expect(latest.headers.location).toBe(GOOD);
    const light = await get('/targets/box/browser/last-failure?depth=light');
    expect(light.headers.location).toBe('/runs/20261125T115200Z-222222');
    expect((await get('/targets/box/api/last-failure')).status).toBe(404);
    expect((await get('/targets/prod/browser/last-failure')).status).toBe(404);
    expect((await get('/targets/box/browser/last-failure?depth=medium')).status).toBe(404);
  });

  it('the status page links each bar of the strip to its run page', async () => {
    const page = await get('/');
    expect(page.status).toBe(200);
    const html = page.body.toString();
    expect(html).toContain(`<a class="bar fail" href="${GOOD}"`);
    expect(html).toContain('<a class="bar ok" href="/runs/20261125T115300Z-111111"');
    expect(html).toContain('<b>7 minutes ago</b>');
  });
});
