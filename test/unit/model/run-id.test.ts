// Run ids: new ones from the start time and a little randomness, nothing else in them; records
// from before ids existed still load from history and get one derived from them, stably.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RunHistory } from '../../../src/history.ts';
import { buildResult, probeErrorResult } from '../../../src/model/build-result.ts';
import { newRunId, RUN_ID_PATTERN, runIdOf } from '../../../src/model/run-id.ts';
import { fakeResult } from '../../support/results.ts';

const START = Date.parse('2026-11-25T10:15:00.123Z');

describe('run ids', () => {
  it('a new id is the start time to the second and six random hex digits', () => {
    expect(newRunId(START, () => Buffer.from([0x3f, 0x9a, 0x2b]))).toBe('20261125T101500Z-3f9a2b');
    expect(newRunId(START)).toMatch(RUN_ID_PATTERN);
    const ids = new Set(Array.from({ length: 200 }, () => newRunId(START)));
    expect(ids.size).toBeGreaterThan(195);
  });

  it('every built result has one, failed runs and the probe error too', () => {
    const r = probeErrorResult({ probe: 'api', depth: 'full', target: 'box', startedMs: START, finishedMs: START + 10, message: 'x' });
    expect(r.id).toMatch(/^20261125T101500Z-[0-9a-f]{6}$/);
    const built = buildResult({
      probe: 'api',
      depth: 'light',
      target: 'box',
      startedMs: START,
      finishedMs: START + 500,
      observation: { probe: 'api', depth: 'light', http: [], pending: [], expectedReason: 'x', stop: { kind: 'cancelled' } },
      steps: [],
      http: r.http,
      canaryFileName: 'c.xlsx',
    });
    expect(built.id).toMatch(/^20261125T101500Z-[0-9a-f]{6}$/);
    expect(
      buildResult({
        ...built,
        startedMs: START,
        finishedMs: START,
        observation: { probe: 'api', depth: 'light', http: [], pending: [], expectedReason: 'x' },
        steps: [],
        canaryFileName: 'c',
        id: '20261125T101500Z-000001',
      }).id,
    ).toBe('20261125T101500Z-000001');
  });

  it('a record without an id (or with a malformed one) gets one derived from it, the same at every reading', () => {
    const old = { ...fakeResult({ at: new Date('2026-11-25T10:15:04Z') }), id: undefined };
    const id = runIdOf(old);
    expect(id).toMatch(/^20261125T101500Z-[0-9a-f]{6}$/);
    expect(runIdOf(JSON.parse(JSON.stringify(old)))).toBe(id);
    expect(runIdOf({ ...old, id: '../../etc/passwd' })).toBe(id);
    expect(runIdOf({ ...old, target: 'stage' })).not.toBe(id);
    expect(runIdOf({ ...old, id: '20261125T101500Z-abcdef' })).toBe('20261125T101500Z-abcdef');
  });

  it('history lines written before ids existed still load (and keep no id of their own)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bup-ids-'));
    try {
      const file = join(dir, 'history.jsonl');
      const old = { ...fakeResult({ probe: 'browser', ok: true }) };
      const withId = { ...fakeResult({ probe: 'api', reason: 'auth_rejected' }), id: '20261125T101500Z-abcdef' };
      await writeFile(file, `${JSON.stringify(old)}\n${JSON.stringify(withId)}\n`);
      const { runs, skipped } = await new RunHistory({ file, maxBytes: 1_000_000, keep: 1 }).read(10);
      expect(skipped).toBe(0);
      expect(runs.map((r) => r.id)).toEqual([undefined, '20261125T101500Z-abcdef']);
      expect(runIdOf(runs[0]!)).toMatch(RUN_ID_PATTERN);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
