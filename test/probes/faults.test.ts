// Both probes against TIS in a box: healthy, then each fault of the shared table. Each probe
// that can see a fault must fail with the right reason within a stated bound, and the next
// run after clearing the fault must pass.
import { describe, expect, inject, it } from 'vitest';
import { clearFault, setFault, type FaultParamsInput } from '../../box/control-client.ts';
import type { FailureReason } from '../../src/model/failures.ts';
import type { ProbeName, RunResult } from '../../src/model/result.ts';
import { useBoxProbes } from './setup.ts';

const box = inject('box');
const probes = useBoxProbes(box);

function explain(r: RunResult): string {
  return `${r.probe}: ${r.ok ? 'ok' : `${r.reason} at ${r.failedStep}: ${r.message}`} (${r.durationSeconds.toFixed(1)} s)`;
}

async function expectHealthy(probe: ProbeName, boundSeconds: number): Promise<RunResult> {
  const r = await probes().run(probe);
  expect(r.ok, explain(r)).toBe(true);
  expect(r.durationSeconds).toBeLessThan(boundSeconds);
  return r;
}

interface FaultCase {
  fault: string;
  params?: FaultParamsInput;
  incident?: string;
  reason: FailureReason;
  /** Seconds within which each probe must have failed (fault detection time). */
  bound: Record<ProbeName, number>;
  message: RegExp;
  failedStep?: Partial<Record<ProbeName, string>>;
}

const CASES: FaultCase[] = [
  {
    fault: 'stale-config',
    incident: '2024-10-15 stale deployed configuration: API calls 401, page reloading',
    reason: 'auth_rejected',
    bound: { browser: 15, api: 5 },
    message: /401/,
  },
  {
    fault: 'service-account-disabled',
    incident: '2021-03-18 (first half): bulk_upload disabled in Keycloak, imports end "Unknown Server Error"',
    reason: 'import_failed',
    bound: { browser: 20, api: 10 },
    message: /UNEXPECTED_ERROR/,
    failedStep: { browser: 'check_result', api: 'check_result' },
  },
  {
    fault: 'service-account-inactive-in-profile',
    incident: '2021-03-18 (second half): bulk_upload still inactive in Profile, reason "Internal Server Error"',
    reason: 'import_wrong_result',
    bound: { browser: 20, api: 10 },
    message: /500 Internal Server Error/,
  },
  {
    fault: 'test-user-disabled',
    reason: 'login_failed',
    bound: { browser: 15, api: 5 },
    message: /disabled/i,
    failedStep: { browser: 'login', api: 'login' },
  },
  {
    fault: 'queue-blocked',
    reason: 'queue_stalled',
    bound: { browser: 25, api: 15 },
    message: /PENDING/,
    failedStep: { browser: 'import_started', api: 'import_started' },
  },
  { fault: 'slow', params: { delayMs: 20_000 }, reason: 'timeout', bound: { browser: 25, api: 15 }, message: /no answer|did not answer/ },
  { fault: 'server-error', params: { status: 502 }, reason: 'server_error', bound: { browser: 15, api: 5 }, message: /502/ },
  {
    fault: 'login-down',
    params: { mode: '5xx' },
    reason: 'login_unavailable',
    bound: { browser: 10, api: 5 },
    message: /503/,
    failedStep: { browser: 'login', api: 'login' },
  },
  {
    fault: 'login-down',
    params: { mode: 'refuse' },
    reason: 'login_unavailable',
    bound: { browser: 10, api: 5 },
    message: /REFUSED/i,
    failedStep: { browser: 'login', api: 'login' },
  },
  { fault: 'canary-imported', reason: 'canary_imported', bound: { browser: 20, api: 10 }, message: /numberImported 1/ },
];

describe('probes against a healthy box', () => {
  it('the browser probe passes, every step ok, with the healthy ending read from the error workbook', async () => {
    const r = await expectHealthy('browser', 30);
    expect(r.steps.map((s) => s.name)).toEqual(['login', 'open_page', 'upload', 'import_started', 'import_finished', 'check_result']);
    expect(r.canary).toMatchObject({
      status: 'COMPLETED',
      numberOfErrors: 1,
      numberImported: 0,
      reasonText: 'Person with id 999999999 does not exist',
    });
    expect(r.http.firstBad).toBeUndefined();
    expect(r.evidenceDir).toBeUndefined();
  });

  it('the API probe passes, with its own upload followed by logId', async () => {
    const r = await expectHealthy('api', 15);
    expect(r.steps.map((s) => s.name)).toEqual(['login', 'list_uploads', 'upload', 'import_started', 'import_finished', 'check_result']);
    expect(r.canary?.logId).toMatch(/^\d+$/);
    expect(r.canary?.queueWaitSeconds).toBeGreaterThanOrEqual(0);
  });
});

describe.each(CASES.map((c) => ({ ...c, label: c.params ? `${c.fault} ${JSON.stringify(c.params)}` : c.fault })))('fault $label', (c) => {
  const title = c.incident ? ` (incident ${c.incident})` : '';
  for (const probe of ['browser', 'api'] as const) {
    it(`${probe}: ${c.reason} within ${c.bound[probe]} s, and healthy again once cleared${title}`, async () => {
      await setFault(box.urls.control, c.fault, c.params);
      const r = await probes().run(probe);
      expect(r.ok, explain(r)).toBe(false);
      expect(r.reason, explain(r)).toBe(c.reason);
      expect(r.message).toMatch(c.message);
      expect(r.likelyCause).toBeTruthy();
      if (c.failedStep?.[probe]) expect(r.failedStep).toBe(c.failedStep[probe]);
      expect(r.durationSeconds).toBeLessThan(c.bound[probe]);
      expect(r.evidenceDir).toBeTruthy();
      console.log(
        `detected ${c.fault}${c.params ? ` ${JSON.stringify(c.params)}` : ''} with ${probe} in ${r.durationSeconds.toFixed(1)} s: ${r.reason}`,
      );

      await clearFault(box.urls.control, c.fault);
      // Uploads left PENDING by the fault are taken first after clearing: allow for them.
      const again = await probes().run(probe);
      expect(again.ok, explain(again)).toBe(true);
    });
  }
});

describe('cancellation', () => {
  it('an aborted run ends promptly and says it was cancelled', async () => {
    await setFault(box.urls.control, 'queue-blocked');
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 3000);
    const r = await probes().run('browser', { signal: abort.signal });
    expect(r.cancelled).toBe(true);
    expect(r.ok).toBe(false);
    expect(r.durationSeconds).toBeLessThan(8);
  });

  it('the run deadline ends a run whose steps would wait longer', async () => {
    await setFault(box.urls.control, 'queue-blocked');
    const target = { ...probes().target, timeouts: { ...probes().target.timeouts, importStarted: 60, run: 6 } };
    const r = await probes().run('api', { target });
    expect(r.reason).toBe('queue_stalled');
    expect(r.message).toContain('run deadline of 6 s');
    expect(r.durationSeconds).toBeLessThan(8);
  });
});
