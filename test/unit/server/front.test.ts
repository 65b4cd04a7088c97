// The service's HTTP front: /metrics, /healthz and /readyz answered on a thread of its own from
// what the main thread sent, even while the main thread is blocked; 503 once the main thread has
// been silent too long; everything else passed to the service's own server unchanged.
import { spawn, type ChildProcess } from 'node:child_process';
import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import axios from 'axios';
import { afterEach, describe, expect, it } from 'vitest';
import { startFront, type Front } from '../../../src/server/front.ts';

const client = axios.create({ validateStatus: () => true, timeout: 5000 });
let front: Front | undefined;
let backend: Server | undefined;
let scraper: ChildProcess | undefined;

afterEach(async () => {
  scraper?.kill('SIGKILL');
  scraper = undefined;
  await front?.close();
  front = undefined;
  await new Promise((r) => (backend ? backend.close(r) : r(undefined)));
  backend = undefined;
});

/** A stand-in for the service's own server: echoes what it got. */
async function startBackend(): Promise<number> {
  backend = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      res.writeHead(req.url === '/missing' ? 404 : 200, { 'Content-Type': 'application/json', 'X-Backend': 'yes' });
      res.end(JSON.stringify({ method: req.method, url: req.url, body, host: req.headers.host }));
    });
  });
  await new Promise<void>((r) => backend!.listen(0, '127.0.0.1', r));
  return (backend.address() as AddressInfo).port;
}

const healthy = { ok: true, problems: [] as string[], lastTickAt: '2026-11-28T00:00:00.000Z' };

async function start(staleAfterMs = 10_000, backendPort?: number): Promise<string> {
  front = await startFront({
    host: '127.0.0.1',
    port: 0,
    backendPort: backendPort ?? (await startBackend()),
    staleAfterMs,
    initial: { metrics: 'up_figure 1\n', contentType: 'text/plain; version=0.0.4', health: healthy, ready: true },
  });
  return `http://127.0.0.1:${front.port}`;
}

/** Busy-waits this thread, as a long synchronous task or a garbage collection would. */
function block(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until);
}

/**
 * Another process asking `paths` every 50 ms and writing one JSON line per answer
 * ({path, status, body, start, end} in ms since the epoch): what Prometheus or the kubelet sees.
 */
function startScraper(
  url: string,
  paths: string[],
): { lines: () => Array<{ path: string; status: number; body: string; start: number; end: number }> } {
  const script = `
    const [url, ...paths] = process.argv.slice(1);
    for (;;) {
      for (const path of paths) {
        const start = Date.now();
        try {
          const res = await fetch(url + path, { signal: AbortSignal.timeout(10000) });
          const body = await res.text();
          console.log(JSON.stringify({ path, status: res.status, body, start, end: Date.now() }));
        } catch (e) {
          console.log(JSON.stringify({ path, status: 0, body: String(e), start, end: Date.now() }));
        }
      }
      await new Promise((r) => setTimeout(r, 50));
    }`;
  let out = '';
  scraper = spawn(process.execPath, ['--input-type=module', '-e', script, url, ...paths], { stdio: ['ignore', 'pipe', 'inherit'] });
  scraper.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  return {
    lines: () =>
      out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { path: string; status: number; body: string; start: number; end: number }),
  };
}

