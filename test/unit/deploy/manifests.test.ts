// The deployment files cannot run here; they are held to what can be checked: valid YAML,
// a configuration the probe accepts, and the pieces agreeing with each other and the service.
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments, parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../../src/config/schema.ts';

const k8s = fileURLToPath(new URL('../../../deploy/kubernetes/', import.meta.url));
type Doc = {
  apiVersion: string;
  kind: string;
  metadata?: { name: string; labels?: Record<string, string> };
  spec?: any;
  data?: Record<string, string>;
  resources?: string[];
};

const docs: Record<string, Doc> = {};
for (const f of readdirSync(k8s).filter((f) => f.endsWith('.yaml'))) {
  const all = parseAllDocuments(readFileSync(`${k8s}${f}`, 'utf8'));
  for (const d of all) expect(d.errors, f).toEqual([]);
  expect(all, f).toHaveLength(1);
  docs[f] = all[0]!.toJS() as Doc;
}

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
    const args: string[] = cj.jobTemplate.spec.template.spec.containers[0].args;
    expect(args[0]).toBe('smoke');
    expect(args).toContain('--pushgateway');
  });
});

describe('container image definition', () => {
  const file = readFileSync(fileURLToPath(new URL('../../../deploy/container/Containerfile', import.meta.url)), 'utf8');
  it('installs Debian chromium and runs serve as a non-root user', () => {
    expect(file).toMatch(/^FROM node:20-bookworm/m);
    expect(file).toMatch(/apt-get install .*chromium/);
    expect(file).toMatch(/^USER node$/m);
    expect(file).toMatch(/^ENTRYPOINT \["node", "bin\/bulk-upload-probe.js"\]$/m);
    expect(file).toMatch(/^CMD \["serve"/m);
  });
});
