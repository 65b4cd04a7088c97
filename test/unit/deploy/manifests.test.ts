// The deployment files cannot run here; they are held to what can be checked: valid YAML,
// a configuration the probe accepts, and the pieces agreeing with each other and the service.
// Security and durability (Pod Security, read-only root, the volume, the image): security.test.ts.
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../../src/config/schema.ts';
import { kubernetesManifests } from './files.ts';

const docs = kubernetesManifests();

describe('Kubernetes manifests', () => {
  it('are single, valid YAML documents with apiVersion and kind, all listed in the kustomization', () => {
    for (const [f, d] of Object.entries(docs)) {
      expect(d.apiVersion, f).toBeTruthy();
      expect(d.kind, f).toBeTruthy();
    }
    const listed = docs['kustomization.yaml']!.resources!;
    expect([...listed].sort()).toEqual(
      Object.keys(docs)
        .filter((f) => f !== 'kustomization.yaml')
        .sort(),
    );
  });

  it('carry a probe configuration the probe itself accepts, with credentials from the environment', () => {
    const text = docs['configmap.yaml']!.data!['bulk-upload-probe.yaml']!;
    const config = configSchema.parse(parse(text));
    expect(config.server).toEqual({ host: '0.0.0.0', port: 9687 });
    for (const t of Object.values(config.targets)) {
      expect(typeof t.credentials.password).toBe('object');
      expect(t.credentials.password).toHaveProperty('env');
    }
  });

  it('run serve with health probes, and feed the Secret to the env names the configuration uses', () => {
    const pod = docs['deployment.yaml']!.spec.template.spec;
    const c = pod.containers[0];
    expect(c.args[0]).toBe('serve');
    expect(c.livenessProbe.httpGet.path).toBe('/healthz');
    expect(c.readinessProbe.httpGet.path).toBe('/readyz');
    expect(c.ports[0]).toEqual({ name: 'http', containerPort: 9687 });
    const config = parse(docs['configmap.yaml']!.data!['bulk-upload-probe.yaml']!);
    const wanted = Object.values(config.targets as Record<string, { credentials: Record<string, { env?: string }> }>).flatMap((t) =>
      Object.values(t.credentials).flatMap((s) => (s.env ? [s.env] : [])),
    );
    const fromSecret = c.env.filter((e: any) => e.valueFrom?.secretKeyRef).map((e: any) => e.name);
    expect(fromSecret.sort()).toEqual([...new Set(wanted)].sort());
    expect(docs['deployment.yaml']!.spec.replicas).toBe(1);
  });

  it('expose the metrics port to Prometheus through the Service and ServiceMonitor', () => {
    const svc = docs['service.yaml']!.spec;
    const sm = docs['servicemonitor.yaml']!.spec;
    const podLabels = docs['deployment.yaml']!.spec.template.metadata.labels;
    expect(svc.selector).toEqual(podLabels);
    expect(sm.selector.matchLabels).toEqual(docs['service.yaml']!.metadata!.labels);
    expect(sm.endpoints[0]).toMatchObject({ port: svc.ports[0].name, path: '/metrics' });
  });

  it('schedule a smoke run that pushes to a Pushgateway', () => {
    const cj = docs['cronjob-smoke.yaml']!.spec;
    expect(cj.schedule).toMatch(/^\S+ \S+ \S+ \S+ \S+$/);
    const smoke = cj.jobTemplate.spec.template.spec.containers[0];
    expect(smoke.args[0]).toBe('smoke');
    expect(smoke.args).toContain('--pushgateway');
    // The same image and the same credentials as the service.
    const probe = docs['deployment.yaml']!.spec.template.spec.containers[0];
    expect(smoke.image).toBe(probe.image);
    expect(smoke.env).toEqual(probe.env);
  });
});
