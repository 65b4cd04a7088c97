// The service's Chromium, driven from a process of its own (launchBrowserProcess): it works as a
// launched browser (a page, a trace, a download stream), listens on loopback only, and never
// outlives what it serves: closing the browser, Chromium dying, a failed launch and the parent's
// end each leave no process behind. The warm browser starts a new one after a crash.
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { launchBrowserProcess } from '../../src/browser/launch.ts';
import { WarmBrowser } from '../../src/service/warm-browser.ts';
import { waitFor } from '../monitoring/daemons.ts';

const box = inject('box');
const root = fileURLToPath(new URL('../../', import.meta.url));
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bup-browser-process-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Live processes whose command line matches, with their parent (Linux /proc). */
function processes(match: (cmdline: string) => boolean): Array<{ pid: number; ppid: number; cmdline: string }> {
  const out: Array<{ pid: number; ppid: number; cmdline: string }> = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8').replaceAll('\0', ' ');
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      // A zombie has no command line: it has ended.
      if (cmdline && match(cmdline)) out.push({ pid: Number(name), ppid, cmdline });
    } catch {
      // ended while read
    }
  }
  return out;
}

/** The local addresses (hex, as /proc/net/tcp writes them) a process listens on over TCP. */
function listeningAddresses(pid: number): string[] {
  const inodes = new Set(
    readdirSync(`/proc/${pid}/fd`).flatMap((fd) => {
      try {
        return [/^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1] ?? ''];
      } catch {
        return [];
      }
    }),
  );
  return ['/proc/net/tcp', '/proc/net/tcp6'].flatMap((table) =>
    readFileSync(table, 'utf8')
      .split('\n')
      .slice(1)
      .map((l) => l.trim().split(/\s+/))
      // local address, state (0A: listening), inode
      .filter((f) => f[3] === '0A' && inodes.has(f[9] ?? ''))
      .map((f) => f[1]!.split(':')[0]!),
  );
}
const alive = (pid: number) => processes(() => true).some((p) => p.pid === pid);

/** The browser process this test process started last, and its Chromium (the one whose parent it is). */
function browserProcessOf(parent = process.pid) {
  const server = processes((c) => c.includes('browser-process.mjs')).find((p) => p.ppid === parent);
  const chromium = server ? processes((c) => /chrom/.test(c)).find((p) => p.ppid === server.pid) : undefined;
  return { server, chromium };
}

describe('launchBrowserProcess', () => {
  it('drives Chromium from a process of its own, on loopback, as a launched browser', async () => {
    const browser = await launchBrowserProcess({});
    try {
      const { server, chromium } = browserProcessOf();
      expect(server, 'a browser process, child of this one').toBeDefined();
      expect(chromium, "Chromium, the browser process's child").toBeDefined();
      // Its endpoint is on loopback only (127.0.0.1), and no launch option is on its command line.
      expect(listeningAddresses(server!.pid)).toEqual(['0100007F']);
      expect(server!.cmdline).not.toContain('chromium');

      // A page of the box, traced, with the trace written here.
      const context = await browser.newContext();
      await context.tracing.start({ snapshots: true });
      const page = await context.newPage();
      const res = await page.goto(box.urls.app);
      expect(res?.status()).toBe(200);
      const trace = join(dir, 'trace.zip');
      await context.tracing.stop({ path: trace });
      expect((await stat(trace)).size).toBeGreaterThan(1000);
      await context.close();
    } finally {
      await browser.close();
    }
    // Closing the browser ends its process and Chromium.
    await waitFor(async () => browserProcessOf().server === undefined, 'the browser process to end', 15_000, 100);
  }, 60_000);

  it('ends when Chromium dies, and the warm browser starts a new one', async () => {
    const warm = new WarmBrowser({}, undefined, launchBrowserProcess);
    try {
      const first: Browser = await warm.get();
      const { server, chromium } = browserProcessOf();
      expect(chromium).toBeDefined();
      const disconnected = new Promise<void>((resolve) => first.once('disconnected', () => resolve()));
      process.kill(chromium!.pid, 'SIGKILL');
      await disconnected;
      await waitFor(async () => !alive(server!.pid), 'the browser process to end after Chromium', 15_000, 100);

      const second = await warm.get();
      expect(second).not.toBe(first);
      expect(second.isConnected()).toBe(true);
      expect(warm.launches).toBe(2);
      const page = await second.newPage();
      await page.goto('about:blank');
      await page.close();
    } finally {
      await warm.close();
    }
    await waitFor(async () => browserProcessOf().server === undefined, 'no browser process left', 15_000, 100);
  }, 90_000);

  it('refuses a Chromium that cannot start, saying why, and leaves nothing behind', async () => {
    await expect(launchBrowserProcess({ executablePath: join(dir, 'no-such-chromium') })).rejects.toThrow(
      /browser process could not launch Chromium.*no-such-chromium/s,
    );
    await waitFor(async () => browserProcessOf().server === undefined, 'no browser process left', 15_000, 100);
  }, 60_000);

  it('ends with its parent, even when the parent is killed and cannot close it', async () => {
    // A parent that starts a browser, says so, and is then killed with SIGKILL.
    const script = `
      import { launchBrowserProcess } from ${JSON.stringify(join(root, 'src/browser/launch.ts'))};
      await launchBrowserProcess({});
      console.log('up');
      setInterval(() => {}, 1000);
    `;
    const parent = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      await new Promise<void>((resolve, reject) => {
        parent.stdout!.on('data', (d: Buffer) => d.toString().includes('up') && resolve());
        parent.once('exit', (code) => reject(new Error(`the parent ended (${code}) before its browser was up`)));
      });
      const { server, chromium } = browserProcessOf(parent.pid);
      expect(server).toBeDefined();
      expect(chromium).toBeDefined();
      parent.kill('SIGKILL');
      await waitFor(async () => !alive(server!.pid) && !alive(chromium!.pid), 'the browser process and Chromium to end', 20_000, 200);
    } finally {
      parent.kill('SIGKILL');
    }
  }, 90_000);
});
