// Writes the alert rules of deploy/alerts/definitions.ts wherever alerts are loaded from:
//   deploy/prometheus/alerts.yml                  Prometheus `rule_files`
//   deploy/kubernetes/prometheusrule.yaml         the same group as a PrometheusRule (Prometheus Operator)
//   deploy/grafana/alerting/*.yaml                Grafana-managed alerting, file provisioning
//   deploy/grafana/api/*.json                     the same for Grafana's HTTP provisioning API
// `npm run alerts` (also part of `npm run docs`). test/unit/deploy/alerts.test.ts fails when a
// committed file differs from what this writes; test/monitoring/rules.test.ts runs promtool on
// the Prometheus rules, test/monitoring/grafana-rules.test.ts the Grafana rules' queries against a
// real Prometheus.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ContactPointBuilder,
  NotificationPolicyBuilder,
  QueryBuilder,
  RuleBuilder,
  RuleGroupBuilder,
  type ContactPoint,
  type NotificationPolicy,
  type Rule,
  type RuleGroup,
} from '@grafana/grafana-foundation-sdk/alerting';
import { TypeMathBuilder, TypeThresholdBuilder } from '@grafana/grafana-foundation-sdk/expr';
import { DataqueryBuilder } from '@grafana/grafana-foundation-sdk/prometheus';
import { Document, isMap, isScalar, isSeq, visit } from 'yaml';
import {
  ALERTS,
  DASHBOARD_UID,
  DEFAULT_RUNBOOK_BASE_URL,
  GROUP_NAME,
  NOT_SMOKE,
  PROMETHEUS_RELEASE_LABEL,
  SERVICE,
  SMOKE_JOB,
  TEAMS,
  likelyCauseByReason,
  likelyCauseOfAnyReason,
  runbookAnchor,
  type AlertDefinition,
  type Dialect,
} from './definitions.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));

export const FILES = {
  prometheusRules: 'deploy/prometheus/alerts.yml',
  prometheusRule: 'deploy/kubernetes/prometheusrule.yaml',
  grafanaRules: 'deploy/grafana/alerting/bulk-upload-probe-rules.yaml',
  grafanaContactPoints: 'deploy/grafana/alerting/bulk-upload-probe-contact-points.yaml',
  grafanaPolicies: 'deploy/grafana/alerting/bulk-upload-probe-policies.yaml',
  grafanaApiRuleGroup: 'deploy/grafana/api/rule-group.json',
  grafanaApiContactPoints: 'deploy/grafana/api/contact-points.json',
  grafanaApiPolicies: 'deploy/grafana/api/policies.json',
} as const;

// ------------------------------------------------------------------------------ templates

/** The latest failure, as Prometheus finds it: a `query` for the job's info series. */
export const prometheusDialect: Dialect = {
  kind: 'prometheus',
  value: '$value',
  latestFailure(body, otherwise, byReason) {
    const labels = ['job', 'instance', 'probe', 'depth', 'target', ...(byReason ? ['reason'] : [])];
    const selector = labels.map((l) => `${l}=%q`).join(',');
    const args = labels.map((l) => `$labels.${l}`).join(' ');
    return (
      `{{ with printf \`bulk_upload_probe_last_failure_info{${selector}}\` ${args} | query }}` +
      `{{ range . }}${body}{{ end }}${otherwise ? `{{ else }}${otherwise}` : ''}{{ end }}`
    );
  },
};

/** Grafana's ref ids: the rule's PromQL, the latest failure's info, and Prometheus-like alerting on any result. */
export const GRAFANA_REF = { query: 'query', info: 'info', math: 'prometheus_math', threshold: 'threshold' } as const;

/**
 * The latest failure, as Grafana finds it: Grafana has no `query` template function, so the info
 * series is a query of the rule (`info`), and `$values.info` is the one whose labels include the
 * alert's (the same job, and reason).
 */
export const grafanaDialect: Dialect = {
  kind: 'grafana',
  value: `$values.${GRAFANA_REF.query}.Value`,
  latestFailure(body, otherwise) {
    return `{{ with $values.${GRAFANA_REF.info} }}${body}${otherwise ? `{{ else }}${otherwise}` : ''}{{ end }}`;
  },
};

const template = (t: string | ((d: Dialect) => string), d: Dialect): string => (typeof t === 'string' ? t : t(d));

function likelyCause(def: AlertDefinition, d: Dialect): string {
  if (def.likelyCause === 'latest') return d.latestFailure(`{{ with .Labels.reason }}${likelyCauseOfAnyReason('.')}{{ end }}`, '', false);
  if (typeof def.likelyCause === 'string') return def.likelyCause;
  return likelyCauseByReason(def.likelyCause.reasons, '$labels.reason');
}

