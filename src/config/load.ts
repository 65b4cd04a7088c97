// Reads the probe's configuration file (YAML or JSON), validates it against the schema and
// resolves secrets. Errors name the bad field by its path, e.g. `targets.prod.keycloak.url`.
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, extname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { parse as parseDotenv } from 'dotenv';
import type { z } from 'zod';
import { configSchema, type Config, type SecretRef, type TargetConfig } from './schema.ts';

export class ConfigError extends Error {
  constructor(
    message: string,
    readonly issues: string[] = [message],
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}

export const DEFAULT_CONFIG_FILE = 'bulk-upload-probe.yaml';

/** --config, else $BULK_UPLOAD_PROBE_CONFIG, else ./bulk-upload-probe.yaml. */
export function configPath(explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  return resolve(explicit ?? env.BULK_UPLOAD_PROBE_CONFIG ?? DEFAULT_CONFIG_FILE);
}

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
}

/**
 * Loads and validates a configuration file. Relative paths inside it (secret files, evidence and
 * history locations) are taken relative to the file's folder. A `.env` beside the file fills
 * environment variables that the real environment does not set; the variables the secrets name
 * are kept on the config as `secretEnv`.
 */
export async function loadConfig(path: string, opts: LoadOptions = {}): Promise<Config> {
  const file = resolve(path);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read configuration file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  let raw: unknown;
  try {
    raw = extname(file) === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new ConfigError(`${file} is not valid ${extname(file) === '.json' ? 'JSON' : 'YAML'}: ${(err as Error).message.split('\n')[0]}`);
  }
  const parsed = configSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    const issues = formatIssues(parsed.error.issues);
    throw new ConfigError(`invalid configuration in ${file}:\n  ${issues.join('\n  ')}`, issues);
  }
  const config = anchorPaths(parsed.data, dirname(file));
  return { ...config, secretEnv: secretEnvOf(config, await envBeside(file, opts.env ?? process.env)) };
}

/** One line per problem: `field.path: message`. */
export function formatIssues(issues: z.core.$ZodIssue[]): string[] {
  return issues.map((i) => {
    const path = i.path.map(String).join('.') || '(top level)';
    let msg = i.message;
    if (i.code === 'unrecognized_keys') msg = `unknown field(s) ${i.keys.map((k) => `"${k}"`).join(', ')}`;
    if (i.code === 'invalid_key') msg = `bad name: ${i.issues.map((n) => n.message).join('; ')}`;
    return `${path}: ${msg}`;
  });
}

async function envBeside(file: string, env: NodeJS.ProcessEnv): Promise<NodeJS.ProcessEnv> {
  const dotenvFile = resolve(dirname(file), '.env');
  if (!existsSync(dotenvFile)) return env;
  const fromFile = parseDotenv(await readFile(dotenvFile));
  return { ...fromFile, ...env };
}

/** The values of the variables the config's `{ env: NAME }` secrets name; nothing else of `env`. */
function secretEnvOf(config: Config, env: NodeJS.ProcessEnv): Readonly<Record<string, string>> {
  const picked: Array<[string, string]> = [];
  const refs = Object.values(config.targets).flatMap((t) => [
    t.credentials.username,
    t.credentials.password,
    ...(t.keycloak.clientSecret !== undefined ? [t.keycloak.clientSecret] : []),
  ]);
  if (config.proxy) refs.push(...Object.values(optionalSecrets(config.proxy, (s) => s)));
  for (const ref of refs) {
    if (typeof ref !== 'object' || !('env' in ref)) continue;
    const value = env[ref.env];
    // An unset variable is left out (typeof: a name such as "toString" finds no inherited function).
    if (typeof value === 'string') picked.push([ref.env, value]);
  }
  return Object.freeze(Object.fromEntries(picked));
}

