// `bulk-upload-probe serve`: the long-running probe service. Runs every configured probe
// against every configured target on the schedule, serves /metrics, /healthz, /readyz,
// /api/runs, a status page and a page per run, logs every run as one JSON line on stdout (on a
// terminal, one readable line: --log-format).
// SIGTERM/SIGINT: the run in flight is cut short and recorded as cancelled, then exit 0.
import { InvalidArgumentError, Option, type Command } from 'commander';
import { ConfigError, configPath, loadConfig, resolveCredentials } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import { createLogger, LOG_FORMATS, type LogFormat, type Logger } from '../log.ts';
import { ownedTargets, parseShard } from '../service/shard.ts';
import type { RunningService } from '../service/service.ts';
import { EXIT_BAD_CONFIG, loadForCommand } from './load.ts';
import { parsePort, usageErrors } from './usage.ts';

/** `--shard`: checked on the command line (a bad value is a usage error, exit 2). */
function checkShard(value: string): string {
  try {
    parseShard(value);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
  return value;
}

export const EXIT_OK = 0;
export { EXIT_BAD_CONFIG };

export interface ServeOptions {
  config?: string;
  target?: string[];
  /** Probe only the targets of this shard (I/N or ordinal/N). */
  shard?: string;
  host?: string;
  port?: number;
  /** pretty: one readable line per run; json: JSON lines; auto (default): pretty on a terminal. */
  logFormat?: LogFormat;
}

export function register(program: Command): void {
  usageErrors(program.command('serve'))
    .description('run the probes on a schedule and serve Prometheus metrics, health and a status page')
    .option('-c, --config <file>', 'configuration file (default: $BULK_UPLOAD_PROBE_CONFIG or ./bulk-upload-probe.yaml)')
    .option(
      '-t, --target <name>',
      'watch only this target (repeatable; default: every target)',
      (v: string, prev: string[] | undefined) => [...(prev ?? []), v],
    )
    .option('--host <address>', 'listen address (default: server.host from the configuration, 127.0.0.1)')
    .option('--port <port>', 'listen port (default: server.port from the configuration, 9687)', parsePort)
    .option(
      '--shard <I/N>',
      'probe only the targets whose stable hash falls in shard I of N (0-based); ordinal/N takes I from the pod name (StatefulSet)',
      checkShard,
    )
    .addOption(
      new Option('--log-format <format>', 'log lines: pretty (one readable line per run), json, or auto (pretty on a terminal)')
        .choices(LOG_FORMATS)
        .default('auto'),
    )
    .action(async (opts: ServeOptions) => {
      process.exitCode = await serve(opts);
    });
}

/** Loads and checks the configuration (for scripts: throws what `serve` prints). */
export async function loadServeConfig(path: string, targets: string[] | undefined): Promise<Config> {
  const config = await loadConfig(path);
  await checkServeConfig(config, path, targets);
  return config;
}

/** Every watched target exists and its secrets resolve. */
async function checkServeConfig(config: Config, path: string, targets: string[] | undefined): Promise<void> {
  const { jobsFor } = await import('../service/scheduler.ts');
  try {
    jobsFor(config, targets);
  } catch (e) {
    throw new ConfigError(`${(e as Error).message} in ${path}`);
  }
  for (const name of targets?.length ? targets : Object.keys(config.targets)) await resolveCredentials(config, name);
}

/** Starts the service for an already loaded configuration. */
export async function startServing(config: Config, opts: Omit<ServeOptions, 'config'>, logger: Logger): Promise<RunningService> {
  const [{ runProbe }, { startService }] = await Promise.all([import('../run/runner.ts'), import('../service/service.ts')]);
  return startService({ config, targets: opts.target, run: runProbe, logger, host: opts.host, port: opts.port });
}

/** Runs until SIGTERM/SIGINT; returns the exit code. */
export async function serve(opts: ServeOptions): Promise<number> {
  const logger = createLogger({ destination: process.stdout, format: opts.logFormat ?? 'auto' });
  const path = configPath(opts.config);
  const config = await loadForCommand(
    path,
    (line) => process.stderr.write(`${line}\n`),
    (c) => checkServeConfig(c, path, opts.target),
  );
  if (!config) return EXIT_BAD_CONFIG;
  let target = opts.target;
  if (opts.shard) {
    const shard = parseShard(opts.shard);
    target = ownedTargets(opts.target ?? Object.keys(config.targets), shard);
    const owned = target.length ? target.join(', ') : 'none (more shards than targets: this pod stays idle)';
    logger.info(
      { event: 'shard', shard: `${shard.index}/${shard.count}`, targets: target },
      `shard ${shard.index}/${shard.count}: ${owned}`,
    );
  }
  const service = await startServing(config, { ...opts, target }, logger);
  await new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      logger.info({ event: 'signal', signal }, `${signal} received`);
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      resolve();
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  await service.stop();
  return EXIT_OK;
}