/** The annotations chat templates read; every one is a template (empty when it has nothing to say). */
export function annotations(def: AlertDefinition, d: Dialect): Record<string, string> {
  const a: Record<string, string> = {
    summary: template(def.summary, d),
    description: template(def.description, d),
    likely_cause: likelyCause(def, d),
  };
  if (def.latestFailure) {
    const byReason = def.latestFailure === 'reason';
    a.diagnosis = d.latestFailure('{{ with .Labels.diagnosis }}{{ if ne . "none" }}{{ . }}{{ end }}{{ end }}', '', byReason);
    a.message = d.latestFailure('{{ with .Labels.message }}{{ . }}{{ end }}', '', byReason);
  }
  const anchor = runbookAnchor(def.name);
  if (d.kind === 'prometheus') {
    a.dashboard_url = '{{ with $externalLabels.dashboard_url }}{{ . }}{{ end }}';
    if (def.perJob)
      a.evidence_url =
        '{{ with $externalLabels.status_url }}{{ reReplaceAll "/+$" "" . }}' +
        '/targets/{{ $labels.target }}/{{ $labels.probe }}/last-failure?depth={{ $labels.depth }}{{ end }}';
    a.runbook_url = `{{ with $externalLabels.runbook_base_url }}{{ . }}{{ else }}${DEFAULT_RUNBOOK_BASE_URL}{{ end }}#${anchor}`;
  } else {
    // Grafana has no external labels: the dashboard is the one in this Grafana (same uid), the
    // runbook the default; the probe's status page is not known here.
    a.dashboard_url = `{{ reReplaceAll "/+$" "" externalURL }}/d/${DASHBOARD_UID}{{ with $labels.target }}?var-target={{ . }}{{ end }}`;
    a.runbook_url = `${DEFAULT_RUNBOOK_BASE_URL}#${anchor}`;
  }
  return a;
}

export function ruleLabels(def: AlertDefinition): Record<string, string> {
  return { severity: def.severity, team: def.team, service: SERVICE };
}

// ------------------------------------------------------------------------------ Prometheus

