// Past one machine: several `serve` pods share the targets, each probing only those whose
// stable hash falls in its shard (as Prometheus' `hashmod` relabelling does), so every target is
// probed by exactly one pod. A target's shard depends on its name and the shard count only:
// adding a target never moves another.
import { createHash } from 'node:crypto';

export interface Shard {
  /** 0-based, below count (a StatefulSet pod's ordinal). */
  index: number;
  count: number;
}

/**
 * `I/N` (0 ≤ I < N), or `ordinal/N`: the index is the trailing `-<n>` of the host name, as a
 * StatefulSet names its pods (`bulk-upload-probe-2` → 2).
 */
export function parseShard(text: string, hostname: string = process.env.HOSTNAME ?? ''): Shard {
  const m = /^(\d{1,4}|ordinal)\/(\d{1,4})$/.exec(text.trim());
  if (!m) throw new Error(`"${text}" is not a shard: write I/N (0 ≤ I < N) or ordinal/N`);
  const count = Number(m[2]);
  let index: number;
  if (m[1] === 'ordinal') {
    const o = /-(\d{1,4})$/.exec(hostname);
    if (!o) throw new Error(`ordinal/${count}: the host name "${hostname}" does not end in -<ordinal> (a StatefulSet pod's name does)`);
    index = Number(o[1]);
  } else index = Number(m[1]);
  if (count < 1 || index >= count) throw new Error(`shard ${index}/${count}: the index must be below the count`);
  return { index, count };
}

/** The shard a target belongs to among `count`: the first 4 bytes of the SHA-256 of its name, modulo count. */
export function shardOf(target: string, count: number): number {
  return createHash('sha256').update(target).digest().readUInt32BE(0) % count;
}

/** The targets this shard probes, in the order given. */
export function ownedTargets(targets: string[], shard: Shard): string[] {
  return targets.filter((t) => shardOf(t, shard.count) === shard.index);
}
