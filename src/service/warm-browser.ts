// One Chromium kept warm for the long-running service: launching costs seconds, a fresh
// context per run (created by the probe) costs milliseconds and isolates runs just as well.
// If the browser dies (crash, OOM kill) the next run gets a new one.
import type { Browser } from 'playwright-core';
import { launchBrowser, type BrowserSettings } from '../browser/launch.ts';
import type { Logger } from '../log.ts';

export type BrowserLauncher = (s: BrowserSettings) => Promise<Browser>;

export class WarmBrowser {
  private current?: Promise<Browser>;
  private closed = false;
  /** How many times a browser was launched (the first launch counts). */
  launches = 0;

  constructor(
    private readonly settings: BrowserSettings,
    private readonly logger?: Logger,
    private readonly launch: BrowserLauncher = launchBrowser,
  ) {}

  /** A connected browser, launching one if there is none or the last one died. */
  async get(): Promise<Browser> {
    if (this.closed) throw new Error('the warm browser is closed');
    if (this.current) {
      const b = await this.current.catch(() => undefined);
      if (b?.isConnected()) return b;
      this.current = undefined;
    }
    const launching = this.launch(this.settings).then((b) => {
      this.launches++;
      b.on('disconnected', () => {
        if (this.closed) return;
        this.logger?.warn({ event: 'browser_disconnected' }, 'warm browser disconnected; the next run launches a new one');
        if (this.current === launching) this.current = undefined;
      });
      this.logger?.info({ event: 'browser_launched', launches: this.launches }, 'warm browser launched');
      return b;
    });
    this.current = launching;
    // A failed launch is not kept: the next run tries again.
    launching.catch(() => {
      if (this.current === launching) this.current = undefined;
    });
    return launching;
  }

  async close(): Promise<void> {
    this.closed = true;
    const b = await this.current?.catch(() => undefined);
    this.current = undefined;
    await b?.close().catch(() => undefined);
  }
}
