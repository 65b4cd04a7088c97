// promtool, run for real: the tests hold the product to what Prometheus's own linter says.
import { spawnSync } from 'node:child_process';

export interface PromtoolOutput {
  status: number | null;
  /** stdout and stderr, line by line. */
  lines: string[];
}

export function promtool(args: string[], input?: string): PromtoolOutput {
  const p = spawnSync('promtool', args, { input, encoding: 'utf8', timeout: 60_000 });
  if (p.error) throw p.error;
  return { status: p.status, lines: `${p.stdout}\n${p.stderr}`.split('\n').filter((l) => l.trim() !== '') };
}

/** promtool check metrics' complaints about families starting with `prefix`. */
export function lintComplaints(exposition: string, prefix: string): string[] {
  return promtool(['check', 'metrics'], exposition).lines.filter((l) => l.includes(prefix));
}
