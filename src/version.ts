// The probe's version, read once from package.json (--version, build_info, the status page).
// Imports nothing of the project, so any layer may use it.
import { readFileSync } from 'node:fs';

export const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
