// `bulk-upload-probe doctor --target NAME`: signs in as the browser probe does and checks every
// configured selector and column header on the real pages (found once, not found, ambiguous),
// with annotated screenshots, and suggests role- and label-based selectors where one fails, as
// configuration lines to paste. Uploads nothing unless --upload (then one full browser run).
// Exit 0 when everything is found exactly once, 1 otherwise, 2 on usage or configuration errors.
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { DoctorCheck, DoctorReport } from '../../probes/doctor.ts';
import { ConfigError, configPath, resolveCredentials } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import { createLogger } from '../log.ts';
import { displayUrl } from '../model/url.ts';
import { redact } from '../redact.ts';
import { formatResult, formatStep } from '../report/console.ts';
import { EXIT_BAD_CONFIG, loadForCommand } from './load.ts';
import { usageErrors } from './usage.ts';

export const EXIT_ALL_FOUND = 0;
export const EXIT_PROBLEMS = 1;

interface DoctorOptions {
  target: string;
  config?: string;
  upload?: boolean;
  out?: string;
}

export function register(program: Command): void {
  usageErrors(program.command('doctor'))
    .description(
      'check the configured selectors and column headers on the real pages, with annotated screenshots and suggestions ' +
        '(exit 0 all found once, 1 otherwise, 2 bad usage or configuration)',
    )
    .requiredOption('-t, --target <name>', 'target from the configuration file')
    .option('-c, --config <file>', 'configuration file (default: $BULK_UPLOAD_PROBE_CONFIG or ./bulk-upload-probe.yaml)')
    .option('--upload', 'then run the full browser journey once (uploads the canary: one row in the upload list)')
    .option('--out <dir>', 'where the screenshots and report.json go (default: ./doctor/<target>/<UTC time>)')
    .action(async (opts: DoctorOptions) => {
      process.exitCode = await doctor(opts);
    });
}

