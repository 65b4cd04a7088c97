// The command line: `bulk-upload-probe <command>`. Each command lives in src/commands/.
// Exit codes: 0 healthy/valid, 1 unhealthy (smoke), 2 bad configuration or bad usage, 3 an
// internal error of the probe.
import { Command } from 'commander';
import { EXIT_USAGE, exitCodeOf, usageErrors } from './commands/usage.ts';
import { redact } from './redact.ts';
import { VERSION } from './version.ts';

const EXIT_INTERNAL = 3;

// Set before the commands are added, so that they inherit it.
const program = usageErrors(
  new Command().name('bulk-upload-probe').description('Synthetic end-to-end probe for TIS Bulk Upload').version(VERSION),
);

const commands = ['check-config', 'smoke', 'doctor', 'serve'] as const;
for (const name of commands) {
  const mod = (await import(`./commands/${name}.ts`)) as { register: (p: Command) => void };
  mod.register(program);
}

if (process.argv.length <= 2) {
  // Commander would print the whole help on stderr; a usage error is one line.
  process.stderr.write(`error: missing command: ${commands.join(', ')} (see bulk-upload-probe --help)\n`);
  process.exitCode = EXIT_USAGE;
} else {
  // Once the command has finished, nothing it left behind (a worker thread, a socket kept alive,
  // a browser slow to let go under load) may keep a pipeline waiting: the process ends with its
  // exit code at most EXIT_GRACE_MS later. The timer itself holds nothing open.
  const EXIT_GRACE_MS = 3_000;
  try {
    await program.parseAsync(process.argv);
  } catch (e) {
    try {
      process.exitCode = exitCodeOf(e);
    } catch {
      // A fault of the probe itself (never the target's: runs end as results): one line, exit 3,
      // so that a pipeline never reads it as "unhealthy" (1) or "bad configuration" (2).
      process.stderr.write(`bulk-upload-probe: internal error: ${redact(e instanceof Error ? e.message.split('\n')[0]! : String(e))}\n`);
      if (process.env.LOG_LEVEL === 'debug' && e instanceof Error) process.stderr.write(`${redact(e.stack ?? '')}\n`);
      process.exitCode = EXIT_INTERNAL;
    }
  } finally {
    setTimeout(() => process.exit(), EXIT_GRACE_MS).unref();
  }
}
