import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import type { Browser } from 'playwright-core';
import { describe, expect, it, vi } from 'vitest';
import { Scheduler, jobsFor, type ScheduledRunRequest } from '../../../src/service/scheduler.ts';
import { WarmBrowser } from '../../../src/service/warm-browser.ts';
import type { RunResult } from '../../../src/model/result.ts';
import { fakeResult, testConfig } from '../../support/results.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const cfg = (o: Partial<Parameters<typeof testConfig>[0]> = {}) => testConfig({ historyFile: '/nonexistent/h.jsonl', ...o });

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(10);
  }
}

/** A runner that records calls and takes `ms` per run, honouring abort like the real one. */
function fakeRunner(
  ms: number | ((n: number) => number),
  behave?: (req: ScheduledRunRequest, n: number) => RunResult | 'throw' | 'hang' | undefined,
) {
  const calls: { req: ScheduledRunRequest; start: number; end?: number }[] = [];
  let running = 0;
  let maxConcurrent = 0;
  const run = async (req: ScheduledRunRequest): Promise<RunResult> => {
    const n = calls.length;
    const call: { req: ScheduledRunRequest; start: number; end?: number } = { req, start: Date.now() };
    calls.push(call);
    running++;
    maxConcurrent = Math.max(maxConcurrent, running);
    try {
      const b = behave?.(req, n);
      if (b === 'throw') throw new Error('runner bug');
      if (b === 'hang') return await new Promise<RunResult>(() => undefined);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, typeof ms === 'function' ? ms(n) : ms);
        req.signal?.addEventListener('abort', () => {
          clearTimeout(t);
          resolve();
        });
      });
      if (req.signal?.aborted) return { ...fakeResult({ probe: req.probe, target: req.targetName, reason: 'timeout' }), cancelled: true };
      return b ?? fakeResult({ probe: req.probe, target: req.targetName, ok: true });
    } finally {
      running--;
      call.end = Date.now();
    }
  };
  return { run, calls, max: () => maxConcurrent };
}

describe('jobsFor', () => {
  it('makes one job per probe × target, narrowed to the asked targets', () => {
    const config = cfg({ targets: ['box', 'stage'], interval: 30 });
    expect(jobsFor(config).map((j) => `${j.probe}/${j.targetName}/${j.intervalSeconds}`)).toEqual([
      'browser/box/30',
      'api/box/30',
      'browser/stage/30',
      'api/stage/30',
    ]);
    expect(jobsFor(config, ['stage']).map((j) => j.targetName)).toEqual(['stage', 'stage']);
    expect(() => jobsFor(config, ['prod'])).toThrow(/unknown target "prod".*box, stage/);
  });
});

