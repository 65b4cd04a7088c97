// `bulk-upload-probe check-config`: validates the configuration file, resolves every secret
// (printing where it came from, never its value), lists targets and probes. Exit 0 or 2.
import type { Command } from 'commander';
import { configPath, probesFor, resolveCredentials } from '../config/load.ts';
import { describeProxySettings, describeRoute, resolveNetwork, type Network } from '../config/network.ts';
import type { SecretRef, TargetConfig } from '../config/schema.ts';
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
  // Loaded here, not at start: a usage error or --help does not wait for Playwright to load.
  const [{ footprintLine, intervalOf, jobsFor, rowsPerDay }, { chromiumView }, { apiBase }] = await Promise.all([
    import('../service/scheduler.ts'),
    import('../browser/launch.ts'),
    import('../target/generic-upload.ts'),
  ]);
  const depthsOf = (t: TargetConfig): string => {
    const light = intervalOf(config, t, 'light');
    return `full every ${intervalOf(config, t, 'full')} s, ${light === false ? 'no light runs' : `light every ${light} s`}`;
  };
  /** Which proxy each of the target's URLs goes through, or direct; the browser's when it differs. */
  const routes = (network: Network, t: TargetConfig): string => {
    const urls: Array<[string, string]> = [
      ['page', new URL(t.uploadsPath, t.appUrl).toString()],
      ['api', apiBase(t.appUrl, t.apiPath)],
      ['keycloak', t.keycloak.url],
    ];
    const browser = chromiumView(network.proxy);
    const byRoute = new Map<string, string[]>();
    for (const [name, url] of urls) {
      const api = describeRoute(network.proxy, url);
      const page = describeRoute(browser, url);
      const key = page === api ? api : `${api}, browser ${page}`;
      byRoute.set(key, [...(byRoute.get(key) ?? []), name]);
    }
    return [...byRoute].map(([route, names]) => `${names.join(', ')}: ${route}`).join('; ');
  };
  out(`configuration ${path}`);
  out(`  evidence ${config.evidence.dir} (keep ${config.evidence.keep}), history ${config.history.file}`);
  const light = config.schedule.light === false ? 'no light runs' : `light every ${config.schedule.light} s`;
  const slots = config.schedule.maxConcurrentRuns;
  out(`  schedule full every ${config.schedule.interval} s, ${light} (+ up to ${config.schedule.jitter} s)`);
  out(`  at most ${slots.browser} browser and ${slots.api} API run(s) at once`);
  out(`  server ${config.server.host}:${config.server.port}`);
  const rows = rowsPerDay(jobsFor(config));
  const problems: string[] = [];
  const network = await resolveNetwork(config).catch((e: Error) => {
    problems.push(e.message);
    out(`  network   NOT RESOLVED: ${e.message}`);
    return undefined;
  });
  if (network) {
    out(`  proxy     ${describeProxySettings(network.proxy)}`);
    const extra = [process.env.NODE_EXTRA_CA_CERTS && `NODE_EXTRA_CA_CERTS ${process.env.NODE_EXTRA_CA_CERTS}`];
    if (config.tls?.caFile) extra.push(`tls.caFile ${config.tls.caFile} (API probe; Chromium: its NSS database)`);
    if (extra.some(Boolean)) out(`  tls       extra CAs: ${extra.filter(Boolean).join(', ')}`);
  }
  for (const [name, t] of Object.entries(config.targets)) {
    out(`target ${name}`);
    out(`  page      ${new URL(t.uploadsPath, t.appUrl).toString()}`);
    out(`  api       ${new URL(t.apiPath, t.appUrl.replace(/\/*$/, '/')).toString()}`);
    out(`  keycloak  ${t.keycloak.url} realm ${t.keycloak.realm}`);
    out(`  grant     ${grantOf(t)}`);
    if (network) out(`  network   ${routes(network, t)}`);
    out(`  probes    ${probesFor(config, name).join(', ')}: ${depthsOf(t)}`);
    out(`  writes    ${footprintLine(name, rows[name] ?? 0).replace(`${name}: `, '')}`);
    try {
      const creds = await resolveCredentials(config, name);
      out(`  user      ${creds.username} (${source(t.credentials.username)})`);
      out(`  password  resolved from ${source(t.credentials.password)}`);
      if (t.keycloak.clientSecret !== undefined) out(`  secret    client secret resolved from ${source(t.keycloak.clientSecret)}`);
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

/** How the API probe gets its token; the browser probe always signs in on the login page. */
function grantOf(t: TargetConfig): string {
  const kc = t.keycloak;
  if (kc.grant === 'client_credentials')
    return `client_credentials, confidential client ${kc.clientId} (its service account), for the api probe`;
  return `password, public client ${kc.tokenClientId} (the test user), for the api probe`;
}

function source(ref: SecretRef): string {
  if (typeof ref === 'string') return 'literal in the file';
  return 'env' in ref ? `environment variable ${ref.env}` : `file ${ref.file}`;
}