export async function doctor(opts: DoctorOptions): Promise<number> {
  // Everything printed goes through the redactor, as the runner's output does.
  const say = (line: string) => process.stdout.write(`${redact(line)}\n`);
  const complain = (line: string) => process.stderr.write(`${redact(line)}\n`);

  const path = configPath(opts.config);
  const config = await loadForCommand(path, complain, (c) => checkTarget(c, path, opts.target));
  if (!config) return EXIT_BAD_CONFIG;
  const target = config.targets[opts.target]!;
  const outDir = resolve(opts.out ?? join('doctor', opts.target, new Date().toISOString().replace(/[:.]/g, '-')));

  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const logger = process.env.LOG_LEVEL ? createLogger({ level: process.env.LOG_LEVEL }) : undefined;
  // Loaded here, not at start: a usage error or --help does not wait for Playwright to load.
  const [{ problemsOf, runDoctor }, { runProbe }] = await Promise.all([import('../../probes/doctor.ts'), import('../run/runner.ts')]);
  try {
    say(`doctor: target ${opts.target} (${displayUrl(new URL(target.uploadsPath, target.appUrl).toString())})`);
    const report = await runDoctor({
      targetName: opts.target,
      target,
      config,
      outDir,
      signal: abort.signal,
      ...(logger ? { logger } : {}),
      say: (line) => say(`  ${line}`),
    });
    for (const line of formatDoctorReport(report, problemsOf(report))) say(line);
    const reportFile = join(outDir, 'report.json');
    await writeFile(reportFile, `${redact(JSON.stringify(report, null, 2))}\n`);
    say(`report: ${reportFile}`);

    let healthy = report.ok;
    if (opts.upload && !abort.signal.aborted) {
      say('--upload: one full browser run');
      const result = await runProbe({
        probe: 'browser',
        targetName: opts.target,
        target,
        config,
        signal: abort.signal,
        ...(logger ? { logger } : {}),
        onStep: (step) => say(formatStep('browser', step)),
      });
      say(formatResult(result));
      healthy &&= result.ok;
    }
    return healthy ? EXIT_ALL_FOUND : EXIT_PROBLEMS;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

const VERDICT: Record<DoctorCheck['verdict'], string> = {
  found: 'found',
  not_found: 'NOT FOUND',
  ambiguous: 'AMBIGUOUS',
  not_checked: 'not checked',
};

/**
 * The report for a person: each page, each check, suggestions, then lines to paste into the
 * configuration; `problems` are the report's checks that make it fail (problemsOf).
 */
export function formatDoctorReport(r: DoctorReport, problems: DoctorCheck[]): string[] {
  const lines: string[] = [];
  for (const pageName of ['login', 'app'] as const) {
    const checks = r.checks.filter((c) => c.page === pageName);
    if (!checks.length) continue;
    const shown = r.pages.find((p) => p.name === pageName);
    const notes = new Set(checks.map((c) => c.note));
    if (checks.every((c) => c.verdict === 'not_checked') && notes.size === 1) {
      lines.push(`${pageName} page not checked: ${[...notes][0] ?? 'not reached'}`);
      continue;
    }
    lines.push(`${pageName} page${shown ? ` ${shown.url}` : ''}${shown?.screenshot ? ` (screenshot ${shown.screenshot})` : ''}`);
    for (const c of checks) lines.push(...formatCheck(c));
  }
  for (const s of r.signedInWith ?? []) lines.push(`signed in with the suggested ${s}`);
  if (r.loginFailure) lines.push(`sign-in failed: ${r.loginFailure}`);
  if (r.stopped) lines.push(`the doctor stopped: ${r.stopped}`);
  for (const p of r.pages.filter((p) => p.name !== 'login' && p.name !== 'app' && p.screenshot)) {
    lines.push(`screenshot (${p.name}): ${p.screenshot} at ${p.url}`);
  }
  for (const b of r.badResponses) lines.push(`bad response meanwhile: ${b}`);

  const fixes = r.checks.filter((c) => c.suggestions.length > 0 && (c.verdict === 'not_found' || c.verdict === 'ambiguous'));
  if (fixes.length) {
    lines.push(`suggested configuration (under targets.${r.target}; each suggestion matches exactly one element on the page):`);
    for (const group of ['selectors', 'columns'] as const) {
      const mine = fixes.filter((c) => c.field.startsWith(`${group}.`));
      if (!mine.length) continue;
      lines.push(`  ${group}:`);
      for (const c of mine) {
        const values = c.field.startsWith('columns.') ? [c.suggestions[0]!] : c.suggestions;
        const yaml = values.length === 1 ? yamlQuote(values[0]!) : `[${values.map(yamlQuote).join(', ')}]`;
        lines.push(`    ${c.field.slice(group.length + 1)}: ${yaml}`);
      }
    }
  }
  if (r.ok) lines.push(`verdict: ${r.target} every selector and column header found exactly once`);
  else {
    const what = problems.map((c) => `${c.field} ${VERDICT[c.verdict].toLowerCase()}`);
    if (r.loginFailure) what.unshift('sign-in failed');
    if (r.stopped) what.unshift('stopped before the end');
    lines.push(`verdict: ${r.target} ${what.length} problem(s): ${what.join(', ')}`);
  }
  return lines;
}

function formatCheck(c: DoctorCheck): string[] {
  const absent = c.optional && c.verdict === 'not_found';
  const verdict = absent ? 'not shown' : VERDICT[c.verdict];
  const counted = c.verdict === 'not_checked' ? '' : `${c.count}`;
  const what = c.used ?? c.configured.join(' | ');
  const which = c.used && c.configured.length > 1 ? `  (alternative ${c.configured.indexOf(c.used) + 1} of ${c.configured.length})` : '';
  const indent = ' '.repeat(46);
  const lines = [`  ${c.field.padEnd(28)} ${verdict.padEnd(11)} ${counted.padStart(3)}  ${what}${which}`];
  if (absent) lines.push(`${indent}optional: ${c.optional}`);
  for (const a of c.alternatives) if (a.error) lines.push(`${indent}${a.selector}: refused by the browser: ${a.error}`);
  if (c.note) lines.push(`${indent}${c.note}`);
  if (c.suggestions.length && c.verdict !== 'found') lines.push(`${indent}try: ${c.suggestions.join('  or  ')}`);
  return lines;
}

/** A YAML single-quoted scalar: nothing is an escape inside it but a doubled quote. */
function yamlQuote(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

/** The target exists and its secrets resolve. */
async function checkTarget(config: Config, path: string, name: string): Promise<void> {
  const have = Object.keys(config.targets).join(', ');
  if (!config.targets[name]) throw new ConfigError(`no target named "${name}" in ${path} (have: ${have})`);
  await resolveCredentials(config, name);
}