describe('Scheduler', () => {
  it('runs each job on its interval and never overlaps a job with itself', async () => {
    const config = cfg({ interval: 0.1 });
    // Runs longer than the interval: the next must wait for the previous one to end.
    const r = fakeRunner(150);
    const results: RunResult[] = [];
    const s = new Scheduler({ config, run: r.run, onResult: (x) => void results.push(x), tickMs: 10 });
    s.start();
    await until(() => results.length >= 6);
    await s.stop();
    for (const probe of ['browser', 'api']) {
      const mine = r.calls.filter((c) => c.req.probe === probe);
      for (let i = 1; i < mine.length; i++) expect(mine[i]!.start).toBeGreaterThanOrEqual(mine[i - 1]!.end!);
    }
    expect(r.max()).toBe(2); // browser and api of one target may run side by side
  });

  it('runs at most maxConcurrentRuns of a probe at once; the others wait, are counted, and start as slots free up', async () => {
    const targets = ['a', 'b', 'c', 'd', 'e'];
    const config = { ...cfg({ interval: 60, targets, maxConcurrentRuns: { browser: 2, api: 3 } }) };
    const r = fakeRunner(120);
    const browserAt: number[] = [];
    const waited: { probe: string; seconds: number }[] = [];
    const results: RunResult[] = [];
    const s = new Scheduler({
      config,
      run: async (req) => {
        if (req.probe === 'browser') browserAt.push(Date.now());
        return r.run(req);
      },
      onResult: (x) => void results.push(x),
      onStart: (job, seconds) => void waited.push({ probe: job.probe, seconds }),
      tickMs: 10,
    });
    s.start();
    await until(() => r.calls.length >= 5);
    // 5 targets × 2 probes due at once: 2 browser + 3 api running, 3 browser + 2 api waiting.
    expect(s.waitingRuns()).toEqual({ browser: 3, api: 2 });
    await until(() => results.length >= 10);
    await s.stop();
    const running = (probe: string, at: number) =>
      r.calls.filter((c) => c.req.probe === probe && c.start <= at && (c.end ?? Infinity) > at).length;
    for (const c of r.calls) {
      expect(running('browser', c.start)).toBeLessThanOrEqual(2);
      expect(running('api', c.start)).toBeLessThanOrEqual(3);
    }
    // Every job ran once (none starved), the waiting ones after a slot freed up.
    expect(new Set(results.map((x) => `${x.probe}/${x.target}`)).size).toBe(10);
    expect(waited.filter((w) => w.probe === 'browser' && w.seconds >= 0.1)).toHaveLength(3);
    expect(s.waitingRuns()).toEqual({ browser: 0, api: 0 });
  });

  it('waits the interval plus up to the jitter between starts', async () => {
    const config = cfg({ interval: 0.2, jitter: 0.1, targets: ['box'] });
    const r = fakeRunner(5);
    const starts: number[] = [];
    const s = new Scheduler({
      config: { ...config, probes: ['api'] },
      run: async (req) => {
        starts.push(Date.now());
        return r.run(req);
      },
      onResult: () => undefined,
      tickMs: 5,
      random: () => 0.5,
    });
    const t0 = Date.now();
    s.start();
    await until(() => starts.length >= 3);
    await s.stop();
    expect(starts[0]! - t0).toBeGreaterThanOrEqual(45); // first start spread by the jitter
    for (let i = 1; i < starts.length; i++) {
      const gap = starts[i]! - starts[i - 1]!;
      expect(gap).toBeGreaterThanOrEqual(245);
      expect(gap).toBeLessThan(400);
    }
  });

  it('keeps scheduling after a run throws, recording it as a probe error', async () => {
    const config = { ...cfg({ interval: 0.05 }), probes: ['api' as const] };
    const r = fakeRunner(5, (_req, n) => (n === 0 ? 'throw' : undefined));
    const results: RunResult[] = [];
    const s = new Scheduler({ config, run: r.run, onResult: (x) => void results.push(x), tickMs: 5 });
    s.start();
    await until(() => results.length >= 3);
    await s.stop();
    expect(results[0]).toMatchObject({ ok: false, reason: 'probe_error', probe: 'api', target: 'box' });
    expect(results[0]!.message).toMatch(/runner bug/);
    expect(results[1]!.ok).toBe(true);
  });

  it('keeps scheduling when recording a result fails', async () => {
    const config = { ...cfg({ interval: 0.05 }), probes: ['api' as const] };
    let n = 0;
    const s = new Scheduler({
      config,
      run: fakeRunner(5).run,
      onResult: () => {
        n++;
        throw new Error('disk full');
      },
      tickMs: 5,
    });
    s.start();
    await until(() => n >= 3);
    await s.stop();
  });

  it('cuts off a run that outlives its deadline and records a timeout, then goes on', async () => {
    const config = { ...cfg({ interval: 0.05, runDeadline: 0.1 }), probes: ['api' as const] };
    const r = fakeRunner((n) => (n === 0 ? 10_000 : 5));
    const results: RunResult[] = [];
    const s = new Scheduler({ config, run: r.run, onResult: (x) => void results.push(x), tickMs: 5, graceSeconds: 0.1 });
    s.start();
    await until(() => results.length >= 2);
    await s.stop();
    expect(results[0]).toMatchObject({ ok: false, cancelled: false, reason: 'timeout' });
    expect(results[0]!.message).toMatch(/deadline of 0.1 s/);
    expect(results[0]!.durationSeconds).toBeLessThan(1);
    expect(results[1]!.ok).toBe(true);
  });

  it('gives up on a runner that ignores the abort, and stays healthy', async () => {
    const config = { ...cfg({ interval: 0.05, runDeadline: 0.05 }), probes: ['api' as const] };
    const r = fakeRunner(5, (_req, n) => (n === 0 ? 'hang' : undefined));
    const results: RunResult[] = [];
    const s = new Scheduler({ config, run: r.run, onResult: (x) => void results.push(x), tickMs: 5, graceSeconds: 0.05 });
    s.start();
    await until(() => results.length >= 2);
    expect(s.overdueJobs()).toEqual([]);
    await s.stop();
    expect(results[0]).toMatchObject({ ok: false, reason: 'timeout' });
    expect(results[0]!.message).toMatch(/did not stop when aborted/);
  });

  it('reports a job as overdue while its run hangs past deadline and grace', async () => {
    const config = { ...cfg({ interval: 0.05, runDeadline: 0.05 }), probes: ['api' as const] };
    const s = new Scheduler({
      config,
      run: () => new Promise<RunResult>(() => undefined),
      onResult: () => undefined,
      tickMs: 5,
      graceSeconds: 100,
    });
    s.start();
    await sleep(30);
    expect(s.overdueJobs()).toEqual([]);
    expect(s.overdueJobs(performance.now() + 201_000)).toMatchObject([{ probe: 'api', target: 'box', running: true }]);
    // stop() must not wait for a runner that never answers longer than the grace.
  }, 5000);

  it('on stop aborts the run in flight and records it as cancelled', async () => {
    const config = { ...cfg({ interval: 60 }), probes: ['api' as const] };
    const r = fakeRunner(10_000);
    const results: RunResult[] = [];
    const s = new Scheduler({ config, run: r.run, onResult: (x) => void results.push(x), tickMs: 5 });
    s.start();
    await until(() => r.calls.length === 1);
    const t = Date.now();
    await s.stop();
    expect(Date.now() - t).toBeLessThan(1000);
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ ok: false, cancelled: true });
    expect(r.calls[0]!.req.signal?.aborted).toBe(true);
    expect(s.isRunning).toBe(false);
    await sleep(50);
    expect(r.calls).toHaveLength(1); // nothing new after stop
  });

  it('records a cancelled run even when the runner returns nothing after abort', async () => {
    const config = { ...cfg({ interval: 60 }), probes: ['api' as const] };
    const s = new Scheduler({
      config,
      run: (req) => new Promise<RunResult>((_res, rej) => req.signal?.addEventListener('abort', () => rej(new Error('aborted')))),
      onResult: (x) => void results.push(x),
      tickMs: 5,
    });
    const results: RunResult[] = [];
    s.start();
    await sleep(30);
    await s.stop();
    expect(results).toMatchObject([{ cancelled: true, ok: false, probe: 'api' }]);
  });

  it('hands the warm browser to browser runs only, and a failed launch is a probe error', async () => {
    const config = cfg({ interval: 0.05 });
    const browser = { isConnected: () => true } as unknown as Browser;
    let fail = true;
    const r = fakeRunner(5);
    const results: RunResult[] = [];
    const s = new Scheduler({
      config,
      run: r.run,
      onResult: (x) => void results.push(x),
      browser: async () => {
        if (fail) {
          fail = false;
          throw new Error('chromium would not start');
        }
        return browser;
      },
      tickMs: 5,
    });
    s.start();
    await until(() => results.filter((x) => x.probe === 'browser').length >= 2);
    await s.stop();
    const browserResults = results.filter((x) => x.probe === 'browser');
    expect(browserResults[0]).toMatchObject({ ok: false, reason: 'probe_error' });
    expect(browserResults[0]!.message).toMatch(/chromium would not start/);
    expect(r.calls.filter((c) => c.req.probe === 'browser').every((c) => c.req.browser === browser)).toBe(true);
    expect(r.calls.filter((c) => c.req.probe === 'api').every((c) => c.req.browser === undefined)).toBe(true);
  });

  it('a wall-clock jump of ±2 h neither pauses probing nor makes the run in flight look stuck', async () => {
    const HOURS_2 = 2 * 3600_000;
    const config = { ...cfg({ interval: 0.2, runDeadline: 0.5 }), probes: ['api' as const] };
    const starts: number[] = [];
    let inFlight = false;
    const s = new Scheduler({
      config,
      run: async (req) => {
        starts.push(performance.now());
        inFlight = true;
        await sleep(100);
        inFlight = false;
        return fakeResult({ probe: req.probe, ok: true });
      },
      onResult: () => undefined,
      tickMs: 5,
      graceSeconds: 0.1,
      random: () => 0,
    });
    try {
      s.start();
      await until(() => starts.length >= 1 && inFlight);
      // Wall time stands still 2 h ahead (then 2 h behind); only the monotonic clock moves on.
      for (const jump of [HOURS_2, -HOURS_2]) {
        vi.setSystemTime(Date.now() + jump);
        expect(s.overdueJobs()).toEqual([]); // the run in flight started "2 h ago" by the wall clock
        expect(s.sinceLastTickMs()!).toBeLessThan(1000);
        const before = starts.length;
        await until(() => starts.length >= before + 3);
        for (let i = before; i < starts.length; i++) {
          const gap = starts[i]! - starts[i - 1]!;
          expect(gap).toBeGreaterThanOrEqual(195);
          expect(gap).toBeLessThan(600);
        }
        // Shown in wall time: the next run is due within an interval of the (jumped) clock.
        await until(() => s.states()[0]!.nextRunAt !== undefined);
        const due = Date.parse(s.states()[0]!.nextRunAt!) - Date.now();
        expect(due).toBeGreaterThanOrEqual(-50);
        expect(due).toBeLessThanOrEqual(250);
        vi.useRealTimers();
      }
    } finally {
      vi.useRealTimers();
      await s.stop();
    }
  });

  it('measures due times, stuck runs and durations on the injected monotonic clock', async () => {
    let mono = 1_000_000;
    const config = { ...cfg({ interval: 60, runDeadline: 30 }), probes: ['api' as const] };
    const results: RunResult[] = [];
    let calls = 0;
    const s = new Scheduler({
      config,
      now: () => mono,
      // The first run hangs until aborted; later ones answer at once.
      run: (req) => {
        calls++;
        if (calls > 1) return Promise.resolve(fakeResult({ probe: req.probe, ok: true }));
        return new Promise<RunResult>((_res, rej) => req.signal?.addEventListener('abort', () => rej(new Error('aborted'))));
      },
      onResult: (x) => void results.push(x),
      tickMs: 5,
      graceSeconds: 10,
      random: () => 0,
    });
    try {
      s.start();
      await until(() => calls === 1);
      mono += 49_000; // deadline 30 s + twice the grace of 10 s = 50 s
      expect(s.overdueJobs()).toEqual([]);
      mono += 2_000;
      expect(s.overdueJobs()).toMatchObject([{ probe: 'api', running: true }]);
      expect(s.sinceLastTickMs()).toBeGreaterThanOrEqual(0);
      expect(s.sinceLastTickMs(mono + 7_000)).toBeGreaterThanOrEqual(7_000);
      await s.stop();
      // The synthetic result's duration is on the same clock: 51 s passed by it.
      expect(results[0]).toMatchObject({ cancelled: true });
      expect(results[0]!.durationSeconds).toBeCloseTo(51, 0);
    } finally {
      await s.stop();
    }
  });

  it('starts the next run when the monotonic clock says it is due, not before', async () => {
    let mono = 0;
    const config = { ...cfg({ interval: 60 }), probes: ['api' as const] };
    let calls = 0;
    const s = new Scheduler({
      config,
      now: () => mono,
      run: async (req) => {
        calls++;
        return fakeResult({ probe: req.probe, ok: true });
      },
      onResult: () => undefined,
      tickMs: 5,
      random: () => 0,
    });
    try {
      s.start();
      await until(() => calls === 1 && s.states()[0]!.nextRunAt !== undefined);
      mono += 59_000;
      await sleep(50);
      expect(calls).toBe(1);
      mono += 1_000;
      await until(() => calls === 2);
    } finally {
      await s.stop();
    }
  });

  it('after a failed run, the next comes after the retry when that is sooner than the interval', async () => {
    let mono = 0;
    const config = { ...cfg({ interval: 900, retry: 60 }), probes: ['api' as const] };
    let calls = 0;
    const s = new Scheduler({
      config,
      now: () => mono,
      // The first run fails, the rest pass.
      run: async (req) => {
        calls++;
        return fakeResult({ probe: req.probe, ...(calls === 1 ? { reason: 'import_failed' as const } : { ok: true }) });
      },
      onResult: () => undefined,
      tickMs: 5,
      random: () => 0,
    });
    try {
      s.start();
      await until(() => calls === 1 && s.states()[0]!.nextRunAt !== undefined);
      mono += 59_000;
      await sleep(50);
      expect(calls).toBe(1);
      mono += 1_000;
      await until(() => calls === 2 && s.states()[0]!.nextRunAt !== undefined);
      // Healthy again: back to the interval.
      mono += 60_000;
      await sleep(50);
      expect(calls).toBe(2);
      mono += 840_000;
      await until(() => calls === 3);
    } finally {
      await s.stop();
    }
  });

  it('ticks while running (what /healthz watches)', async () => {
    const s = new Scheduler({ config: cfg({ interval: 60 }), run: fakeRunner(5).run, onResult: () => undefined, tickMs: 10 });
    expect(s.lastTickAt).toBe(0);
    s.start();
    const first = s.lastTickAt;
    await sleep(50);
    expect(s.lastTickAt).toBeGreaterThan(first);
    await s.stop();
  });
});

