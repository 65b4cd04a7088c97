// The service's pages for people, server-rendered, no script, every text escaped:
// - the status page (/): per target × probe × depth, a strip of the last runs coloured by result
//   (each bar links to its run), how long ago the last success was, and the current failure with
//   its likely cause; then the recent runs. It refreshes itself.
// - a run's page (/runs/:id): what happened, the steps as a timeline, the network log, the
//   screenshot, the trace with the command that opens it.
// Nothing here reads files or the clock by itself: the server hands in what to show and "now".
import { DIAGNOSIS_INFO } from '../model/diagnosis.ts';
import type { HttpEvent, RunResult, StepResult } from '../model/result.ts';
import type { JobState } from '../model/job.ts';
import { runIdOf } from '../model/run-id.ts';
import type { HealthReport } from './health.ts';

/** Bars in a job's strip: its last runs. */
export const DEFAULT_STRIP_RUNS = 60;

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const esc = (v: unknown): string => escapeHtml(String(v ?? ''));

/** `text`, or its start and an ellipsis. */
function cut(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** The page of a run (the path, ready to go into an attribute). */
export function runPath(r: RunResult): string {
  return `/runs/${encodeURIComponent(runIdOf(r))}`;
}

/** `2026-11-25 10:15:03 UTC` (the page has no script to show local time). */
export function utcTime(iso: string | undefined): string {
  const ms = iso ? Date.parse(iso) : NaN;
  if (!Number.isFinite(ms)) return iso ?? '-';
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

function plural(n: number, unit: string): string {
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}

/** A span of time in words, in its largest unit: "12 seconds", "4 minutes", "2 hours", "3 days". */
export function durationInWords(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return plural(s, 'second');
  if (s < 3600) return plural(Math.floor(s / 60), 'minute');
  if (s < 86_400) return plural(Math.floor(s / 3600), 'hour');
  return plural(Math.floor(s / 86_400), 'day');
}

/** "4 minutes ago"; "just now" within the second (or when the clock says the future). */
export function timeAgo(iso: string, nowMs: number): string {
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms)) return 'at an unknown time';
  const seconds = (nowMs - ms) / 1000;
  return seconds < 1 ? 'just now' : `${durationInWords(seconds)} ago`;
}

type Kind = 'ok' | 'fail' | 'error' | 'cancelled';

/** How a run is coloured: healthy, failed, the probe's own error (no verdict on TIS), cancelled. */
function kindOf(r: RunResult): Kind {
  if (r.cancelled) return 'cancelled';
  if (r.ok) return 'ok';
  return r.reason === 'probe_error' ? 'error' : 'fail';
}

function verdictText(r: RunResult): string {
  const k = kindOf(r);
  return k === 'ok' ? 'ok' : k === 'cancelled' ? 'cancelled' : `failed: ${r.reason ?? 'failure'}`;
}

function verdict(r: { ok: boolean; cancelled?: boolean; reason?: string }): string {
  if (r.cancelled) return '<span class="cancelled">cancelled</span>';
  return r.ok ? '<span class="ok">ok</span>' : `<span class="fail">${esc(r.reason ?? 'failed')}</span>`;
}

const seconds = (s: number) => `${s.toFixed(1)} s`;

/** What the status page knows about one job from its runs (newest first). */
export interface JobSummary {
  job: JobState;
  /** This job's runs, newest first. */
  runs: RunResult[];
  /** The newest run that was not cancelled: the job's current verdict. */
  current?: RunResult;
  lastSuccess?: RunResult;
  /** While failing: the first failed run since the last success (or the oldest run kept). */
  failingSince?: RunResult;
  /** Failed runs since the last success. */
  failures: number;
}

export function summariseJob(job: JobState, allRuns: RunResult[]): JobSummary {
  const runs = allRuns.filter((r) => r.target === job.target && r.probe === job.probe && r.depth === job.depth);
  const verdicts = runs.filter((r) => !r.cancelled);
  const current = verdicts[0];
  const lastSuccess = verdicts.find((r) => r.ok);
  const failed = current && !current.ok ? verdicts.slice(0, lastSuccess ? verdicts.indexOf(lastSuccess) : verdicts.length) : [];
  return { job, runs, current, lastSuccess, failingSince: failed.at(-1), failures: failed.length };
}

function bar(r: RunResult): string {
  const title = `${utcTime(r.finishedAt)} · ${verdictText(r)} · ${seconds(r.durationSeconds)}${r.ok ? '' : `\n${cut(r.message, 160)}`}`;
  return `<a class="bar ${kindOf(r)}" href="${esc(runPath(r))}" title="${esc(title)}"></a>`;
}

