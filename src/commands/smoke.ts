// `bulk-upload-probe smoke --target NAME`: runs the probes once, printing each step as it
// finishes, then a verdict with the reason and likely cause. For a person after a deploy, or a
// pipeline step (--json, --junit, --pushgateway). Exit 0 healthy, 1 unhealthy, 2 bad configuration.
import { writeFile } from 'node:fs/promises';
import { Command, Option } from 'commander';
import { ConfigError, configPath, probesFor, resolveCredentials } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import { createLogger } from '../log.ts';
import { formatResult, formatStep, formatVerdict } from '../report/console.ts';
import { toJson } from '../report/json.ts';
import { toJUnitXml } from '../report/junit.ts';
import { displayUrl } from '../model/url.ts';
import { DEPTHS, PROBE_NAMES, type Depth, type ProbeName, type RunResult } from '../model/result.ts';
import type { KeepEvidence } from '../run/runner.ts';
import { EXIT_BAD_CONFIG, loadForCommand } from './load.ts';
import { parseHttpUrl, parseProbe, parseSlowMo, usageErrors } from './usage.ts';

export const EXIT_HEALTHY = 0;
export const EXIT_UNHEALTHY = 1;
export { EXIT_BAD_CONFIG };

interface SmokeOptions {
  target: string;
  config?: string;
  probe?: ProbeName[];
  json?: boolean;
  junit?: string;
  pushgateway?: string;
  /** A visible browser window, for a person at a desktop. */
  headed?: boolean;
  /** Milliseconds between browser actions. */
  slowMo?: number;
  /** When the evidence folder (with the trace) is kept. */
  trace?: KeepEvidence;
  /** Full (default) or light runs. */
  depth?: Depth;
}

export function register(program: Command): void {
  usageErrors(program.command('smoke'))
    .description(
      'run the probes once against one target and say whether Bulk Upload works (exit 0 healthy, 1 unhealthy, 2 bad configuration)',
    )
    .requiredOption('-t, --target <name>', 'target from the configuration file')
    .option('-c, --config <file>', 'configuration file (default: $BULK_UPLOAD_PROBE_CONFIG or ./bulk-upload-probe.yaml)')
    .addOption(
      new Option('-p, --probe <probe>', "probe to run (repeatable; default: the target's probes)")
        .choices(PROBE_NAMES)
        // After choices(): its own parser would not collect repeats, this one checks and collects.
        .argParser(parseProbe),
    )
    .option('--json', 'print the results as JSON on stdout (progress goes to stderr)')
    .option('--junit <file>', 'write a JUnit XML report to this file')
    .option('--pushgateway <url>', 'push the results to this Prometheus Pushgateway', parseHttpUrl)
    .option('--headed', 'show the browser window (for a person at a desktop; needs a display)')
    .option('--slow-mo <ms>', 'wait this many milliseconds between browser actions, to watch them', parseSlowMo)
    .addOption(
      new Option(
        '--depth <depth>',
        'full: the whole canary chain (one upload row per probe); light: log in and check the answers, upload nothing',
      )
        .choices(DEPTHS)
        .default('full'),
    )
    .addOption(
      new Option('--trace <when>', 'keep the trace and evidence folder on failure only, or always (a healthy run too)')
        .choices(['on-failure', 'always'])
        .default('on-failure'),
    )
    .action(async (opts: SmokeOptions) => {
      process.exitCode = await smoke(opts);
    });
}

export async function smoke(opts: SmokeOptions): Promise<number> {
  // Progress is for people; with --json stdout carries only the JSON.
  const say = (line: string) => (opts.json ? process.stderr : process.stdout).write(`${line}\n`);
  const complain = (line: string) => process.stderr.write(`${line}\n`);

  const path = configPath(opts.config);
  const config = await loadForCommand(path, complain, (c) => checkTarget(c, path, opts.target));
  if (!config) return EXIT_BAD_CONFIG;
  const target = config.targets[opts.target]!;
  const runConfig = smokeConfig(config, opts);
  const probes = opts.probe?.length ? [...new Set(opts.probe)] : probesFor(config, opts.target);

  // Ctrl-C / SIGTERM: the run in flight ends promptly and is reported as cancelled.
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const logger = process.env.LOG_LEVEL ? createLogger({ level: process.env.LOG_LEVEL }) : undefined;

  const depth = opts.depth === 'light' ? ', light (nothing uploaded)' : '';
  say(`smoke run: target ${opts.target} (${new URL(target.uploadsPath, target.appUrl)}), probes ${probes.join(', ')}${depth}`);
  const results: RunResult[] = [];
  // Loaded here, not at start: a usage error or --help does not wait for Playwright to load.
  const { runProbe } = await import('../run/runner.ts');
  try {
    for (const probe of probes) {
      if (abort.signal.aborted) break;
      const result = await runProbe({
        probe,
        depth: opts.depth ?? 'full',
        targetName: opts.target,
        target,
        config: runConfig,
        keepEvidence: opts.trace ?? 'on-failure',
        signal: abort.signal,
        ...(logger ? { logger } : {}),
        onStep: (step) => say(formatStep(probe, step)),
      });
      say(formatResult(result));
      results.push(result);
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  say(formatVerdict(opts.target, results));

  if (opts.json) process.stdout.write(toJson(results));
  if (opts.junit) {
    await writeFile(opts.junit, toJUnitXml(results));
    say(`JUnit report: ${opts.junit}`);
  }
  if (opts.pushgateway) {
    try {
      const { pushResults } = await import('../metrics/push.ts');
      await pushResults(opts.pushgateway, results);
      say(`pushed to ${displayUrl(opts.pushgateway)}`);
    } catch (e) {
      complain(`could not push to ${displayUrl(opts.pushgateway)}: ${(e as Error).message}`);
    }
  }
  const healthy = results.length === probes.length && results.every((r) => r.ok);
  return healthy ? EXIT_HEALTHY : EXIT_UNHEALTHY;
}

/**
 * The configuration as this run uses it: --headed and --slow-mo go to the browser's launch, and
 * --trace always records a trace whatever the file says (it is kept with the evidence folder).
 */
export function smokeConfig(config: Config, opts: Pick<SmokeOptions, 'headed' | 'slowMo' | 'trace'>): Config {
  const browser = { ...config.browser };
  if (opts.headed) browser.headless = false;
  if (opts.slowMo) browser.slowMo = opts.slowMo / 1000;
  if (opts.trace === 'always') browser.trace = true;
  return { ...config, browser };
}

/** The target exists and its secrets resolve. */
async function checkTarget(config: Config, path: string, name: string): Promise<void> {
  const have = Object.keys(config.targets).join(', ');
  if (!config.targets[name]) throw new ConfigError(`no target named "${name}" in ${path} (have: ${have})`);
  await resolveCredentials(config, name);
}
