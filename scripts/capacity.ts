// Capacity: how many targets one probe service carries on this machine. For each count N it
// points the service at N targets (distinct names, so distinct canaries, all on one TIS in a
// box), both probes at full depth every `--interval` seconds, and measures over `--rounds`
// intervals: run time (p50/p95), deadlines missed, late starts (waited for a slot), overlaps of
// a job with itself, CPU (service and Chromium), RSS, and /metrics and /healthz latency while
// browser runs are in flight, scraped from a process of its own (scripts/bench/scraper.mjs).
// Prints figures; asserts nothing (speed is shown here, never by a test).
//
//   npm run capacity -- [--targets 1,5,10,20] [--interval 60] [--rounds 3] [--browser-slots N] [--api-slots N]
//                       [--browser-process own|shared]
//
// --browser-process: Chromium driven from a process of its own, as the service does (own, the
// default), or from the service's process (shared), to compare. The box runs in a child process,
// so the service's CPU and memory are its own (with its browser process's: "svc").
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { launchBrowser, launchBrowserProcess } from '../src/browser/launch.ts';
import { loadConfig } from '../src/config/load.ts';
import type { Config } from '../src/config/schema.ts';
import { createLogger } from '../src/log.ts';
import type { RunResult } from '../src/model/result.ts';
import { runProbe } from '../src/run/runner.ts';
import { startService } from '../src/service/service.ts';
import { cpuSecondsOf, pssOf, rssOf } from './process-memory.ts';

const { values: flags } = parseArgs({
  options: {
    targets: { type: 'string', default: '1,5,10,20' },
    interval: { type: 'string', default: '60' },
    rounds: { type: 'string', default: '3' },
    'browser-slots': { type: 'string' },
    'api-slots': { type: 'string' },
    'browser-process': { type: 'string', default: 'own' },
  },
  strict: true,
});
const counts = flags.targets.split(',').map(Number);
const interval = Number(flags.interval);
const rounds = Number(flags.rounds);
if (counts.some((n) => !Number.isInteger(n) || n < 1)) throw new Error('--targets takes whole numbers ≥ 1, comma-separated');
if (!(interval >= 10) || !(rounds >= 1)) throw new Error('--interval takes seconds ≥ 10, --rounds a number ≥ 1');
if (!['own', 'shared'].includes(flags['browser-process'])) throw new Error('--browser-process takes own or shared');
const ownBrowserProcess = flags['browser-process'] === 'own';
/** The service's browser process (Playwright's server side), counted with the service. */
const BROWSER_PROCESS = /browser-process\.mjs/;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mib = (b: number) => Math.round(b / 1024 / 1024);
function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(q * s.length))]! : NaN;
}

/** Starts TIS in a box in a child process; resolves with its probe configuration's path. */
async function startBoxProcess(stateDir: string): Promise<{ child: ChildProcess; configPath: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'box/cli.ts', 'up', '--port-base', '0', '--state-dir', stateDir, '--quiet'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const configPath = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /probe config\s+(\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`the box exited (${code}) before it was up:\n${out}`)));
  });
  return { child, configPath };
}

/**
 * A bare HTTP server in a process of its own, answering "ok": asked as often as the service, it
 * shows what the machine's load alone (CPU shared with Chromium, the box, this script) costs an
 * answer, whatever the service does.
 */
async function startControlServer(): Promise<{ child: ChildProcess; url: string }> {
  const script =
    "require('node:http').createServer((q, s) => s.end('ok')).listen(0, '127.0.0.1', function () { console.log(this.address().port) })";
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<string>((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) => resolve(d.toString().trim()));
    child.once('exit', (code) => reject(new Error(`the control server ended (${code})`)));
  });
  return { child, url: `http://127.0.0.1:${port}/` };
}

/** N copies of the box target, each its own name (so its own canary file names). */
function configFor(base: Config, n: number, stateDir: string): Config {
  const box = base.targets.box!;
  const targets = Object.fromEntries(
    Array.from({ length: n }, (_, i) => [`t${String(i + 1).padStart(2, '0')}`, { ...box, interval: undefined, light: undefined }]),
  );
  const slots = {
    browser: flags['browser-slots'] ? Number(flags['browser-slots']) : base.schedule.maxConcurrentRuns.browser,
    api: flags['api-slots'] ? Number(flags['api-slots']) : base.schedule.maxConcurrentRuns.api,
  };
  return {
    ...base,
    probes: ['browser', 'api'],
    schedule: { ...base.schedule, interval, light: false, retry: false, jitter: Math.min(10, interval / 6), maxConcurrentRuns: slots },
    evidence: { dir: join(stateDir, `evidence-${n}`), keep: 20 },
    history: { ...base.history, file: join(stateDir, `history-${n}.jsonl`) },
    targets,
  };
}

interface Row {
  targets: number;
  runs: number;
  failedCount: number;
  failed: string;
  missed: number;
  late: number;
  overlaps: number;
  p50: { browser: number; api: number };
  p95: { browser: number; api: number };
  slotWaitP95: number;
  cpuService: number;
  cpuChromium: number;
  rssService: number;
  rssChromium: number;
  metricsP50: number;
  metricsP99: number;
  healthzP99: number;
  controlP99: number;
  chromiumIdle: number;
  perContext: number;
}