/** The job's last `n` runs as bars, oldest left; empty slots first when it has fewer. */
export function renderStrip(runs: RunResult[], n: number): string {
  const shown = runs.slice(0, n).reverse();
  const empty = '<span class="bar none" title="no run"></span>'.repeat(n - shown.length);
  return `<div class="strip" role="img" aria-label="last ${shown.length} runs, oldest first">${empty}${shown.map(bar).join('')}</div>`;
}

function lastSuccessText(s: JobSummary, nowMs: number, n: number): string {
  if (s.lastSuccess)
    return `<b>${esc(timeAgo(s.lastSuccess.finishedAt, nowMs))}</b><br><small>${esc(utcTime(s.lastSuccess.finishedAt))}</small>`;
  // The runs kept for this job are all failures: older ones may have been healthy.
  if (s.runs.length >= n) return `<b>not in the last ${s.runs.length} runs</b>`;
  return '<b>never since start</b>';
}

function nowText(j: JobState): string {
  return j.running ? `running since ${esc(utcTime(j.runningSince))}` : `next at ${esc(utcTime(j.nextRunAt))}`;
}

function jobRows(s: JobSummary, nowMs: number, n: number): string {
  const j = s.job;
  const state = s.current ? verdict(s.current) : '<span class="cancelled">no run yet</span>';
  const row =
    `<tr class="job"><td><b>${esc(j.target)}</b><br>${esc(j.probe)} · ${esc(j.depth)}</td><td>${state}</td>` +
    `<td>${renderStrip(s.runs, n)}</td><td>${lastSuccessText(s, nowMs, n)}</td><td><small>${nowText(j)}<br>${j.runs} runs</small></td></tr>`;
  const c = s.current;
  if (!c || c.ok || !s.failingSince) return row;
  const since = s.lastSuccess
    ? `failing for ${esc(durationInWords((nowMs - Date.parse(s.failingSince.finishedAt)) / 1000))}`
    : 'failing in every run kept';
  const lastFailure = `/targets/${encodeURIComponent(j.target)}/${encodeURIComponent(j.probe)}/last-failure?depth=${encodeURIComponent(j.depth)}`;
  return (
    row +
    `<tr class="failure"><td colspan="5"><span class="fail">${esc(c.reason ?? 'failure')}</span>` +
    (c.failedStep ? ` in step <code>${esc(c.failedStep)}</code>` : '') +
    ` · ${since} (since ${esc(utcTime(s.failingSince.finishedAt))}, ${plural(s.failures, 'failed run')}): ${esc(c.message)}` +
    (c.likelyCause ? `<br><small>Likely cause: ${esc(c.likelyCause)}</small>` : '') +
    (c.diagnosis ? `<br><small>Diagnosis: ${diagnosisHtml(c)}</small>` : '') +
    `<br><a href="${esc(runPath(c))}">this run's page</a> · <a href="${esc(lastFailure)}">latest failure</a></td></tr>`
  );
}

function runRow(r: RunResult): string {
  const steps = r.steps.map((s) => `${esc(s.name)} ${s.durationSeconds.toFixed(1)}s${s.ok ? '' : ' ✗'}`).join(', ');
  const cause = r.likelyCause ? `<br><small>${esc(r.likelyCause)}</small>` : '';
  return (
    `<tr><td class="n"><a href="${esc(runPath(r))}">${esc(utcTime(r.finishedAt))}</a></td><td>${esc(r.target)}</td><td>${esc(r.probe)}</td><td>${esc(r.depth)}</td>` +
    `<td>${verdict(r)}</td><td class="n">${seconds(r.durationSeconds)}</td><td>${esc(r.message)}${cause}</td><td>${steps}</td></tr>`
  );
}

