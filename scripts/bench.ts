// Benchmark: how long TIS in a box takes to start, and how long and how heavy the probes' runs
// are against it. Prints figures; asserts nothing (speed is shown here, never by a timed test).
//
//   npm run bench -- [--runs N]
import { startBox } from '../box/box.ts';
import { launchBrowser } from '../src/browser/launch.ts';
import { loadConfig } from '../src/config/load.ts';
import { runProbe } from '../src/run/runner.ts';
import { rssOf } from './process-memory.ts';
import type { ProbeName, RunResult } from '../src/model/result.ts';

const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 5;
if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error('--runs takes a whole number ≥ 1');

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
}

const t0 = Date.now();
const box = await startBox({ quiet: true });
console.log(`TIS in a box: up in ${(box.startMs / 1000).toFixed(1)} s (Keycloak ${(box.keycloakStartMs / 1000).toFixed(1)} s)`);

try {
  const config = await loadConfig(box.configPath);
  const target = config.targets.box!;
  const browser = await launchBrowser(config.browser);
  const results: Record<ProbeName, RunResult[]> = { browser: [], api: [] };
  for (let i = 0; i < RUNS; i++) {
    for (const probe of ['api', 'browser'] as const) {
      results[probe].push(await runProbe({ probe, targetName: 'box', target, config, browser }));
    }
  }
  const chromiumRss = rssOf(/chromium/);
  await browser.close();

  console.log(`\n${RUNS} runs per probe (warm browser, fresh context per run):`);
  console.log('probe     ok   p50 s   p95 s   max s   queue wait p50 s   import p50 s');
  for (const [probe, rs] of Object.entries(results)) {
    const d = rs.map((r) => r.durationSeconds);
    const wait = rs.flatMap((r) => (r.canary?.queueWaitSeconds === undefined ? [] : [r.canary.queueWaitSeconds]));
    const imp = rs.flatMap((r) => (r.canary?.importSeconds === undefined ? [] : [r.canary.importSeconds]));
    const ok = rs.filter((r) => r.ok).length;
    console.log(
      `${probe.padEnd(9)} ${`${ok}/${rs.length}`.padEnd(4)} ${quantile(d, 0.5).toFixed(2).padStart(5)}   ${quantile(d, 0.95).toFixed(2).padStart(5)}   ${Math.max(
        ...d,
      )
        .toFixed(2)
        .padStart(5)}   ${quantile(wait, 0.5).toFixed(2).padStart(16)}   ${quantile(imp, 0.5).toFixed(2).padStart(12)}`,
    );
    for (const r of rs.filter((x) => !x.ok)) console.log(`  failed: ${r.reason} ${r.message}`);
  }

  const cold = Date.now();
  const coldRun = await runProbe({ probe: 'browser', targetName: 'box', target, config });
  console.log(
    `\nbrowser probe launching its own Chromium: ${coldRun.durationSeconds.toFixed(2)} s (${coldRun.ok ? 'ok' : coldRun.reason}), wall ${((Date.now() - cold) / 1000).toFixed(2)} s`,
  );

  const mem = process.memoryUsage();
  console.log(
    `\nmemory: this process rss ${mib(mem.rss)} (heap used ${mib(mem.heapUsed)}), Chromium ${mib(chromiumRss)}, Keycloak ${mib(rssOf(/java .*keycloak/))}`,
  );
} finally {
  await box.stop();
  console.log(`\ntotal ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}
