// Memory and CPU of the processes a script started (Chromium, Keycloak), for the benchmarks and the soak.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

interface Proc {
  pid: number;
  ppid: number;
  rss: number;
  args: string;
}

/** This process's live descendants whose command line matches (ps; Linux). */
function descendants(pattern: RegExp): Proc[] {
  const rows = execFileSync('ps', ['-eo', 'pid=,ppid=,rss=,args='], { encoding: 'utf8' })
    .split('\n')
    .map((l) => /^\s*(\d+)\s+(\d+)\s+(\d+)\s+(.*)$/.exec(l))
    .flatMap((m) => (m ? [{ pid: Number(m[1]), ppid: Number(m[2]), rss: Number(m[3]) * 1024, args: m[4]! }] : []));
  const mine = new Set([process.pid]);
  for (let grew = true; grew;) {
    grew = false;
    for (const r of rows) {
      if (!mine.has(r.pid) && mine.has(r.ppid)) {
        mine.add(r.pid);
        grew = true;
      }
    }
  }
  return rows.filter((r) => r.pid !== process.pid && mine.has(r.pid) && pattern.test(r.args));
}

/** Resident memory of this process's descendants whose command line matches, summed. */
export function rssOf(pattern: RegExp): number {
  return descendants(pattern).reduce((sum, r) => sum + r.rss, 0);
}

/** USER_HZ: the unit of /proc/PID/stat times (100 on Linux everywhere in practice). */
const CLOCK_TICKS = 100;

/**
 * CPU seconds used so far by this process's live descendants whose command line matches, with
 * what their own ended children used (cutime/cstime), summed (/proc). Children that end
 * between two readings are counted through the parent that reaped them.
 */
export function cpuSecondsOf(pattern: RegExp): number {
  let ticks = 0;
  for (const r of descendants(pattern)) {
    try {
      // Fields after the command's closing parenthesis: utime, stime, cutime, cstime are 14-17.
      const stat = readFileSync(`/proc/${r.pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
    } catch {
      // ended between ps and the read
    }
  }
  return ticks / CLOCK_TICKS;
}

/**
 * Proportional set size of this process's descendants whose command line matches, summed: shared
 * pages (Chromium's processes share most of theirs) counted once, split between their sharers.
 */
export function pssOf(pattern: RegExp): number {
  let kib = 0;
  for (const r of descendants(pattern)) {
    try {
      kib += Number(/^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${r.pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0);
    } catch {
      // ended between ps and the read
    }
  }
  return kib * 1024;
}
