// Benchmark: the probes against what a team would run without them, on TIS in a box. Prints
// figures; asserts nothing (speed is shown here, never by a timed test).
//
//   npm run bench -- [--runs N] [--candidates] [--raw] [--only KEY,...] [--config BOX_CONFIG]
//
// Variants, each run N times (default 10) round robin after one warm-up run of each, so that
// the machine's noise falls on all alike:
//   browser floor     a bare Playwright script (bare-journey.ts): the warm browser, a fresh
//                     context, the browser probe's steps and waits, none of its machinery
//   browser probe     runProbe on the same warm browser, evidence and tracing as shipped
//   playwright test   `npx playwright test` of the same journey as a spec, spawned per run
//   api floor         a bare axios script making the API probe's calls
//   api probe         runProbe of the API probe
// --candidates adds the browser probe with each way of recording evidence that was weighed.
//
// Wall time per run; CPU seconds per run: this process's own (all threads) plus the warm
// Chromium's process tree (/proc/<pid>/stat utime+stime, and what each process reaped), read
// before and after; for the spawned command its whole tree (what this process reaped, and what
// its orphaned subprocesses used, followed while they ran: see OrphanWatch). TIS in a box runs
// in a process of its own and is not counted.
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Browser } from 'playwright-core';
import { recordingOverride, type Recording } from '../probes/browser-session.ts';
import { browserSettings, launchBrowser, launchBrowserProcess } from '../src/browser/launch.ts';
import { buildCanaryWorkbook } from '../src/canary.ts';
import { loadConfig, resolveCredentials } from '../src/config/load.ts';
import type { Config } from '../src/config/schema.ts';
import type { ProbeName } from '../src/model/result.ts';
import { runProbe } from '../src/run/runner.ts';
import { apiBase } from '../src/target/generic-upload.ts';
import { bareApiJourney, bareBrowserJourney, bareFileName, type BareTarget } from './bench/bare-journey.ts';
import {
  measureInProcess,
  measureSpawned,
  median,
  phaseMedians,
  SETTLE_MS,
  stats,
  type Phase,
  type Sample,
  type Stats,
} from './bench/measure.ts';

const REPO = resolve(fileURLToPath(new URL('..', import.meta.url)));

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
}
const RUNS = Number(arg('--runs') ?? 10);
if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error('--runs takes a whole number ≥ 1');
const CANDIDATES = process.argv.includes('--candidates');
const ONLY = arg('--only')?.split(',');
const RAW = process.argv.includes('--raw');

/** The ways of recording a browser run's evidence that were weighed (--candidates). */
const RECORDINGS: Record<string, Recording> = {
  'as shipped before: screencast + DOM snapshots + network, every call, from the start': {
    trace: { screenshots: true, snapshots: true },
    from: 'open',
    reads: 'traced',
  },
  'DOM snapshots + network, no screencast, every call, from the start': {
    trace: { screenshots: false, snapshots: true },
    from: 'open',
    reads: 'traced',
  },
  'DOM snapshots + network, reads left out, from the start': {
    trace: { screenshots: false, snapshots: true },
    from: 'open',
    reads: 'untraced',
  },
  'DOM snapshots + network, reads left out, from the login form': {
    trace: { screenshots: false, snapshots: true },
    from: 'login-form',
    reads: 'untraced',
  },
  'screencast + DOM snapshots + network, from the end of login': {
    trace: { screenshots: true, snapshots: true },
    from: 'logged-in',
    reads: 'traced',
  },
  'screencast, no DOM snapshots, no network': { trace: { screenshots: true, snapshots: false }, from: 'open', reads: 'traced' },
  'actions only: no snapshots, no network': { trace: { screenshots: false, snapshots: false }, from: 'open', reads: 'traced' },
  'no trace: screenshot + network log at the failure': { trace: false, from: 'open', reads: 'traced' },
};

type Group = 'browser' | 'api';
interface Variant {
  key: string;
  group: Group;
  label: string;
  floor?: boolean;
  run(): Promise<Sample>;
}

