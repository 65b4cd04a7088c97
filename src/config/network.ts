// The organisation's network between the probe and TIS: which forward proxy each URL goes
// through (or none), and which extra certificate authorities are trusted. One resolution for both
// probes: axios gets its agents from it (src/target/agents.ts), Chromium its launch option
// (src/browser/launch.ts), and check-config prints it.
//
// The file's `proxy` block wins over the environment; `proxy: false` means no proxy whatever the
// environment says. Without the block, the environment as curl reads it: http_proxy / HTTP_PROXY
// for http:// URLs, https_proxy / HTTPS_PROXY for https:// URLs (lower case first), and
// no_proxy / NO_PROXY. ALL_PROXY is not read (it often names a SOCKS proxy, which the API probe
// cannot use). A proxy URL may hold credentials: they are kept apart from `server` and never
// printed (`displayProxy`).
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { rootCertificates } from 'node:tls';
import { displayUrl } from '../model/url.ts';
import { ConfigError, resolveSecret } from './load.ts';
import { formatNoProxyRule, noProxyMatch, parseNoProxyList, type NoProxyRule } from './no-proxy.ts';
import type { Config } from './schema.ts';

export interface ProxyServer {
  /** scheme://host:port, without credentials. */
  server: string;
  username?: string;
  password?: string;
  /** Where it was configured: `proxy.url` or the environment variable's name. */
  from: string;
}

export interface ProxySettings {
  /** `config`: the file's proxy block; `environment`; `off`: `proxy: false` in the file. */
  source: 'config' | 'environment' | 'off';
  /** The proxy for http:// and for https:// URLs; absent: those go direct. */
  http?: ProxyServer;
  https?: ProxyServer;
  /** URLs these match go direct. */
  noProxy: NoProxyRule[];
  /** Where the rules came from: `proxy.noProxy`, `no_proxy` or `NO_PROXY`. */
  noProxyFrom?: string;
  /** Entries of the environment's NO_PROXY that are no rule (the file's are validated): not used. */
  ignored: string[];
}

export interface Network {
  proxy: ProxySettings;
  /**
   * Certificate authorities for https (PEM) when `tls.caFile` is set: Node's bundled ones, those
   * of NODE_EXTRA_CA_CERTS and the file's. Absent: Node's default (bundled + NODE_EXTRA_CA_CERTS).
   */
  ca?: string[];
  /** Identifies `ca` (a hash), so agents are made once per set of authorities. */
  caId?: string;
}

type NetworkConfig = Pick<Config, 'proxy' | 'tls' | 'secretEnv'>;

const DIRECT: ProxySettings = { source: 'off', noProxy: [], ignored: [] };

/** The proxy settings of the environment alone (what applies when the file has no `proxy` block). */
export function proxyFromEnv(env: Readonly<NodeJS.ProcessEnv> = process.env): ProxySettings {
  const out: ProxySettings = { source: 'environment', noProxy: [], ignored: [] };
  const http = firstSet(env, ['http_proxy', 'HTTP_PROXY']);
  const https = firstSet(env, ['https_proxy', 'HTTPS_PROXY']);
  if (http) out.http = parseProxyUrl(http.value, http.name);
  if (https) out.https = parseProxyUrl(https.value, https.name);
  const noProxy = firstSet(env, ['no_proxy', 'NO_PROXY']);
  if (noProxy) {
    const { rules, ignored } = parseNoProxyList(noProxy.value);
    out.noProxy = rules;
    out.ignored = ignored;
    out.noProxyFrom = noProxy.name;
  }
  return out;
}

/** The proxy settings that apply: the file's `proxy` block (its secrets resolved), else the environment's. */
export async function resolveProxy(config: Pick<NetworkConfig, 'proxy' | 'secretEnv'>, env = process.env): Promise<ProxySettings> {
  const p = config.proxy;
  if (p === false) return DIRECT;
  if (p === undefined) return proxyFromEnv(env);
  const server = parseProxyUrl(p.url, 'proxy.url');
  for (const field of ['username', 'password'] as const) {
    const ref = p[field];
    if (ref === undefined) continue;
    try {
      server[field] = await resolveSecret(ref, config.secretEnv ?? env);
    } catch (err) {
      throw new ConfigError(`proxy.${field}: ${(err as Error).message}`);
    }
  }
  return {
    source: 'config',
    http: server,
    https: server,
    noProxy: parseNoProxyList(p.noProxy).rules,
    noProxyFrom: 'proxy.noProxy',
    ignored: [],
  };
}