async function until(check: () => boolean, what: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('HTTP front', () => {
  it('answers /metrics, /healthz and /readyz from what was sent, and a request after a send sees it', async () => {
    const url = await start();
    const m = await client.get(`${url}/metrics`);
    expect(m.status).toBe(200);
    expect(m.headers['content-type']).toBe('text/plain; version=0.0.4');
    expect(m.data).toBe('up_figure 1\n');
    expect((await client.get(`${url}/healthz`)).data).toEqual({ status: 'ok', ...healthy });
    expect((await client.get(`${url}/readyz`)).data).toEqual({ status: 'ready' });

    front!.send({ metrics: 'up_figure 2\n', health: { ok: false, problems: ['scheduler not running'] }, ready: false });
    expect((await client.get(`${url}/metrics`)).data).toBe('up_figure 2\n');
    const h = await client.get(`${url}/healthz`);
    expect(h.status).toBe(503);
    expect(h.data).toEqual({ status: 'unhealthy', ok: false, problems: ['scheduler not running'] });
    expect((await client.get(`${url}/readyz`)).status).toBe(503);
  });

  it('passes every other request to the service unchanged, and says 502 when the service does not answer', async () => {
    const url = await start();
    const got = await client.post(`${url}/runs/x?y=1`, 'a body', { headers: { 'Content-Type': 'text/plain' } });
    expect(got.status).toBe(200);
    expect(got.headers['x-backend']).toBe('yes');
    expect(got.data).toEqual({ method: 'POST', url: '/runs/x?y=1', body: 'a body', host: `127.0.0.1:${front!.port}` });
    expect((await client.get(`${url}/missing`)).status).toBe(404);
    // A POST to /metrics is not a scrape: the service answers it.
    expect((await client.post(`${url}/metrics`, '')).headers['x-backend']).toBe('yes');

    await new Promise((r) => backend!.close(r));
    backend = undefined;
    const down = await client.get(`${url}/`);
    expect(down.status).toBe(502);
    // The three answers do not need the service's server.
    expect((await client.get(`${url}/metrics`)).status).toBe(200);
  });

  it('answers scrapes while this thread is blocked', async () => {
    const url = await start();
    const s = startScraper(url, ['/metrics', '/healthz']);
    await until(() => s.lines().some((l) => l.status === 200), "the scraper's first answer");
    const from = Date.now();
    block(3000);
    const to = Date.now();
    await until(() => s.lines().some((l) => l.start > to), 'a scrape after the block');
    const during = s.lines().filter((l) => l.start >= from && l.end <= to);
    // Answered, in full, while this thread could not have answered anything.
    expect(during.filter((l) => l.path === '/metrics' && l.status === 200 && l.body === 'up_figure 1\n').length).toBeGreaterThan(0);
    expect(during.filter((l) => l.path === '/healthz' && l.status === 200).length).toBeGreaterThan(0);
  }, 60_000);

  it('says unhealthy, not ready, and 503 for metrics once this thread has been silent too long; well again when heard from', async () => {
    const url = await start(500);
    // Word every 100 ms, as the service sends its figures every second; none while blocked.
    const heartbeat = setInterval(() => front!.send({ health: healthy, ready: true }), 100);
    try {
      const s = startScraper(url, ['/healthz', '/metrics', '/readyz']);
      await until(() => s.lines().some((l) => l.status === 200), "the scraper's first answer");
      front!.send({ health: healthy, ready: true });
      const from = Date.now();
      block(2500);
      const to = Date.now();
      front!.send({ health: healthy, ready: true });
      await until(() => s.lines().some((l) => l.start > to + 100 && l.path === '/readyz'), 'scrapes after the block');
      // Silent past the limit: every answer of the block's last second says so.
      const late = s.lines().filter((l) => l.start >= from + 1500 && l.end <= to);
      expect(late.length).toBeGreaterThan(0);
      for (const l of late) expect(l.status, `${l.path} while silent`).toBe(503);
      const health = late.find((l) => l.path === '/healthz');
      expect(health).toBeDefined();
      expect(JSON.parse(health!.body)).toMatchObject({
        status: 'unhealthy',
        ok: false,
        problems: [expect.stringMatching(/^main thread silent for \d+ s$/)],
      });
      // Heard from again: well.
      const after = s.lines().filter((l) => l.start > to + 100);
      expect(after.map((l) => l.status)).toEqual(after.map(() => 200));
    } finally {
      clearInterval(heartbeat);
    }
  }, 60_000);

  it('refuses a port in use, and stops listening when closed', async () => {
    const url = await start();
    const taken = front!.port;
    await expect(startFront({ host: '127.0.0.1', port: taken, backendPort: 1, staleAfterMs: 1000, initial: {} })).rejects.toMatchObject({
      code: 'EADDRINUSE',
    });
    await front!.close();
    front = undefined;
    await expect(client.get(`${url}/metrics`)).rejects.toThrow();
  });
});