interface BoxInfo {
  startMs: number;
  keycloakStartMs: number;
  configPath: string;
}

async function startBoxProcess(): Promise<{ child: ChildProcess; info: BoxInfo }> {
  const child = fork(join(REPO, 'scripts/bench/box-process.ts'), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const info = await new Promise<BoxInfo>((res, rej) => {
    child.once('message', (m) => res(m as BoxInfo));
    child.once('exit', (code) => rej(new Error(`TIS in a box ended (exit ${code}) before it was up`)));
  });
  return { child, info };
}

async function stopBoxProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.send('stop');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
  if (child.exitCode === null) child.kill('SIGKILL');
}

const t0 = Date.now();
const load0 = loadavg()[0]!;
// --config: a box already up (its probe configuration); else one is started for the run.
const given = arg('--config');
const started = given ? undefined : await startBoxProcess();
const boxConfig = given ?? started!.info.configPath;
if (started) {
  const b = started.info;
  console.log(
    `TIS in a box: up in ${(b.startMs / 1000).toFixed(1)} s (Keycloak ${(b.keycloakStartMs / 1000).toFixed(1)} s), in its own process`,
  );
}

const work = await mkdtemp(join(tmpdir(), 'bench-'));
let browser: Browser | undefined;
let servedBrowser: Browser | undefined;
try {
  const loaded = await loadConfig(boxConfig);
  // Evidence of a failed run goes to the bench's scratch folder, not the box's state.
  const config: Config = { ...loaded, evidence: { dir: join(work, 'evidence'), keep: 20 } };
  const target = config.targets.box!;
  browser = await launchBrowser(await browserSettings(config));
  // The service's way: Chromium driven from a process of its own (src/browser/browser-process.mjs).
  servedBrowser = await launchBrowserProcess(await browserSettings(config));
  const except = started ? [started.child.pid!] : [];
  const credentials = await resolveCredentials(config, 'box');

  // A bare script's fixture: the canary workbook, built once.
  const canaryPath = join(work, 'canary.xlsx');
  const workbook = await buildCanaryWorkbook(target.canary.personId);
  await writeFile(canaryPath, workbook);
  const bare: BareTarget = {
    pageUrl: new URL(target.uploadsPath, target.appUrl).toString(),
    apiBase: apiBase(target.appUrl, target.apiPath),
    tokenUrl: `${target.keycloak.url}/realms/${target.keycloak.realm}/protocol/openid-connect/token`,
    tokenClientId: target.keycloak.tokenClientId,
    username: credentials.username,
    password: credentials.password,
    canaryPath,
    expectedReason: target.canary.expectedReason.replaceAll('{personId}', String(target.canary.personId)),
    pollMs: target.canary.pollInterval * 1000,
  };

  const warm = browser;
  const inBrowser = (work: (mark: (phase: string) => void) => Promise<void>) => measureInProcess({ browserTree: true, except }, work);
  const inNode = (work: (mark: (phase: string) => void) => Promise<void>) => measureInProcess({ browserTree: false, except }, work);

  const served = servedBrowser;
  const probeRun =
    (probe: ProbeName, recording?: Recording, on: Browser = warm) =>
    async (mark: (phase: string) => void) => {
      recordingOverride.value = recording;
      try {
        const r = await runProbe({ probe, targetName: 'box', target, config, browser: on, onStep: (s) => mark(s.name) });
        if (!r.ok) throw new Error(`${r.reason}: ${r.message}`);
      } finally {
        recordingOverride.value = undefined;
      }
    };

  const variants: Variant[] = [
    {
      key: 'browser-floor',
      group: 'browser',
      floor: true,
      label: 'floor: bare Playwright, warm browser',
      run: () =>
        inBrowser(async (mark) => {
          const context = await warm.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 900 } });
          try {
            const page = await context.newPage();
            await bareBrowserJourney(page, bare, await readFile(canaryPath), bareFileName('floor'), mark);
          } finally {
            await context.close();
          }
        }),
    },
    {
      key: 'browser-probe',
      group: 'browser',
      label: 'browser probe (runProbe, warm browser)',
      run: () => inBrowser(probeRun('browser')),
    },
    {
      key: 'browser-probe-served',
      group: 'browser',
      label: 'browser probe, browser in own process',
      run: () => inBrowser(probeRun('browser', undefined, served)),
    },
    ...(CANDIDATES
      ? Object.entries(RECORDINGS).map(([name, rec]): Variant => ({
          key: `candidate ${name}`,
          group: 'browser',
          label: `  probe, ${name}`,
          run: () => inBrowser(probeRun('browser', rec)),
        }))
      : []),
    {
      key: 'playwright-test',
      group: 'browser',
      label: 'npx playwright test, spawned per run',
      run: () => measureSpawned((started) => playwrightTest(bare, work, started)),
    },
    {
      key: 'api-floor',
      group: 'api',
      floor: true,
      label: 'floor: bare axios',
      run: () =>
        inNode(async (mark) => {
          await bareApiJourney(bare, await readFile(canaryPath), bareFileName('axios'), mark);
        }),
    },
    {
      key: 'api-probe',
      group: 'api',
      label: 'API probe (runProbe)',
      run: () => inNode(probeRun('api')),
    },
  ];
  const chosen = variants.filter((v) => !ONLY || ONLY.some((o) => v.key.startsWith(o)));

  process.stdout.write(`warm-up (one run of each):`);
  for (const v of chosen) {
    collectGarbage();
    const s = await v.run();
    process.stdout.write(` ${v.key} ${s.ok ? 'ok' : `FAILED (${s.error})`};`);
  }
  process.stdout.write(`\n${RUNS} rounds:`);
  const samples = new Map<string, Sample[]>(chosen.map((v) => [v.key, []]));
  for (let i = 0; i < RUNS; i++) {
    // Each round starts one variant later, so that none always follows the same other.
    for (let k = 0; k < chosen.length; k++) {
      const v = chosen[(i + k) % chosen.length]!;
      collectGarbage();
      samples.get(v.key)!.push(await v.run());
    }
    process.stdout.write(` ${i + 1}`);
  }
  process.stdout.write('\n');

  report(chosen, samples);
} finally {
  await browser?.close().catch(() => {});
  await servedBrowser?.close().catch(() => {});
  if (started) await stopBoxProcess(started.child);
  await rm(work, { recursive: true, force: true }).catch(() => {});
  console.log(
    `\nload average ${load0.toFixed(2)} at the start, ${loadavg()[0]!.toFixed(2)} at the end; total ${((Date.now() - t0) / 1000).toFixed(0)} s`,
  );
}

