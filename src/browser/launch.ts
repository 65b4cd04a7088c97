// One place for how Chromium is launched: Debian's chromium, headless, with the flags this
// kind of locked-down host needs (no sandbox as root, no background network chatter), and the
// same proxy settings as the API probe (src/config/network.ts).
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
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

/** How long a browser process may take to start Chromium and connect to it. */
const BROWSER_PROCESS_START_MS = 60_000;

/**
 * Chromium driven from a process of its own (src/browser/browser-process.mjs), for the
 * long-running service: Playwright's server side (the DevTools protocol, tracing, network
 * bookkeeping) runs in that process, and this one is a client over a loopback WebSocket, so a
 * browser run in flight does not hold up the answers to /metrics and /healthz. The browser it
 * returns is used as a launched one; closing it, or Chromium dying, ends the process, and the
 * process ends when this one does.
 */
export async function launchBrowserProcess(s: BrowserSettings = {}): Promise<Browser> {
  const child = fork(fileURLToPath(new URL('./browser-process.mjs', import.meta.url)), [], {
    // Plain JavaScript: not this process's loader and flags.
    execArgv: [],
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  // Chromium's and Playwright's complaints: the last of them explain a failed start.
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  };
  try {
    const wsEndpoint = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`the browser process did not start within ${BROWSER_PROCESS_START_MS / 1000} s`)),
        BROWSER_PROCESS_START_MS,
      );
      child.once('message', (m: { wsEndpoint?: string; error?: string }) => {
        clearTimeout(timer);
        if (m.wsEndpoint) resolve(m.wsEndpoint);
        else reject(new Error(`the browser process could not launch Chromium: ${m.error ?? 'no reason given'}`));
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`the browser process ended (${signal ?? code}) before Chromium was up: ${stderr.trim().slice(-500)}`));
      });
      // slowMo belongs to the driving side; the rest to the server's launch.
      const { slowMo: _slowMo, ...options } = launchOptions(s);
      child.send(options);
    });
    const { slowMo } = launchOptions(s);
    const browser = await chromium.connect(wsEndpoint, { timeout: BROWSER_PROCESS_START_MS, ...(slowMo ? { slowMo } : {}) });
    browser.on('disconnected', kill);
    // Never what keeps this process alive: its end closes the channel, and the child follows.
    child.channel?.unref();
    child.unref();
    (child.stderr as unknown as { unref?: () => void }).unref?.();
    return browser;
  } catch (err) {
    kill();
    throw err;
  }
}
