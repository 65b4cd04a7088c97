// Building a run's result is a pure function of what the run recorded.
import { describe, expect, it } from 'vitest';
import { buildResult, canaryOutcome, probeErrorResult, type RunRecord } from '../../../src/model/build-result.ts';
import type { ObservedHttp } from '../../../src/model/observation.ts';

const EXPECTED = 'Person with id 999999999 does not exist';
const T0 = Date.parse('2026-11-27T10:00:00.000Z');

function record(over: Partial<RunRecord['observation']> = {}): RunRecord {
  return {
    probe: 'api',
    depth: 'full',
    target: 'box',
    startedMs: T0,
    finishedMs: T0 + 12_500,
    observation: {
      probe: 'api',
      depth: 'full',
      http: [],
      pending: [],
      expectedReason: EXPECTED,
      upload: { logId: '42', status: 'COMPLETED', numberOfErrors: 1, numberImported: 0 },
      reasonTexts: [EXPECTED],
      ...over,
    },
    steps: [],
    http: { requests: 0, byClass: { '1xx': 0, '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0, none: 0 } },
    canaryFileName: 'synthetic-probe-box-20261127T100000000Z.xlsx',
  };
}

const event = (status: number, step: ObservedHttp['step']): ObservedHttp => ({
  method: 'GET',
  url: 'http://app/api/status',
  status,
  durationMs: 5,
  at: new Date(T0).toISOString(),
  side: 'app',
  ...(step ? { step } : {}),
});

describe('buildResult', () => {
  it('a healthy run: ok, timing, and the canary outcome from what was seen', () => {
    const r = buildResult(record());
    expect(r).toMatchObject({
      ok: true,
      probe: 'api',
      target: 'box',
      startedAt: '2026-11-27T10:00:00.000Z',
      finishedAt: '2026-11-27T10:00:12.500Z',
      durationSeconds: 12.5,
      canary: { logId: '42', status: 'COMPLETED', numberOfErrors: 1, numberImported: 0, reasonText: EXPECTED },
    });
    expect(r.reason).toBeUndefined();
    expect(r.likelyCause).toBeUndefined();
  });

  it('a stopped run fails in the step it stopped in, with its reason and likely cause', () => {
    const r = buildResult(record({ step: 'import_started', stop: { kind: 'step_timeout', seconds: 60 }, upload: { status: 'PENDING' } }));
    expect(r).toMatchObject({ ok: false, reason: 'queue_stalled', failedStep: 'import_started' });
    expect(r.likelyCause).toContain('queue');
  });

  it('a run that ended but saw a bad answer fails in the step of that answer', () => {
    const r = buildResult(record({ http: [event(200, 'login'), event(500, 'list_uploads')] }));
    expect(r).toMatchObject({ ok: false, reason: 'server_error', failedStep: 'list_uploads' });
  });

  it('a cancelled run says so', () => {
    expect(buildResult(record({ stop: { kind: 'cancelled' } }))).toMatchObject({ ok: false, cancelled: true, reason: 'probe_error' });
  });

  it('a run the runner could not finish is a probe_error without steps', () => {
    const r = probeErrorResult({
      probe: 'browser',
      depth: 'full',
      target: 'box',
      startedMs: T0,
      finishedMs: T0 + 1000,
      message: 'runner fault',
    });
    expect(r).toMatchObject({ ok: false, reason: 'probe_error', message: 'runner fault', steps: [], durationSeconds: 1 });
  });
});

describe('canaryOutcome', () => {
  it("takes the queue and import times from the API's own dates", () => {
    const out = canaryOutcome('c.xlsx', {
      uploadDates: {
        uploadedDate: '2026-11-27T10:00:00.000',
        jobStartTime: '2026-11-27T10:00:04.000',
        processedDate: '2026-11-27T10:00:06.500',
      },
    });
    expect(out).toEqual({ fileName: 'c.xlsx', queueWaitSeconds: 4, importSeconds: 2.5 });
  });

  it('falls back to the times the probe saw, and leaves out what it cannot know', () => {
    expect(canaryOutcome('c.xlsx', { uploadedAt: T0, startedAt: T0 + 3000 })).toEqual({ fileName: 'c.xlsx', queueWaitSeconds: 3 });
    expect(canaryOutcome('c.xlsx', { uploadedAt: T0, startedAt: T0 + 3000, finishedAt: T0 + 4000 })).toMatchObject({ importSeconds: 1 });
  });
});
