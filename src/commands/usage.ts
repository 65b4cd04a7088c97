// Usage errors (unknown command or option, missing or bad argument) end the command with exit
// code 2 and one line on stderr, so that a pipeline never mistakes them for "unhealthy" (1).
import { CommanderError, InvalidArgumentError, type Command } from 'commander';
import { displayUrl } from '../model/url.ts';
import { PROBE_NAMES, type ProbeName } from '../model/result.ts';

export const EXIT_USAGE = 2;

/** Makes a command throw its usage errors (to `exitCodeOf`) and print each as a single line. */
export function usageErrors(cmd: Command): Command {
  return cmd.exitOverride().configureOutput({
    // Commander may add "(Did you mean ...?)" on a line of its own, and quotes the bad value,
    // which may be a URL with credentials.
    outputError: (str, write) =>
      write(
        `${str
          .trim()
          .replace(/\s*\n\s*/g, ' ')
          .replace(/[a-z][a-z0-9+.-]*:\/\/[^\s'"]+/gi, displayUrl)}\n`,
      ),
  });
}

/**
 * The exit code for what a command's parse threw: 0 after --help or --version, 2 for a usage
 * error; anything that is not commander's is not a usage error and is thrown again.
 */
export function exitCodeOf(e: unknown): number {
  if (!(e instanceof CommanderError)) throw e;
  return e.exitCode === 0 ? 0 : EXIT_USAGE;
}

/** `--probe`: a known probe name, collected when repeated. */
export function parseProbe(value: string, previous: ProbeName[] | undefined): ProbeName[] {
  if (!(PROBE_NAMES as readonly string[]).includes(value)) throw new InvalidArgumentError(`Allowed choices are ${PROBE_NAMES.join(', ')}.`);
  return [...(previous ?? []), value as ProbeName];
}

/** `--port`: 0 to 65535, digits only (Number('') would be 0, Number('0x50') 80). */
export function parsePort(value: string): number {
  const n = /^\d{1,5}$/.test(value) ? Number(value) : NaN;
  if (!(n >= 0 && n <= 65535)) throw new InvalidArgumentError('Not a port number (0 to 65535).');
  return n;
}

/** `--slow-mo`: whole milliseconds, 0 to 60000. */
export function parseSlowMo(value: string): number {
  const n = /^\d{1,5}$/.test(value) ? Number(value) : NaN;
  if (!(n >= 0 && n <= 60_000)) throw new InvalidArgumentError('Not a number of milliseconds (0 to 60000).');
  return n;
}

/** `--pushgateway`: an http(s) URL (credentials in it are fine, and never printed). */
export function parseHttpUrl(value: string): string {
  if (!isHttpUrl(value)) throw new InvalidArgumentError('Not an http(s) URL.');
  return value;
}

function isHttpUrl(value: string): boolean {
  try {
    return ['http:', 'https:'].includes(new URL(value).protocol);
  } catch {
    return false;
  }
}