async function measure(base: Config, n: number, stateDir: string): Promise<Row> {
  const config = configFor(base, n, stateDir);
  const results: RunResult[] = [];
  const starts: Array<{ job: string; start: number; end?: number; wallStart: number; wallEnd?: number }> = [];
  const service = await startService({
    config,
    port: 0,
    host: '127.0.0.1',
    logger: createLogger({ level: 'silent' }),
    launchBrowser: ownBrowserProcess ? launchBrowserProcess : launchBrowser,
    run: async (req) => {
      const s: (typeof starts)[number] = { job: `${req.probe}/${req.targetName}`, start: performance.now(), wallStart: Date.now() };
      starts.push(s);
      try {
        const r = await runProbe(req);
        results.push(r);
        return r;
      } finally {
        s.end = performance.now();
        s.wallEnd = Date.now();
      }
    },
  });
  try {
    // Warm-up: the first interval (launch, JIT, first logins) is not measured.
    await sleep(interval * 1000);
    const chromiumIdle = pssOf(/chromium/);
    const from = results.length;
    const measuredFrom = performance.now();
    const cpu0 = process.cpuUsage();
    const chr0 = cpuSecondsOf(/chromium/);
    const bp0 = cpuSecondsOf(BROWSER_PROCESS);
    const control = await startControlServer();
    const scraper = fork(fileURLToPath(new URL('./bench/scraper.mjs', import.meta.url)), [service.url, control.url], { execArgv: [] });
    const rss = { service: 0, chromium: 0 };
    const memPoints: Array<{ inFlight: number; rss: number }> = [];
    // This script reads memory on the service's own event loop: scrapes that meet a reading are left out.
    const readings: Array<[number, number]> = [];
    const end = performance.now() + rounds * interval * 1000;
    while (performance.now() < end) {
      const inFlight = service.scheduler.states().filter((j) => j.running && j.probe === 'browser').length;
      const from = Date.now();
      const chromium = pssOf(/chromium/);
      rss.service = Math.max(rss.service, process.memoryUsage().rss + rssOf(BROWSER_PROCESS));
      rss.chromium = Math.max(rss.chromium, chromium);
      memPoints.push({ inFlight, rss: chromium });
      readings.push([from, Date.now()]);
      await sleep(2000);
    }
    const cpu = process.cpuUsage(cpu0);
    const browserProcessCpu = cpuSecondsOf(BROWSER_PROCESS) - bp0;
    const chromiumCpu = cpuSecondsOf(/chromium/) - chr0;
    // Only the scrapes made while at least one browser run was in flight: the latency under load.
    const samples = await new Promise<Array<[string, number, number, number]>>((resolve) => {
      scraper.once('message', (m) => resolve(m as Array<[string, number, number, number]>));
      scraper.send('report');
    });
    const browserRuns = starts.filter((x) => x.job.startsWith('browser/'));
    const during = samples.filter(
      ([, at, ms]) =>
        browserRuns.some((r) => at >= r.wallStart && at <= (r.wallEnd ?? Infinity)) &&
        !readings.some(([a, b]) => at <= b + 1 && at + ms >= a - 1),
    );
    control.child.kill('SIGTERM');
    const lat = {
      metrics: during.filter(([p]) => p === 'metrics').map(([, , ms]) => ms),
      healthz: during.filter(([p]) => p === 'healthz').map(([, , ms]) => ms),
      control: during.filter(([p]) => p === 'control').map(([, , ms]) => ms),
    };
    const scrapeFailures = during.filter(([, , , status]) => status !== 200).length;
    if (scrapeFailures > 0) console.log(`  ${scrapeFailures} scrape(s) failed or answered other than 200`);
    const window = results.slice(from);
    const byProbe = (p: string) => window.filter((r) => r.probe === p).map((r) => r.durationSeconds);
    // A start later than its due time by more than the jitter plus a tick waited for a slot.
    const jobs = new Map<string, number[]>();
    for (const s of starts.filter((x) => x.start >= measuredFrom)) jobs.set(s.job, [...(jobs.get(s.job) ?? []), s.start]);
    let late = 0;
    for (const times of jobs.values())
      for (let i = 1; i < times.length; i++) if (times[i]! - times[i - 1]! > (interval + config.schedule.jitter + 1) * 1000) late++;
    let overlaps = 0;
    for (const a of starts)
      for (const b of starts) if (a !== b && a.job === b.job && b.start > a.start && b.start < (a.end ?? Infinity)) overlaps++;
    const metricsText = await (await fetch(`${service.url}/metrics`)).text();
    const waitBuckets = [...metricsText.matchAll(/run_slot_wait_seconds_bucket\{le="([^"]+)",probe="browser"\} (\d+)/g)];
    const waitCount = Number(/run_slot_wait_seconds_count\{probe="browser"\} (\d+)/.exec(metricsText)?.[1] ?? 0);
    const slotWaitP95 = Number(waitBuckets.find(([, , c]) => Number(c) >= 0.95 * waitCount)?.[1] ?? NaN);
    // Memory per browser run: the Chromium RSS rise per run in flight (least squares over the samples).
    const mx = memPoints.reduce((a, p) => a + p.inFlight, 0) / memPoints.length;
    const my = memPoints.reduce((a, p) => a + p.rss, 0) / memPoints.length;
    const sxx = memPoints.reduce((a, p) => a + (p.inFlight - mx) ** 2, 0);
    const perContext = sxx > 0 ? memPoints.reduce((a, p) => a + (p.inFlight - mx) * (p.rss - my), 0) / sxx : NaN;
    const fails = new Map<string, number>();
    for (const r of window.filter((x) => !x.ok)) {
      const reason = r.reason ?? 'failed';
      if (!fails.has(reason)) console.log(`  first ${reason} at ${n} target(s): ${r.probe} ${r.target}: ${r.message}`);
      fails.set(reason, (fails.get(reason) ?? 0) + 1);
    }
    const seconds = (performance.now() - measuredFrom) / 1000;
    return {
      targets: n,
      runs: window.length,
      failedCount: window.filter((x) => !x.ok).length,
      failed: [...fails].map(([k, v]) => `${k} ${v}`).join(', ') || '0',
      missed: window.filter((r) => r.reason === 'timeout').length,
      late,
      overlaps,
      p50: { browser: quantile(byProbe('browser'), 0.5), api: quantile(byProbe('api'), 0.5) },
      p95: { browser: quantile(byProbe('browser'), 0.95), api: quantile(byProbe('api'), 0.95) },
      slotWaitP95,
      cpuService: ((cpu.user + cpu.system) / 1e6 + browserProcessCpu) / seconds,
      cpuChromium: chromiumCpu / seconds,
      rssService: rss.service,
      rssChromium: rss.chromium,
      metricsP50: quantile(lat.metrics, 0.5),
      metricsP99: quantile(lat.metrics, 0.99),
      healthzP99: quantile(lat.healthz, 0.99),
      controlP99: quantile(lat.control, 0.99),
      chromiumIdle,
      perContext,
    };
  } finally {
    await service.stop();
  }
}

const stateDir = await mkdtemp(join(tmpdir(), 'bup-capacity-'));
const box = await startBoxProcess(join(stateDir, 'box'));
const rows: Row[] = [];
try {
  const base = await loadConfig(box.configPath);
  console.log(
    `capacity: ${counts.join(', ')} targets, both probes at full depth every ${interval} s, ${rounds} measured interval(s) each after one warm-up`,
  );
  console.log(
    `slots: browser ${flags['browser-slots'] ?? base.schedule.maxConcurrentRuns.browser}, api ${flags['api-slots'] ?? base.schedule.maxConcurrentRuns.api}; ` +
      `Chromium driven from ${ownBrowserProcess ? 'a process of its own' : "the service's process"}`,
  );
  for (const n of counts) {
    rows.push(await measure(base, n, stateDir));
    const r = rows.at(-1)!;
    console.log(`  ${n} target(s) measured: ${r.runs} runs, failed ${r.failed}`);
  }
} finally {
  box.child.kill('SIGTERM');
  await new Promise((r) => box.child.once('exit', r));
  await rm(stateDir, { recursive: true, force: true });
}

const f = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '-');
console.log(
  '\ntargets  runs  failed  missed  late  overlap  browser p50/p95 s  api p50/p95 s  slot wait p95 s  CPU cores svc+chr  RSS/PSS MiB svc/chr  /metrics p50/p99 ms  /healthz p99 ms  control p99 ms',
);
for (const r of rows)
  console.log(
    [
      String(r.targets).padStart(7),
      String(r.runs).padStart(5),
      String(r.failedCount).padStart(7),
      String(r.missed).padStart(7),
      String(r.late).padStart(5),
      String(r.overlaps).padStart(8),
      `${f(r.p50.browser)}/${f(r.p95.browser)}`.padStart(18),
      `${f(r.p50.api)}/${f(r.p95.api)}`.padStart(14),
      f(r.slotWaitP95).padStart(16),
      `${f(r.cpuService, 2)}+${f(r.cpuChromium, 2)}`.padStart(18),
      `${mib(r.rssService)}/${mib(r.rssChromium)}`.padStart(16),
      `${f(r.metricsP50)}/${f(r.metricsP99)}`.padStart(20),
      f(r.healthzP99).padStart(16),
      f(r.controlP99).padStart(15),
    ].join(' '),
  );
const last = rows.at(-1);
if (last)
  console.log(
    `\nChromium: ${mib(last.chromiumIdle)} MiB PSS between runs (the warm browser), about ${f(last.perContext / 1024 / 1024, 0)} MiB more per browser run in flight`,
  );
for (const r of rows.filter((x) => x.failed !== '0')) console.log(`failures at ${r.targets} target(s): ${r.failed}`);
