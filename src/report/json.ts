// Machine-readable output of a smoke run: the RunResult array as it is (already scrubbed).
import type { RunResult } from '../model/result.ts';

export function toJson(results: RunResult[]): string {
  return `${JSON.stringify(results, null, 2)}\n`;
}