function anchorPaths(config: Config, base: string): Config {
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(base, p));
  const secretAbs = (s: SecretRef): SecretRef => (typeof s === 'object' && 'file' in s ? { file: abs(s.file) } : s);
  const targets: Record<string, TargetConfig> = {};
  for (const [name, t] of Object.entries(config.targets)) {
    targets[name] = {
      ...t,
      credentials: { username: secretAbs(t.credentials.username), password: secretAbs(t.credentials.password) },
      ...(t.keycloak.clientSecret !== undefined ? { keycloak: { ...t.keycloak, clientSecret: secretAbs(t.keycloak.clientSecret) } } : {}),
    };
  }
  return {
    ...config,
    evidence: { ...config.evidence, dir: abs(config.evidence.dir) },
    history: { ...config.history, file: abs(config.history.file) },
    ...(config.proxy ? { proxy: { ...config.proxy, ...optionalSecrets(config.proxy, secretAbs) } } : {}),
    ...(config.tls?.caFile ? { tls: { ...config.tls, caFile: abs(config.tls.caFile) } } : {}),
    targets,
  };
}

/** The proxy's username and password secrets (those set), mapped. */
function optionalSecrets(p: { username?: SecretRef; password?: SecretRef }, f: (s: SecretRef) => SecretRef) {
  return {
    ...(p.username !== undefined ? { username: f(p.username) } : {}),
    ...(p.password !== undefined ? { password: f(p.password) } : {}),
  };
}

/**
 * A secret's value: literal, environment variable, or file contents. Trailing whitespace is
 * dropped from the last two: editors, `echo` and Kubernetes Secrets add newlines (\r\n too)
 * that would otherwise become part of the password.
 */
export async function resolveSecret(ref: SecretRef, env: Readonly<NodeJS.ProcessEnv> = process.env): Promise<string> {
  if (typeof ref === 'string') return ref;
  if ('env' in ref) {
    const raw = env[ref.env];
    // typeof: a name such as "toString" must not find an inherited function.
    if (typeof raw !== 'string' || raw === '') throw new ConfigError(`environment variable ${ref.env} is not set`);
    const v = trimTrailing(raw);
    if (!v) throw new ConfigError(`environment variable ${ref.env} holds only whitespace`);
    return v;
  }
  let raw: string;
  try {
    raw = await readFile(ref.file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read secret file ${ref.file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  const v = trimTrailing(raw);
  if (!v) throw new ConfigError(`secret file ${ref.file} is empty${raw ? ' (only whitespace)' : ''}`);
  return v;
}

/** Spaces, tabs, CR and LF at the end; leading and inner whitespace may be part of a secret. */
function trimTrailing(v: string): string {
  let end = v.length;
  while (end > 0 && ' \t\r\n'.includes(v[end - 1]!)) end--;
  return v.slice(0, end);
}

export interface Credentials {
  username: string;
  password: string;
  /** The API probe's confidential client secret (keycloak.grant client_credentials). */
  clientSecret?: string;
}

/**
 * Resolves a target's credentials (and, for grant client_credentials, the client's secret)
 * against the config's `secretEnv`, or process.env for a config not loaded from a file; errors
 * name the field (`targets.NAME.credentials.password`, `targets.NAME.keycloak.clientSecret`).
 */
export async function resolveCredentials(config: Config, targetName: string): Promise<Credentials> {
  const target = config.targets[targetName];
  if (!target) throw new ConfigError(`no target named "${targetName}" (have: ${Object.keys(config.targets).join(', ')})`);
  const env = config.secretEnv ?? process.env;
  const out: Partial<Credentials> = {};
  for (const field of ['username', 'password'] as const) {
    try {
      out[field] = await resolveSecret(target.credentials[field], env);
    } catch (err) {
      throw new ConfigError(`targets.${targetName}.credentials.${field}: ${(err as Error).message}`);
    }
  }
  if (target.keycloak.grant === 'client_credentials' && target.keycloak.clientSecret !== undefined) {
    try {
      out.clientSecret = await resolveSecret(target.keycloak.clientSecret, env);
    } catch (err) {
      throw new ConfigError(`targets.${targetName}.keycloak.clientSecret: ${(err as Error).message}`);
    }
  }
  return out as Credentials;
}

/** Probes to run for a target: the target's own list, else the file's. */
export function probesFor(config: Config, targetName: string): Config['probes'] {
  return config.targets[targetName]?.probes ?? config.probes;
}
