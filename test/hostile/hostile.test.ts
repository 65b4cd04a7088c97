// The product against a target that misbehaves: every row switches one misbehaviour on in the
// fake (test/support/hostile-target.ts), runs a probe through runProbe, and holds the product
// to the reason it must give, a bound on how long the run may take, a result that survives
// JSON, and no planted password or issued token in the result or anywhere in its evidence.
// The last test keeps the long-running service up through several misbehaviours in turn.
import { readFile } from 'node:fs/promises';
import { Writable } from 'node:stream';
import axios from 'axios';
import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/schema.ts';
import { createLogger } from '../../src/log.ts';
import type { FailureReason } from '../../src/model/failures.ts';
import type { RunResult } from '../../src/model/result.ts';
import { runProbe } from '../../src/run/runner.ts';
import { startService } from '../../src/service/service.ts';
import { WarmBrowser } from '../../src/service/warm-browser.ts';
import { hostileConfig, startHostileTarget, type HostileScenario, type HostileTarget } from '../support/hostile-target.ts';
import { scanDir, scanText, secretSet, type SecretSet } from '../support/leak-scan.ts';

let t: HostileTarget;

beforeAll(async () => {
  t = await startHostileTarget();
});
afterAll(async () => {
  await t?.close();
});
afterEach(() => t.set('healthy'));

/** Everything that must never be written: the planted password and every token the fake issued. */
function secrets(): SecretSet {
  return secretSet([
    // 'Pl4nted' alone also catches a password cut short at one of its special characters.
    { what: 'the planted password', value: t.password, prefix: 7 },
    ...t.issuedTokens().map((value, i) => ({ what: `issued token #${i}`, value, prefix: 20 })),
  ]);
}

interface Ran {
  result?: RunResult;
  /** Wall time of runProbe, seconds. */
  wall: number;
  threw?: unknown;
  /** runProbe had not returned after this many seconds. */
  hung?: number;
}

/** Runs one probe against the fake; gives up waiting (the run may go on) after `giveUpSeconds`. */
async function run(config: Config, probe: 'api' | 'browser', giveUpSeconds: number, browser?: Browser): Promise<Ran> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const gaveUp = new Promise<'gave up'>((resolve) => {
    timer = setTimeout(() => resolve('gave up'), giveUpSeconds * 1000);
  });
  try {
    const out = await Promise.race([runProbe({ probe, targetName: 'hostile', target: config.targets.hostile!, config, browser }), gaveUp]);
    const wall = (performance.now() - started) / 1000;
    return out === 'gave up' ? { wall, hung: giveUpSeconds } : { result: out, wall };
  } catch (err) {
    return { wall: (performance.now() - started) / 1000, threw: err };
  } finally {
    clearTimeout(timer);
  }
}

/** The checks every row shares: it returned in time, survives JSON, leaks nothing. */
async function expectSound(ran: Ran, config: Config, boundSeconds: number): Promise<RunResult> {
  expect(ran.threw, `runProbe threw: ${String(ran.threw)}`).toBeUndefined();
  expect(ran.hung, `runProbe had not returned after ${ran.hung} s`).toBeUndefined();
  const r = ran.result!;
  const json = JSON.stringify(r);
  expect(JSON.parse(json)).toEqual(r);
  const set = secrets();
  expect(scanText('JSON.stringify(result)', json, set)).toEqual([]);
  const { leaks } = await scanDir(config.evidence.dir, set);
  expect(leaks).toEqual([]);
  expect(ran.wall, `wall time ${ran.wall.toFixed(1)} s, bound ${boundSeconds} s (${r.reason ?? 'ok'}: ${r.message})`).toBeLessThan(
    boundSeconds,
  );
  return r;
}

const REQUEST = 2; // HOSTILE_TIMEOUTS.request
/** A single hostile answer is judged at once: the request timeout and a little more. */
const QUICK = REQUEST + 2;
const RUN_DEADLINE = 20; // HOSTILE_TIMEOUTS.run

/** Counts how often `part` occurs in `text`. */
const occurrences = (text: string, part: string) => text.split(part).length - 1;
const ELLIPSIS = /…|\.\.\./;
const MILLION = /1[\s,._\u202f]?000[\s,._\u202f]?000/;

