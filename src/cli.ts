// The command line: `bulk-upload-probe <command>`. Each command lives in src/commands/.
// Exit codes: 0 healthy/valid, 1 unhealthy (smoke), 2 bad configuration or bad usage.
import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { EXIT_USAGE, exitCodeOf, usageErrors } from './commands/usage.ts';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

// Set before the commands are added, so that they inherit it.
const program = usageErrors(
  new Command().name('bulk-upload-probe').description('Synthetic end-to-end probe for TIS Bulk Upload').version(pkg.version),
);

const commands = ['check-config', 'smoke', 'serve'] as const;
for (const name of commands) {
  const mod = (await import(`./commands/${name}.ts`)) as { register: (p: Command) => void };
  mod.register(program);
}

if (process.argv.length <= 2) {
  // Commander would print the whole help on stderr; a usage error is one line.
  process.stderr.write(`error: missing command: ${commands.join(', ')} (see bulk-upload-probe --help)\n`);
  process.exitCode = EXIT_USAGE;
} else {
  try {
    await program.parseAsync(process.argv);
  } catch (e) {
    process.exitCode = exitCodeOf(e);
  }
}
