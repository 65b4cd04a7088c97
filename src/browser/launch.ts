// One place for how Chromium is launched: Debian's chromium, headless, with the flags this
// kind of locked-down host needs (no sandbox as root, no background network chatter), and the
// same proxy settings as the API probe (src/config/network.ts).
import { chromium, type Browser, type LaunchOptions } from 'playwright-core';
import { proxyFromEnv, proxyUrl, resolveProxy, type ProxySettings } from '../config/network.ts';
import type { NoProxyRule } from '../config/no-proxy.ts';
import type { Config } from '../config/schema.ts';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

export interface BrowserSettings {
  executablePath?: string;
  headless?: boolean;
  /** Seconds between browser actions (Playwright's slowMo), for a person watching a headed run. */
  slowMo?: number;
  /** Resolved proxy settings (`browserSettings`); absent: the environment's, read at launch. */
  proxy?: ProxySettings;
}

/** The configuration's browser settings with its proxy resolved (the file's `proxy` block, else the environment). */
export async function browserSettings(
  config: Pick<Config, 'browser' | 'proxy' | 'secretEnv'>,
  env = process.env,
): Promise<BrowserSettings> {
  return { ...config.browser, proxy: await resolveProxy(config, env) };
}

/** Which Chromium: the configuration's, else $CHROMIUM_PATH, else Debian's. */
export function launchOptions(s: BrowserSettings = {}, env: NodeJS.ProcessEnv = process.env): LaunchOptions {
  const proxy = chromiumProxy(s.proxy ?? proxyFromEnv(env));
  return {
    executablePath: s.executablePath || env.CHROMIUM_PATH || '/usr/bin/chromium',
    headless: s.headless ?? true,
    ...(s.slowMo ? { slowMo: Math.round(s.slowMo * 1000) } : {}),
    // Without a proxy, explicitly none: Chromium would otherwise read the environment's by its own rules.
    args: proxy ? CHROMIUM_ARGS : [...CHROMIUM_ARGS, '--no-proxy-server'],
    ...(proxy ? { proxy } : {}),
  };
}

/**
 * Playwright's proxy option from the settings, or undefined: no proxy. Chromium takes one proxy
 * for every scheme: the https one (else the http one); a scheme without a proxy is bypassed
 * (`http://*`). NO_PROXY rules become bypass rules, and `<-loopback>` makes Chromium proxy
 * loopback addresses too unless a rule names them (by default it never proxies them), so it
 * routes every URL as the API probe does (test/probes/proxy.test.ts).
 */
export function chromiumProxy(s: ProxySettings): LaunchOptions['proxy'] | undefined {
  const server = s.https ?? s.http;
  if (!server || s.noProxy.some((r) => r.kind === 'all')) return undefined;
  // First: Chromium weighs later rules over earlier ones, and `<-loopback>` must not outweigh a rule naming 127.0.0.1.
  const bypass = ['<-loopback>', ...s.noProxy.flatMap(bypassRules)];
  if (!s.http) bypass.push('http://*');
  if (!s.https) bypass.push('https://*');
  return {
    server: server.server,
    bypass: bypass.join(','),
    ...(server.username !== undefined ? { username: server.username } : {}),
    ...(server.password !== undefined ? { password: server.password } : {}),
  };
}

/** The settings as Chromium applies them (see chromiumProxy): when the http and https proxies differ, the https one for both. */
export function chromiumView(s: ProxySettings): ProxySettings {
  return s.http && s.https && proxyUrl(s.http) !== proxyUrl(s.https) ? { ...s, http: s.https } : s;
}

/** A NO_PROXY rule as Chromium bypass rules (its `example.com` is that host only: `*.example.com` adds those under it). */
function bypassRules(r: NoProxyRule): string[] {
  if (r.kind === 'all') return ['*'];
  const port = r.port === undefined ? '' : `:${r.port}`;
  if (r.kind === 'host') return [`${r.host}${port}`, `*.${r.host}${port}`];
  if (r.prefix !== undefined) return [`${r.address}/${r.prefix}`];
  return [r.family === 6 ? `[${r.address}]${port}` : `${r.address}${port}`];
}

export async function launchBrowser(s: BrowserSettings = {}): Promise<Browser> {
  return chromium.launch(launchOptions(s));
}
