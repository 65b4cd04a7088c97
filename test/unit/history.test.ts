import { mkdtemp, readFile, readdir, rm, appendFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RunHistory } from '../../src/history.ts';
import { fakeResult } from '../support/results.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bup-history-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('RunHistory', () => {
  it('appends one JSON line per run, creating the folder, and reads the newest back in order', async () => {
    const h = new RunHistory({ file: join(dir, 'sub', 'history.jsonl'), maxBytes: 1_000_000, keep: 2 });
    const at = (s: number) => new Date(Date.UTC(2026, 10, 25, 10, 0, s));
    await Promise.all([0, 1, 2, 3].map((s) => h.append(fakeResult({ reason: s % 2 ? 'auth_rejected' : undefined, at: at(s) }))));
    const lines = (await readFile(join(dir, 'sub', 'history.jsonl'), 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(4);
    expect(JSON.parse(lines[1]!).reason).toBe('auth_rejected');
    const recent = await h.recent(3);
    expect(recent.map((r) => r.finishedAt)).toEqual([at(1), at(2), at(3)].map((d) => d.toISOString()));
  });

  it('rotates by size and keeps only N rotated files', async () => {
    const file = join(dir, 'history.jsonl');
    const lineBytes = JSON.stringify(fakeResult({})).length + 1;
    const h = new RunHistory({ file, maxBytes: lineBytes * 3, keep: 2 });
    for (let i = 0; i < 11; i++) await h.append(fakeResult({ durationSeconds: i + 1 }));
    const files = (await readdir(dir)).sort();
    expect(files).toEqual(['history.jsonl', 'history.jsonl.1', 'history.jsonl.2']);
    const count = async (f: string) => (await readFile(join(dir, f), 'utf8')).trim().split('\n').length;
    expect(await count('history.jsonl')).toBe(2); // runs 10, 11
    expect(await count('history.jsonl.1')).toBe(3); // runs 7-9
    expect(await count('history.jsonl.2')).toBe(3); // runs 4-6; runs 1-3 were dropped
    const recent = await h.recent(100);
    expect(recent.map((r) => r.durationSeconds)).toEqual([4, 5, 6, 7, 8, 9, 10, 11]);
  });

  it('with keep 0 starts the file afresh instead of keeping rotated files', async () => {
    const file = join(dir, 'history.jsonl');
    const lineBytes = JSON.stringify(fakeResult({})).length + 1;
    const h = new RunHistory({ file, maxBytes: lineBytes * 2, keep: 0 });
    for (let i = 0; i < 5; i++) await h.append(fakeResult({ durationSeconds: i + 1 }));
    expect(await readdir(dir)).toEqual(['history.jsonl']);
    expect((await h.recent(10)).map((r) => r.durationSeconds)).toEqual([5]);
  });

  it('skips a line cut short by a crash instead of failing the read', async () => {
    const file = join(dir, 'history.jsonl');
    const h = new RunHistory({ file, maxBytes: 1_000_000, keep: 1 });
    await h.append(fakeResult({ durationSeconds: 1 }));
    await appendFile(file, '{"probe":"api","tar');
    await appendFile(file, '\n');
    await h.append(fakeResult({ durationSeconds: 2 }));
    expect((await h.recent(10)).map((r) => r.durationSeconds)).toEqual([1, 2]);
  });

  it('a line cut by a crash does not swallow the next record appended after it', async () => {
    const file = join(dir, 'history.jsonl');
    const h = new RunHistory({ file, maxBytes: 1_000_000, keep: 1 });
    await h.append(fakeResult({ durationSeconds: 1 }));
    // The process died mid-write: half a record, no newline.
    await appendFile(file, JSON.stringify(fakeResult({ durationSeconds: 99 })).slice(0, 60));
    await h.append(fakeResult({ durationSeconds: 2 }));
    await h.append(fakeResult({ durationSeconds: 3 }));
    expect((await h.recent(10)).map((r) => r.durationSeconds)).toEqual([1, 2, 3]);
    expect((await h.read(10)).skipped).toBe(1);
    expect((await readFile(file, 'utf8')).split('\n')).toHaveLength(5); // 3 records, the cut one, and the final newline
  });

  it('skips lines of the wrong shape, binary garbage and a 5 MB line, and counts them', async () => {
    const file = join(dir, 'history.jsonl');
    const good = (n: number) => `${JSON.stringify(fakeResult({ durationSeconds: n }))}\n`;
    const bad = [
      'null',
      '[1,2,3]',
      '"a string"',
      '{"probe":"api"}',
      JSON.stringify({ ...fakeResult({}), probe: 'telnet' }),
      JSON.stringify({ ...fakeResult({}), steps: 'none' }),
      JSON.stringify({ ...fakeResult({}), http: { requests: 1 } }),
      JSON.stringify({ ...fakeResult({}), reason: 'bad_luck' }),
      Buffer.from([0x00, 0xff, 0xfe, 0x7b, 0x22, 0xc3, 0x28, 0x01]).toString('latin1'),
      `{"probe":"api","message":"${'x'.repeat(5_000_000)}`,
    ];
    await writeFile(file, Buffer.concat([Buffer.from(good(1)), ...bad.map((b) => Buffer.from(`${b}\n`, 'latin1')), Buffer.from(good(2))]));
    await appendFile(file, Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x0a, 0x00, 0x0a]));
    await appendFile(file, good(3));
    const h = new RunHistory({ file, maxBytes: 100_000_000, keep: 1 });
    const { runs, skipped } = await h.read(100);
    expect(runs.map((r) => r.durationSeconds)).toEqual([1, 2, 3]);
    expect(skipped).toBe(bad.length + 2);
    expect((await h.recent(2)).map((r) => r.durationSeconds)).toEqual([2, 3]);
    // What is read back is a RunResult and nothing more: unknown fields are dropped.
    await h.append({ ...fakeResult({ durationSeconds: 4 }), evidenceError: 'ENOSPC', extra: 'from a newer version' } as never);
    const last = (await h.recent(1))[0]!;
    expect(last).toMatchObject({ durationSeconds: 4, evidenceError: 'ENOSPC' });
    expect(last).not.toHaveProperty('extra');
  });

  it('reads a record with every optional field back as written', async () => {
    const file = join(dir, 'history.jsonl');
    const h = new RunHistory({ file, maxBytes: 1_000_000, keep: 1 });
    const full = {
      ...fakeResult({ reason: 'auth_rejected', cancelled: false, queueWaitSeconds: 1, importSeconds: 2 }),
      likelyCause: 'stale configuration',
      evidenceDir: '/tmp/evidence/x',
      evidenceError: 'disk full',
      canary: {
        fileName: 'f.xlsx',
        logId: 'l1',
        status: 'COMPLETED',
        numberOfErrors: 1,
        numberImported: 0,
        reasonText: 'no such person',
        queueWaitSeconds: 1,
        importSeconds: 2,
      },
      http: {
        requests: 2,
        byClass: { '1xx': 0, '2xx': 1, '3xx': 0, '4xx': 1, '5xx': 0, none: 0 },
        firstBad: {
          method: 'GET',
          url: 'https://tis.example/api/status',
          status: 401,
          durationMs: 12,
          at: new Date().toISOString(),
          failure: 'unauthorised',
        },
      },
    };
    full.steps[1] = { ...full.steps[1]!, error: 'answered 401' };
    await h.append(full);
    expect(await h.recent(1)).toEqual([full]);
  });

  it('reads nothing, without error, when there is no history yet', async () => {
    expect(await new RunHistory({ file: join(dir, 'none.jsonl'), maxBytes: 100, keep: 1 }).recent(5)).toEqual([]);
  });
});
