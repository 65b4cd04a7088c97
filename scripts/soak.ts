// Soak: the long-running probe service watching TIS in a box for hundreds of runs, with the box's
// faults switched on and off on a cycle, sampling what grows in a process that never restarts:
// memory, handles, event-loop delay and the time it takes to redact one trace.
// Prints figures and a verdict; asserts nothing about speed.
//
//   npm run soak -- [--runs 300] [--interval 3] [--jitter 0.5] [--warmup 20] [--sample-every 100]
//                   [--fault-every 40] [--time-limit 40] [--trace FILE] [--keep]
//
// Every flag also reads from the environment: SOAK_RUNS, SOAK_INTERVAL, SOAK_JITTER, SOAK_WARMUP,
// SOAK_SAMPLE_EVERY, SOAK_FAULT_EVERY, SOAK_TIME_LIMIT (minutes), SOAK_TRACE, SOAK_KEEP=1.
//
// Exit 0 when it ran to the end (or to the time limit) with the service alive; 1 when the service
// died (an uncaught error, a stall with no run finishing), /healthz answered non-200 at a sample,
// or no run happened at all.
import { createWriteStream } from 'node:fs';
import { copyFile, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import JSZip from 'jszip';
import YAML from 'yaml';
import { startBox, type BoxDetails } from '../box/box.ts';
import { FAST_TIMEOUTS } from '../box/probe-config.ts';
import { clearFault, setFault, type FaultParamsInput } from '../box/control-client.ts';
import type { FaultName } from '../box/faults.ts';
import { launchBrowser } from '../src/browser/launch.ts';
import { loadConfig } from '../src/config/load.ts';
import type { Config } from '../src/config/schema.ts';
import { scrubTrace } from '../src/evidence/trace.ts';
import { anyOf, locate } from '../probes/locate.ts';
import { createLogger } from '../src/log.ts';
import { redactor, type Redactor } from '../src/redact.ts';
import type { RunResult } from '../src/model/result.ts';
import { runProbe } from '../src/run/runner.ts';
import { startService, type RunningService } from '../src/service/service.ts';
import { rssOf as descendantsRss } from './process-memory.ts';

// ---------------------------------------------------------------------------------------------
// Options

const { values: flags } = parseArgs({
  options: {
    runs: { type: 'string' },
    interval: { type: 'string' },
    jitter: { type: 'string' },
    warmup: { type: 'string' },
    'sample-every': { type: 'string' },
    'fault-every': { type: 'string' },
    'time-limit': { type: 'string' },
    trace: { type: 'string' },
    keep: { type: 'boolean' },
    help: { type: 'boolean' },
  },
  strict: true,
});
if (flags.help) {
  console.log(
    'npm run soak -- [--runs 300] [--interval 3] [--jitter 0.5] [--warmup 20] [--sample-every 100] [--fault-every 40] [--time-limit 40] [--trace FILE] [--keep]',
  );
  process.exit(0);
}

function num(flag: string | undefined, env: string, fallback: number, check: (n: number) => boolean, what: string): number {
  const raw = flag ?? process.env[env];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || !check(n)) throw new Error(`${what}: got ${JSON.stringify(raw)}`);
  return n;
}
const whole = (min: number) => (n: number) => Number.isInteger(n) && n >= min;

const opts = {
  /** Runs (both probes together) before it stops. */
  runs: num(flags.runs, 'SOAK_RUNS', 300, whole(1), '--runs takes a whole number ≥ 1'),
  /** Each probe's schedule interval, seconds (the schema's minimum is 1). */
  interval: num(flags.interval, 'SOAK_INTERVAL', 3, (n) => n >= 1, '--interval takes seconds ≥ 1'),
  jitter: num(flags.jitter, 'SOAK_JITTER', 0.5, (n) => n >= 0, '--jitter takes seconds ≥ 0'),
  /** Healthy runs before the first sample and the first fault. */
  warmup: num(flags.warmup, 'SOAK_WARMUP', 20, whole(1), '--warmup takes a whole number ≥ 1'),
  sampleEvery: num(flags['sample-every'], 'SOAK_SAMPLE_EVERY', 100, whole(1), '--sample-every takes a whole number ≥ 1'),
  /** A fault cycle: on for the first half of this many runs, cleared for the second half. */
  faultEvery: num(flags['fault-every'], 'SOAK_FAULT_EVERY', 40, whole(2), '--fault-every takes a whole number ≥ 2'),
  timeLimitMin: num(flags['time-limit'], 'SOAK_TIME_LIMIT', 40, (n) => n > 0, '--time-limit takes minutes > 0'),
  trace: flags.trace ?? process.env.SOAK_TRACE,
  keep: flags.keep ?? process.env.SOAK_KEEP === '1',
};

