// The sharded example: a StatefulSet whose replica count and `--shard ordinal/N` agree, with the
// Deployment's pod security, image and configuration, and a volume per shard.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { parseShard } from '../../../src/service/shard.ts';

const read = (f: string) => parse(readFileSync(new URL(`../../../deploy/kubernetes/${f}`, import.meta.url), 'utf8'));
const sts = read('sharded/statefulset.yaml');
const deployment = read('deployment.yaml');

describe('sharded StatefulSet example', () => {
  it('runs N pods, each told to take its shard of N from its ordinal', () => {
    expect(sts.kind).toBe('StatefulSet');
    const args: string[] = sts.spec.template.spec.containers[0].args;
    const shard = args[args.indexOf('--shard') + 1]!;
    expect(shard).toBe(`ordinal/${sts.spec.replicas}`);
    for (let i = 0; i < sts.spec.replicas; i++)
      expect(parseShard(shard, `${sts.metadata.name}-${i}`)).toEqual({ index: i, count: sts.spec.replicas });
  });

  it('keeps the Deployment pod security, image, resources and configuration', () => {
    const [p, d] = [sts.spec.template.spec, deployment.spec.template.spec];
    expect(p.securityContext).toEqual(d.securityContext);
    expect(p.automountServiceAccountToken).toBe(false);
    const [c, dc] = [p.containers[0], d.containers[0]];
    for (const k of ['image', 'securityContext', 'resources', 'env', 'volumeMounts']) expect(c[k], k).toEqual(dc[k]);
  });

  it('gives each shard its own data volume', () => {
    expect(sts.spec.volumeClaimTemplates.map((v: { metadata: { name: string } }) => v.metadata.name)).toEqual(['data']);
    expect(sts.spec.template.spec.volumes.map((v: { name: string }) => v.name)).not.toContain('data');
  });
});
