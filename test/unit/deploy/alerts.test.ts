// One source of truth for alerts: every file written from deploy/alerts/definitions.ts is what the
// generator writes now (so thresholds, labels, annotations and runbook links cannot drift), and
// the outputs agree with each other: the Prometheus rule file, the PrometheusRule and the Grafana
// rules query the same PromQL with the same labels. The Grafana files are read back as Grafana
// reads them (file provisioning, HTTP API) and held to the SDK's types.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import type { ContactPoint, NotificationPolicy, Rule, RuleGroup } from '@grafana/grafana-foundation-sdk/alerting';
import { describe, expect, it } from 'vitest';
import {
  DATASOURCE_UID_VARIABLE,
  FILES,
  GRAFANA_FOLDER,
  GRAFANA_REF,
  alertsTable,
  generatedFiles,
  grafanaContactPoints,
  grafanaPolicy,
  grafanaRuleGroup,
  grafanaUid,
  provisioningRule,
} from '../../../deploy/alerts/build.ts';
import {
  ALERTS,
  CONSECUTIVE_FAILURES,
  DASHBOARD_UID,
  DEFAULT_RUNBOOK_BASE_URL,
  PROMETHEUS_RELEASE_LABEL,
  REPOSITORY_URL,
  SERVICE,
  runbookAnchor,
} from '../../../deploy/alerts/definitions.ts';
import { parseYamlStrict, readRepoFile, repoRoot } from './files.ts';

type PromRule = { alert: string; expr: string; for?: string; labels: Record<string, string>; annotations: Record<string, string> };
const promRules = (parseYamlStrict(readRepoFile(FILES.prometheusRules), FILES.prometheusRules).groups as { rules: PromRule[] }[]).flatMap(
  (g) => g.rules,
);
const grafanaFile = parseYamlStrict(readRepoFile(FILES.grafanaRules), FILES.grafanaRules);
const grafanaFileRules: any[] = grafanaFile.groups.flatMap((g: { rules: unknown[] }) => g.rules);
const apiGroup = JSON.parse(readRepoFile(FILES.grafanaApiRuleGroup)) as RuleGroup;

describe('alert files generated from deploy/alerts/definitions.ts', () => {
  it.each(generatedFiles().map((f) => [f.path, f.content] as const))(
    '%s is what the generator writes (npm run alerts)',
    (path, content) => {
      expect(readRepoFile(path)).toBe(content);
    },
  );

  it('every definition is a rule in every output, in the same order', () => {
    const names = ALERTS.map((a) => a.name);
    expect(promRules.map((r) => r.alert)).toEqual(names);
    expect(grafanaFileRules.map((r) => r.title)).toEqual(names);
    expect((apiGroup.rules ?? []).map((r) => r.title)).toEqual(names);
  });

  it('the diagnosis alerts fire on the configured number of failed runs in a row, joined with their reason', () => {
    for (const a of ALERTS.filter((d) => d.after !== undefined)) {
      expect(a.after).toBe(CONSECUTIVE_FAILURES);
      expect(a.for, a.name).toBeUndefined();
      expect(a.expr).toContain(`bulk_upload_probe_consecutive_failures{job!="bulk-upload-probe-smoke"} >= ${CONSECUTIVE_FAILURES}`);
      expect(a.expr).toContain('* on(job, instance, probe, depth, target) group_left()');
    }
    expect(ALERTS.filter((d) => d.after !== undefined).map((a) => a.name)).toEqual([
      'BulkUploadAuthRejected',
      'BulkUploadImportFailing',
      'BulkUploadQueueStalled',
    ]);
  });

  it('state-based alerts leave out the smoke job wherever they select series', () => {
    const stateBased = ALERTS.filter(
      (a) => !['BulkUploadImportSlow', 'BulkUploadProbeError', 'BulkUploadProbeEvidenceNotKept'].includes(a.name),
    );
    for (const a of stateBased) {
      const selectors = a.expr.match(/bulk_upload_probe_\w+\{[^}]*\}/g) ?? [];
      expect(selectors.length, a.name).toBeGreaterThan(0);
      for (const s of selectors) expect(s, a.name).toContain('job!="bulk-upload-probe-smoke"');
    }
  });
});

