// The status page and a run's page as a person meets them, with real runs: `bulk-upload-probe
// serve` (a real process, on a free loopback port, probing every few seconds) watches the box
// started by the global setup. Healthy runs fill the strips; the 2024-10-15 fault
// (stale-config) makes the browser probe fail, and that run's page shows its screenshot inline
// (loaded, not a broken image) and offers its trace. The fault is cleared and the service
// stopped by its PID at the end, whatever happened.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test, type APIRequestContext } from '@playwright/test';
import { parse, stringify } from 'yaml';
import { clearFault, setFault } from '../../box/control-client.ts';
import type { RunResult } from '../../src/model/result.ts';
import { freePort } from '../monitoring/daemons.ts';
import { boxFromEnv } from '../support/playwright-box.ts';

const box = boxFromEnv();
const root = fileURLToPath(new URL('../../', import.meta.url));

// Pages of the probe service only (no credentials on them): Playwright Test's own trace may stay.
test.describe.configure({ mode: 'serial' });

let dir: string;
let child: ChildProcess | undefined;
let url: string;

/** SIGTERM by PID (the service records the run in flight as cancelled and exits 0); SIGKILL after 20 s. */
async function stop(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null || c.pid === undefined) return;
  const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
  process.kill(c.pid, 'SIGTERM');
  const timer = setTimeout(() => {
    if (c.exitCode === null && c.signalCode === null) process.kill(c.pid!, 'SIGKILL');
  }, 20_000);
  await exited;
  clearTimeout(timer);
}

async function runs(request: APIRequestContext, query = ''): Promise<RunResult[]> {
  const res = await request.get(`${url}/api/runs${query}`, { timeout: 5000 });
  return res.ok() ? ((await res.json()) as { runs: RunResult[] }).runs : [];
}