const STYLE = `body{font-family:system-ui,sans-serif;margin:1.5rem;color:#222;max-width:80rem}
table{border-collapse:collapse;margin-bottom:1.5rem}
td,th{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top;font-size:.9rem}
.ok{color:#187a2f;font-weight:600}.fail{color:#b00020;font-weight:600}.cancelled{color:#777}
.strip{display:flex;gap:2px;height:1.6rem;align-items:stretch}
.bar{display:block;width:6px;border-radius:1px;background:#ddd}
.bar.ok{background:#2da44e}.bar.fail{background:#cf222e}.bar.error{background:#bf8700}.bar.cancelled{background:#8c959f}.bar.none{background:#eaeef2}
a.bar:hover,a.bar:focus{outline:2px solid #0969da}
tr.failure td{background:#fff5f5;border-top:none}
td.n{white-space:nowrap}
code,pre{font-size:.85rem}pre{background:#f6f8fa;padding:.5rem;overflow-x:auto;white-space:pre-wrap;word-break:break-all}
.tl{position:relative;background:#f0f0f0;height:.9rem;min-width:20rem}
.tl span{position:absolute;top:0;bottom:0;background:#2da44e;min-width:2px}.tl span.bad{background:#cf222e}
img.shot{max-width:100%;border:1px solid #ccc}
dl{display:grid;grid-template-columns:max-content auto;gap:.2rem 1rem}dt{font-weight:600}dd{margin:0}`;

