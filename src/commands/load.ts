// Loading the configuration for a command: whatever is wrong with it (unreadable, invalid, a
// target missing, a secret that does not resolve) is one message and exit 2 ("bad
// configuration"), never 1 ("unhealthy") or a stack trace.
import { ConfigError, loadConfig } from '../config/load.ts';
import type { Config } from '../config/schema.ts';

export const EXIT_BAD_CONFIG = 2;

/**
 * Loads the file and runs the command's own `check` on it. On a problem, prints one message with
 * `err` and returns undefined: the command then ends with EXIT_BAD_CONFIG.
 */
export async function loadForCommand(
  path: string,
  err: (line: string) => void,
  check: (config: Config) => unknown = () => {},
): Promise<Config | undefined> {
  try {
    const config = await loadConfig(path);
    await check(config);
    return config;
  } catch (e) {
    err(e instanceof ConfigError ? e.message : `cannot load ${path}: ${(e as Error).message}`);
    return undefined;
  }
}