/** The proxy settings and the certificate authorities trusted for https. */
export async function resolveNetwork(config: NetworkConfig, env = process.env): Promise<Network> {
  const network: Network = { proxy: await resolveProxy(config, env) };
  const caFile = config.tls?.caFile;
  if (caFile) {
    const own = await readPem(caFile, 'tls.caFile');
    // Node's `ca` option replaces its default set: keep the bundled ones and NODE_EXTRA_CA_CERTS's.
    const extraFile = env.NODE_EXTRA_CA_CERTS;
    const extra = extraFile ? await readFile(extraFile, 'utf8').catch(() => undefined) : undefined;
    network.ca = [...rootCertificates, ...(extra ? [extra] : []), own];
    network.caId = createHash('sha256').update(network.ca.join('\n')).digest('hex');
  }
  return network;
}

/** The proxy this URL goes through, or undefined: direct. */
export function proxyFor(s: ProxySettings, url: string): ProxyServer | undefined {
  const proxy = url.startsWith('https:') ? s.https : url.startsWith('http:') ? s.http : undefined;
  if (!proxy || noProxyMatch(s.noProxy, url)) return undefined;
  return proxy;
}

/** The proxy's URL with its credentials, for the HTTP client: NEVER print it (see displayProxy). */
export function proxyUrl(p: ProxyServer): string {
  if (p.username === undefined && p.password === undefined) return p.server;
  const u = new URL(p.server);
  u.username = encodeURIComponent(p.username ?? '');
  u.password = encodeURIComponent(p.password ?? '');
  return u.toString().replace(/\/$/, '');
}

/** The proxy fit to print: `http://***@proxy.example:3128` when it has credentials. */
export function displayProxy(p: ProxyServer): string {
  return displayUrl(proxyUrl(p));
}

/** How a URL's traffic goes, fit to print: `http://***@proxy:3128 (HTTPS_PROXY)` or `direct (...)`. */
export function describeRoute(s: ProxySettings, url: string): string {
  const proxy = proxyFor(s, url);
  if (proxy) return `${displayProxy(proxy)} (${proxy.from})`;
  const rule = noProxyMatch(s.noProxy, url);
  if (rule && (url.startsWith('https:') ? s.https : s.http)) return `direct (${s.noProxyFrom ?? 'NO_PROXY'} ${formatNoProxyRule(rule)})`;
  if (s.source === 'off') return 'direct (proxy: false)';
  return 'direct';
}

/** Where the proxy settings come from and what they are, fit to print (credentials masked). */
export function describeProxySettings(s: ProxySettings): string {
  if (s.source === 'off') return 'none (proxy: false in the file; HTTPS_PROXY/HTTP_PROXY ignored)';
  const servers = [s.http, s.https].filter((p): p is ProxyServer => p !== undefined);
  if (servers.length === 0) return 'none (no https_proxy/HTTPS_PROXY or http_proxy/HTTP_PROXY in the environment)';
  const proxies =
    s.source === 'config'
      ? `${displayProxy(servers[0]!)} (proxy.url${servers[0]!.username !== undefined ? ', credentials from proxy.username/password' : ''})`
      : [
          s.http && `http:// through ${displayProxy(s.http)} (${s.http.from})`,
          s.https && `https:// through ${displayProxy(s.https)} (${s.https.from})`,
        ]
          .filter(Boolean)
          .join(', ');
  const rules = s.noProxy.length ? [...new Set(s.noProxy.map(formatNoProxyRule))].join(', ') : 'none';
  const ignored = s.ignored.length ? ` (ignored, not host, domain, IP or range: ${s.ignored.join(', ')})` : '';
  return `${proxies}; direct: ${rules}${s.noProxyFrom ? ` (${s.noProxyFrom})` : ''}${ignored}`;
}

function firstSet(env: Readonly<NodeJS.ProcessEnv>, names: string[]): { name: string; value: string } | undefined {
  for (const name of names) {
    const value = env[name];
    if (typeof value === 'string' && value.trim() !== '') return { name, value: value.trim() };
  }
  return undefined;
}

/**
 * A proxy URL (`http://user:pass@proxy.example:3128`, or `proxy.example:3128` for http) as a
 * server and its credentials. Errors show the URL without its credentials.
 */
export function parseProxyUrl(value: string, from: string): ProxyServer {
  const text = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`;
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new ConfigError(`${from}: not a proxy URL (${displayUrl(text)})`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new ConfigError(`${from}: ${displayUrl(text)}: only http:// and https:// proxies are supported`);
  if (!u.hostname) throw new ConfigError(`${from}: ${displayUrl(text)} names no host`);
  // The scheme's port when none is given (80/443, as Node and Chromium take it; curl would take 1080).
  const port = u.port || (u.protocol === 'https:' ? '443' : '80');
  const server: ProxyServer = { server: `${u.protocol}//${u.hostname}:${port}`, from };
  if (u.username) server.username = safeDecode(u.username);
  if (u.password) server.password = safeDecode(u.password);
  return server;
}

async function readPem(file: string, field: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`${field}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  if (!text.includes('-----BEGIN CERTIFICATE-----')) throw new ConfigError(`${field}: ${file} holds no PEM certificate`);
  return text;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
