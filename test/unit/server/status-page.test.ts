// The status page and a run's page as HTML: the strip of last runs, time since the last success
// in words, the current failure with its likely cause, the run page's parts; every text that
// may come from a target or a configuration escaped.
import { describe, expect, it } from 'vitest';
import type { JobState } from '../../../src/model/job.ts';
import type { RunResult } from '../../../src/model/result.ts';
import { runIdOf } from '../../../src/model/run-id.ts';
import { DIAGNOSIS_INFO } from '../../../src/model/diagnosis.ts';
import {
  durationInWords,
  escapeHtml,
  renderRunPage,
  renderStatusPage,
  renderStrip,
  shellWord,
  summariseJob,
  timeAgo,
  utcTime,
} from '../../../src/server/status-page.ts';
import { fakeResult } from '../../support/results.ts';

const NOW = Date.parse('2026-11-25T12:00:00Z');
const HOSTILE = `<script>alert(1)</script><img src=x onerror=alert(2)>"'&`;
const health = { ok: true, problems: [] };

function job(over: Partial<JobState> = {}): JobState {
  return { probe: 'browser', depth: 'full', target: 'box', running: false, nextRunAt: '2026-11-25T12:01:00Z', runs: 0, ...over };
}

/** Runs of one job, newest first, one a minute before NOW: `pattern` oldest first, e.g. 'ooxx'. */
function history(pattern: string, over: Partial<RunResult> = {}): RunResult[] {
  return [...pattern]
    .map((c, i) => {
      const at = new Date(NOW - (pattern.length - i) * 60_000);
      const r = c === 'o' ? fakeResult({ probe: 'browser', ok: true, at }) : fakeResult({ probe: 'browser', reason: 'auth_rejected', at });
      return {
        ...r,
        id: undefined,
        ...(c === 'c' ? { ok: false, cancelled: true, reason: undefined } : {}),
        ...(c === 'x' ? { likelyCause: 'stale deployed configuration', message: 'the API answered 401' } : {}),
        ...over,
      } as RunResult;
    })
    .reverse();
}

/** Texts outside tags: what a reader sees (and what must not hold raw markup). */
function tagsOf(html: string): string[] {
  return [...html.matchAll(/<([a-z][a-z0-9]*)\b/gi)].map((m) => m[1]!.toLowerCase());
}

describe('time in words', () => {
  it('says how long ago in the largest unit', () => {
    expect(durationInWords(0)).toBe('0 seconds');
    expect(durationInWords(1)).toBe('1 second');
    expect(durationInWords(59.9)).toBe('59 seconds');
    expect(durationInWords(60)).toBe('1 minute');
    expect(durationInWords(4 * 60 + 59)).toBe('4 minutes');
    expect(durationInWords(3600)).toBe('1 hour');
    expect(durationInWords(5 * 3600 + 3599)).toBe('5 hours');
    expect(durationInWords(86_400 * 3)).toBe('3 days');
    expect(timeAgo('2026-11-25T11:56:00Z', NOW)).toBe('4 minutes ago');
    expect(timeAgo('2026-11-25T12:00:00Z', NOW)).toBe('just now');
    expect(timeAgo('2026-11-25T12:05:00Z', NOW)).toBe('just now');
    expect(timeAgo('not a time', NOW)).toBe('at an unknown time');
    expect(utcTime('2026-11-25T11:56:07.123Z')).toBe('2026-11-25 11:56:07 UTC');
  });
});

