import { mkdtemp, readFile, readdir, rm, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RunHistory } from '../../src/history.ts';
import { fakeResult } from './monitoring-fixtures.ts';

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

  it('reads nothing, without error, when there is no history yet', async () => {
    expect(await new RunHistory({ file: join(dir, 'none.jsonl'), maxBytes: 100, keep: 1 }).recent(5)).toEqual([]);
  });
});
