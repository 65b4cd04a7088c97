// The Bulk Upload probe's alert rules, defined once. deploy/alerts/build.ts (`npm run alerts`)
// writes them out as the Prometheus rule file, a PrometheusRule for the Prometheus Operator and
// Grafana-managed alerting provisioning files; a unit test fails when a written file differs from
// what the generator writes, so thresholds, labels, annotations and runbook links cannot drift.
//
// Expressions are PromQL, the same in every output. Templates (summary, description, likely
// cause) are Go templates using `$labels` only, which Prometheus and Grafana render alike; where
// the two differ (the alert's value, the latest failure's details, external labels) a definition
// asks the Dialect it is given.
import { FAILURE_REASONS, LIKELY_CAUSE, type FailureReason } from '../../src/model/failures.ts';

/** The project's repository (also `repository` in package.json). */
export const REPOSITORY_URL = 'https://github.com/Health-Education-England/bulk-upload-probe';
/**
 * Where the runbooks are when nothing else is said: the README on the repository. Each alert's
 * runbook is its section, `#` + the alert's name in lower case. Prometheus takes the external
 * label `runbook_base_url` instead when it is set (a copy of the README hosted elsewhere).
 */
export const DEFAULT_RUNBOOK_BASE_URL = `${REPOSITORY_URL}/blob/main/README.md`;

/**
 * "Two failed runs, not two minutes": the diagnosis alerts fire on this many completed runs in a
 * row that failed with their reason (bulk_upload_probe_consecutive_failures), whatever the
 * interval. A definition may set its own (`after`).
 */
export const CONSECUTIVE_FAILURES = 2;

/** One-shot smoke runs pushed to a Pushgateway: their series keep their last value, so state-based alerts ignore them. */
export const SMOKE_JOB = 'bulk-upload-probe-smoke';
/** Series of the continuous service only. */
export const NOT_SMOKE = `job!="${SMOKE_JOB}"`;

/** Every rule's `service` label. */
export const SERVICE = 'bulk-upload';
/** The `team` label: who acts on the alert. */
export const TEAMS = {
  /** Bulk Upload itself is broken or degraded. */
  service: 'bulk-upload',
  /** The probe's own health: nothing wrong with TIS, the probe needs attention. */
  probe: 'probe-operators',
} as const;
export type Team = (typeof TEAMS)[keyof typeof TEAMS];

/** The rule group (Prometheus and Grafana) and the PrometheusRule's name. */
export const GROUP_NAME = 'bulk-upload-probe';
/** kube-prometheus-stack selects PrometheusRules (and ServiceMonitors) by `release: <Helm release name>`. */
export const PROMETHEUS_RELEASE_LABEL = 'kube-prometheus-stack';
/** The uid deploy/dashboard/build.ts gives the dashboard (Grafana rules link to it). */
export const DASHBOARD_UID = 'bulk-upload-probe';

/** How a rule's templates are rendered: by Prometheus, or by Grafana-managed alerting. */
export interface Dialect {
  kind: 'prometheus' | 'grafana';
  /** The alert's value as a number in a template pipeline: `{{ ${d.value} | printf "%.0f" }}`. */
  value: string;
  /**
   * `body` rendered with the job's latest failure as dot (`.Labels.reason`, `.Labels.diagnosis`,
   * `.Labels.message`: bulk_upload_probe_last_failure_info), or `otherwise` when there is none.
   * `byReason`: the alert carries a `reason` label, and only a failure with that reason counts.
   */
  latestFailure(body: string, otherwise: string, byReason: boolean): string;
}

export type Severity = 'critical' | 'warning';

export interface AlertDefinition {
  /** The alert's name; its runbook is the README section of that name (anchor: lower case). */
  name: string;
  /** A comment written above the rule. */
  comment?: string;
  expr: string;
  for?: string;
  severity: Severity;
  team: Team;
  summary: string;
  description: string | ((d: Dialect) => string);
  /**
   * What it most likely means in TIS: the failure reasons' own likely causes (src/model/failures.ts)
   * picked by the alert's `reason` label (`reasons`) or by the job's latest failure (`latest`);
   * or a text of its own (a template like the others).
   */
  likelyCause: { reasons: readonly FailureReason[] } | 'latest' | string;
  /**
   * The job's latest failed run goes with the alert (diagnosis, message): looked up by the alert's
   * job (`job`), or by its job and reason (`reason`).
   */
  latestFailure?: 'job' | 'reason';
  /** The alert's labels name one job (probe, depth, target): it links that job's last failure. */
  perJob?: boolean;
  /** When it fires, in words (the README's alert table). */
  firesWhen: string;
  /** Failed runs in a row that fire a diagnosis alert (its `for` column in the README). */
  after?: number;
}

