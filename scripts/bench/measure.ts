// One measured run: wall time and CPU seconds, in total and per phase (a journey's steps), and
// the statistics printed over many runs.
import { descendantsCpuSeconds, OrphanWatch, ownCpuSeconds, reapedCpuSeconds } from './cpu.ts';

export interface Phase {
  name: string;
  wall: number;
  cpu: number;
  /** Of `cpu`, this process's own (the rest: the browser's processes). */
  node: number;
}

export interface Sample {
  ok: boolean;
  error?: string;
  wall: number;
  cpu: number;
  /** Where the run's time went, in order (a spawned command's: wall time only). */
  phases?: Phase[];
}

/** How long a run's tail (a renderer ending, a late callback) is left to settle before its CPU is read. */
export const SETTLE_MS = 400;

/**
 * Measures work done in this process: its own CPU (all threads), plus, with `browserTree`, the
 * CPU of this process's other descendants (the warm Chromium's processes), `except` and theirs
 * left out (TIS in a box). `mark(name)` ends a phase.
 */
export async function measureInProcess(
  opts: { browserTree: boolean; except: readonly number[] },
  work: (mark: (phase: string) => void) => Promise<void>,
): Promise<Sample> {
  const cpu = () => {
    const node = ownCpuSeconds();
    return { node, all: node + (opts.browserTree ? descendantsCpuSeconds(process.pid, opts.except) : 0) };
  };
  const phases: Phase[] = [];
  const t0 = performance.now();
  const c0 = cpu();
  let lastT = t0;
  let lastC = c0;
  const mark = (name: string) => {
    const t = performance.now();
    const c = cpu();
    phases.push({ name, wall: (t - lastT) / 1000, cpu: c.all - lastC.all, node: c.node - lastC.node });
    lastT = t;
    lastC = c;
  };
  let ok = true;
  let error: string | undefined;
  try {
    await work(mark);
  } catch (err) {
    ok = false;
    error = (err instanceof Error ? err.message : String(err)).split('\n')[0];
  }
  const wall = (performance.now() - t0) / 1000;
  const tWall = performance.now();
  await new Promise((r) => setTimeout(r, SETTLE_MS));
  const c = cpu();
  phases.push({ name: 'close', wall: (tWall - lastT) / 1000, cpu: c.all - lastC.all, node: c.node - lastC.node });
  return { ok, ...(error ? { error } : {}), wall, cpu: c.all - c0.all, phases };
}

/**
 * Measures a spawned command: wall time to its exit; CPU of its whole tree: what this process
 * reaped, and what its orphaned subprocesses used (OrphanWatch). `run` starts it (telling its
 * pid) and may say how long the journey inside it took, step by step (wall only): the rest of
 * the wall time is the command's own start and end.
 */
export async function measureSpawned(
  run: (started: (pid: number) => void) => Promise<{ ok: boolean; error?: string; steps?: Record<string, number> }>,
): Promise<Sample> {
  const t0 = performance.now();
  const c0 = reapedCpuSeconds();
  let watch: OrphanWatch | undefined;
  const r = await run((pid) => (watch = new OrphanWatch(pid))).catch((err: unknown) => ({
    ok: false,
    error: String(err),
    steps: undefined,
  }));
  const wall = (performance.now() - t0) / 1000;
  const orphaned = watch?.stop() ?? 0;
  const sample: Sample = { ok: r.ok, ...(r.error ? { error: r.error } : {}), wall, cpu: reapedCpuSeconds() - c0 + orphaned };
  if (r.steps) {
    const steps = Object.entries(r.steps).map(([name, w]) => ({ name, wall: w, cpu: NaN, node: NaN }));
    const journey = steps.reduce((t, p) => t + p.wall, 0);
    sample.phases = [{ name: 'start and end', wall: wall - journey, cpu: NaN, node: NaN }, ...steps];
  }
  return sample;
}

/** The q-quantile (nearest rank) of xs. */
export function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}

export const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

export interface Stats {
  min: number;
  median: number;
  p95: number;
}

export function stats(xs: readonly number[]): Stats {
  return { min: Math.min(...xs), median: median(xs), p95: quantile(xs, 0.95) };
}

/** Median wall and CPU of each phase over the runs that saw it, in the order first seen. */
export function phaseMedians(samples: readonly Sample[]): Phase[] {
  const names: string[] = [];
  for (const s of samples) for (const p of s.phases ?? []) if (!names.includes(p.name)) names.push(p.name);
  return names.map((name) => {
    const ps = samples.flatMap((s) => (s.phases ?? []).filter((p) => p.name === name));
    return { name, wall: median(ps.map((p) => p.wall)), cpu: median(ps.map((p) => p.cpu)), node: median(ps.map((p) => p.node)) };
  });
}
