// A small human status page: each probe × target's state, then the recent runs with their
// reason, message and step times. Server-rendered, no script; refreshes itself.
import type { RunResult } from '../model/result.ts';
import type { JobState } from '../model/job.ts';
import type { HealthReport } from './health.ts';

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function verdict(r: { ok: boolean; cancelled?: boolean; reason?: string }): string {
  if (r.cancelled) return '<span class="cancelled">cancelled</span>';
  return r.ok ? '<span class="ok">ok</span>' : `<span class="fail">${escapeHtml(r.reason ?? 'failed')}</span>`;
}

function jobRow(j: JobState): string {
  const last = j.lastResult ? `${verdict(j.lastResult)} at ${escapeHtml(j.lastResult.finishedAt)}` : 'no run yet';
  const now = j.running ? `running since ${escapeHtml(j.runningSince ?? '')}` : `next at ${escapeHtml(j.nextRunAt ?? '-')}`;
  return `<tr><td>${escapeHtml(j.target)}</td><td>${escapeHtml(j.probe)}</td><td>${escapeHtml(j.depth)}</td><td>${last}</td><td>${now}</td><td>${j.runs}</td></tr>`;
}

function runRow(r: RunResult): string {
  const steps = r.steps.map((s) => `${escapeHtml(s.name)} ${s.durationSeconds.toFixed(1)}s${s.ok ? '' : ' ✗'}`).join(', ');
  const cause = r.likelyCause ? `<br><small>${escapeHtml(r.likelyCause)}</small>` : '';
  return (
    `<tr><td>${escapeHtml(r.finishedAt)}</td><td>${escapeHtml(r.target)}</td><td>${escapeHtml(r.probe)}</td><td>${escapeHtml(r.depth)}</td>` +
    `<td>${verdict(r)}</td><td>${r.durationSeconds.toFixed(1)}s</td><td>${escapeHtml(r.message)}${cause}</td><td>${steps}</td></tr>`
  );
}

export function renderStatusPage(p: { jobs: JobState[]; runs: RunResult[]; health: HealthReport; version: string }): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="10">
<title>bulk-upload-probe</title>
<style>
body{font-family:system-ui,sans-serif;margin:1.5rem;color:#222}
table{border-collapse:collapse;margin-bottom:1.5rem}
td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top;font-size:.9rem}
.ok{color:#187a2f;font-weight:600}.fail{color:#b00020;font-weight:600}.cancelled{color:#888}
</style></head><body>
<h1>bulk-upload-probe ${escapeHtml(p.version)}</h1>
<p>Service: ${p.health.ok ? '<span class="ok">healthy</span>' : `<span class="fail">unhealthy</span> ${escapeHtml(p.health.problems.join('; '))}`}
 · <a href="/metrics">/metrics</a> · <a href="/api/runs">/api/runs</a> · <a href="/healthz">/healthz</a></p>
<h2>Probes</h2>
<table><thead><tr><th>Target</th><th>Probe</th><th>Depth</th><th>Last run</th><th>Now</th><th>Runs</th></tr></thead>
<tbody>${p.jobs.map(jobRow).join('\n')}</tbody></table>
<h2>Recent runs</h2>
<table><thead><tr><th>Finished</th><th>Target</th><th>Probe</th><th>Depth</th><th>Result</th><th>Duration</th><th>Message</th><th>Steps</th></tr></thead>
<tbody>${p.runs.map(runRow).join('\n')}</tbody></table>
</body></html>
`;
}
