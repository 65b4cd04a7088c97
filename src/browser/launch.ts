// One place for how Chromium is launched: Debian's chromium, headless, with the flags this
// kind of locked-down host needs (no sandbox as root, no background network chatter).
import { chromium, type Browser, type LaunchOptions } from 'playwright-core';

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
}

/** Which Chromium: the configuration's, else $CHROMIUM_PATH, else Debian's. */
export function launchOptions(s: BrowserSettings = {}, env: NodeJS.ProcessEnv = process.env): LaunchOptions {
  return {
    executablePath: s.executablePath || env.CHROMIUM_PATH || '/usr/bin/chromium',
    headless: s.headless ?? true,
    args: CHROMIUM_ARGS,
  };
}

export async function launchBrowser(s: BrowserSettings = {}): Promise<Browser> {
  return chromium.launch(launchOptions(s));
}