/** The faults switched on in turn, each the way it broke (or could break) production. */
const FAULT_CYCLE: Array<{ name: FaultName; params?: FaultParamsInput }> = [
  { name: 'stale-config' },
  { name: 'service-account-disabled' },
  // Longer than every step timeout below, so that runs end as timeouts rather than hang.
  { name: 'slow', params: { delayMs: 12_000 } },
  { name: 'server-error', params: { status: 503 } },
  { name: 'test-user-disabled' },
];

/** Short step timeouts (as the probe integration suites use): faults are seen fast. */
const TIMEOUTS = FAST_TIMEOUTS;
const RUN_DEADLINE_S = Number.parseInt(FAST_TIMEOUTS.run, 10);
/** No run finishing for this long means the service is stuck (its own cut-off is deadline + 2 × 10 s grace). */
const STALL_MS = Math.max(180_000, 3 * RUN_DEADLINE_S * 1000);

/** Which fault the cycle wants on after `n` finished runs (undefined: none). */
function faultFor(n: number): (typeof FAULT_CYCLE)[number] | undefined {
  if (n < opts.warmup) return undefined;
  const k = Math.floor((n - opts.warmup) / opts.faultEvery);
  const pos = (n - opts.warmup) % opts.faultEvery;
  return pos < Math.ceil(opts.faultEvery / 2) ? FAULT_CYCLE[k % FAULT_CYCLE.length] : undefined;
}

// ---------------------------------------------------------------------------------------------
// Bookkeeping

interface Sample {
  runs: number;
  elapsedS: number;
  rssMiB: number;
  heapMiB: number;
  externalMiB: number;
  handles: number;
  loopP99Ms: number;
  redactMs: number;
  redactTextMs: number;
  chromiumMiB: number;
  /** The service's browser process (Playwright's server side, src/browser/browser-process.mjs). */
  browserProcessMiB: number;
  redactorSize: number;
  healthz: number | string;
}

const t0 = Date.now();
let started = 0;
let finished = 0;
let lastFinishedAt = Date.now();
let currentFault: string | undefined;
const byPhase = new Map<string, { runs: number; ok: number; cancelled: number; reasons: Map<string, number> }>();
const reasons = new Map<string, number>();
let cancelled = 0;
let abandoned = 0;
let loggedRuns = 0;
const serviceErrors: string[] = [];
const fatal: string[] = [];
const samples: Sample[] = [];
let healthFailed = false;
let stopReason = '';
let interrupted = false;

const bump = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
const mib = (bytes: number) => bytes / 1024 / 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const say = (line: string) => process.stdout.write(`${line}\n`);
const clock = () => `${((Date.now() - t0) / 1000).toFixed(0).padStart(5)} s`;