function page(title: string, body: string, opts: { refreshSeconds?: number } = {}): string {
  const refresh = opts.refreshSeconds ? `<meta http-equiv="refresh" content="${opts.refreshSeconds}">` : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">${refresh}
<title>${esc(title)}</title>
<style>
${STYLE}
</style></head><body>
${body}
</body></html>
`;
}

export interface StatusPageInput {
  jobs: JobState[];
  /** The latest runs of all jobs, newest first. */
  runs: RunResult[];
  /** A job's last runs, newest first (default: its runs among `runs`). */
  jobRuns?: (job: JobState) => RunResult[];
  health: HealthReport;
  version: string;
  /** Now, in ms (default Date.now()). */
  now?: number;
  /** Bars in a strip (default 60). */
  stripRuns?: number;
  /** Rows in "Recent runs" (default 30). */
  recentRuns?: number;
}

export function renderStatusPage(p: StatusPageInput): string {
  const nowMs = p.now ?? Date.now();
  const n = p.stripRuns ?? DEFAULT_STRIP_RUNS;
  const summaries = p.jobs.map((j) => summariseJob(j, p.jobRuns ? p.jobRuns(j) : p.runs));
  const failing = summaries.filter((s) => s.current && !s.current.ok).length;
  const headline =
    summaries.length === 0
      ? 'No probes configured.'
      : failing === 0
        ? `<span class="ok">All ${summaries.length} probes healthy</span> (or not run yet).`
        : `<span class="fail">${failing} of ${summaries.length} probes failing.</span>`;
  return page(
    'bulk-upload-probe',
    `<h1>bulk-upload-probe ${esc(p.version)}</h1>
<p>${headline} Service: ${p.health.ok ? '<span class="ok">healthy</span>' : `<span class="fail">unhealthy</span> ${esc(p.health.problems.join('; '))}`}
 · <a href="/metrics">/metrics</a> · <a href="/api/runs">/api/runs</a> · <a href="/healthz">/healthz</a> · as of ${esc(utcTime(new Date(nowMs).toISOString()))}</p>
<h2>Probes</h2>
<table><thead><tr><th>Target / probe · depth</th><th>Now</th><th>Last ${n} runs (oldest → newest)</th><th>Last success</th><th>Next</th></tr></thead>
<tbody>${summaries.map((s) => jobRows(s, nowMs, n)).join('\n')}</tbody></table>
<h2>Recent runs</h2>
<table><thead><tr><th>Finished</th><th>Target</th><th>Probe</th><th>Depth</th><th>Result</th><th>Duration</th><th>Message</th><th>Steps</th></tr></thead>
<tbody>${p.runs
      .slice(0, p.recentRuns ?? 30)
      .map(runRow)
      .join('\n')}</tbody></table>`,
    { refreshSeconds: 10 },
  );
}

/** One line of the run's network log (network.json, or only the first bad answer from the summary). */
export interface NetworkLine extends HttpEvent {
  /** As network.json names it (read back from disk, so any text). */
  step?: string;
}

export interface RunPageInput {
  run: RunResult;
  /** The evidence files the run's folder holds (already checked to be the run's own). */
  evidence: string[];
  /** The network log from the evidence folder, when there is one. */
  network?: NetworkLine[];
  version: string;
}

/** A position on the run's time line, in percent (0 to 100). */
function pct(fromMs: number, startMs: number, totalMs: number): number {
  if (!(totalMs > 0) || !Number.isFinite(fromMs)) return 0;
  return Math.min(100, Math.max(0, ((fromMs - startMs) / totalMs) * 100));
}

function timelineBar(startMs: number, totalMs: number, atMs: number, durationMs: number, bad: boolean): string {
  const left = pct(atMs, startMs, totalMs);
  const width = Math.min(100 - left, Math.max(0.3, pct(atMs + durationMs, startMs, totalMs) - left));
  return `<div class="tl"><span class="${bad ? 'bad' : ''}" style="left:${left.toFixed(2)}%;width:${width.toFixed(2)}%"></span></div>`;
}

function stepsTimeline(r: RunResult, startMs: number, totalMs: number): string {
  if (r.steps.length === 0) return '<p>No step started.</p>';
  const row = (s: StepResult) =>
    `<tr><td><code>${esc(s.name)}</code></td><td>${s.ok ? '<span class="ok">ok</span>' : '<span class="fail">failed</span>'}</td>` +
    `<td>${timelineBar(startMs, totalMs, Date.parse(s.startedAt), s.durationSeconds * 1000, !s.ok)}</td>` +
    `<td class="n">${seconds(s.durationSeconds)}</td><td>${esc(s.error ?? '')}</td></tr>`;
  return `<table><thead><tr><th>Step</th><th></th><th>Time line (${seconds(totalMs / 1000)})</th><th>Took</th><th>Error</th></tr></thead><tbody>${r.steps.map(row).join('')}</tbody></table>`;
}

const isBadStatus = (status: number) => status === 0 || status === 401 || status === 403 || status >= 500;

function networkTable(lines: NetworkLine[], startMs: number, totalMs: number): string {
  const row = (e: NetworkLine) => {
    const at = Date.parse(e.at);
    const offset = Number.isFinite(at) ? `+${((at - startMs) / 1000).toFixed(2)} s` : esc(e.at);
    const status = e.status === 0 ? 'no answer' : String(e.status);
    return (
      `<tr><td class="n">${offset}</td><td>${esc(e.step ?? '')}</td><td>${esc(e.method)}</td><td><code>${esc(e.url)}</code></td>` +
      `<td>${isBadStatus(e.status) ? `<span class="fail">${status}</span>` : status}</td><td class="n">${Math.round(e.durationMs)} ms</td>` +
      `<td>${timelineBar(startMs, totalMs, at, e.durationMs, isBadStatus(e.status))}</td><td>${esc(e.failure ?? '')}</td></tr>`
    );
  };
  return `<table><thead><tr><th>At</th><th>Step</th><th>Method</th><th>URL (no query string)</th><th>Status</th><th>Took</th><th>Time line</th><th>Failure</th></tr></thead><tbody>${lines.map(row).join('')}</tbody></table>`;
}

/** A path as one shell word (single quotes unless it needs none). */
export function shellWord(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

function dlRow(term: string, html: string | undefined): string {
  return html === undefined || html === '' ? '' : `<dt>${esc(term)}</dt><dd>${html}</dd>`;
}

/** The run's diagnosis (the broken link its follow-up checks point at), with what they saw. */
function diagnosisHtml(r: RunResult): string | undefined {
  if (!r.diagnosis) return undefined;
  const info = (DIAGNOSIS_INFO as Partial<Record<string, { text: string }>>)[r.diagnosis];
  return `<code>${esc(r.diagnosis)}</code>${info ? `: ${esc(info.text)}` : ''}${r.diagnosisDetail ? `<br><small>${esc(r.diagnosisDetail)}</small>` : ''}`;
}

export function renderRunPage(p: RunPageInput): string {
  const r = p.run;
  const id = runIdOf(r);
  const base = `/runs/${encodeURIComponent(id)}`;
  const startMs = Date.parse(r.startedAt);
  const stepEnd = Math.max(0, ...r.steps.map((s) => Date.parse(s.startedAt) + s.durationSeconds * 1000 - startMs).filter(Number.isFinite));
  const totalMs = Math.max(r.durationSeconds * 1000, stepEnd, 1);
  const has = (f: string) => p.evidence.includes(f);
  const file = (f: string) => `${base}/evidence/${f}`;
  const c = r.canary;
  const canary = c
    ? `<code>${esc(c.fileName)}</code>${c.status ? ` ${esc(c.status)}` : ''}` +
      (c.numberOfErrors !== undefined ? `, ${c.numberOfErrors} errors` : '') +
      (c.numberImported !== undefined ? `, ${c.numberImported} imported` : '') +
      (c.reasonText ? `: “${esc(c.reasonText)}”` : '') +
      (c.queueWaitSeconds !== undefined ? ` · queue ${seconds(c.queueWaitSeconds)}` : '') +
      (c.importSeconds !== undefined ? ` · import ${seconds(c.importSeconds)}` : '')
    : undefined;
  const diagnosis = diagnosisHtml(r);

  const traceFile = r.evidenceDir ? `${r.evidenceDir.replace(/[/\\]+$/, '')}/trace.zip` : 'trace.zip';
  const trace = has('trace.zip')
    ? `<h2>Trace</h2>
<p><a href="${esc(file('trace.zip'))}" download>Download the trace</a> (secrets removed), then open it with Playwright's trace viewer:</p>
<pre>npx playwright show-trace --host 127.0.0.1 --port 9323 ${esc(shellWord(`trace-${id}.zip`))}</pre>
<p>On the machine the service runs on, without downloading:</p>
<pre>npx playwright show-trace --host 127.0.0.1 --port 9323 ${esc(shellWord(traceFile))}</pre>`
    : '';
  const screenshot = has('screenshot.png')
    ? `<h2>Screenshot</h2><p><a href="${esc(file('screenshot.png'))}"><img class="shot" src="${esc(file('screenshot.png'))}" alt="the page when the run ended"></a></p>`
    : '';
  const fromSummary: NetworkLine[] = r.http.firstBad ? [r.http.firstBad] : [];
  const classes = Object.entries(r.http.byClass)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${esc(k)}: ${n}`)
    .join(', ');
  const network = p.network
    ? `<p>${p.network.length} requests kept (the run's last ones) of ${r.http.requests} · ${classes || 'no answers'} · <a href="${esc(file('network.json'))}">network.json</a></p>${networkTable(p.network, startMs, totalMs)}`
    : `<p>${r.http.requests} requests · ${classes || 'no answers'}${r.evidenceDir ? ' · no network log kept for this run' : ' (network logs are kept for failed runs only)'}.</p>` +
      (fromSummary.length ? `<p>The first answer that failed the run:</p>${networkTable(fromSummary, startMs, totalMs)}` : '');
  const others = (['network.json', 'probe.log', 'result.json'] as const).filter(has).map((f) => `<a href="${esc(file(f))}">${f}</a>`);
  const evidence = r.evidenceDir
    ? p.evidence.length
      ? `${others.join(' · ')}${others.length ? ' · ' : ''}folder <code>${esc(r.evidenceDir)}</code>`
      : `no longer kept (old evidence is pruned): <code>${esc(r.evidenceDir)}</code>`
    : r.evidenceError
      ? `<span class="fail">not written</span>: ${esc(r.evidenceError)}`
      : 'none (kept for failed runs)';
  const recent = r.recentUploads
    ? `${r.recentUploads.listed} listed: ${Object.entries(r.recentUploads.byOutcome)
        .map(([k, n]) => `${esc(k)} ${n}`)
        .join(', ')}`
    : undefined;

  return page(
    `${r.target} ${r.probe} ${r.depth}: ${verdictText(r)}`,
    `<p><a href="/">← status page</a></p>
<h1>${esc(r.target)} · ${esc(r.probe)} · ${esc(r.depth)}: ${verdict(r)}</h1>
<dl>
${dlRow('Verdict', esc(verdictText(r)))}
${dlRow('Reason', r.reason ? `<span class="fail">${esc(r.reason)}</span>${r.failedStep ? ` in step <code>${esc(r.failedStep)}</code>` : ''}` : undefined)}
${dlRow('Message', esc(r.message))}
${dlRow('Likely cause', r.likelyCause ? esc(r.likelyCause) : undefined)}
${dlRow('Diagnosis', diagnosis)}
${dlRow('Started', esc(utcTime(r.startedAt)))}
${dlRow('Finished', esc(utcTime(r.finishedAt)))}
${dlRow('Duration', seconds(r.durationSeconds))}
${dlRow('Canary', canary)}
${dlRow('Real uploads', recent)}
${dlRow('Evidence', evidence)}
${dlRow('Run id', `<code>${esc(id)}</code> · <a href="/api/runs?target=${esc(encodeURIComponent(r.target))}&amp;probe=${esc(encodeURIComponent(r.probe))}">JSON</a>`)}
</dl>
<h2>Steps</h2>
${stepsTimeline(r, startMs, totalMs)}
${screenshot}
${trace}
<h2>Network</h2>
${network}
<p><small>bulk-upload-probe ${esc(p.version)}</small></p>`,
  );
}

export function renderNotFound(message: string): string {
  return page('not found', `<p><a href="/">← status page</a></p><h1>Not found</h1><p>${esc(message)}</p>`);
}
