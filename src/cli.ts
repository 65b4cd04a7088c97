// The command line: `bulk-upload-probe <command>`. Each command lives in src/commands/.
import { Command } from 'commander';
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

const program = new Command()
  .name('bulk-upload-probe')
  .description('Synthetic end-to-end probe for TIS Bulk Upload')
  .version(pkg.version);

const commands = ['check-config', 'smoke', 'serve'] as const;
for (const name of commands) {
  const mod = (await import(`./commands/${name}.ts`)) as { register: (p: Command) => void };
  mod.register(program);
}

await program.parseAsync(process.argv);