export interface PrometheusRule {
  alert: string;
  expr: string;
  for?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export function prometheusRules(): PrometheusRule[] {
  return ALERTS.map((def) => ({
    alert: def.name,
    expr: def.expr,
    ...(def.for ? { for: def.for } : {}),
    labels: ruleLabels(def),
    annotations: annotations(def, prometheusDialect),
  }));
}

export function prometheusGroups(): { name: string; rules: PrometheusRule[] }[] {
  return [{ name: GROUP_NAME, rules: prometheusRules() }];
}

const GENERATED = 'Generated by deploy/alerts/build.ts from deploy/alerts/definitions.ts (npm run alerts): do not edit.';

/** Comment lines for the `yaml` library: each line after its `#`. */
const comment = (text: string): string =>
  text
    .split('\n')
    .map((l) => ` ${l}`)
    .join('\n');

/** Lists of scalars (group_by, a matcher, a threshold's params) on one line. */
function yamlText(doc: Document): string {
  visit(doc, {
    Seq(_, node) {
      if (node.items.length > 0 && node.items.every((i) => isScalar(i))) node.flow = true;
    },
    // A matcher's operator, quoted: YAML 1.1 readers may take a bare `=` for its "value" tag.
    Scalar(_, node) {
      if (typeof node.value === 'string' && /^(=|!=|=~|!~)$/.test(node.value)) node.type = 'QUOTE_DOUBLE';
    },
  });
  return doc.toString({ lineWidth: 0 });
}

/** Blank lines between the rules, and each definition's comment above its rule. */
function decorateRules(rules: unknown): void {
  if (!isSeq(rules)) throw new Error('no rules to decorate');
  rules.items.forEach((node, i) => {
    if (!isMap(node)) return;
    const def = ALERTS[i]!;
    if (i > 0) node.spaceBefore = true;
    if (def.comment) node.commentBefore = comment(def.comment);
  });
}

const PROMETHEUS_HEADER = `Alerts for the TIS Bulk Upload synthetic probe (bulk-upload-probe serve).
${GENERATED}

Every run series carries \`depth\`: light runs (log in, check the answers; every minute by
default) and full runs (the canary chain; every 15 minutes by default) are separate series, so a
light success never hides a failing full run. The diagnosis alerts (AuthRejected, ImportFailing,
QueueStalled) fire on the 2nd completed run in a row that failed with their reason
(bulk_upload_probe_consecutive_failures), whatever the interval; other waits that depend on how
often a probe runs scale with bulk_upload_probe_interval_seconds.

Labels: severity, team (bulk-upload: Bulk Upload is broken; probe-operators: the probe's own
health), service. Annotations: summary, description, likely_cause, diagnosis and message (the
latest failed run's, from bulk_upload_probe_last_failure_info), dashboard_url, evidence_url and
runbook_url, from Prometheus' external labels dashboard_url, status_url and runbook_base_url
(default: README.md on the repository; the anchor is the alert's name in lower case).

Series pushed by one-shot smoke runs (Pushgateway job "${SMOKE_JOB}") stay at their
last value until the next push, so every state-based alert looks at the continuous service only
(a failed smoke run fails its own pipeline step instead).`;

export function prometheusRulesYaml(): string {
  const doc = new Document({ groups: prometheusGroups() }, { version: '1.1' });
  doc.commentBefore = comment(PROMETHEUS_HEADER);
  decorateRules(doc.getIn(['groups', 0, 'rules'], true));
  return yamlText(doc);
}

const PROMETHEUS_RULE_HEADER = `The probe's alert rules for the Prometheus Operator (kube-prometheus-stack): the same rule group as
deploy/prometheus/alerts.yml. ${GENERATED}

kube-prometheus-stack loads only PrometheusRules whose labels match its ruleSelector, by default
\`release: <the Helm release's name>\`: change the \`release\` label below to your release's name
(\`helm list -A\`), or set prometheus.prometheusSpec.ruleSelectorNilUsesHelmValues=false to load
every PrometheusRule. The ServiceMonitor (servicemonitor.yaml) is selected the same way.
Runbook, dashboard and evidence links come from prometheus.prometheusSpec.externalLabels
(runbook_base_url, dashboard_url, status_url): see docs/monitoring.md.`;

export function prometheusRuleYaml(): string {
  const manifest = {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: {
      name: GROUP_NAME,
      labels: { 'app.kubernetes.io/name': 'bulk-upload-probe', release: PROMETHEUS_RELEASE_LABEL },
    },
    spec: { groups: prometheusGroups() },
  };
  const doc = new Document(manifest, { version: '1.1' });
  doc.commentBefore = comment(PROMETHEUS_RULE_HEADER);
  decorateRules(doc.getIn(['spec', 'groups', 0, 'rules'], true));
  return yamlText(doc);
}

// ------------------------------------------------------------------------------ Grafana

/** In the provisioning files, Grafana replaces it with its environment's PROMETHEUS_DATASOURCE_UID. */
export const DATASOURCE_UID_VARIABLE = '${PROMETHEUS_DATASOURCE_UID}';
export const GRAFANA_FOLDER = { uid: 'bulk-upload-probe', title: 'Bulk Upload probe' } as const;
export const GRAFANA_ORG_ID = 1;
/** The rule group's evaluation interval, seconds. */
export const GRAFANA_INTERVAL_S = 60;
/** Each instant query's time range (only its end matters to an instant query), seconds. */
const QUERY_RANGE_S = 600;

/** The latest failure's info series of every job; `vector(0)` when none, because a query without data makes Grafana's whole rule NoData. */
export const GRAFANA_INFO_EXPR = `bulk_upload_probe_last_failure_info{${NOT_SMOKE}} or on() vector(0)`;

const EXPRESSION_DATASOURCE = { type: '__expr__', uid: '__expr__' };

function promQuery(refId: string, expr: string): QueryBuilder {
  return new QueryBuilder(refId)
    .datasourceUid(DATASOURCE_UID_VARIABLE)
    .relativeTimeRange({ from: QUERY_RANGE_S, to: 0 })
    .model(new DataqueryBuilder().expr(expr).instant().refId(refId));
}

/** Grafana alert rule id: `bup-` and the name after BulkUpload, in kebab case (at most 40 characters). */
export function grafanaUid(name: string): string {
  return `bup-${name
    .replace(/^BulkUpload/, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .toLowerCase()}`;
}

/**
 * One Grafana rule per definition, queried as Grafana converts Prometheus rules: the PromQL as an
 * instant query, a math expression that is 1 for every series it returns, and a threshold on it.
 * So, as in Prometheus, every series the query returns is an alert, and none returned (NoData)
 * is normal (`noDataState: OK`).
 */
export function grafanaRuleBuilders(): RuleBuilder[] {
  return ALERTS.map((def) => {
    const queries = [promQuery(GRAFANA_REF.query, def.expr)];
    if (def.latestFailure) queries.push(promQuery(GRAFANA_REF.info, GRAFANA_INFO_EXPR));
    const q = GRAFANA_REF.query;
    queries.push(
      new QueryBuilder(GRAFANA_REF.math)
        .datasourceUid('__expr__')
        .queryType('math')
        .model(
          new TypeMathBuilder()
            .datasource(EXPRESSION_DATASOURCE)
            .refId(GRAFANA_REF.math)
            .expression(`is_number($${q}) || is_nan($${q}) || is_inf($${q})`),
        ),
      new QueryBuilder(GRAFANA_REF.threshold)
        .datasourceUid('__expr__')
        .queryType('threshold')
        .model(
          new TypeThresholdBuilder()
            .datasource(EXPRESSION_DATASOURCE)
            .refId(GRAFANA_REF.threshold)
            .expression(GRAFANA_REF.math)
            .conditions([{ evaluator: { type: 'gt', params: [0] } }]),
        ),
    );
    return new RuleBuilder(def.name)
      .uid(grafanaUid(def.name))
      .orgID(GRAFANA_ORG_ID)
      .folderUID(GRAFANA_FOLDER.uid)
      .ruleGroup(GROUP_NAME)
      .queries(queries)
      .condition(GRAFANA_REF.threshold)
      .forDuration(def.for ?? '0s')
      .noDataState('OK')
      .execErrState('Error')
      .missingSeriesEvalsToResolve(1)
      .isPaused(false)
      .labels(ruleLabels(def))
      .annotations(annotations(def, grafanaDialect));
  });
}

/** Plain data: the SDK's objects carry marker functions that are no part of the JSON. */
const plain = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

export function grafanaRuleGroup(): RuleGroup {
  return plain(
    new RuleGroupBuilder(GROUP_NAME).folderUid(GRAFANA_FOLDER.uid).interval(GRAFANA_INTERVAL_S).rules(grafanaRuleBuilders()).build(),
  );
}

export const RECEIVERS = {
  [TEAMS.service]: { name: 'bulk-upload-team', url: 'http://alert-receiver.example.internal/bulk-upload' },
  [TEAMS.probe]: { name: 'probe-operators', url: 'http://alert-receiver.example.internal/probe-operators' },
} as const;

/** The contact points, one per team, as the example Alertmanager configuration's receivers. */
export function grafanaContactPoints(): ContactPoint[] {
  return Object.values(RECEIVERS).map((r) =>
    plain(
      new ContactPointBuilder()
        .uid(`bup-${r.name}`)
        .name(r.name)
        .type('webhook')
        .settings({ url: r.url, httpMethod: 'POST' })
        .disableResolveMessage(false)
        .build(),
    ),
  );
}

/** Everything to the Bulk Upload team, the probe's own health to its operators (by the `team` label). */
export function grafanaPolicy(): NotificationPolicy {
  return plain(
    new NotificationPolicyBuilder()
      .receiver(RECEIVERS[TEAMS.service].name)
      // As the shipped Alertmanager route (deploy/alertmanager/alertmanager.yml; a test compares
      // them): one notification per diagnosis, recovery announced within 15 s.
      .groupBy(['grafana_folder', 'alertname', 'target', 'reason'])
      .groupWait('30s')
      .groupInterval('15s')
      .repeatInterval('4h')
      .routes([new NotificationPolicyBuilder().receiver(RECEIVERS[TEAMS.probe].name).objectMatchers([['team', '=', TEAMS.probe]])])
      .build(),
  );
}

/** A rule as Grafana's provisioning files write it (AlertRuleV1: some keys differ from the API's). */
export function provisioningRule(r: Rule): Record<string, unknown> {
  return {
    uid: r.uid,
    title: r.title,
    condition: r.condition,
    data: r.data.map((q) => ({
      refId: q.refId,
      ...(q.queryType ? { queryType: q.queryType } : {}),
      ...(q.relativeTimeRange ? { relativeTimeRange: q.relativeTimeRange } : {}),
      datasourceUid: q.datasourceUid,
      model: q.model,
    })),
    noDataState: r.noDataState,
    execErrState: r.execErrState,
    for: r.for,
    ...(r.missingSeriesEvalsToResolve !== undefined ? { missing_series_evals_to_resolve: r.missingSeriesEvalsToResolve } : {}),
    annotations: r.annotations,
    labels: r.labels,
    isPaused: r.isPaused,
  };
}

const GRAFANA_HEADER = `Grafana-managed alerting for the Bulk Upload probe: file provisioning (apiVersion 1).
${GENERATED}
Copy this folder's files into Grafana's provisioning/alerting folder (e.g. /etc/grafana/provisioning/alerting);
see docs/monitoring.md, "Grafana-managed alerting".`;

export function grafanaRulesYaml(): string {
  const g = grafanaRuleGroup();
  const file = {
    apiVersion: 1,
    groups: [
      {
        orgId: GRAFANA_ORG_ID,
        name: g.title,
        folder: GRAFANA_FOLDER.title,
        interval: `${g.interval}s`,
        rules: (g.rules ?? []).map(provisioningRule),
      },
    ],
  };
  const doc = new Document(file, { version: '1.1' });
  doc.commentBefore = comment(
    `${GRAFANA_HEADER}\nThe queries read the Prometheus data source whose uid Grafana finds in its environment variable\nPROMETHEUS_DATASOURCE_UID (${DATASOURCE_UID_VARIABLE} below); each rule is its Prometheus twin's PromQL.`,
  );
  decorateRules(doc.getIn(['groups', 0, 'rules'], true));
  return yamlText(doc);
}

export function grafanaContactPointsYaml(): string {
  const file = {
    apiVersion: 1,
    contactPoints: grafanaContactPoints().map((c) => ({
      orgId: GRAFANA_ORG_ID,
      name: c.name,
      receivers: [{ uid: c.uid, type: c.type, settings: c.settings, disableResolveMessage: c.disableResolveMessage }],
    })),
  };
  const doc = new Document(file, { version: '1.1' });
  doc.commentBefore = comment(
    `${GRAFANA_HEADER}\nReplace the webhook URLs with your own receivers (Slack, Teams, e-mail ... are contact point types too).`,
  );
  return yamlText(doc);
}

export function grafanaPoliciesYaml(): string {
  const file = { apiVersion: 1, policies: [{ orgId: GRAFANA_ORG_ID, ...grafanaPolicy() }] };
  const doc = new Document(file, { version: '1.1' });
  doc.commentBefore = comment(
    `${GRAFANA_HEADER}\nCAUTION: a provisioned policy tree REPLACES the organisation's whole notification policy tree. If your\nGrafana routes other alerts already, leave this file out and add its route (team=probe-operators) to your tree.`,
  );
  return yamlText(doc);
}

// ------------------------------------------------------------------------------ files

const json = (x: unknown): string => `${JSON.stringify(x, null, 2)}\n`;

/** Every generated file: repository path and content. */
export function generatedFiles(): { path: string; content: string }[] {
  return [
    { path: FILES.prometheusRules, content: prometheusRulesYaml() },
    { path: FILES.prometheusRule, content: prometheusRuleYaml() },
    { path: FILES.grafanaRules, content: grafanaRulesYaml() },
    { path: FILES.grafanaContactPoints, content: grafanaContactPointsYaml() },
    { path: FILES.grafanaPolicies, content: grafanaPoliciesYaml() },
    { path: FILES.grafanaApiRuleGroup, content: json(grafanaRuleGroup()) },
    { path: FILES.grafanaApiContactPoints, content: json(grafanaContactPoints()) },
    { path: FILES.grafanaApiPolicies, content: json(grafanaPolicy()) },
  ];
}

/** Writes the files; returns the paths whose content changed. */
export function writeAlertFiles(): string[] {
  const changed: string[] = [];
  for (const f of generatedFiles()) {
    const path = `${root}${f.path}`;
    let before: string | undefined;
    try {
      before = readFileSync(path, 'utf8');
    } catch {
      before = undefined;
    }
    if (before === f.content) continue;
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, f.content);
    changed.push(f.path);
  }
  return changed;
}

// ------------------------------------------------------------------------------ README table

/** The README's table of alerts (between its alerts-table markers; `npm run docs`). */
export function alertsTable(): string {
  const rows = ALERTS.map((def) => {
    const when = def.after ? `the last ${def.after} ${def.firesWhen}` : def.firesWhen;
    const wait = def.after ? `${def.after} failed runs` : (def.for ?? '–');
    return `| ${def.name} | ${def.severity} | ${def.team} | ${when} | ${wait} |`;
  });
  return ['| alert | severity | team | fires when | for |', '| --- | --- | --- | --- | --- |', ...rows].join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const changed = writeAlertFiles();
  console.log(changed.length ? `rewrote ${changed.join(', ')}` : 'alert files: up to date');
}
