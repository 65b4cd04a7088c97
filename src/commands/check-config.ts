// `bulk-upload-probe check-config`: validates the configuration file, resolves every secret
// (printing where it came from, never its value), lists targets and probes. Exit 0 or 2.
import type { Command } from 'commander';
import { configPath, probesFor, resolveCredentials } from '../config/load.ts';
import type { SecretRef } from '../config/schema.ts';
import { EXIT_BAD_CONFIG, loadForCommand } from './load.ts';
import { usageErrors } from './usage.ts';

export function register(program: Command): void {
  usageErrors(program.command('check-config'))
    .description('validate the configuration file and resolve its secrets, then exit (0 valid, 2 invalid)')
    .option('-c, --config <file>', 'configuration file (default: $BULK_UPLOAD_PROBE_CONFIG or ./bulk-upload-probe.yaml)')
    .action(async (opts: { config?: string }) => {
      process.exitCode = await checkConfig(
        configPath(opts.config),
        (line) => process.stdout.write(`${line}\n`),
        (line) => process.stderr.write(`${line}\n`),
      );
    });
}

/** Returns the exit code: 0 when the file is valid and every secret resolves, else 2. */
export async function checkConfig(path: string, out: (line: string) => void, err: (line: string) => void): Promise<number> {
  // Secrets are not checked here but below, so that every target's problem is listed.
  const config = await loadForCommand(path, err);
  if (!config) return EXIT_BAD_CONFIG;
  out(`configuration ${path}`);
  out(`  evidence ${config.evidence.dir} (keep ${config.evidence.keep}), history ${config.history.file}`);
  out(
    `  schedule every ${config.schedule.interval} s (+ up to ${config.schedule.jitter} s), server ${config.server.host}:${config.server.port}`,
  );
  const problems: string[] = [];
  for (const [name, t] of Object.entries(config.targets)) {
    out(`target ${name}`);
    out(`  page      ${new URL(t.uploadsPath, t.appUrl).toString()}`);
    out(`  api       ${new URL(t.apiPath, t.appUrl.replace(/\/*$/, '/')).toString()}`);
    out(`  keycloak  ${t.keycloak.url} realm ${t.keycloak.realm}, token client ${t.keycloak.tokenClientId}`);
    out(`  probes    ${probesFor(config, name).join(', ')}${t.interval ? `, every ${t.interval} s` : ''}`);
    try {
      const creds = await resolveCredentials(config, name);
      out(`  user      ${creds.username} (${source(t.credentials.username)})`);
      out(`  password  resolved from ${source(t.credentials.password)}`);
    } catch (e) {
      problems.push((e as Error).message);
      out(`  secrets   NOT RESOLVED: ${(e as Error).message}`);
    }
  }
  if (problems.length) {
    err(`configuration ${path} is invalid:\n  ${problems.join('\n  ')}`);
    return EXIT_BAD_CONFIG;
  }
  out('configuration OK');
  return 0;
}

function source(ref: SecretRef): string {
  if (typeof ref === 'string') return 'literal in the file';
  return 'env' in ref ? `environment variable ${ref.env}` : `file ${ref.file}`;
}
