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

/** CPU seconds of the children this process has reaped (and theirs): a spawned command's whole tree, once it has ended. */
export function reapedCpuSeconds(): number {
  return (readStat('self')?.reaped ?? 0) / TICKS_PER_SECOND;
}

/** CPU seconds of this process (all its threads: the event loop, workers, GC, Playwright's driver side). */
export function ownCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}
