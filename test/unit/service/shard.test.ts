// Several pods share the targets: each target is probed by exactly one shard, and adding a
// target moves no other.
import { describe, expect, it } from 'vitest';
import { ownedTargets, parseShard, shardOf } from '../../../src/service/shard.ts';

const TARGETS = Array.from({ length: 10 }, (_, i) => `target-${i}`);

describe('shards', () => {
  it('with 3 shards over 10 targets, every target is owned exactly once', () => {
    const owned = [0, 1, 2].map((index) => ownedTargets(TARGETS, { index, count: 3 }));
    expect(owned.flat().sort()).toEqual([...TARGETS].sort());
    expect(new Set(owned.flat()).size).toBe(TARGETS.length);
    // Spread over the shards, not all in one (the hash of these names happens to give every shard some).
    expect(owned.every((o) => o.length > 0)).toBe(true);
  });

  it('ownership is stable: adding a target moves no other', () => {
    const before = new Map(TARGETS.map((t) => [t, shardOf(t, 3)]));
    const more = [...TARGETS, 'new-target'];
    for (const t of TARGETS) expect(shardOf(t, 3)).toBe(before.get(t));
    const owners = [0, 1, 2].filter((index) => ownedTargets(more, { index, count: 3 }).includes('new-target'));
    expect(owners).toHaveLength(1);
  });

  it('reads I/N, or the ordinal from a StatefulSet pod name, and refuses anything else', () => {
    expect(parseShard('1/3')).toEqual({ index: 1, count: 3 });
    expect(parseShard('ordinal/3', 'bulk-upload-probe-2')).toEqual({ index: 2, count: 3 });
    expect(() => parseShard('3/3')).toThrow(/below the count/);
    expect(() => parseShard('0/0')).toThrow(/below the count/);
    expect(() => parseShard('a/b')).toThrow(/not a shard/);
    expect(() => parseShard('ordinal/3', 'laptop')).toThrow(/does not end in -<ordinal>/);
    expect(() => parseShard('ordinal/2', 'bulk-upload-probe-2')).toThrow(/below the count/);
  });
});
