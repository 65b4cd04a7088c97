// CPU time of this process and of the processes it started, from /proc (Linux): the warm
// Chromium's whole tree, and the children this process has reaped (a spawned command's tree).
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ; 100 on Linux everywhere). */
const TICKS_PER_SECOND = 100;

interface Stat {
  pid: number;
  ppid: number;
  /** utime + stime: the process's own CPU. */
  own: number;
  /** cutime + cstime: the CPU of its children that it has reaped (with their reaped children). */
  reaped: number;
}

function readStat(pid: number | 'self'): Stat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined; // gone meanwhile
  }
  // The command name is in parentheses and may hold spaces: the fields follow the last ')'.
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const n = (i: number) => Number(f[i]);
  return { pid: Number(text.slice(0, text.indexOf(' '))), ppid: n(1), own: n(11) + n(12), reaped: n(13) + n(14) };
}

function allStats(): Stat[] {
  const out: Stat[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = readStat(Number(name));
    if (s) out.push(s);
  }
  return out;
}

/**
 * CPU seconds of every descendant of `root` (not `root` itself), those of `except` and below
 * left out: each one's own time and what it reaped. A process that ends between two readings
 * moves from its own time into its parent's reaped time, so a difference of two readings is the
 * tree's CPU in between (processes that end and are reaped outside the tree aside).
 */
export function descendantsCpuSeconds(root: number = process.pid, except: readonly number[] = []): number {
  const stats = allStats();
  const children = new Map<number, Stat[]>();
  for (const s of stats) children.set(s.ppid, [...(children.get(s.ppid) ?? []), s]);
  const skip = new Set(except);
  let ticks = 0;
  const walk = (pid: number) => {
    for (const c of children.get(pid) ?? []) {
      if (skip.has(c.pid)) continue;
      ticks += c.own + c.reaped;
      walk(c.pid);
    }
  };
  walk(root);
  return ticks / TICKS_PER_SECOND;
}

/** CPU seconds of the children this process has reaped (and theirs). */
export function reapedCpuSeconds(): number {
  return (readStat('self')?.reaped ?? 0) / TICKS_PER_SECOND;
}

/**
 * Follows a spawned command's process tree while it runs, for the CPU its reaping does not
 * carry: when Chromium's browser process ends before its zygotes, they are re-parented to init,
 * and what they and their renderers used never reaches this process's reaped time (measured:
 * about a quarter of a spawned Playwright Test run). Such orphans are noticed while alive and
 * counted from their last reading: their own and reaped time, or, where more, the own time of
 * their descendants last seen alive. The tree is read every `intervalMs`.
 */
export class OrphanWatch {
  private readonly known = new Map<number, Stat>();
  private readonly orphans = new Set<number>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly root: number,
    intervalMs = 25,
  ) {
    this.read();
    this.timer = setInterval(() => this.read(), intervalMs);
  }

  private read(): void {
    const stats = new Map(allStats().map((s) => [s.pid, s]));
    const tree = new Set<number>([this.root, ...this.orphans]);
    const grow = () => {
      for (let grew = true; grew;) {
        grew = false;
        for (const s of stats.values()) {
          if (!tree.has(s.pid) && tree.has(s.ppid)) {
            tree.add(s.pid);
            grew = true;
          }
        }
      }
    };
    grow();
    // Alive, seen in the tree before, no longer under it: its parent ended first.
    for (const pid of this.known.keys()) {
      if (pid !== this.root && stats.has(pid) && !tree.has(pid)) {
        this.orphans.add(pid);
        tree.add(pid);
      }
    }
    grow();
    for (const pid of tree) {
      const s = stats.get(pid);
      if (s) this.known.set(pid, s);
    }
  }

  /** Stops following; the CPU seconds of the orphaned subtrees. */
  stop(): number {
    clearInterval(this.timer);
    this.read();
    let ticks = 0;
    for (const orphan of this.orphans) {
      const o = this.known.get(orphan)!;
      let seenAlive = 0;
      const walk = (pid: number) => {
        seenAlive += this.known.get(pid)!.own;
        for (const s of this.known.values()) if (s.ppid === pid && !this.orphans.has(s.pid)) walk(s.pid);
      };
      walk(orphan);
      ticks += Math.max(o.own + o.reaped, seenAlive);
    }
    return ticks / TICKS_PER_SECOND;
  }
}

/** CPU seconds of this process (all its threads: the event loop, workers, GC, Playwright's driver side). */
export function ownCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}
