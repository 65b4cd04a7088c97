// `tis-box`: start TIS in a box, and switch its faults on and off while it runs.
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stopOnSignals } from './shutdown.ts';
import { Command, InvalidArgumentError, Option } from 'commander';
import { startBox } from './box.ts';
import { clearFault, listFaults, setFault, type FaultParamsInput } from './control-client.ts';
import { FAULT_NAMES } from './faults.ts';

const REPO = resolve(fileURLToPath(new URL('..', import.meta.url)));
const DEFAULT_PORT_BASE = 18080;
const defaultControl = `http://127.0.0.1:${DEFAULT_PORT_BASE + 5}`;

const int =
  (name: string) =>
  (v: string): number => {
    if (!/^\d+$/.test(v)) throw new InvalidArgumentError(`${name} must be a whole number`);
    return Number(v);
  };

const program = new Command().name('tis-box').description('TIS in a box: real Keycloak + stand-ins of the Bulk Upload chain');

program
  .command('up')
  .description('start the box in the foreground; Ctrl-C stops everything it started')
  .option('--port-base <n>', 'first of eight consecutive ports (0 = random free ports)', int('port base'), DEFAULT_PORT_BASE)
  .option('--state-dir <dir>', 'where logs, secrets and the probe config go', resolve(REPO, '.state/box'))
  .option('--quiet', "don't echo service logs (they still go to <state-dir>/logs)")
  .action(async (o: { portBase: number; stateDir: string; quiet?: boolean }) => {
    const box = await startBox({ portBase: o.portBase, stateDir: resolve(o.stateDir), quiet: o.quiet ?? false });
    const u = box.urls;
    process.stdout.write(
      [
        `TIS in a box is up (${(box.startMs / 1000).toFixed(1)} s, Keycloak ${(box.keycloakStartMs / 1000).toFixed(1)} s)`,
        `  admin page     ${u.app}/admin/uploads`,
        `  keycloak       ${u.keycloak}/realms/${box.realm}`,
        `  keycloak (own) ${box.keycloakInternalUrl} (the box's admin path; clients use the one above)`,
        `  generic-upload ${u.genericUpload}/generic-upload/api`,
        `  profile        ${u.profile}/profile/api/userinfo`,
        `  tcs            ${u.tcs}/tcs/api`,
        `  control        ${u.control}/faults`,
        `  test user      ${box.testUser.username} / ${box.testUser.password}`,
        `  probe config   ${box.configPath}`,
        `  logs           ${box.stateDir}/logs`,
        'Ctrl-C stops everything.',
        '',
      ].join('\n'),
    );
    stopOnSignals(
      () => box.stop(),
      (signal) => `${signal}: stopping TIS in a box`,
    );
  });

program
  .command('fault')
  .description(`switch a fault on (${FAULT_NAMES.join(', ')}), or "fault clear [name]"`)
  .argument('<name>', 'fault name, or "clear"')
  .argument('[clearName]', 'with "clear": the fault to clear (all when omitted)')
  .option('--delay-ms <n>', 'slow: how long generic-upload waits before answering', int('delay'))
  .option('--status <n>', 'server-error: 500, 502 or 503', int('status'))
  .addOption(new Option('--mode <mode>', 'login-down: 5xx or refuse').choices(['5xx', 'refuse']))
  .option('--control <url>', 'control URL of the box', defaultControl)
  .action(
    async (
      name: string,
      clearName: string | undefined,
      o: { delayMs?: number; status?: number; mode?: '5xx' | 'refuse'; control: string },
    ) => {
      if (name !== 'clear' && clearName !== undefined) {
        throw new InvalidArgumentError(`unexpected argument "${clearName}" (only "fault clear" takes a second name)`);
      }
      const active = name === 'clear' ? await clearFault(o.control, clearName) : await setFault(o.control, name, paramsOf(o));
      printActive(active);
    },
  );

program
  .command('faults')
  .description('list active and available faults')
  .option('--control <url>', 'control URL of the box', defaultControl)
  .action(async (o: { control: string }) => {
    const list = await listFaults(o.control);
    printActive(list.active);
    process.stdout.write(`available: ${list.available.join(', ')}\n`);
  });

function paramsOf(o: { delayMs?: number; status?: number; mode?: '5xx' | 'refuse' }): FaultParamsInput {
  const p: FaultParamsInput = {};
  if (o.delayMs !== undefined) p.delayMs = o.delayMs;
  if (o.status !== undefined) p.status = o.status;
  if (o.mode !== undefined) p.mode = o.mode;
  return p;
}

function printActive(active: { name: string; params: Record<string, unknown>; since: string }[]): void {
  if (active.length === 0) process.stdout.write('no active faults\n');
  for (const f of active) process.stdout.write(`active: ${f.name} ${JSON.stringify(f.params)} since ${f.since}\n`);
}

try {
  await program.parseAsync(process.argv);
} catch (err) {
  const e = err as { response?: { status: number; data: unknown }; message?: string };
  const detail = e.response ? `${e.response.status} ${JSON.stringify(e.response.data)}` : (e.message ?? String(err));
  process.stderr.write(`tis-box: ${detail}\n`);
  process.exit(1);
}