class FakeBrowser extends EventEmitter {
  connected = true;
  closed = false;
  isConnected() {
    return this.connected;
  }
  async close() {
    this.closed = true;
  }
  crash() {
    this.connected = false;
    this.emit('disconnected');
  }
}

describe('WarmBrowser', () => {
  it('keeps one browser warm and relaunches it after it dies', async () => {
    const launched: FakeBrowser[] = [];
    const warm = new WarmBrowser({}, undefined, async () => {
      const b = new FakeBrowser();
      launched.push(b);
      return b as unknown as Browser;
    });
    const [a, b] = await Promise.all([warm.get(), warm.get()]);
    expect(a).toBe(b);
    expect(await warm.get()).toBe(a);
    launched[0]!.crash();
    const c = await warm.get();
    expect(c).not.toBe(a);
    expect(warm.launches).toBe(2);
    await warm.close();
    expect(launched[1]!.closed).toBe(true);
    await expect(warm.get()).rejects.toThrow(/closed/);
  });

  it('tries again after a failed launch', async () => {
    let n = 0;
    const warm = new WarmBrowser({}, undefined, async () => {
      if (n++ === 0) throw new Error('no chromium');
      return new FakeBrowser() as unknown as Browser;
    });
    await expect(warm.get()).rejects.toThrow(/no chromium/);
    await expect(warm.get()).resolves.toBeInstanceOf(FakeBrowser);
    await warm.close();
  });
});

describe('WarmBrowser with real Chromium', () => {
  it('launches Debian chromium once, and a new one after the browser goes away', async () => {
    const warm = new WarmBrowser({});
    const a = await warm.get();
    expect(a.isConnected()).toBe(true);
    expect(await warm.get()).toBe(a);
    const gone = new Promise<void>((resolve) => a.once('disconnected', () => resolve()));
    await a.close(); // as if it had crashed: the warm browser did not close it
    await gone;
    const b = await warm.get();
    expect(b).not.toBe(a);
    expect(b.isConnected()).toBe(true);
    const ctx = await b.newContext();
    await ctx.close();
    await warm.close();
    expect(b.isConnected()).toBe(false);
    expect(warm.launches).toBe(2);
  }, 30_000);
});