/** `reason="x"` or `reason=~"x|y"`. */
function reasonMatcher(reasons: readonly FailureReason[]): string {
  return reasons.length === 1 ? `reason="${reasons[0]}"` : `reason=~"${reasons.join('|')}"`;
}

/**
 * A diagnosis alert's expression: the latest run failed with one of `reasons`, and it is the
 * `after`-th completed run in a row to fail with that reason. The value is that number of runs.
 * No `for:`: the count is the wait. A success sets the count to 0, a different reason to 1, and a
 * service that stops is no longer scraped: its series go stale and the alert resolves
 * (BulkUploadProbeNotRunning takes over).
 */
export function diagnosisExpr(reasons: readonly FailureReason[], after = CONSECUTIVE_FAILURES): string {
  return [
    `(bulk_upload_probe_failure_reason{${NOT_SMOKE},${reasonMatcher(reasons)}} == 1)`,
    '* on(job, instance, probe, depth, target) group_left()',
    `(bulk_upload_probe_consecutive_failures{${NOT_SMOKE}} >= ${after})`,
  ].join('\n');
}

/** A Go template choosing among the reasons' likely causes by `subject` (e.g. `$labels.reason`, `.`). */
export function likelyCauseByReason(reasons: readonly FailureReason[], subject: string): string {
  if (reasons.length === 1) return LIKELY_CAUSE[reasons[0]!];
  return `${reasons.map((r, i) => `{{ ${i ? 'else if' : 'if'} eq ${subject} "${r}" }}${LIKELY_CAUSE[r]}`).join('')}{{ end }}`;
}

/** The three diagnosis alerts share their shape: the reason's cause, the latest failure's details. */
function diagnosisAlert(
  def: Omit<AlertDefinition, 'expr' | 'likelyCause' | 'latestFailure' | 'perJob' | 'severity' | 'team'> & {
    reasons: readonly FailureReason[];
  },
): AlertDefinition {
  const { reasons, ...rest } = def;
  const after = def.after ?? CONSECUTIVE_FAILURES;
  return {
    ...rest,
    after,
    expr: diagnosisExpr(reasons, after),
    severity: 'critical',
    team: TEAMS.service,
    likelyCause: { reasons },
    latestFailure: 'reason',
    perJob: true,
  };
}

/** "the last 2 light runs" */
const runsInARow = (d: Dialect) => `the last {{ ${d.value} | printf "%.0f" }} {{ $labels.depth }} runs in a row`;

