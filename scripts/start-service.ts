// `npm start`: TIS in a box, and the probe service watching it. Prints where everything is;
// Ctrl-C (or SIGTERM) stops the service (the run in flight is recorded as cancelled), then the box.
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError, Option } from 'commander';
import { startBox } from '../box/box.ts';
import { stopOnSignals } from '../box/shutdown.ts';
import { loadServeConfig, startServing } from '../src/commands/serve.ts';
import { createLogger, LOG_FORMATS, resolveLogFormat, type LogFormat } from '../src/log.ts';

const REPO = resolve(fileURLToPath(new URL('..', import.meta.url)));

const int =
  (name: string) =>
  (v: string): number => {
    if (!/^\d+$/.test(v)) throw new InvalidArgumentError(`${name} must be a whole number`);
    return Number(v);
  };

const opts = new Command()
  .name('start-service')
  .description('start TIS in a box and the probe service watching it')
  .option('--port-base <n>', "first of the box's eight consecutive ports", int('port base'), 18080)
  .option('--state-dir <dir>', "the box's state (logs, secrets, probe config, run history)", resolve(REPO, '.state/box'))
  .option('--port <n>', 'probe service port', int('port'), 9687)
  .addOption(new Option('--log-format <format>', 'pretty, json, or auto (pretty on a terminal)').choices(LOG_FORMATS).default('auto'))
  .parse(process.argv)
  .opts<{ portBase: number; stateDir: string; port: number; logFormat: LogFormat }>();

process.stdout.write('starting TIS in a box (Keycloak takes ~20 s) ...\n');
const box = await startBox({ portBase: opts.portBase, stateDir: resolve(opts.stateDir), quiet: true });
let service: Awaited<ReturnType<typeof startServing>>;
try {
  const config = await loadServeConfig(box.configPath, ['box']);
  service = await startServing(config, { port: opts.port }, createLogger({ destination: process.stdout, format: opts.logFormat }));
} catch (e) {
  process.stderr.write(`the probe service did not start: ${(e as Error).message}\n`);
  await box.stop();
  process.exit(1);
}

const u = box.urls;
process.stdout.write(
  [
    '',
    `TIS in a box is up (${(box.startMs / 1000).toFixed(1)} s) and the probe service is watching it.`,
    `  probe status page  ${service.url}/`,
    `  probe metrics      ${service.url}/metrics`,
    `  recent runs (JSON) ${service.url}/api/runs`,
    `  admin page         ${u.app}/admin/uploads`,
    `  keycloak           ${u.keycloak}/realms/${box.realm}`,
    `  fault control      ${u.control}/faults   (try: npm run box -- fault stale-config${opts.portBase === 18080 ? '' : ` --control ${u.control}`})`,
    `  test user          ${box.testUser.username} / ${box.testUser.password}`,
    `  probe config       ${box.configPath}`,
    `  run history        ${resolve(opts.stateDir, 'history.jsonl')}`,
    `Run logs follow${resolveLogFormat(opts.logFormat, process.stdout) === 'json' ? ' as JSON lines' : ', one line per run'}. Ctrl-C stops everything.`,
    '',
  ].join('\n'),
);

stopOnSignals(
  () => service.stop().then(() => box.stop()),
  (signal) => `${signal}: stopping the probe service, then TIS in a box`,
);