interface Row {
  scenario: HostileScenario;
  /** The reason the product must give, or ok. */
  expected: FailureReason | 'ok';
  /** Wall-time bound for the run, seconds. */
  within: number;
  /** Fields of the target merged into the configuration. */
  target?: Record<string, unknown>;
  /** More that must hold of the result. */
  check?: (r: RunResult) => void;
  /** One odd answer must not poison later runs: the next healthy run in this process passes. */
  thenHealthyPasses?: boolean;
  note: string;
}

const API_ROWS: Row[] = [
  // A healthy journey polls the import to its end: bounded by the run's deadline, not by a speed.
  { scenario: 'healthy', expected: 'ok', within: RUN_DEADLINE, note: 'the whole journey passes' },
  { scenario: 'upload-202', expected: 'ok', within: RUN_DEADLINE, note: 'upload answers 202 Accepted with the same JSON' },
  { scenario: 'token-hang', expected: 'timeout', within: QUICK, note: 'token endpoint accepts the connection, never answers' },
  { scenario: 'token-slow-headers', expected: 'timeout', within: QUICK, note: 'token endpoint sends headers after 10 s' },
  {
    scenario: 'status-slow-body',
    expected: 'timeout',
    within: QUICK,
    note: '/status: headers at once, body one byte per second (ends within request timeout + 2 s, not when the body ends)',
  },
  { scenario: 'status-huge', expected: 'bad_answer', within: QUICK, note: '/status: 200 with a 30 MB JSON list, streamed' },
  { scenario: 'status-login-page', expected: 'auth_rejected', within: QUICK, note: '/status: 200 with a Keycloak-like login page' },
  { scenario: 'status-proxy-error-page', expected: 'bad_answer', within: QUICK, note: "/status: 200 with a proxy's HTML error page" },
  { scenario: 'status-truncated-json', expected: 'bad_answer', within: QUICK, note: '/status: truncated JSON as application/json' },
  {
    scenario: 'status-redirect-loop',
    expected: 'bad_answer',
    within: QUICK,
    note: '/status: 302 to itself; the message says where it points',
    // Once for the request, once more for where the redirect points.
    check: (r) => expect(occurrences(r.message, '/generic-upload/api/status'), r.message).toBeGreaterThanOrEqual(2),
  },
  { scenario: 'status-reset-mid-body', expected: 'network', within: QUICK, note: '/status: connection reset in the middle of the body' },
  {
    scenario: 'canary-status-unknown',
    expected: 'bad_answer',
    // The import deadlines are 8 s each: an unknown status is judged at once, not waited out.
    within: QUICK,
    note: "the canary's fileStatus is ARCHIVED: named in the message, judged long before the import deadline",
    check: (r) => expect(r.message).toContain('ARCHIVED'),
  },
  { scenario: 'canary-status-missing', expected: 'bad_answer', within: QUICK, note: "the canary's fileStatus is missing" },
  { scenario: 'canary-row-missing', expected: 'bad_answer', within: QUICK, note: "the canary's row is missing from /status" },
  { scenario: 'counts-as-strings', expected: 'bad_answer', within: RUN_DEADLINE, note: 'COMPLETED with counts as strings ("1", "0")' },
  { scenario: 'counts-missing', expected: 'bad_answer', within: RUN_DEADLINE, note: 'COMPLETED without counts' },
  {
    scenario: 'status-429-retry-after',
    expected: 'rate_limited',
    within: QUICK,
    note: '/status: 429 with Retry-After: 120, mentioned in the message',
    check: (r) => {
      expect(r.message).toMatch(/Retry-After/i);
      expect(r.message).toContain('120');
    },
  },
  { scenario: 'status-429', expected: 'rate_limited', within: QUICK, note: '/status: 429 without Retry-After' },
  { scenario: 'status-503-empty', expected: 'server_error', within: QUICK, note: '/status: 503 with an empty body' },
  { scenario: 'status-500-empty', expected: 'server_error', within: QUICK, note: '/status: 500 with an empty body' },
  {
    scenario: 'token-non-string',
    expected: 'bad_answer',
    within: QUICK,
    thenHealthyPasses: true,
    note: 'token endpoint: 200 {"access_token":{}}',
  },
  {
    scenario: 'token-empty-string',
    expected: 'bad_answer',
    within: QUICK,
    thenHealthyPasses: true,
    note: 'token endpoint: 200 {"access_token":""}',
  },
  { scenario: 'token-302', expected: 'bad_answer', within: QUICK, note: 'token endpoint: 302 elsewhere' },
  { scenario: 'token-404', expected: 'login_unavailable', within: QUICK, note: 'token endpoint: 404' },
  { scenario: 'token-429', expected: 'rate_limited', within: QUICK, note: 'token endpoint: 429' },
  { scenario: 'token-503', expected: 'login_unavailable', within: QUICK, note: 'token endpoint: 503' },
  {
    scenario: 'token-invalid-grant-hostile',
    expected: 'login_failed',
    within: QUICK,
    note: 'token endpoint: 400 invalid_grant with quotes, backslashes and header-like text',
  },
  {
    scenario: 'upload-500-hostile-text',
    expected: 'server_error',
    within: QUICK,
    note: 'POST /file: 500 with plain text full of quotes and backslashes',
  },
  {
    scenario: 'error-workbook-huge',
    expected: 'bad_answer',
    within: RUN_DEADLINE,
    target: { limits: { errorWorkbook: '64KiB' } },
    note: 'error workbook of 5 MB over a 64 KiB limit',
  },
  {
    scenario: 'error-workbook-long-reason',
    expected: 'import_wrong_result',
    within: RUN_DEADLINE,
    note: 'reason text of 1,000,000 characters: message and reasonText capped, with an ellipsis and the original length',
    check: (r) => {
      for (const [what, text] of [
        ['message', r.message],
        ['canary.reasonText', r.canary?.reasonText ?? ''],
      ] as const) {
        expect(text.length, `${what} is ${text.length} characters`).toBeGreaterThan(0);
        expect(text.length, `${what} is ${text.length} characters`).toBeLessThan(1000);
        expect(text, what).toMatch(ELLIPSIS);
        expect(text, `${what} names the original length`).toMatch(MILLION);
      }
    },
  },
];