describe('Prometheus rules and PrometheusRule', () => {
  it('carry severity, team and service labels, and an absolute runbook link with the README section as anchor', () => {
    for (const r of promRules) {
      expect(r.labels.service).toBe(SERVICE);
      expect(['bulk-upload', 'probe-operators']).toContain(r.labels.team);
      expect(r.annotations.runbook_url).toContain(`{{ else }}${DEFAULT_RUNBOOK_BASE_URL}{{ end }}#${runbookAnchor(r.alert)}`);
      expect(r.annotations.runbook_url).toContain('$externalLabels.runbook_base_url');
      expect(r.annotations.dashboard_url).toBe('{{ with $externalLabels.dashboard_url }}{{ . }}{{ end }}');
      for (const k of ['summary', 'description', 'likely_cause']) expect(r.annotations[k], `${r.alert} ${k}`).toBeTruthy();
    }
    expect(DEFAULT_RUNBOOK_BASE_URL).toBe(`${REPOSITORY_URL}/blob/main/README.md`);
  });

  it('alerts about one job link its last failure on the status page, and read the latest failure for diagnosis and message', () => {
    const byName = Object.fromEntries(promRules.map((r) => [r.alert, r]));
    for (const name of ['BulkUploadAuthRejected', 'BulkUploadImportFailing', 'BulkUploadQueueStalled', 'BulkUploadProbeFailing']) {
      const a = byName[name]!.annotations;
      expect(a.evidence_url).toContain('$externalLabels.status_url');
      expect(a.evidence_url).toContain('/targets/{{ $labels.target }}/{{ $labels.probe }}/last-failure?depth={{ $labels.depth }}');
      expect(a.diagnosis).toContain('bulk_upload_probe_last_failure_info{');
      expect(a.message).toContain('| query');
    }
  });

  it('the PrometheusRule is labelled for kube-prometheus-stack, listed in the kustomization, and holds the rule file group', () => {
    const manifest = parseYamlStrict(readRepoFile(FILES.prometheusRule), FILES.prometheusRule);
    expect(manifest).toMatchObject({ apiVersion: 'monitoring.coreos.com/v1', kind: 'PrometheusRule' });
    expect(manifest.metadata.labels.release).toBe(PROMETHEUS_RELEASE_LABEL);
    expect(manifest.spec.groups).toEqual(parseYamlStrict(readRepoFile(FILES.prometheusRules), 'alerts.yml').groups);
    const kustomization = parseYamlStrict(readRepoFile('deploy/kubernetes/kustomization.yaml'), 'kustomization.yaml');
    expect(kustomization.resources).toContain('prometheusrule.yaml');
    expect(readRepoFile('deploy/kubernetes/servicemonitor.yaml')).toMatch(/release/);
  });
});