/** This process's garbage collected between runs, so that none pays for the one before (not measured). */
function collectGarbage(): void {
  v8.setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

/** One `npx playwright test` run of the bare journey's spec; its steps' times as the spec wrote them. */
async function playwrightTest(
  bare: BareTarget,
  work: string,
  started: (pid: number) => void,
): Promise<{ ok: boolean; error?: string; steps?: Record<string, number> }> {
  const stepsFile = join(work, 'playwright-test-steps.json');
  await rm(stepsFile, { force: true });
  const child = spawn('npx', ['playwright', 'test', '-c', 'scripts/bench/playwright.config.ts'], {
    cwd: REPO,
    env: {
      ...process.env,
      BENCH_TARGET: JSON.stringify(bare),
      BENCH_STEPS_FILE: stepsFile,
      BENCH_OUTPUT_DIR: join(work, 'playwright-test'),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started(child.pid!);
  let out = '';
  child.stdout.on('data', (d) => (out += String(d)));
  child.stderr.on('data', (d) => (out += String(d)));
  const code = await new Promise<number | null>((r) => child.on('close', r));
  if (code !== 0) return { ok: false, error: `exit ${code}: ${out.trim().split('\n').slice(-3).join(' | ')}` };
  const steps = await readFile(stepsFile, 'utf8').then(
    (t) => JSON.parse(t) as Record<string, number>,
    () => undefined,
  );
  return { ok: true, ...(steps ? { steps } : {}) };
}

function f2(x: number): string {
  return Number.isFinite(x) ? x.toFixed(2) : '-';
}
function ratio(x: number): string {
  return Number.isFinite(x) ? `${x.toFixed(2)}×` : '-';
}

function report(variants: Variant[], samples: Map<string, Sample[]>): void {
  const okOf = (key: string) => (samples.get(key) ?? []).filter((s) => s.ok);
  const wallOf = (key: string) => stats(okOf(key).map((s) => s.wall));
  const cpuOf = (key: string) => stats(okOf(key).map((s) => s.cpu));
  const width = Math.max(...variants.map((v) => v.label.length)) + 2;
  const cell = (x: number, floor: number) => `${f2(x).padStart(6)} ${ratio(x / floor).padStart(6)}`;
  const statCols = (st: Stats, fl: Stats) => [cell(st.min, fl.min), cell(st.median, fl.median), cell(st.p95, fl.p95)].join(' ');

  console.log(`\n${RUNS} runs each, interleaved; seconds per run, and (×) the ratio to its group's floor at the same statistic`);
  console.log(
    `${''.padEnd(width)}ok     ${'wall s: min'.padStart(13)} ${'median'.padStart(13)} ${'p95'.padStart(13)}   ${'CPU s: min'.padStart(13)} ${'median'.padStart(13)} ${'p95'.padStart(13)}`,
  );
  for (const group of ['browser', 'api'] as const) {
    const inGroup = variants.filter((v) => v.group === group);
    if (inGroup.length === 0) continue;
    const floor = inGroup.find((v) => v.floor);
    const fw = floor ? wallOf(floor.key) : { min: NaN, median: NaN, p95: NaN };
    const fc = floor ? cpuOf(floor.key) : { min: NaN, median: NaN, p95: NaN };
    console.log(group === 'browser' ? 'browser journey' : 'API journey');
    for (const v of inGroup) {
      const all = samples.get(v.key) ?? [];
      const ok = `${okOf(v.key).length}/${all.length}`;
      console.log(`${v.label.padEnd(width)}${ok.padEnd(6)} ${statCols(wallOf(v.key), fw)}   ${statCols(cpuOf(v.key), fc)}`);
      for (const s of all.filter((x) => !x.ok)) console.log(`${''.padEnd(width)}  failed: ${s.error}`);
    }
  }

  if (RAW) {
    console.log('\nevery run: wall s / CPU s (CPU s of its first step), in round order; ! failed');
    for (const v of variants) {
      const runs = (samples.get(v.key) ?? []).map((x) => `${f2(x.wall)}/${f2(x.cpu)} (${f2(x.phases?.[0]?.cpu ?? NaN)})${x.ok ? '' : '!'}`);
      console.log(`${v.label.padEnd(width)}${runs.join(' ')}`);
    }
  }

  // The goals, on the ratio of medians; beside it the median of the rounds' own ratios (each
  // round's runs ran back to back, so a slow spell of the machine falls on both).
  const med = (key: string) => ({ wall: wallOf(key).median, cpu: cpuOf(key).median });
  const has = (key: string) => samples.has(key);
  const paired = (a: string, b: string, of: (s: Sample) => number) => {
    const xs = samples.get(a)!;
    const ys = samples.get(b)!;
    return median(xs.flatMap((x, i) => (x.ok && ys[i]?.ok ? [of(x) / of(ys[i]!)] : [])));
  };
  console.log('\ngoals (ratio of medians; in brackets the median of the ratios within each round)');
  const goal = (what: string, a: string, b: string, cmp: '<=' | '>=', bound: number): boolean | undefined => {
    if (!has(a) || !has(b)) return undefined;
    const w = med(a).wall / med(b).wall;
    const c = med(a).cpu / med(b).cpu;
    const pw = paired(a, b, (s) => s.wall);
    const pc = paired(a, b, (s) => s.cpu);
    const met = cmp === '<=' ? w <= bound && c <= bound : w >= bound && c >= bound;
    console.log(
      `  ${what.padEnd(44)} wall ${ratio(w).padStart(6)} (${ratio(pw)})  CPU ${ratio(c).padStart(6)} (${ratio(pc)})   goal ${cmp === '<=' ? '≤' : '≥'} ${bound.toFixed(2)}  ${met ? 'met' : 'MISSED'}`,
    );
    return met;
  };
  const browserMet = goal('browser probe / bare Playwright', 'browser-probe', 'browser-floor', '<=', 1.05);
  const testMet = goal('npx playwright test per run / browser probe', 'playwright-test', 'browser-probe', '>=', 1.9);
  const apiMet = goal('API probe / bare axios', 'api-probe', 'api-floor', '<=', 1.1);
  if (browserMet === false)
    breakdown('browser probe against bare Playwright', samples.get('browser-floor')!, samples.get('browser-probe')!);
  if (testMet === false)
    breakdown(
      'npx playwright test against the browser probe (wall only: its CPU is one figure for its whole tree)',
      samples.get('browser-probe')!,
      samples.get('playwright-test')!,
      ['probe', 'test'],
    );
  if (apiMet === false) breakdown('API probe against bare axios', samples.get('api-floor')!, samples.get('api-probe')!);
  if (CANDIDATES) {
    for (const v of variants.filter((x) => x.key.startsWith('candidate ')))
      breakdown(v.label.trim(), samples.get('browser-floor') ?? [], samples.get(v.key)!);
  }
}

/** Where the time goes: median wall and CPU per step (this process's share apart), the base's beside the other's. */
function breakdown(title: string, base: Sample[], other: Sample[], names: [string, string] = ['floor', 'probe']): void {
  const a = phaseMedians(base.filter((s) => s.ok));
  const b = phaseMedians(other.filter((s) => s.ok));
  const steps = [...new Set([...a.map((p) => p.name), ...b.map((p) => p.name)])];
  console.log(
    `\nper step, ${title} (medians, s; login includes opening the context, close the end of the run and ${SETTLE_MS} ms of settling)`,
  );
  const [x, y] = names;
  const cols = [`wall ${x}`, y, '+', `CPU ${x}`, y, '+', `of it Node ${x}`, y, '+'];
  const widths = cols.map((c, i) => Math.max(c.length + 1, i % 3 === 0 ? 12 : 7));
  console.log(`  ${'step'.padEnd(16)}${cols.map((c, i) => c.padStart(widths[i]!)).join('')}`);
  const d = (p?: number, q?: number) =>
    p === undefined || q === undefined || !Number.isFinite(p) || !Number.isFinite(q) ? '-' : (q - p >= 0 ? '+' : '') + (q - p).toFixed(2);
  const sum = (ps: Phase[], k: 'wall' | 'cpu' | 'node') => ps.reduce((t, p) => t + p[k], 0);
  const row = (n: string, p: Phase | undefined, q: Phase | undefined) => {
    const cells = (['wall', 'cpu', 'node'] as const).flatMap((k) => [f2(p?.[k] ?? NaN), f2(q?.[k] ?? NaN), d(p?.[k], q?.[k])]);
    console.log(`  ${n.padEnd(16)}${cells.map((c, i) => c.padStart(widths[i]!)).join('')}`);
  };
  for (const n of steps)
    row(
      n,
      a.find((p) => p.name === n),
      b.find((p) => p.name === n),
    );
  const total = (ps: Phase[]): Phase => ({ name: 'sum', wall: sum(ps, 'wall'), cpu: sum(ps, 'cpu'), node: sum(ps, 'node') });
  row('sum of medians', total(a), total(b));
}