process.on('uncaughtException', (err) => {
  // A real service would have crashed here: record it, stop and report.
  fatal.push(`uncaught exception: ${err.stack ?? String(err)}`);
});
process.on('unhandledRejection', (err) => {
  fatal.push(`unhandled rejection: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
});
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    interrupted = true;
    say(`${clock()}  ${sig}: stopping, printing what there is`);
  });
}

/** Resident memory of this process's descendants matching `pattern`; NaN where ps is not there. */
function rssOf(pattern: RegExp): number {
  try {
    return descendantsRss(pattern);
  } catch {
    return NaN;
  }
}

/**
 * A full garbage collection before each memory sample, so that heap and RSS show what is kept
 * rather than what the collector has not reached yet (works without node --expose-gc).
 */
setFlagsFromString('--expose-gc');
const fullGc = runInNewContext('gc') as () => void;

/** The redactor one run would use: a child of the process-wide one once redact.ts has run scopes. */
function redactorForRun(): Redactor {
  return (redactor as unknown as { child?: () => Redactor }).child?.() ?? redactor;
}

/** Least-squares slope of y over x, times 100 (growth per 100 runs). */
function growthPer100(xs: number[], ys: number[]): number {
  const n = xs.length;
  if (n < 2) return NaN;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i]! - mx) * (ys[i]! - my);
    sxx += (xs[i]! - mx) ** 2;
  }
  return sxx === 0 ? NaN : (sxy / sxx) * 100;
}

// ---------------------------------------------------------------------------------------------
// Set-up: work folder, box, a trace to redact, the service's configuration

const workDir = await mkdtemp(join(tmpdir(), 'bup-soak-'));
say(
  `soak: ${opts.runs} runs (browser + api every ${opts.interval} s, jitter ${opts.jitter} s), warm-up ${opts.warmup}, ` +
    `sample every ${opts.sampleEvery}, a fault every ${opts.faultEvery} runs (on for half), time limit ${opts.timeLimitMin} min`,
);
say(`work folder ${workDir}${opts.keep ? ' (kept)' : ' (removed at the end; --keep keeps it)'}`);

let box: BoxDetails | undefined;
let service: RunningService | undefined;
const serviceLog = createWriteStream(join(workDir, 'service.log'));
let partial = '';
const sink = new Writable({
  write(chunk, _enc, cb) {
    serviceLog.write(chunk);
    const text = partial + String(chunk);
    const lines = text.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.startsWith('{')) continue;
      try {
        const rec = JSON.parse(line) as { level?: number; event?: string; msg?: string };
        if (rec.event === 'run_abandoned') abandoned++;
        if (rec.event === 'run_finished') loggedRuns++;
        if ((rec.level ?? 0) >= 50 && serviceErrors.length < 20) serviceErrors.push(`${rec.event ?? ''} ${rec.msg ?? ''}`.trim());
      } catch {
        // not a JSON line
      }
    }
    cb();
  },
});
const logger = createLogger({ level: 'info', destination: sink });

/** A raw trace of a real login on the box's page (password and tokens in it), recorded once. */
async function recordTrace(config: Config, dest: string): Promise<void> {
  const target = config.targets.box!;
  const sel = target.selectors;
  const browser = await launchBrowser(config.browser);
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await context.tracing.start({ screenshots: true, snapshots: true, sources: false });
    const page = await context.newPage();
    await page.goto(`${target.appUrl}${target.uploadsPath}`, { timeout: 30_000 });
    await anyOf(page, sel.loginUsername).first().waitFor({ timeout: 30_000 });
    await (await locate(page, sel.loginUsername)).first().fill(box!.testUser.username);
    await (await locate(page, sel.loginPassword)).first().fill(box!.testUser.password);
    await (await locate(page, sel.loginSubmit)).first().click();
    await anyOf(page, sel.appReady).first().waitFor({ timeout: 30_000 });
    // A few of the table's 2-second refreshes, as a failed run's trace holds.
    await page.waitForTimeout(5_000);
    await context.tracing.stop({ path: dest });
    await context.close();
  } finally {
    await browser.close();
  }
}

/**
 * scrubTrace's wall time, the least of 3: the service's runs share this event loop and the CPU,
 * and the least is the one they disturbed least.
 */
async function timeRedaction(src: string, dst: string): Promise<number> {
  let best = Infinity;
  for (let i = 0; i < 3; i++) {
    const r = redactorForRun();
    const s = performance.now();
    await scrubTrace(src, dst, r);
    best = Math.min(best, performance.now() - s);
  }
  return best;
}

/** The redactor alone over the trace's text entries, synchronously (nothing else runs meanwhile), least of 3. */
function timeRedactText(texts: string[]): number {
  let best = Infinity;
  for (let i = 0; i < 3; i++) {
    const r = redactorForRun();
    const s = performance.now();
    for (const t of texts) r.redact(t);
    best = Math.min(best, performance.now() - s);
  }
  return best;
}

const loop = monitorEventLoopDelay({ resolution: 10 });

async function takeSample(traceFile: string, traceTexts: string[]): Promise<Sample> {
  // The loop delay of the window since the last sample, read before this sample's own work.
  const loopP99Ms = loop.percentile(99) / 1e6;
  fullGc();
  const mem = process.memoryUsage();
  const handles = process.getActiveResourcesInfo().length;
  let healthz: number | string;
  try {
    const res = await fetch(`${service!.url}/healthz`, { signal: AbortSignal.timeout(5_000) });
    healthz = res.status;
    await res.body?.cancel();
  } catch (e) {
    healthz = `no answer (${(e as Error).message})`;
  }
  if (healthz !== 200) healthFailed = true;
  const redactMs = await timeRedaction(traceFile, join(workDir, 'scrubbed-trace.zip'));
  const redactTextMs = timeRedactText(traceTexts);
  const s: Sample = {
    runs: finished,
    elapsedS: (Date.now() - t0) / 1000,
    rssMiB: mib(mem.rss),
    heapMiB: mib(mem.heapUsed),
    externalMiB: mib(mem.external),
    handles,
    loopP99Ms,
    redactMs,
    redactTextMs,
    chromiumMiB: mib(rssOf(/chromium/)),
    browserProcessMiB: mib(rssOf(/browser-process\.mjs/)),
    redactorSize: redactor.size,
    healthz,
  };
  loop.reset();
  return s;
}

let exitCode: number;
try {
  box = await startBox({ quiet: true, stateDir: join(workDir, 'box') });
  say(`${clock()}  TIS in a box up in ${(box.startMs / 1000).toFixed(1)} s (Keycloak ${(box.keycloakStartMs / 1000).toFixed(1)} s)`);

  const raw = YAML.parse(await readFile(box.configPath, 'utf8')) as Record<string, any>;
  raw.schedule = { interval: opts.interval, light: false, jitter: opts.jitter };
  raw.evidence = { dir: join(workDir, 'evidence'), keep: 20 };
  raw.history = { file: join(workDir, 'history.jsonl'), maxBytes: 5_000_000, keep: 3 };
  raw.targets.box.timeouts = TIMEOUTS;
  const configFile = join(workDir, 'soak.yaml');
  await writeFile(configFile, YAML.stringify(raw));
  const config = await loadConfig(configFile);

  // The trace every sample redacts: the same file each time, so a change in time is the redactor's.
  const traceFile = join(workDir, 'trace-to-redact.zip');
  if (opts.trace) await copyFile(resolve(opts.trace), traceFile);
  else await recordTrace(config, traceFile);
  // Once untimed, so that the first sample does not time loading and compiling the scrubber.
  await scrubTrace(traceFile, join(workDir, 'scrubbed-trace.zip'), redactorForRun());
  const entries = Object.values((await JSZip.loadAsync(await readFile(traceFile))).files).filter((f) => !f.dir);
  const traceEntries = entries.length;
  const traceTexts = (await Promise.all(entries.map((e) => e.async('nodebuffer'))))
    .filter((b) => !b.subarray(0, 8192).includes(0) && !/^(\x89PNG|\xff\xd8|PK|GIF8|RIFF)/.test(b.subarray(0, 4).toString('latin1')))
    .map((b) => b.toString('utf8'));
  say(
    `${clock()}  trace to redact: ${opts.trace ? resolve(opts.trace) : 'a login on the box page, recorded now'}, ` +
      `${((await stat(traceFile)).size / 1024).toFixed(0)} KiB, ${traceEntries} entries`,
  );

  const run: typeof runProbe = async (req) => {
    started++;
    const atStart = currentFault ?? 'none';
    try {
      const r: RunResult = await runProbe(req);
      const atEnd = currentFault ?? 'none';
      // A run that saw the fault switch is counted apart from both.
      const phase = atStart === atEnd ? atStart : `${atStart} → ${atEnd}`;
      const p = byPhase.get(phase) ?? { runs: 0, ok: 0, cancelled: 0, reasons: new Map() };
      byPhase.set(phase, p);
      p.runs++;
      if (r.cancelled) {
        cancelled++;
        p.cancelled++;
      } else if (r.ok) p.ok++;
      else {
        bump(reasons, r.reason ?? 'unknown');
        bump(p.reasons, r.reason ?? 'unknown');
      }
      finished++;
      lastFinishedAt = Date.now();
      say(
        `${clock()}  #${String(finished).padStart(4)} ${r.probe.padEnd(7)} ${r.cancelled ? 'cancelled' : r.ok ? 'ok' : r.reason}  ${r.durationSeconds.toFixed(1)} s  [fault: ${phase}]`,
      );
      return r;
    } catch (e) {
      // The runner promises never to throw; if it does, the scheduler records a probe_error.
      finished++;
      lastFinishedAt = Date.now();
      bump(reasons, 'runner_threw');
      say(`${clock()}  #${String(finished).padStart(4)} ${req.probe} runner threw: ${(e as Error).message}`);
      throw e;
    }
  };

  loop.enable();
  service = await startService({ config, run, logger, port: 0 });
  say(`${clock()}  probe service on ${service.url}`);

  const deadline = t0 + opts.timeLimitMin * 60_000;
  let nextSample = opts.warmup;
  for (;;) {
    if (fatal.length) {
      stopReason = 'the service died (uncaught error)';
      break;
    }
    if (interrupted) {
      stopReason = 'interrupted';
      break;
    }
    if (Date.now() > deadline) {
      stopReason = `time limit of ${opts.timeLimitMin} min reached`;
      break;
    }
    if (Date.now() - lastFinishedAt > STALL_MS) {
      stopReason = `no run finished for ${STALL_MS / 1000} s: the service is stuck`;
      fatal.push(stopReason);
      break;
    }
    if (finished >= opts.runs) {
      stopReason = `${opts.runs} runs done`;
      break;
    }
    if (finished >= nextSample) {
      const s = await takeSample(traceFile, traceTexts);
      samples.push(s);
      say(
        `${clock()}  sample at ${s.runs} runs: rss ${s.rssMiB.toFixed(0)} MiB, heap ${s.heapMiB.toFixed(0)} MiB, handles ${s.handles}, ` +
          `loop p99 ${s.loopP99Ms.toFixed(1)} ms, redact ${s.redactMs.toFixed(0)} ms (text ${s.redactTextMs.toFixed(0)} ms), healthz ${s.healthz}`,
      );
      nextSample = (Math.floor(finished / opts.sampleEvery) + 1) * opts.sampleEvery;
    }
    const want = faultFor(finished);
    if (want?.name !== currentFault) {
      try {
        if (currentFault) await clearFault(box.urls.control, currentFault);
        currentFault = undefined;
        if (want) {
          await setFault(box.urls.control, want.name, want.params);
          currentFault = want.name;
        }
        say(`${clock()}  fault ${want ? `${want.name} on` : 'cleared'} after ${finished} runs`);
      } catch (e) {
        say(`${clock()}  fault control failed: ${(e as Error).message}`);
        await sleep(2_000);
      }
    }
    await sleep(250);
  }
  say(`${clock()}  stopping: ${stopReason}`);

  if (service && finished > 0 && samples.at(-1)?.runs !== finished) {
    const s = await takeSample(traceFile, traceTexts).catch(() => undefined);
    if (s) samples.push(s);
  }
} catch (e) {
  fatal.push(`soak set-up or loop failed: ${(e as Error).stack ?? String(e)}`);
} finally {
  const inFlight = started - finished;
  const finishedAtStop = finished;
  const within = async <T>(p: Promise<T>, ms: number, what: string): Promise<void> => {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((r) => {
      timer = setTimeout(() => {
        say(`${clock()}  ${what} did not finish within ${ms / 1000} s`);
        r();
      }, ms);
    });
    await Promise.race([p, late]).finally(() => clearTimeout(timer));
  };
  if (service)
    await within(service.stop(), 60_000, 'stopping the service').catch((e) => say(`service stop failed: ${(e as Error).message}`));
  if (box) {
    await clearFault(box.urls.control).catch(() => undefined);
    await within(box.stop(), 30_000, 'stopping the box').catch((e) => say(`box stop failed: ${(e as Error).message}`));
  }
  loop.disable();
  const handlesAfter = process.getActiveResourcesInfo();

  // -------------------------------------------------------------------------------------------
  // Report
  say('');
  say(`soak ended after ${((Date.now() - t0) / 60_000).toFixed(1)} min: ${stopReason || 'set-up failed'}`);
  say('');
  say('memory after a full GC (ext: Buffers and other memory outside the JS heap); loop p99 over the window since the previous sample;');
  say("redact-one-trace: scrubTrace wall time, least of 3; redact text: the redactor alone over the trace's text entries, least of 3");
  say(
    '  runs  elapsed s  RSS MiB  heap MiB  ext MiB  handles  loop p99 ms  redact-one-trace ms  redact text ms  chromium MiB  browser proc MiB  redactor size  healthz',
  );
  for (const s of samples) {
    say(
      `${String(s.runs).padStart(6)}  ${s.elapsedS.toFixed(0).padStart(9)}  ${s.rssMiB.toFixed(0).padStart(7)}  ${s.heapMiB.toFixed(0).padStart(8)}  ${s.externalMiB.toFixed(0).padStart(7)}  ` +
        `${String(s.handles).padStart(7)}  ${s.loopP99Ms.toFixed(1).padStart(11)}  ${s.redactMs.toFixed(0).padStart(19)}  ${s.redactTextMs.toFixed(0).padStart(14)}  ` +
        `${s.chromiumMiB.toFixed(0).padStart(12)}  ${s.browserProcessMiB.toFixed(0).padStart(16)}  ${String(s.redactorSize).padStart(13)}  ${s.healthz}`,
    );
  }
  if (samples.length >= 2) {
    const xs = samples.map((s) => s.runs);
    say('');
    say(`growth per 100 runs (least-squares over ${samples.length} samples, runs ${xs[0]}–${xs.at(-1)}):`);
    say(
      `  RSS               ${growthPer100(
        xs,
        samples.map((s) => s.rssMiB),
      ).toFixed(1)} MiB`,
    );
    say(
      `  browser process   ${growthPer100(
        xs,
        samples.map((s) => s.browserProcessMiB),
      ).toFixed(1)} MiB RSS`,
    );
    say(
      `  heap used         ${growthPer100(
        xs,
        samples.map((s) => s.heapMiB),
      ).toFixed(1)} MiB`,
    );
    say(
      `  redact one trace  ${growthPer100(
        xs,
        samples.map((s) => s.redactMs),
      ).toFixed(1)} ms`,
    );
    say(
      `  redact text       ${growthPer100(
        xs,
        samples.map((s) => s.redactTextMs),
      ).toFixed(1)} ms`,
    );
    say(
      `  ext memory        ${growthPer100(
        xs,
        samples.map((s) => s.externalMiB),
      ).toFixed(1)} MiB`,
    );
    say(
      `  redactor size     ${growthPer100(
        xs,
        samples.map((s) => s.redactorSize),
      ).toFixed(1)} spellings`,
    );
  } else {
    say('(fewer than two samples: no growth figures)');
  }

  say('');
  say(
    `runs: ${finishedAtStop} finished before the stop, ${inFlight} in flight at the stop; ${cancelled} cancelled in all, ` +
      `${abandoned} abandoned by the scheduler (runner ignored its abort), ${loggedRuns} logged by the service`,
  );
  say(`failures by reason: ${reasons.size ? [...reasons].map(([k, v]) => `${k} ${v}`).join(', ') : 'none'}`);
  say("by the fault on at the run's start (→ at its end, when it changed during the run):");
  for (const [phase, p] of byPhase) {
    say(
      `  ${phase.padEnd(36)} ${String(p.runs).padStart(4)} runs, ${String(p.ok).padStart(4)} ok${p.cancelled ? `, ${p.cancelled} cancelled` : ''}${p.reasons.size ? `; ${[...p.reasons].map(([k, v]) => `${k} ${v}`).join(', ')}` : ''}`,
    );
  }
  if (serviceErrors.length) say(`service error log lines (first ${serviceErrors.length}): ${serviceErrors.join(' | ')}`);
  const byType = new Map<string, number>();
  for (const h of handlesAfter) bump(byType, h);
  say(`active resources after stopping service and box: ${handlesAfter.length} (${[...byType].map(([k, v]) => `${k} ${v}`).join(', ')})`);

  if (fatal.length) {
    say('');
    for (const f of fatal) say(`FATAL: ${f}`);
  }
  if (healthFailed) say('FAIL: /healthz answered non-200 at a sample');
  if (finished === 0) say('FAIL: no run happened');
  exitCode = fatal.length || healthFailed || finished === 0 ? 1 : 0;
  serviceLog.end();
  if (opts.keep) say(`kept: ${workDir} (service.log, history.jsonl, evidence/, box/logs/)`);
  else await rm(workDir, { recursive: true, force: true }).catch(() => undefined);
  say(`exit ${exitCode}`);
}
process.exit(exitCode);