describe('the API probe against a hostile target', () => {
  it.each(API_ROWS)('$scenario → $expected ($note)', async (row) => {
    const config = hostileConfig(t, row.target ? { target: row.target } : {});
    t.set(row.scenario);
    const hitsBefore = t.hits(row.scenario);
    const ran = await run(config, 'api', 60);
    t.set('healthy');
    const r = await expectSound(ran, config, row.within);
    if (row.expected === 'ok') {
      expect(r.ok, `${r.reason}: ${r.message}`).toBe(true);
    } else {
      expect(r.ok).toBe(false);
      expect(r.reason, r.message).toBe(row.expected);
    }
    if (row.scenario !== 'healthy') expect(t.hits(row.scenario) - hitsBefore, 'the fake served the misbehaviour').toBeGreaterThan(0);
    row.check?.(r);

    if (row.thenHealthyPasses) {
      const again = await run(config, 'api', 60);
      const r2 = await expectSound(again, config, 6);
      expect(r2.ok, `the next healthy run: ${r2.reason}: ${r2.message}`).toBe(true);
    }
  });
});

describe('the browser probe against a hostile page', () => {
  let warm: WarmBrowser;
  beforeAll(() => {
    warm = new WarmBrowser({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', headless: true });
  });
  afterAll(async () => {
    await warm?.close();
  });

  /** The warm browser (or the one that replaced it) still serves a fresh page. */
  async function expectUsableBrowser(): Promise<void> {
    const check = (async () => {
      const b = await warm.get();
      const ctx = await b.newContext();
      try {
        const page = await ctx.newPage();
        const res = await page.goto(`${t.url}/ping`, { timeout: 10_000 });
        expect(res?.status()).toBe(200);
        expect(await page.evaluate(() => 1 + 1)).toBe(2);
      } finally {
        await ctx.close();
      }
    })();
    const gaveUp = new Promise<never>((_r, reject) =>
      setTimeout(() => reject(new Error('the browser did not serve a fresh page within 20 s')), 20_000).unref(),
    );
    await Promise.race([check, gaveUp]);
  }

  const BROWSER_ROWS: Array<{ scenario: HostileScenario; reason?: FailureReason; note: string }> = [
    { scenario: 'page-busy-loop', note: "the page's script runs for(;;){}: any reason but probe_error" },
    { scenario: 'page-never-finishes', reason: 'timeout', note: 'headers and part of the HTML, then nothing' },
  ];

  it.each(BROWSER_ROWS)('$scenario → not ok within timeouts.run + 15 s, browser usable afterwards ($note)', async (row) => {
    const config = hostileConfig(t, { probe: 'browser' });
    const bound = config.targets.hostile!.timeouts.run + 15;
    const browser = await warm.get();
    t.set(row.scenario);
    const ran = await run(config, 'browser', bound + 30, browser);
    t.set('healthy');
    const r = await expectSound(ran, config, bound);
    expect(r.ok).toBe(false);
    if (row.reason) expect(r.reason, r.message).toBe(row.reason);
    else expect(r.reason, r.message).not.toBe('probe_error');
    expect(t.hits(row.scenario)).toBeGreaterThan(0);
    await expectUsableBrowser();
  });
});

describe('the long-running service against a hostile target', () => {
  it('keeps recording runs and stays healthy while the target misbehaves in turn, and passes again once it mends', async () => {
    const config = hostileConfig(t, { config: { schedule: { interval: 1, jitter: 0 } } });
    const logLines: string[] = [];
    const logger = createLogger({
      level: 'debug',
      destination: new Writable({
        write(chunk, _enc, cb) {
          logLines.push(String(chunk));
          cb();
        },
      }),
    });
    const http = axios.create({ validateStatus: () => true, timeout: 5000, proxy: false });
    const service = await startService({ config, run: runProbe, logger, host: '127.0.0.1', port: 0, tickMs: 200 });
    const healthz: number[] = [];
    const runsSince = async (since: number): Promise<RunResult[]> => {
      const res = await http.get(`${service.url}/api/runs`, { params: { limit: 200 } });
      expect(res.status).toBe(200);
      return (res.data.runs as RunResult[]).filter((r) => Date.parse(r.startedAt) >= since);
    };
    const waitForRuns = async (since: number, n: number, withinMs: number): Promise<RunResult[]> => {
      const until = Date.now() + withinMs;
      let runs: RunResult[] = [];
      while (Date.now() < until) {
        healthz.push((await http.get(`${service.url}/healthz`)).status);
        runs = await runsSince(since);
        if (runs.length >= n) return runs;
        await new Promise((r) => setTimeout(r, 300));
      }
      return runs;
    };
    try {
      for (const scenario of ['status-huge', 'status-slow-body', 'token-non-string', 'status-reset-mid-body'] as const) {
        t.set(scenario);
        const since = Date.now();
        const runs = await waitForRuns(since, 3, 45_000);
        expect(runs.length, `runs recorded during ${scenario}`).toBeGreaterThanOrEqual(3);
        for (const r of runs) expect(r.ok, `${scenario}: a run passed against a misbehaving target (${r.message})`).toBe(false);
        expect(
          healthz.every((s) => s === 200),
          `GET /healthz answered ${[...new Set(healthz)].join(', ')} during ${scenario}`,
        ).toBe(true);
      }
      t.set('healthy');
      const since = Date.now();
      const [mended] = (await waitForRuns(since, 1, 30_000)).slice(-1);
      expect(mended, 'a run once the target mended').toBeDefined();
      expect(mended!.ok, `${mended!.reason}: ${mended!.message}`).toBe(true);
      expect(healthz.every((s) => s === 200)).toBe(true);
    } finally {
      t.set('healthy');
      await service.stop();
    }
    const set = secrets();
    expect(scanText('service log', logLines.join(''), set)).toEqual([]);
    expect(scanText('run history', await readFile(config.history.file, 'utf8'), set)).toEqual([]);
    expect((await scanDir(config.evidence.dir, set)).leaks).toEqual([]);
  }, 300_000);
});
