// JUnit XML for pipelines: one testsuite per target, one testcase per probe. A failed run is a
// <failure> whose message is the reason and the one-line message; a cancelled run is skipped.
import { DIAGNOSIS_TEXT } from '../model/diagnosis.ts';
import type { RunResult } from '../model/result.ts';

export function toJUnitXml(results: RunResult[], suiteName = 'bulk-upload-probe'): string {
  const byTarget = new Map<string, RunResult[]>();
  for (const r of results) byTarget.set(r.target, [...(byTarget.get(r.target) ?? []), r]);
  const suites = [...byTarget].map(([target, runs]) => testsuite(suiteName, target, runs));
  const total = (f: (r: RunResult) => boolean) => results.filter(f).length;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${esc(suiteName)}" tests="${results.length}" failures="${total((r) => !r.ok && !r.cancelled)}" skipped="${total((r) => !!r.cancelled)}" time="${time(results)}">`,
    ...suites,
    '</testsuites>',
    '',
  ].join('\n');
}

function testsuite(suiteName: string, target: string, runs: RunResult[]): string {
  const failures = runs.filter((r) => !r.ok && !r.cancelled).length;
  const skipped = runs.filter((r) => r.cancelled).length;
  const timestamp = runs.map((r) => r.startedAt).sort()[0] ?? '';
  return [
    `  <testsuite name="${esc(`${suiteName}.${target}`)}" tests="${runs.length}" failures="${failures}" errors="0" skipped="${skipped}" time="${time(runs)}" timestamp="${esc(timestamp)}">`,
    ...runs.map((r) => testcase(suiteName, r)),
    '  </testsuite>',
  ].join('\n');
}

function testcase(suiteName: string, r: RunResult): string {
  const open = `    <testcase name="${esc(r.probe)}" classname="${esc(`${suiteName}.${r.target}`)}" time="${r.durationSeconds.toFixed(3)}">`;
  const out = `      <system-out>${esc(details(r))}</system-out>`;
  if (r.cancelled) return [open, `      <skipped message="${esc(`cancelled: ${r.message}`)}"/>`, out, '    </testcase>'].join('\n');
  if (r.ok) return [open, out, '    </testcase>'].join('\n');
  return [
    open,
    `      <failure message="${esc(`${r.reason}: ${r.message}`)}" type="${esc(r.reason ?? 'failure')}">${esc(failureBody(r))}</failure>`,
    out,
    '    </testcase>',
  ].join('\n');
}

function failureBody(r: RunResult): string {
  const lines = [`${r.reason}: ${r.message}`];
  if (r.failedStep) lines.push(`failed step: ${r.failedStep}`);
  if (r.likelyCause) lines.push(`likely cause: ${r.likelyCause}`);
  if (r.diagnosis) lines.push(`diagnosis: ${r.diagnosis}: ${DIAGNOSIS_TEXT[r.diagnosis]}`);
  if (r.diagnosisDetail) lines.push(`follow-ups: ${r.diagnosisDetail}`);
  if (r.evidenceDir) lines.push(`evidence: ${r.evidenceDir}`);
  return lines.join('\n');
}

function details(r: RunResult): string {
  return r.steps
    .map((s) => `${s.name} ${s.ok ? 'ok' : 'FAILED'} ${s.durationSeconds.toFixed(1)} s${s.error ? ` ${s.error}` : ''}`)
    .join('\n');
}

function time(runs: RunResult[]): string {
  return runs.reduce((t, r) => t + r.durationSeconds, 0).toFixed(3);
}

/** XML-escapes text for attributes and content; drops characters XML 1.0 forbids. */
export function esc(s: string): string {
  return (
    s
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/g, '')
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
      .replace(/'/g, '&apos;')
  );
}
