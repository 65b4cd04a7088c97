// Splits the integration test files into K groups of about equal time, each run by its own
// vitest process with its own TIS in a box (a box's faults are global, so files that share a box
// run one at a time). Times come from the last run's results when there are any, else from the
// files' sizes (a rough stand-in). Prints one line per group: the files, space-separated.
//
//   node --import tsx scripts/test-plan.ts K [previous-results.json ...]
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const INTEGRATION_DIRS = ['test/box', 'test/probes', 'test/monitoring'];

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return files(p);
    return e.name.endsWith('.test.ts') ? [p] : [];
  });
}

/** Seconds per file from vitest JSON reports (absolute paths made relative to the repository). */
function lastTimes(reports: string[]): Map<string, number> {
  const times = new Map<string, number>();
  for (const report of reports) {
    try {
      const v = JSON.parse(readFileSync(report, 'utf8')) as { testResults?: Array<{ name: string; startTime: number; endTime: number }> };
      for (const f of v.testResults ?? []) times.set(relative(process.cwd(), f.name), (f.endTime - f.startTime) / 1000);
    } catch {
      // no previous run
    }
  }
  return times;
}

/** Longest first, each into the group with the least time so far. */
export function plan(all: string[], k: number, times: Map<string, number>): string[][] {
  const weight = (f: string) => times.get(f) ?? statSync(f).size / 300;
  const groups = Array.from({ length: k }, () => ({ files: [] as string[], total: 0 }));
  for (const f of [...all].sort((a, b) => weight(b) - weight(a))) {
    const g = groups.reduce((min, x) => (x.total < min.total ? x : min));
    g.files.push(f);
    g.total += weight(f);
  }
  return groups.filter((g) => g.files.length > 0).map((g) => g.files.sort());
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const k = Number(process.argv[2]);
  if (!Number.isInteger(k) || k < 1) throw new Error('usage: test-plan.ts K [results.json ...]');
  const all = INTEGRATION_DIRS.flatMap(files).sort();
  for (const group of plan(all, k, lastTimes(process.argv.slice(3)))) console.log(group.join(' '));
}