test.beforeAll(async ({ request }) => {
  test.setTimeout(90_000);
  await clearFault(box.urls.control);
  dir = await mkdtemp(join(tmpdir(), 'bup-status-page-'));
  const config = parse(await readFile(box.configPath, 'utf8')) as Record<string, unknown>;
  const configFile = join(dir, 'probe.yaml');
  await writeFile(
    configFile,
    stringify({
      ...config,
      // Full runs every few seconds; no light runs, no retries: each fault shows in the next run.
      schedule: { ...(config.schedule as object), interval: 8, light: false, retry: false, jitter: 1 },
      history: { file: join(dir, 'history.jsonl'), maxBytes: 1_000_000, keep: 1 },
      evidence: { dir: join(dir, 'evidence'), keep: 10 },
    }),
  );
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  const log = createWriteStream(join(dir, 'serve.log'));
  child = spawn(
    process.execPath,
    [
      join(root, 'bin/bulk-upload-probe.js'),
      'serve',
      '--config',
      configFile,
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--log-format',
      'json',
    ],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  await expect
    .poll(
      async () => {
        if (child!.exitCode !== null)
          throw new Error(`serve exited with ${child!.exitCode}: ${await readFile(join(dir, 'serve.log'), 'utf8')}`);
        return (await request.get(`${url}/readyz`, { timeout: 2000 }).catch(() => undefined))?.status();
      },
      { message: 'serve ready', timeout: 60_000, intervals: [250] },
    )
    .toBe(200);
});

test.afterAll(async () => {
  await clearFault(box.urls.control).catch(() => {});
  if (child) await stop(child);
  child = undefined;
  if (dir) await rm(dir, { recursive: true, force: true });
});

// eslint-disable-next-line no-empty-pattern -- Playwright wants the fixtures object destructured
test.afterEach(async ({}, testInfo) => {
  if (testInfo.status !== testInfo.expectedStatus && dir) {
    await testInfo.attach('serve.log', { path: join(dir, 'serve.log'), contentType: 'text/plain' }).catch(() => {});
  }
});

test('the status page shows each probe with a strip of real runs and the time since its last success', async ({ page, request }) => {
  test.setTimeout(180_000);
  // One healthy run of each probe.
  await expect
    .poll(async () => new Set((await runs(request)).filter((r) => r.ok).map((r) => r.probe)).size, {
      message: 'a healthy browser run and a healthy api run',
      timeout: 150_000,
      intervals: [1000],
    })
    .toBe(2);

  await page.goto(`${url}/`);
  await expect(page).toHaveTitle('bulk-upload-probe');
  const rows = page.locator('tr.job');
  await expect(rows).toHaveCount(2);
  const browserRow = rows.filter({ hasText: 'browser · full' });
  await expect(browserRow.locator('td').first()).toContainText('box');
  await expect(browserRow.locator('.strip .bar')).toHaveCount(60);
  const healthyBars = browserRow.locator('.strip a.bar.ok');
  expect(await healthyBars.count()).toBeGreaterThanOrEqual(1);
  await expect(healthyBars.last()).toHaveAttribute('title', /UTC · ok · \d+\.\d s/);
  await expect(browserRow.locator('td').nth(3)).toContainText(/(\d+ (second|minute)s? ago|just now)/);

  // A bar is a link to its run's page.
  await healthyBars.last().click();
  await expect(page).toHaveURL(/\/runs\/\d{8}T\d{6}Z-[0-9a-f]{6}$/);
  await expect(page.locator('h1')).toContainText('box · browser · full: ok');
  await expect(page.locator('h2', { hasText: 'Steps' })).toBeVisible();
  await expect(page.locator('.tl span').first()).toBeVisible();
});

test('under stale-config the browser run fails; its page shows the screenshot inline and offers the trace', async ({ page, request }) => {
  test.setTimeout(180_000);
  const faultAt = Date.now();
  await setFault(box.urls.control, 'stale-config');
  try {
    let failed: RunResult | undefined;
    await expect
      .poll(
        async () => {
          failed = (await runs(request, '?probe=browser')).find(
            (r) => !r.ok && !r.cancelled && Date.parse(r.startedAt) >= faultAt && r.evidenceDir !== undefined,
          );
          return failed?.reason;
        },
        { message: 'a failed browser run with evidence after the fault', timeout: 150_000, intervals: [1000] },
      )
      .toBe('auth_rejected');

    // The status page names the failure, its likely cause, and links to the run.
    await page.goto(`${url}/`);
    const failure = page.locator('tr.failure').filter({ hasText: 'auth_rejected' }).first();
    await expect(failure).toContainText('Likely cause');
    await expect(page.locator('tr.job', { hasText: 'browser · full' }).locator('.strip a.bar.fail').first()).toBeVisible();

    // The alert's link: the latest failure of the browser probe, redirected to its run page.
    await page.goto(`${url}/targets/box/browser/last-failure?depth=full`);
    await expect(page).toHaveURL(/\/runs\/\d{8}T\d{6}Z-[0-9a-f]{6}$/);
    await expect(page.locator('h1')).toContainText('auth_rejected');
    await expect(page.locator('dl')).toContainText('Likely cause');

    const shot = page.locator('img.shot');
    await expect(shot).toBeVisible();
    await expect
      .poll(() => shot.evaluate((img: HTMLImageElement) => (img.complete ? img.naturalWidth : 0)), { timeout: 15_000 })
      .toBeGreaterThan(0);

    const traceLink = page.getByRole('link', { name: 'Download the trace' });
    await expect(traceLink).toBeVisible();
    await expect(page.locator('pre').first()).toContainText(/^npx playwright show-trace --host 127\.0\.0\.1 --port 9323 trace-\S+\.zip$/);
    const trace = await request.get(new URL((await traceLink.getAttribute('href'))!, url).toString());
    expect(trace.status()).toBe(200);
    expect(trace.headers()['content-type']).toBe('application/zip');
    expect(trace.headers()['content-disposition']).toMatch(/^attachment; filename="trace-.+\.zip"$/);
    expect(trace.headers()['x-content-type-options']).toBe('nosniff');
    expect((await trace.body()).subarray(0, 2).toString()).toBe('PK');

    // The network log came from the evidence folder: the 401 is in it.
    await expect(page.locator('table').filter({ hasText: 'URL (no query string)' })).toContainText('401');
  } finally {
    await clearFault(box.urls.control);
  }
});
