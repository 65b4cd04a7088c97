// What a person reads in a terminal: each step as it finishes, then one block per probe and
// a verdict line. Plain text, aligned, no colours (it ends up in CI logs).
import { DIAGNOSIS_TEXT } from '../model/diagnosis.ts';
import type { RunResult, StepResult } from '../model/result.ts';

const PROBE_WIDTH = 8;
const STEP_WIDTH = 16;

export function formatStep(probe: string, step: StepResult): string {
  const head = `${probe.padEnd(PROBE_WIDTH)} ${step.name.padEnd(STEP_WIDTH)} ${(step.ok ? 'ok' : 'FAILED').padEnd(6)} ${seconds(step.durationSeconds).padStart(7)}`;
  return step.error && !step.ok ? `${head}  ${step.error}` : head;
}

export function formatResult(r: RunResult): string {
  const pad = ' '.repeat(PROBE_WIDTH + 1);
  if (r.ok) {
    const healthy = `${r.probe.padEnd(PROBE_WIDTH)} HEALTHY in ${seconds(r.durationSeconds)}: ${r.message}`;
    // Kept for a healthy run only when asked (smoke --trace always).
    return r.evidenceDir ? `${healthy}\n${pad}evidence: ${r.evidenceDir}` : healthy;
  }
  const lines = [
    `${r.probe.padEnd(PROBE_WIDTH)} ${r.cancelled ? 'CANCELLED' : 'UNHEALTHY'} after ${seconds(r.durationSeconds)}: ${r.reason}${r.failedStep ? ` at step ${r.failedStep}` : ''}`,
    `${pad}${r.message}`,
  ];
  if (r.likelyCause) lines.push(`${pad}likely cause: ${r.likelyCause}`);
  if (r.diagnosis) lines.push(`${pad}diagnosis: ${r.diagnosis}: ${DIAGNOSIS_TEXT[r.diagnosis]}`);
  if (r.diagnosisDetail) lines.push(`${pad}follow-ups: ${r.diagnosisDetail}`);
  if (r.http.firstBad) {
    const b = r.http.firstBad;
    lines.push(`${pad}first bad response: ${b.method} ${b.url} ${b.status || b.failure} (${b.durationMs} ms)`);
  }
  if (r.evidenceDir) lines.push(`${pad}evidence: ${r.evidenceDir}`);
  return lines.join('\n');
}

/** The last line: healthy, or which probes failed and why. */
export function formatVerdict(target: string, results: RunResult[]): string {
  const failed = results.filter((r) => !r.ok);
  if (failed.length === 0) return `verdict: ${target} HEALTHY (${results.map((r) => r.probe).join(', ')} passed)`;
  return `verdict: ${target} UNHEALTHY: ${failed.map((r) => `${r.probe} ${r.reason}`).join(', ')}`;
}

function seconds(s: number): string {
  return `${s.toFixed(1)} s`;
}
