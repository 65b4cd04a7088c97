// The shipped alert rules, checked and unit-tested by Prometheus's own promtool, and held to
// the conventions the README promises: every alert tested firing and quiet, labelled, annotated,
// with a runbook section in README.md. The rules are generated (deploy/alerts/build.ts): the
// PrometheusRule for the Operator carries the same group, checked here by promtool too.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { DEFAULT_RUNBOOK_BASE_URL, SERVICE, TEAMS } from '../../deploy/alerts/definitions.ts';
import { promtool } from './promtool.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const rulesFile = `${root}deploy/prometheus/alerts.yml`;
const testsFile = `${root}deploy/prometheus/alerts.test.yml`;
const prometheusRuleFile = `${root}deploy/kubernetes/prometheusrule.yaml`;

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface AlertTest {
  eval_time: string;
  alertname: string;
  exp_alerts: unknown[];
}

const rules = (parse(readFileSync(rulesFile, 'utf8')) as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules);
const cases = (parse(readFileSync(testsFile, 'utf8')) as { tests: { alert_rule_test?: AlertTest[] }[] }).tests.flatMap(
  (t) => t.alert_rule_test ?? [],
);

describe('alert rules', () => {
  it('pass promtool check rules', () => {
    const r = promtool(['check', 'rules', rulesFile]);
    expect(r.lines.join('\n')).toMatch(/SUCCESS: \d+ rules found/);
    expect(r.status).toBe(0);
  });

  it('the PrometheusRule for the Operator carries the same group, and promtool passes it too', () => {
    const manifest = parse(readFileSync(prometheusRuleFile, 'utf8')) as { spec: { groups: unknown } };
    expect(manifest.spec.groups).toEqual(parse(readFileSync(rulesFile, 'utf8')).groups);
    const dir = mkdtempSync(join(tmpdir(), 'bup-rules-'));
    try {
      const extracted = join(dir, 'prometheusrule-groups.yml');
      writeFileSync(extracted, stringify({ groups: manifest.spec.groups }));
      const r = promtool(['check', 'rules', extracted]);
      expect(r.lines.join('\n')).toMatch(/SUCCESS: \d+ rules found/);
      expect(r.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('pass their promtool unit tests', () => {
    const r = promtool(['test', 'rules', testsFile]);
    expect(r.lines.join('\n')).toContain('SUCCESS');
    expect(r.status).toBe(0);
  });

  it('include the alerts the probe promises', () => {
    expect(rules.map((r) => r.alert).sort()).toEqual(
      expect.arrayContaining([
        'BulkUploadAuthRejected',
        'BulkUploadImportFailing',
        'BulkUploadImportSlow',
        'BulkUploadNoSuccess',
        'BulkUploadProbeFailing',
        'BulkUploadProbeNotRunning',
        'BulkUploadQueueStalled',
      ]),
    );
  });

  it.each(rules.map((r) => [r.alert, r] as const))('%s is unit-tested both firing and not firing', (name) => {
    const mine = cases.filter((c) => c.alertname === name);
    expect(
      mine.some((c) => c.exp_alerts.length > 0),
      'a firing case',
    ).toBe(true);
    expect(
      mine.some((c) => c.exp_alerts.length === 0),
      'a quiet case',
    ).toBe(true);
  });

  it.each(rules.map((r) => [r.alert, r] as const))(
    '%s has severity, team, service, summary, description, likely cause and an absolute runbook link to its section',
    (name, rule) => {
      expect(['critical', 'warning']).toContain(rule.labels?.severity);
      expect(Object.values(TEAMS)).toContain(rule.labels?.team);
      expect(rule.labels?.service).toBe(SERVICE);
      expect(rule.annotations?.summary).toBeTruthy();
      expect(rule.annotations?.description?.length).toBeGreaterThan(60);
      expect(rule.annotations?.likely_cause?.length).toBeGreaterThan(30);
      // The external label runbook_base_url if Prometheus has one, else the README on the repository.
      expect(rule.annotations?.runbook_url).toBe(
        `{{ with $externalLabels.runbook_base_url }}{{ . }}{{ else }}${DEFAULT_RUNBOOK_BASE_URL}{{ end }}#${name.toLowerCase()}`,
      );
      expect(DEFAULT_RUNBOOK_BASE_URL).toMatch(/^https:\/\/github\.com\/.+\/README\.md$/);
      const docs = readFileSync(`${root}README.md`, 'utf8');
      expect(docs).toMatch(new RegExp(`^#{2,4} ${name}$`, 'm'));
    },
  );

  it('alerts on the probe itself go to the probe operators, the others to the Bulk Upload team', () => {
    const team = Object.fromEntries(rules.map((r) => [r.alert, r.labels?.team]));
    for (const name of ['BulkUploadProbeNotRunning', 'BulkUploadProbeError', 'BulkUploadProbeEvidenceNotKept'])
      expect(team[name], name).toBe(TEAMS.probe);
    for (const name of ['BulkUploadAuthRejected', 'BulkUploadImportFailing', 'BulkUploadQueueStalled', 'BulkUploadProbeFailing'])
      expect(team[name], name).toBe(TEAMS.service);
  });

  it('the diagnosis alerts wait for failed runs, not minutes; the safety net keeps its `for`', () => {
    const byName = Object.fromEntries(rules.map((r) => [r.alert, r]));
    for (const name of ['BulkUploadAuthRejected', 'BulkUploadImportFailing', 'BulkUploadQueueStalled']) {
      expect(byName[name]!.for, name).toBeUndefined();
      expect(byName[name]!.expr, name).toContain('bulk_upload_probe_consecutive_failures{job!="bulk-upload-probe-smoke"} >= 2');
      expect(byName[name]!.expr, name).toContain('bulk_upload_probe_failure_reason{job!="bulk-upload-probe-smoke",reason');
    }
    expect(byName.BulkUploadProbeFailing!.for).toBe('3m');
  });

  it('the example Prometheus and Alertmanager configurations are valid', () => {
    for (const file of ['prometheus.yml', 'prometheus-local.yml']) {
      const p = promtool(['check', 'config', `${root}deploy/prometheus/${file}`]);
      expect(p.status, p.lines.join('\n')).toBe(0);
    }
    for (const file of ['alertmanager.yml', 'alertmanager-local.yml']) {
      const a = spawnSync('amtool', ['check-config', `${root}deploy/alertmanager/${file}`], { encoding: 'utf8' });
      expect(a.status, `${a.stdout}${a.stderr}`).toBe(0);
    }
  });

  it('the local Alertmanager configuration routes and inhibits exactly like the example, on loopback', () => {
    type Am = { route: unknown; inhibit_rules: unknown; receivers: { name: string; webhook_configs: { url: string }[] }[] };
    const example = parse(readFileSync(`${root}deploy/alertmanager/alertmanager.yml`, 'utf8')) as Am;
    const local = parse(readFileSync(`${root}deploy/alertmanager/alertmanager-local.yml`, 'utf8')) as Am;
    expect(local.route).toEqual(example.route);
    expect(local.inhibit_rules).toEqual(example.inhibit_rules);
    expect(local.receivers.map((r) => r.name)).toEqual(example.receivers.map((r) => r.name));
    for (const r of local.receivers) for (const w of r.webhook_configs) expect(new URL(w.url).hostname).toBe('127.0.0.1');
  });

  it('promtool would catch a broken rule (the check is not a formality)', () => {
    const r = spawnSync('promtool', ['check', 'rules'], {
      input: 'groups:\n  - name: x\n    rules:\n      - alert: Broken\n        expr: rate(bulk_upload_probe_runs_total[5m]\n',
      encoding: 'utf8',
    });
    expect(r.status).not.toBe(0);
  });
});