export const ALERTS: readonly AlertDefinition[] = [
  diagnosisAlert({
    name: 'BulkUploadAuthRejected',
    comment: 'The 2024-10-15 incident: deployed with stale configuration, every API call 401.',
    reasons: ['auth_rejected'],
    firesWhen: 'runs in a row failed with `auth_rejected`',
    summary: "Bulk Upload rejects a logged-in user's API calls ({{ $labels.target }}, {{ $labels.probe }} probe)",
    description: (d) =>
      `The {{ $labels.probe }} probe logs in to {{ $labels.target }}, but the Bulk Upload API (generic-upload) answers 401/403: ` +
      `${runsInARow(d)} failed with auth_rejected. Users see the page reload itself / "server took too long".`,
  }),
  diagnosisAlert({
    name: 'BulkUploadImportFailing',
    comment:
      'The 2021-03-18 incident: bulk_upload disabled in Keycloak (UNEXPECTED_ERROR), then still inactive\n' +
      'in Profile (COMPLETED with an Internal Server Error reason).',
    reasons: ['import_failed', 'import_wrong_result', 'canary_imported'],
    firesWhen: 'runs in a row failed with the same one of `import_failed`, `import_wrong_result`, `canary_imported`',
    summary: 'Bulk Upload imports fail or end wrong on {{ $labels.target }} ({{ $labels.reason }})',
    description: (d) =>
      `Uploads are accepted, but the canary's import on {{ $labels.target }} has not ended as a healthy import does: ` +
      `${runsInARow(d)} failed with {{ $labels.reason }} ({{ $labels.probe }} probe).`,
  }),
  diagnosisAlert({
    name: 'BulkUploadQueueStalled',
    reasons: ['queue_stalled'],
    firesWhen: 'runs in a row failed with `queue_stalled`',
    summary: 'Bulk Upload import queue is stalled on {{ $labels.target }}',
    description: (d) =>
      `The canary upload on {{ $labels.target }} stayed PENDING/IN_PROGRESS past the probe's deadline in ${runsInARow(d)} ` +
      '({{ $labels.probe }} probe). generic-upload imports the oldest PENDING file first, so one file that keeps going back ' +
      'to PENDING (a downstream HTTP error on every attempt) blocks every later upload.',
  }),
  {
    name: 'BulkUploadProbeFailing',
    comment:
      'The safety net, whatever the reason (also when reasons alternate, which restarts the count of the\n' +
      "diagnosis alerts). `min without ()` drops only the metric name: the alert carries the job's labels\n" +
      "alone, in Grafana too, where a query's __name__ would otherwise become one of its labels.",
    expr: `min without () (bulk_upload_probe_success{${NOT_SMOKE}}) == 0`,
    for: '3m',
    severity: 'critical',
    team: TEAMS.service,
    firesWhen: 'the latest run failed, whatever the reason',
    summary: 'Bulk Upload is failing on {{ $labels.target }} ({{ $labels.probe }} probe)',
    description: (d) =>
      'Every {{ $labels.probe }} probe run against {{ $labels.target }} for at least 3 minutes failed. ' +
      `The latest run failed with reason ${d.latestFailure('{{ with .Labels.reason }}{{ . }}{{ else }}unknown{{ end }}', 'unknown', false)}. ` +
      'The reason table in README.md says what each reason most likely means in TIS.',
    likelyCause: 'latest',
    latestFailure: 'job',
    perJob: true,
  },
  {
    name: 'BulkUploadNoSuccess',
    comment: '30 minutes, or three intervals for a depth that runs less often than every 10 minutes.',
    expr: `(
  (time() - bulk_upload_probe_last_success_timestamp_seconds{${NOT_SMOKE}})
  > on(job, instance, probe, depth, target) clamp_min(3 * bulk_upload_probe_interval_seconds, 1800)
)
or
(
  (time() - bulk_upload_probe_last_success_timestamp_seconds{${NOT_SMOKE}} > 1800)
  unless on(job, instance, probe, depth, target) bulk_upload_probe_interval_seconds
)
or
(
  (bulk_upload_probe_last_run_timestamp_seconds{${NOT_SMOKE}} unless bulk_upload_probe_last_success_timestamp_seconds)
  and on(job, instance)
  (time() - process_start_time_seconds > 1800)
)`,
    for: '1m',
    severity: 'warning',
    team: TEAMS.service,
    firesWhen:
      'no successful run for 30 minutes or three intervals, whichever is longer (or none since the service started 30 minutes ago)',
    summary: 'No successful Bulk Upload probe run on {{ $labels.target }} for 30 minutes ({{ $labels.probe }} probe)',
    description:
      'The {{ $labels.probe }} probe has not completed a healthy run against {{ $labels.target }} for more than 30 minutes ' +
      '(or three intervals), although it keeps running. Bulk Upload has been unusable for at least that long, or fails ' +
      'intermittently in a way no single run recovers from.',
    likelyCause:
      'whatever the failure alerts for this target say; if none of them fires, the failures alternate between reasons or with ' +
      'cancelled runs (e.g. the service restarting in a loop)',
    latestFailure: 'job',
    perJob: true,
  },
  {
    name: 'BulkUploadProbeNotRunning',
    comment: '10 minutes, or two intervals and 5 minutes for a depth that runs less often.',
    expr: `(
  (time() - bulk_upload_probe_last_run_timestamp_seconds{${NOT_SMOKE}})
  > on(job, instance, probe, depth, target) clamp_min(2 * bulk_upload_probe_interval_seconds + 300, 600)
)
or
(
  (time() - bulk_upload_probe_last_run_timestamp_seconds{${NOT_SMOKE}} > 600)
  unless on(job, instance, probe, depth, target) bulk_upload_probe_interval_seconds
)
or
absent(bulk_upload_probe_last_run_timestamp_seconds{${NOT_SMOKE}})`,
    for: '5m',
    severity: 'warning',
    team: TEAMS.probe,
    firesWhen: "no probe series at all, or a job's last run finished more than 10 minutes (or two intervals and 5 minutes) ago",
    summary: 'The Bulk Upload probe is not running{{ with $labels.target }} against {{ . }}{{ end }}',
    description:
      '{{ if $labels.target }}No {{ $labels.probe }} probe run against {{ $labels.target }} has finished for more than 10 minutes ' +
      '(or two of its intervals): its scheduler is stuck.{{ else }}Prometheus has no probe runs at all: the probe service is ' +
      'down, not scraped, or has no targets configured.{{ end }} Nothing watches Bulk Upload until this is fixed.',
    likelyCause:
      "the probe's pod crashed or is not scheduled; the scrape configuration or ServiceMonitor does not match; the configuration " +
      "lost its targets; or a run hangs (the service's /healthz then answers 503 and the liveness probe restarts it)",
  },
  {
    name: 'BulkUploadImportSlow',
    expr: `label_replace(
  histogram_quantile(0.9, sum by (job, instance, probe, target, le) (rate(bulk_upload_probe_canary_queue_wait_seconds_bucket[30m]))),
  "phase", "queue_wait", "", "") > 20
or
label_replace(
  histogram_quantile(0.9, sum by (job, instance, probe, target, le) (rate(bulk_upload_probe_canary_import_duration_seconds_bucket[30m]))),
  "phase", "import", "", "") > 20`,
    for: '10m',
    severity: 'warning',
    team: TEAMS.service,
    firesWhen: "the 90th percentile of the canary's queue wait or import time over 30 minutes exceeds 20 s",
    summary: 'Bulk Upload imports are slow on {{ $labels.target }} ({{ $labels.phase }})',
    description: (d) =>
      `Over the last 30 minutes, 90% of canary imports on {{ $labels.target }} took up to {{ ${d.value} | printf "%.0f" }} s ` +
      "in {{ $labels.phase }} (healthy: a few seconds). Users' uploads are slow too, but still complete.",
    likelyCause:
      '{{ if eq $labels.phase "queue_wait" }}uploads wait long before import starts: the queue is busy with large files, or a file ' +
      'is being retried ahead of the others (a stall in the making){{ else }}the import itself is slow: TCS or Profile answer ' +
      'slowly, or the bulk_upload token grant is slow (Keycloak){{ end }}',
  },
  {
    name: 'BulkUploadProbeError',
    expr: 'increase(bulk_upload_probe_failures_total{reason="probe_error"}[15m]) > 2.5',
    severity: 'warning',
    team: TEAMS.probe,
    firesWhen: 'more than 2 runs ended `probe_error` in 15 minutes',
    summary: 'The Bulk Upload probe itself is failing ({{ $labels.target }}, {{ $labels.probe }} probe)',
    description:
      'Runs end with probe_error: a fault in the probe (browser crash, bug), not evidence against TIS. While this lasts, the ' +
      'probe may miss real outages.',
    likelyCause: { reasons: ['probe_error'] },
    latestFailure: 'reason',
    perJob: true,
  },
  {
    name: 'BulkUploadProbeEvidenceNotKept',
    expr: 'increase(bulk_upload_probe_evidence_write_failures_total[30m]) > 0',
    severity: 'warning',
    team: TEAMS.probe,
    firesWhen: "a failed run's evidence could not be written in the last 30 minutes",
    summary: 'The Bulk Upload probe cannot keep evidence ({{ $labels.target }}, {{ $labels.probe }} probe)',
    description:
      'Failed runs on {{ $labels.target }} are recorded without their evidence folder (screenshot, trace, network log). ' +
      'Probing goes on; failures cannot be looked into until this is fixed.',
    likelyCause: 'the evidence folder cannot be written: disk full, read-only or missing volume',
  },
  {
    name: 'BulkUploadRealImportsFailing',
    comment:
      "The passive signal: real users' imports, counted from the light API run's list. In 2021-03-18\n" +
      'every real import failed for a day; this sees it within one light interval of the first few\n' +
      'failures, writing nothing. A signal, not proof: real files can be wrong.',
    expr: `sum by (job, instance, target) (increase(bulk_upload_probe_real_uploads_ended_total{${NOT_SMOKE},outcome=~"unexpected_error|invalid"}[1h])) >= 3
and
sum by (job, instance, target) (increase(bulk_upload_probe_real_uploads_ended_total{${NOT_SMOKE},outcome=~"unexpected_error|invalid"}[1h]))
> sum by (job, instance, target) (increase(bulk_upload_probe_real_uploads_ended_total{${NOT_SMOKE},outcome=~"completed|completed_with_errors"}[1h]))`,
    severity: 'warning',
    team: TEAMS.service,
    firesWhen: "in the last hour at least 3 real users' uploads ended UNEXPECTED_ERROR/INVALID_*, more than ended COMPLETED",
    summary: "Real users' Bulk Upload imports are failing on {{ $labels.target }}",
    description: (d) =>
      `In the last hour {{ ${d.value} | printf "%.0f" }} real uploads on {{ $labels.target }} ended UNEXPECTED_ERROR or ` +
      "INVALID_*, more than ended COMPLETED. A signal, not proof: real files can be wrong. Check whether the canary's full run " +
      'fails too (BulkUploadImportFailing); if it does not yet, the next full run will tell.',
    likelyCause:
      "a burst of UNEXPECTED_ERROR points at TIS (the import's service account, as on 2021-03-18, or a downstream service); " +
      "scattered INVALID_* at users' files",
  },
];

/** The README anchor of an alert's runbook section. */
export const runbookAnchor = (name: string): string => name.toLowerCase();

/** Every reason's likely cause, chosen by `subject` (the latest failure's reason). */
export const likelyCauseOfAnyReason = (subject: string): string => likelyCauseByReason(FAILURE_REASONS, subject);