describe('Grafana-managed alerting files', () => {
  it('the provisioning folder holds nothing but provisioning files (Grafana refuses to start on anything else)', () => {
    const dir = `${repoRoot}deploy/grafana/alerting/`;
    for (const f of readdirSync(dir)) {
      expect(statSync(`${dir}${f}`).isFile(), f).toBe(true);
      expect(f).toMatch(/\.(ya?ml|json)$/);
      expect(parseYamlStrict(readRepoFile(`deploy/grafana/alerting/${f}`), f).apiVersion, f).toBe(1);
    }
  });

  it("each rule queries the Prometheus rule's PromQL, from the data source named by the uid variable, alerting on any series", () => {
    for (const [i, def] of ALERTS.entries()) {
      const r = grafanaFileRules[i];
      expect(r.uid).toBe(grafanaUid(def.name));
      expect(r.uid.length).toBeLessThanOrEqual(40);
      expect(r.uid).toMatch(/^[a-zA-Z0-9_-]+$/);
      const refs = r.data.map((q: { refId: string }) => q.refId);
      expect(refs).toContain(r.condition);
      const query = r.data.find((q: { refId: string }) => q.refId === GRAFANA_REF.query);
      expect(query.datasourceUid).toBe(DATASOURCE_UID_VARIABLE);
      expect(query.model).toMatchObject({ expr: promRules[i]!.expr, instant: true, range: false, refId: GRAFANA_REF.query });
      expect(query.relativeTimeRange.from).toBeGreaterThan(0);
      const math = r.data.find((q: { refId: string }) => q.refId === GRAFANA_REF.math);
      expect(math).toMatchObject({
        datasourceUid: '__expr__',
        model: { type: 'math', expression: 'is_number($query) || is_nan($query) || is_inf($query)' },
      });
      const threshold = r.data.find((q: { refId: string }) => q.refId === r.condition);
      expect(threshold).toMatchObject({
        datasourceUid: '__expr__',
        model: { type: 'threshold', expression: GRAFANA_REF.math, conditions: [{ evaluator: { type: 'gt', params: [0] } }] },
      });
      // Every data source query reads Prometheus through the variable; expressions read the others' results.
      for (const q of r.data) expect([DATASOURCE_UID_VARIABLE, '__expr__']).toContain(q.datasourceUid);
      expect(r.labels).toEqual(promRules[i]!.labels);
      expect(r.for).toBe(promRules[i]!.for ?? '0s');
      expect(r.noDataState).toBe('OK');
      expect(r.execErrState).toBe('Error');
      expect(r.annotations.runbook_url).toBe(`${DEFAULT_RUNBOOK_BASE_URL}#${runbookAnchor(def.name)}`);
      expect(r.annotations.dashboard_url).toContain(`/d/${DASHBOARD_UID}`);
      expect(Object.keys(r.annotations).sort()).toEqual(
        Object.keys(promRules[i]!.annotations)
          .filter((k) => k !== 'evidence_url')
          .sort(),
      );
      // Annotation templates use Grafana's variables only: no Prometheus-only `query` or external labels.
      for (const v of Object.values(r.annotations) as string[]) {
        expect(v).not.toMatch(/\$externalLabels|\| query/);
        expect(v).not.toMatch(/\$value\b(?!s)/);
      }
    }
  });

  it('the rules needing the latest failure read it as a query of their own, never empty (a query without data makes a rule NoData)', () => {
    for (const [i, def] of ALERTS.entries()) {
      const info = grafanaFileRules[i].data.find((q: { refId: string }) => q.refId === GRAFANA_REF.info);
      if (!def.latestFailure) {
        expect(info, def.name).toBeUndefined();
        continue;
      }
      expect(info.model.expr).toBe('bulk_upload_probe_last_failure_info{job!="bulk-upload-probe-smoke"} or on() vector(0)');
      expect(grafanaFileRules[i].annotations.message).toContain('$values.info');
    }
  });

  it("the provisioning file and the HTTP API body are the same rules: the SDK builders' objects", () => {
    const built = grafanaRuleGroup();
    expect(apiGroup).toEqual(built);
    expect(apiGroup).toMatchObject({ title: 'bulk-upload-probe', folderUid: GRAFANA_FOLDER.uid, interval: 60 });
    expect(grafanaFile.groups).toHaveLength(1);
    expect(grafanaFile.groups[0]).toMatchObject({ orgId: 1, name: apiGroup.title, folder: GRAFANA_FOLDER.title, interval: '60s' });
    expect(grafanaFileRules).toEqual((apiGroup.rules ?? []).map(provisioningRule));
  });

  it("the API rules have every field the SDK's Rule type requires, with values it allows", () => {
    const required: (keyof Rule)[] = [
      'condition',
      'data',
      'execErrState',
      'folderUID',
      'for',
      'noDataState',
      'orgID',
      'ruleGroup',
      'title',
    ];
    for (const r of apiGroup.rules ?? []) {
      for (const k of required) expect(r[k], `${r.title}.${k}`).not.toBeUndefined();
      expect(['Alerting', 'Error', 'OK', 'KeepLast']).toContain(r.execErrState);
      expect(['OK', 'Alerting', 'NoData', 'KeepLast']).toContain(r.noDataState);
      expect(r.folderUID).toBe(GRAFANA_FOLDER.uid);
      expect(r.ruleGroup).toBe(apiGroup.title);
      expect(r.title.length).toBeLessThanOrEqual(190);
      for (const q of r.data) expect(typeof q.refId).toBe('string');
    }
  });

  it('contact points and the notification policy route by the team label, in both forms', () => {
    const points = JSON.parse(readRepoFile(FILES.grafanaApiContactPoints)) as ContactPoint[];
    const policy = JSON.parse(readRepoFile(FILES.grafanaApiPolicies)) as NotificationPolicy;
    expect(points).toEqual(grafanaContactPoints());
    expect(policy).toEqual(grafanaPolicy());
    const names = points.map((p) => p.name);
    expect(names).toEqual(['bulk-upload-team', 'probe-operators']);
    for (const p of points) expect(p.type).toBe('webhook');
    expect(names).toContain(policy.receiver);
    for (const r of policy.routes ?? []) expect(names).toContain(r.receiver);
    expect(policy.routes?.[0]?.object_matchers).toEqual([['team', '=', 'probe-operators']]);

    const cpFile = parseYamlStrict(readRepoFile(FILES.grafanaContactPoints), 'contact points');
    expect(cpFile.contactPoints.map((c: { name: string }) => c.name)).toEqual(names);
    for (const c of cpFile.contactPoints) {
      expect(c.orgId).toBe(1);
      expect(c.receivers).toHaveLength(1);
      expect(c.receivers[0].settings.url).toMatch(/^https?:\/\//);
    }
    const policyFile = parseYamlStrict(readRepoFile(FILES.grafanaPolicies), 'policies');
    expect(policyFile.policies).toEqual([{ orgId: 1, ...policy }]);
  });

  it('the Grafana policy groups and times notifications as the shipped Alertmanager route does', () => {
    const route = parseYamlStrict(readRepoFile('deploy/alertmanager/alertmanager.yml'), 'alertmanager').route;
    const policy = grafanaPolicy();
    expect(policy.group_by?.filter((l) => l !== 'grafana_folder')).toEqual(route.group_by);
    expect({ wait: policy.group_wait, interval: policy.group_interval, repeat: policy.repeat_interval }).toEqual({
      wait: route.group_wait,
      interval: route.group_interval,
      repeat: route.repeat_interval,
    });
  });

  it('link to the dashboard deploy/dashboard generates, by its uid', () => {
    expect(JSON.parse(readRepoFile('deploy/dashboard/bulk-upload-probe.json')).uid).toBe(DASHBOARD_UID);
  });
});

describe('the README and package.json agree', () => {
  it('package.json names the repository the runbook links point at', () => {
    const pkg = JSON.parse(readFileSync(`${repoRoot}package.json`, 'utf8'));
    const url = typeof pkg.repository === 'string' ? pkg.repository : pkg.repository?.url;
    expect(url.replace(/^git\+/, '').replace(/\.git$/, '')).toBe(REPOSITORY_URL);
  });

  it("every alert has a runbook section, and the README's alert table is the definitions' (npm run docs)", () => {
    const readme = readRepoFile('README.md');
    for (const a of ALERTS) expect(readme).toMatch(new RegExp(`^### ${a.name}$`, 'm'));
    expect(readme).toContain(alertsTable());
  });
});
