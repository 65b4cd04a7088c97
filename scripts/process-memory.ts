// Memory of the processes a script started (Chromium, Keycloak), for the benchmark and the soak.
import { execFileSync } from 'node:child_process';

/** Resident memory of this process's descendants whose command line matches, summed (ps; Linux). */
export function rssOf(pattern: RegExp): number {
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
  return rows.filter((r) => r.pid !== process.pid && mine.has(r.pid) && pattern.test(r.args)).reduce((sum, r) => sum + r.rss, 0);
}
