// Reports: the console lines a person reads, and JUnit XML a pipeline reads.
import { describe, expect, it } from 'vitest';
import { formatResult, formatStep, formatVerdict } from '../../../src/report/console.ts';
import { toJUnitXml, esc } from '../../../src/report/junit.ts';
import { toJson } from '../../../src/report/json.ts';
import type { RunResult } from '../../../src/model/result.ts';

const base = {
  startedAt: '2026-11-25T10:00:00.000Z',
  finishedAt: '2026-11-25T10:00:05.000Z',
  http: { requests: 3, byClass: { '1xx': 0, '2xx': 3, '3xx': 0, '4xx': 0, '5xx': 0, none: 0 } },
};

const healthy: RunResult = {
  ...base,
  probe: 'api',
  depth: 'full',
  target: 'box',
  ok: true,
  durationSeconds: 1.6,
  message: 'canary COMPLETED with 1 error and 0 imported: "Person with id 999999999 does not exist"',
  steps: [{ name: 'login', ok: true, startedAt: base.startedAt, durationSeconds: 0.4 }],
};

const failed: RunResult = {
  ...base,
  probe: 'browser',
  depth: 'full',
  target: 'box',
  ok: false,
  durationSeconds: 1.3,
  reason: 'auth_rejected',
  failedStep: 'open_page',
  message: 'logged in, but the API answered 401 to GET http://x/generic-upload/api/status & <more>',
  likelyCause: 'stale deployed configuration',
  evidenceDir: '/ev/box/browser/20261125T100000000Z',
  steps: [
    { name: 'login', ok: true, startedAt: base.startedAt, durationSeconds: 0.8 },
    { name: 'open_page', ok: false, startedAt: base.startedAt, durationSeconds: 0.1, error: 'GET http://x/status answered 401' },
  ],
  http: {
    ...base.http,
    firstBad: { method: 'GET', url: 'http://x/generic-upload/api/status', status: 401, durationMs: 12, at: base.startedAt },
  },
};

const cancelled: RunResult = { ...failed, probe: 'api', cancelled: true, reason: 'probe_error', message: 'run cancelled by shutdown' };

describe('console report', () => {
  it('prints a step per line with its time, and the error of a failed step', () => {
    expect(formatStep('api', healthy.steps[0]!)).toBe('api      login            ok       0.4 s');
    expect(formatStep('browser', failed.steps[1]!)).toBe('browser  open_page        FAILED   0.1 s  GET http://x/status answered 401');
  });

  it('prints the reason, message, likely cause, first bad response and evidence of a failed run', () => {
    const text = formatResult(failed);
    expect(text.split('\n')[0]).toBe('browser  UNHEALTHY after 1.3 s: auth_rejected at step open_page');
    expect(text).toContain('likely cause: stale deployed configuration');
    expect(text).toContain('first bad response: GET http://x/generic-upload/api/status 401 (12 ms)');
    expect(text).toContain('evidence: /ev/box/browser/');
    expect(formatResult(healthy)).toBe(`api      HEALTHY in 1.6 s: ${healthy.message}`);
    expect(formatResult(cancelled)).toContain('CANCELLED');
  });

  it('ends with a verdict naming the failing probes', () => {
    expect(formatVerdict('box', [healthy])).toBe('verdict: box HEALTHY (api passed)');
    expect(formatVerdict('box', [failed, healthy])).toBe('verdict: box UNHEALTHY: browser auth_rejected');
  });
});

describe('JUnit report', () => {
  const xml = toJUnitXml([failed, healthy, { ...healthy, target: 'stage' }, { ...cancelled, target: 'stage' }]);

  it('has one testsuite per target and one testcase per probe', () => {
    expect(xml.match(/<testsuite /g)).toHaveLength(2);
    expect(xml.match(/<testcase /g)).toHaveLength(4);
    expect(xml).toContain('<testsuites name="bulk-upload-probe" tests="4" failures="1" skipped="1"');
    expect(xml).toContain('<testsuite name="bulk-upload-probe.box" tests="2" failures="1" errors="0" skipped="0" time="2.900"');
    expect(xml).toContain('<testcase name="browser" classname="bulk-upload-probe.box" time="1.300">');
  });

  it('gives a failure the reason and message, escaped', () => {
    expect(xml).toContain(
      '<failure message="auth_rejected: logged in, but the API answered 401 to GET http://x/generic-upload/api/status &amp; &lt;more&gt;" type="auth_rejected">',
    );
    expect(xml).toContain('failed step: open_page');
    expect(xml).toContain('<skipped message="cancelled: run cancelled by shutdown"/>');
  });

  it('is well-formed: every opened element closes', () => {
    for (const tag of ['testsuites', 'testsuite', 'testcase']) {
      expect(xml.match(new RegExp(`<${tag}[ >]`, 'g'))?.length).toBe(xml.match(new RegExp(`</${tag}>`, 'g'))?.length);
    }
    expect(esc('a\u0001b"\'')).toBe('ab&quot;&apos;');
  });
});

describe('JSON report', () => {
  it('is the RunResult array as it is', () => {
    expect(JSON.parse(toJson([failed, healthy]))).toEqual([failed, healthy]);
  });
});