describe('status page', () => {
  it('shows a strip of the last runs, oldest first, each bar a link to its run with time, verdict, reason and duration', () => {
    const runs = history('oocxx');
    const html = renderStrip(runs, 8);
    const bars = [...html.matchAll(/<(a|span) class="bar (\w+)"(?: href="([^"]+)")? title="([^"]*)"/g)];
    expect(bars.map((b) => b[2])).toEqual(['none', 'none', 'none', 'ok', 'ok', 'cancelled', 'fail', 'fail']);
    // Oldest on the left: the last bar is the newest run.
    expect(bars.at(-1)![3]).toBe(`/runs/${runIdOf(runs[0]!)}`);
    expect(bars[3]![3]).toBe(`/runs/${runIdOf(runs[4]!)}`);
    expect(bars.at(-1)![4]).toBe('2026-11-25 11:59:00 UTC · failed: auth_rejected · 4.0 s\nthe API answered 401');
    expect(bars[3]![4]).toBe('2026-11-25 11:55:00 UTC · ok · 4.0 s');
    // Only the last n runs.
    expect(renderStrip(history('o'.repeat(70)), 60).match(/class="bar /g)).toHaveLength(60);
  });

  it('a failing job: the reason, its likely cause, since when, and links to the run and to the latest failure', () => {
    const runs = history('ooxxx');
    const html = renderStatusPage({ jobs: [job({ runs: 5 })], runs, health, version: '1.2.3', now: NOW });
    expect(html).toContain('1 of 1 probes failing');
    // Runs finished 11:55 … 11:59; the last success at 11:56.
    expect(html).toContain('<b>4 minutes ago</b><br><small>2026-11-25 11:56:00 UTC</small>');
    expect(html).toContain('failing for 3 minutes (since 2026-11-25 11:57:00 UTC, 3 failed runs): the API answered 401');
    expect(html).toContain('Likely cause: stale deployed configuration');
    expect(html).toContain(`<a href="/runs/${runIdOf(runs[0]!)}">this run's page</a>`);
    expect(html).toContain('<a href="/targets/box/browser/last-failure?depth=full">latest failure</a>');
    expect(html).toContain('<meta http-equiv="refresh" content="10">');
    expect(tagsOf(html)).not.toContain('script');
  });

  it('says "never since start" when a job has not succeeded, and "no run yet" before its first run', () => {
    const failing = renderStatusPage({ jobs: [job()], runs: history('xx'), health, version: 'v', now: NOW });
    expect(failing).toContain('<b>never since start</b>');
    expect(failing).toContain('failing in every run kept');
    const fresh = renderStatusPage({ jobs: [job()], runs: [], health, version: 'v', now: NOW });
    expect(fresh).toContain('no run yet');
    expect(fresh).toContain('never since start');
    expect(fresh).toContain('All 1 probes healthy');
    // A full strip of failures: older runs may have been healthy.
    const long = renderStatusPage({ jobs: [job()], runs: history('x'.repeat(60)), health, version: 'v', now: NOW, stripRuns: 60 });
    expect(long).toContain('not in the last 60 runs');
  });

  it('a cancelled run does not change the verdict: the job is judged by its last real run', () => {
    const s = summariseJob(job(), history('oxxc'));
    expect(s.current?.reason).toBe('auth_rejected');
    expect(s.failures).toBe(2);
    expect(s.lastSuccess?.ok).toBe(true);
    const healthy = summariseJob(job(), history('xoc'));
    expect(healthy.current?.ok).toBe(true);
    expect(healthy.failingSince).toBeUndefined();
  });

  it('keeps each job to its own runs (target, probe and depth)', () => {
    const runs = [
      ...history('x', { target: 'stage' }),
      ...history('o', { probe: 'api' }),
      ...history('x', { depth: 'light' }),
      ...history('o'),
    ];
    const s = summariseJob(job(), runs);
    expect(s.runs).toHaveLength(1);
    expect(s.current?.ok).toBe(true);
  });

  it('escapes hostile text in target names, reasons, messages and likely causes, in text and in attributes', () => {
    const runs = history('ox', { target: HOSTILE, message: HOSTILE, likelyCause: HOSTILE });
    const html = renderStatusPage({
      jobs: [job({ target: HOSTILE, runningSince: HOSTILE })],
      runs,
      health: { ok: false, problems: [HOSTILE] },
      version: HOSTILE,
      now: NOW,
    });
    expect(tagsOf(html).filter((t) => t === 'script' || t === 'img')).toEqual([]);
    expect(html).not.toContain('<script>');
    expect(html).not.toMatch(/onerror=alert\(2\)>/);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;&quot;&#39;&amp;');
    // The target in the last-failure link is URL-encoded, then escaped for the attribute.
    expect(html).toContain(`/targets/${encodeURIComponent(HOSTILE).replace(/'/g, '&#39;')}/browser/last-failure`);
    // No attribute is broken out of: every title stays one attribute.
    for (const m of html.matchAll(/title="([^"]*)"/g)) expect(m[1]).not.toMatch(/[<>]/);
  });

  it('a record with a hostile id still links to a well-formed run page', () => {
    const [r] = history('x', { id: '"><script>x</script>' });
    const html = renderStrip([r!], 1);
    expect(html).toMatch(/href="\/runs\/\d{8}T\d{6}Z-[0-9a-f]{6}"/);
    expect(html).not.toContain('<script>');
  });
});

describe('run page', () => {
  const failed: RunResult = {
    ...fakeResult({ probe: 'browser', reason: 'auth_rejected', at: new Date('2026-11-25T11:59:10Z'), durationSeconds: 10 }),
    id: '20261125T115900Z-abc123',
    failedStep: 'open_page',
    message: 'logged in, but the API answered 401 to GET /api/status',
    likelyCause: 'stale deployed configuration',
    steps: [
      { name: 'login', ok: true, startedAt: '2026-11-25T11:59:00Z', durationSeconds: 5 },
      { name: 'open_page', ok: false, startedAt: '2026-11-25T11:59:05Z', durationSeconds: 5, error: 'the API answered 401' },
    ],
    http: {
      requests: 9,
      byClass: { '1xx': 0, '2xx': 8, '3xx': 0, '4xx': 1, '5xx': 0, none: 0 },
      firstBad: { method: 'GET', url: 'http://127.0.0.1:1/api/status', status: 401, durationMs: 12, at: '2026-11-25T11:59:06Z' },
    },
    evidenceDir: '/data/evidence/box/browser/20261125T115900000Z',
  };
  const all = ['screenshot.png', 'trace.zip', 'network.json', 'probe.log', 'result.json'];

  it('shows the header, the steps as a proportional time line, the screenshot inline and the trace with its command', () => {
    const html = renderRunPage({
      run: failed,
      evidence: all,
      network: [
        { method: 'POST', url: 'http://127.0.0.1:2/token', status: 200, durationMs: 1000, at: '2026-11-25T11:59:01Z', step: 'login' },
        {
          method: 'GET',
          url: 'http://127.0.0.1:1/api/status',
          status: 401,
          durationMs: 500,
          at: '2026-11-25T11:59:06Z',
          step: 'open_page',
        },
      ],
      version: '1.2.3',
    });
    expect(html).toContain('box · browser · full: <span class="fail">auth_rejected</span>');
    expect(html).toContain('<span class="fail">auth_rejected</span> in step <code>open_page</code>');
    expect(html).toContain('<dt>Likely cause</dt><dd>stale deployed configuration</dd>');
    expect(html).toContain('<dt>Started</dt><dd>2026-11-25 11:59:00 UTC</dd>');
    expect(html).toContain('<dt>Duration</dt><dd>10.0 s</dd>');
    // login: the first half of the run; open_page: the second half, marked bad.
    expect(html).toContain('<span class="" style="left:0.00%;width:50.00%"></span>');
    expect(html).toContain('<span class="bad" style="left:50.00%;width:50.00%"></span>');
    expect(html).toContain('<img class="shot" src="/runs/20261125T115900Z-abc123/evidence/screenshot.png"');
    expect(html).toContain('<a href="/runs/20261125T115900Z-abc123/evidence/trace.zip" download>');
    expect(html).toContain('npx playwright show-trace --host 127.0.0.1 --port 9323 trace-20261125T115900Z-abc123.zip');
    expect(html).toContain(
      'npx playwright show-trace --host 127.0.0.1 --port 9323 /data/evidence/box/browser/20261125T115900000Z/trace.zip',
    );
    // The network log: both requests, the 401 marked, with their place on the time line.
    expect(html).toContain('<code>http://127.0.0.1:2/token</code>');
    expect(html).toContain('<td><span class="fail">401</span></td><td class="n">500 ms</td>');
    expect(html).toContain('+6.00 s');
    expect(html).toContain('style="left:10.00%;width:10.00%"');
    expect(html).toContain('<a href="/runs/20261125T115900Z-abc123/evidence/probe.log">probe.log</a>');
  });

  it('without a network log, shows the HTTP summary and the first bad answer; without evidence, no image or trace', () => {
    const html = renderRunPage({ run: failed, evidence: [], version: 'v' });
    expect(html).toContain('9 requests · 2xx: 8, 4xx: 1');
    expect(html).toContain('<code>http://127.0.0.1:1/api/status</code>');
    expect(html).toContain('no longer kept');
    expect(html).not.toContain('<img');
    expect(html).not.toContain('show-trace');
    const healthy = renderRunPage({ run: fakeResult({ ok: true }), evidence: [], version: 'v' });
    expect(healthy).toContain('network logs are kept for failed runs only');
    expect(healthy).not.toContain('Likely cause');
  });

  it('shows the diagnosis when a result has one: the broken link in words and what the follow-ups saw', () => {
    const run: RunResult = { ...failed, diagnosis: 'generic_upload_config_stale', diagnosisDetail: 'Profile answered 200 <b>' };
    const html = renderRunPage({ run, evidence: [], version: 'v' });
    expect(html).toContain(
      `<dt>Diagnosis</dt><dd><code>generic_upload_config_stale</code>: ${escapeHtml(DIAGNOSIS_INFO.generic_upload_config_stale.text)}<br><small>Profile answered 200 &lt;b&gt;</small></dd>`,
    );
    expect(renderRunPage({ run: failed, evidence: [], version: 'v' })).not.toContain('Diagnosis');
    // The status page shows it with the current failure.
    const status = renderStatusPage({ jobs: [job()], runs: [{ ...run, probe: 'browser' }], health, version: 'v', now: NOW });
    expect(status).toContain('Diagnosis: <code>generic_upload_config_stale</code>');
  });

  it('escapes hostile text everywhere on the run page, and quotes an odd trace path for the shell', () => {
    const run: RunResult = {
      ...failed,
      target: HOSTILE,
      message: HOSTILE,
      likelyCause: HOSTILE,
      steps: [{ name: 'login', ok: false, startedAt: '2026-11-25T11:59:00Z', durationSeconds: 1, error: HOSTILE }],
      canary: { fileName: HOSTILE, reasonText: HOSTILE, status: HOSTILE },
      evidenceDir: `/data/ev/${HOSTILE}`,
      http: { ...failed.http, firstBad: { ...failed.http.firstBad!, url: HOSTILE, failure: HOSTILE } },
    };
    const html = renderRunPage({
      run,
      evidence: all,
      network: [{ method: HOSTILE, url: HOSTILE, status: 0, durationMs: 1, at: HOSTILE, failure: HOSTILE, step: HOSTILE }],
      version: HOSTILE,
    });
    expect(tagsOf(html).filter((t) => t === 'script')).toEqual([]);
    expect(tagsOf(html).filter((t) => t === 'img')).toHaveLength(1);
    expect(html).not.toContain('<script>');
    expect(shellWord("/tmp/it's here/trace.zip")).toBe(`'/tmp/it'\\''s here/trace.zip'`);
    expect(shellWord('/data/evidence/box/browser/x/trace.zip')).toBe('/data/evidence/box/browser/x/trace.zip');
  });
});
