// The Grafana dashboard for the Bulk Upload probe, as code. `npx tsx deploy/dashboard/build.ts`
// writes bulk-upload-probe.json beside this file (committed; import it into Grafana).
// Every panel's query is run against a real Prometheus by test/monitoring/alerting.test.ts, and
// every PromQL expression of the dashboard (panels, annotations, variables) is parsed by a real
// Prometheus in test/monitoring/dashboard-queries.test.ts. The thresholds that mirror alerts are
// read from the alert rules' definitions (deploy/alerts/definitions.ts), never repeated here.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PanelBuilder as BarGaugePanel } from '@grafana/grafana-foundation-sdk/bargauge';
import * as common from '@grafana/grafana-foundation-sdk/common';
import {
  AnnotationQueryBuilder,
  DashboardBuilder,
  DatasourceVariableBuilder,
  MappingType,
  QueryVariableBuilder,
  RowBuilder,
  ThresholdsConfigBuilder,
  ThresholdsMode,
  VariableRefresh,
  VariableSort,
  type Dashboard,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { DataqueryBuilder } from '@grafana/grafana-foundation-sdk/prometheus';
import { PanelBuilder as StatPanel } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as StateTimelinePanel } from '@grafana/grafana-foundation-sdk/statetimeline';
import { PanelBuilder as TimeseriesPanel } from '@grafana/grafana-foundation-sdk/timeseries';
import { ALERTS, CONSECUTIVE_FAILURES, DASHBOARD_UID, NOT_SMOKE, SMOKE_JOB, type AlertDefinition } from '../alerts/definitions.ts';

/** An alert rule's expression, by the alert's name. */
function ruleExpr(alerts: readonly AlertDefinition[], name: string): string {
  const rule = alerts.find((a) => a.name === name);
  if (!rule) throw new Error(`deploy/alerts/definitions.ts has no alert ${name}: the dashboard mirrors its threshold`);
  return rule.expr;
}

/** The captures of `re` in an alert's expression; throws, naming the alert, when the rule's shape has changed. */
function capture(alerts: readonly AlertDefinition[], name: string, re: RegExp): string[] {
  const m = re.exec(ruleExpr(alerts, name));
  if (!m) throw new Error(`${name}'s expression no longer matches ${re}: update the dashboard's reading of its threshold`);
  return m.slice(1);
}

/**
 * The thresholds the dashboard mirrors, read from the alert rules' own definitions
 * (deploy/alerts/definitions.ts), so that a rule changed there changes the dashboard with it.
 */
export function alertThresholds(alerts: readonly AlertDefinition[] = ALERTS) {
  const slow = ruleExpr(alerts, 'BulkUploadImportSlow');
  const windows = [...new Set([...slow.matchAll(/_bucket\[(\w+)\]/g)].map((m) => m[1]!))];
  const limits = [...new Set([...slow.matchAll(/\) > (\d+(?:\.\d+)?)/g)].map((m) => Number(m[1])))];
  if (windows.length !== 1 || limits.length !== 1)
    throw new Error(`BulkUploadImportSlow: expected one window and one limit for both phases, got ${windows} and ${limits}`);
  const [noSuccessIntervals, noSuccessMinSeconds] = capture(
    alerts,
    'BulkUploadNoSuccess',
    /clamp_min\((\d+) \* bulk_upload_probe_interval_seconds, (\d+)\)/,
  ).map(Number);
  const [notRunningIntervals, notRunningGraceSeconds, notRunningMinSeconds] = capture(
    alerts,
    'BulkUploadProbeNotRunning',
    /clamp_min\((\d+) \* bulk_upload_probe_interval_seconds \+ (\d+), (\d+)\)/,
  ).map(Number);
  const diagnosis = alerts.filter((a) => a.expr.includes('bulk_upload_probe_consecutive_failures'));
  return {
    /** BulkUploadImportSlow: p90 of the canary's queue wait or import time above this many seconds… */
    importSlowP90Seconds: limits[0]!,
    /** …over this window. */
    importSlowWindow: windows[0]!,
    /** BulkUploadNoSuccess: no success for this many intervals of the depth… */
    noSuccessIntervals: noSuccessIntervals!,
    /** …or this many seconds, whichever is longer. */
    noSuccessMinSeconds: noSuccessMinSeconds!,
    /** BulkUploadProbeNotRunning: no finished run for this many intervals… */
    notRunningIntervals: notRunningIntervals!,
    /** …plus this grace… */
    notRunningGraceSeconds: notRunningGraceSeconds!,
    /** …or this many seconds, whichever is longer. */
    notRunningMinSeconds: notRunningMinSeconds!,
    /** The diagnosis alerts (BulkUploadAuthRejected …) fire on this many failed runs in a row with their reason (the first of them to fire). */
    failuresInARow: diagnosis.length ? Math.min(...diagnosis.map((a) => a.after ?? CONSECUTIVE_FAILURES)) : CONSECUTIVE_FAILURES,
    /** Their names. */
    diagnosisAlerts: diagnosis.map((a) => a.name),
  };
}
export const ALERT_THRESHOLDS = alertThresholds();

// Dashboard-only colours: no alert rule mirrors these.
/** Success ratio at or above this is green… */
export const AVAILABILITY_GOOD = 0.99;
/** …at or above this orange, below it red. */
export const AVAILABILITY_POOR = 0.95;
/** The windows of the availability bar gauges, and the sliding window of its time series. */
export const AVAILABILITY_WINDOWS = ['1d', '30d'] as const;
export const AVAILABILITY_SERIES_WINDOW = '1h';
/** "Time since last success" turns orange after a few light runs without success. */
const SINCE_SUCCESS_WARN_SECONDS = 300;

/** The probe service's scrape job (SMOKE_JOB: the job smoke runs are pushed under, via the Pushgateway). */
export const SERVICE_JOB = 'bulk-upload-probe';
export { SMOKE_JOB };

const datasource = { type: 'prometheus', uid: '${datasource}' };
/** Every query is narrowed to the chosen jobs, targets, probes and depths (light, full). */
const sel = 'job=~"$job",target=~"$target",probe=~"$probe",depth=~"$depth"';
/** Only full runs have a canary: its series carry no depth. */
const canarySel = 'job=~"$job",target=~"$target",probe=~"$probe"';
/** Real users' uploads are counted per target only. */
const targetSel = 'job=~"$job",target=~"$target"';
/** The alerts' view: the continuous service only (smoke series stay at their last push). */
const alertSel = `${sel},${NOT_SMOKE}`;
/** What joins a run series to its interval (the alert rules' `on(...)`). */
const jobLabels = 'job, instance, probe, depth, target';

function query(expr: string, legend: string, refId = 'A'): DataqueryBuilder {
  return new DataqueryBuilder().datasource(datasource).expr(expr).legendFormat(legend).refId(refId);
}

const upDown = new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps([
  { value: null, color: 'red' },
  { value: 1, color: 'green' },
]);

/** Red at or above `limit` (an alert's threshold), green below. */
function redFrom(limit: number, orangeFrom?: number): ThresholdsConfigBuilder {
  return new ThresholdsConfigBuilder()
    .mode(ThresholdsMode.Absolute)
    .steps([
      { value: null, color: 'green' },
      ...(orangeFrom === undefined ? [] : [{ value: orangeFrom, color: 'orange' }]),
      { value: limit, color: 'red' },
    ]);
}

const availabilitySteps = new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps([
  { value: null, color: 'red' },
  { value: AVAILABILITY_POOR, color: 'orange' },
  { value: AVAILABILITY_GOOD, color: 'green' },
]);

const dashedThresholds = new common.GraphThresholdsStyleConfigBuilder().mode(common.GraphThresholdsStyleMode.Dashed);

/** A stat panel of the "Now" row: one value per series, its latest, a quarter of the row wide. */
function nowStat(title: string, expr: string, legend: string): StatPanel {
  return new StatPanel()
    .title(title)
    .withTarget(query(expr, legend))
    .graphMode(common.BigValueGraphMode.None)
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']))
    .height(5)
    .span(6);
}

/** A half-row time series in seconds, starting at 0 (the Durations row). */
function secondsSeries(title: string): TimeseriesPanel {
  return new TimeseriesPanel().title(title).unit('s').min(0).height(8).span(12);
}

/**
 * Successful runs out of all runs that ended (cancelled runs say nothing about the target), per
 * target and depth, over `window`. No runs in the window: no value (not 0 %).
 */
export function successRatioExpr(window: string): string {
  const runs = (result: string) => `sum by (target, depth) (increase(bulk_upload_probe_runs_total{${sel},${result}}[${window}]))`;
  return `${runs('result="success"')} / (${runs('result!="cancelled"')} > 0)`;
}

/**
 * How far a wait has got towards its alert's limit: 1 (100 %) = the alert's condition holds
 * (it fires after its `for:`). The limit scales with the depth's interval like the rule's does;
 * a series without an interval gets the rule's fixed limit.
 */
function shareOfLimit(since: string, intervals: number, graceSeconds: number, minSeconds: number): string {
  const wait = `(time() - ${since}{${alertSel}})`;
  const grace = graceSeconds > 0 ? ` + ${graceSeconds}` : '';
  return (
    `${wait} / on(${jobLabels}) clamp_min(${intervals} * bulk_upload_probe_interval_seconds{${alertSel}}${grace}, ${minSeconds})` +
    ` or ${wait} / ${minSeconds}`
  );
}

/** The canary's p90 (queue wait or import time): per panel resolution, and as the alert sees it. */
function canaryP90(title: string, family: string, description: string): TimeseriesPanel {
  const { importSlowP90Seconds: limit, importSlowWindow: window } = ALERT_THRESHOLDS;
  const p90 = (by: string, range: string) => `histogram_quantile(0.9, sum by (${by}) (rate(${family}{${canarySel}}[${range}])))`;
  return secondsSeries(title)
    .description(`${description} Dashed line: BulkUploadImportSlow's limit (p90 over ${window} above ${limit} s, per probe).`)
    .withTarget(query(p90('le, target', '$__rate_interval'), '{{target}} p90'))
    .withTarget(query(p90('le, target, probe', window), `{{target}} {{probe}} p90 over ${window} (alert)`, 'B'))
    .thresholds(redFrom(limit))
    .thresholdsStyle(dashedThresholds);
}

function multiVariable(name: string, label: string, labelName: string, selector: string): QueryVariableBuilder {
  const q = `label_values(bulk_upload_probe_runs_total${selector}, ${labelName})`;
  return new QueryVariableBuilder(name)
    .label(label)
    .datasource(datasource)
    .query(q)
    .definition(q)
    .refresh(VariableRefresh.OnTimeRangeChanged)
    .multi(true)
    .includeAll(true)
    .allValue('.*');
}

export function buildDashboard(): Dashboard {
  const t = ALERT_THRESHOLDS;
  const byJob = '{job=~"$job"}';
  const dashboard = new DashboardBuilder('TIS Bulk Upload – synthetic probe')
    .uid(DASHBOARD_UID)
    .description('Whether TIS Bulk Upload works end to end, as seen by bulk-upload-probe (login, upload the canary, import).')
    .tags(['tis', 'bulk-upload', 'synthetic'])
    .refresh('1m')
    .time({ from: 'now-6h', to: 'now' })
    .timezone('browser')
    .withVariable(new DatasourceVariableBuilder('datasource').label('Data source').type('prometheus'))
    .withVariable(
      multiVariable('job', 'Job', 'job', '')
        .description(`${SERVICE_JOB}: the probe service (scraped); ${SMOKE_JOB}: one-shot smoke runs (Pushgateway)`)
        .sort(VariableSort.AlphabeticalAsc)
        .current({ selected: true, text: [SERVICE_JOB], value: [SERVICE_JOB] }),
    )
    .withVariable(multiVariable('target', 'Target', 'target', byJob).sort(VariableSort.AlphabeticalAsc))
    .withVariable(multiVariable('probe', 'Probe', 'probe', byJob))
    .withVariable(
      multiVariable('depth', 'Depth', 'depth', byJob).description(
        'light: log in and check the answers, upload nothing; full: the canary chain',
      ),
    )
    .annotations([
      new AnnotationQueryBuilder()
        .name('Alerts firing')
        .datasource(datasource)
        .enable(true)
        .iconColor('red')
        // Alerts without a job or target label (the probe not scraped at all) are shown too.
        .expr('ALERTS{alertstate="firing",alertname=~"BulkUpload.*",job=~"$job|",target=~"$target|"}')
        .step('1m')
        .titleFormat('{{alertname}}')
        .textFormat('{{target}} {{probe}} {{depth}} {{reason}}{{phase}} ({{severity}})')
        .tagKeys('alertname,severity,target'),
      // Smoke runs mark the graphs whichever job is chosen: a deploy's smoke check is context.
      smokeAnnotation('Smoke runs passed', 'green', 1),
      smokeAnnotation('Smoke runs failed', 'orange', 0),
    ])
    .withRow(new RowBuilder('Now'))
    .withPanel(
      nowStat('Last run', `bulk_upload_probe_success{${sel}}`, '{{target}} {{probe}} {{depth}}')
        .description('1 = the last run succeeded, 0 = it failed.')
        .mappings([
          { type: MappingType.ValueToText, options: { '0': { text: 'DOWN', color: 'red' }, '1': { text: 'UP', color: 'green' } } },
        ])
        .thresholds(upDown)
        .colorMode(common.BigValueColorMode.Background),
    )
    .withPanel(
      nowStat('Failed runs in a row', `bulk_upload_probe_consecutive_failures{${sel}}`, '{{target}} {{probe}} {{depth}}')
        .description(
          "Completed runs in a row that failed with the latest run's reason (0 after a success). " +
            `${t.diagnosisAlerts.join(', ')} fire at ${t.failuresInARow} with their reason; ` +
            'other reasons are caught by BulkUploadProbeFailing and BulkUploadNoSuccess.',
        )
        .decimals(0)
        .thresholds(redFrom(t.failuresInARow, 1))
        .colorMode(common.BigValueColorMode.Value),
    )
    .withPanel(
      nowStat(
        'Time since last success',
        `time() - bulk_upload_probe_last_success_timestamp_seconds{${sel}}`,
        '{{target}} {{probe}} {{depth}}',
      )
        .description(
          `Orange after ${SINCE_SUCCESS_WARN_SECONDS / 60} min; red after ${t.noSuccessMinSeconds / 60} min, when BulkUploadNoSuccess ` +
            `fires for light runs (full runs: ${t.noSuccessIntervals} intervals if longer; see "Waiting, share of the alert limit").`,
        )
        .unit('s')
        .thresholds(redFrom(t.noSuccessMinSeconds, SINCE_SUCCESS_WARN_SECONDS))
        .colorMode(common.BigValueColorMode.Value),
    )
    .withPanel(nowStat('Probe version', `bulk_upload_probe_build_info${byJob}`, '{{version}}').textMode(common.BigValueTextMode.Name))
    .withPanel(
      new BarGaugePanel()
        .title('Waiting, share of the alert limit')
        .description(
          `Time since the last success (BulkUploadNoSuccess: ${t.noSuccessIntervals} intervals, at least ${t.noSuccessMinSeconds / 60} min) ` +
            `and since the last finished run (BulkUploadProbeNotRunning: ${t.notRunningIntervals} intervals + ${t.notRunningGraceSeconds / 60} min, ` +
            `at least ${t.notRunningMinSeconds / 60} min), as a share of that alert's limit for the depth's interval. ` +
            `100 % = the alert's condition holds. Like the alerts, leaves out ${SMOKE_JOB}.`,
        )
        .withTarget(
          query(
            shareOfLimit('bulk_upload_probe_last_success_timestamp_seconds', t.noSuccessIntervals, 0, t.noSuccessMinSeconds),
            '{{target}} {{probe}} {{depth}}: no success',
          ).instant(),
        )
        .withTarget(
          query(
            shareOfLimit(
              'bulk_upload_probe_last_run_timestamp_seconds',
              t.notRunningIntervals,
              t.notRunningGraceSeconds,
              t.notRunningMinSeconds,
            ),
            '{{target}} {{probe}} {{depth}}: no run',
            'B',
          ).instant(),
        )
        .unit('percentunit')
        .min(0)
        .max(1)
        .decimals(0)
        .thresholds(redFrom(1, 0.5))
        .displayMode(common.BarGaugeDisplayMode.Basic)
        .orientation(common.VizOrientation.Horizontal)
        .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']))
        .height(6)
        .span(24),
    )
    .withRow(new RowBuilder('Availability'))
    .withPanel(availabilityGauge('1d', 'Success ratio, last 24 h'))
    .withPanel(availabilityGauge('30d', 'Success ratio, last 30 days'))
    .withPanel(
      new TimeseriesPanel()
        .title(`Success ratio (sliding ${AVAILABILITY_SERIES_WINDOW})`)
        .description(
          `Successful runs out of all ended runs in the ${AVAILABILITY_SERIES_WINDOW} before each point, per target and depth. ` +
            `Dashed lines: ${AVAILABILITY_POOR * 100} % and ${AVAILABILITY_GOOD * 100} %.`,
        )
        .withTarget(query(successRatioExpr(AVAILABILITY_SERIES_WINDOW), '{{target}} {{depth}}'))
        .unit('percentunit')
        .max(1)
        .decimals(1)
        .thresholds(availabilitySteps)
        .thresholdsStyle(dashedThresholds)
        .height(8)
        .span(12),
    )
    .withRow(new RowBuilder('Over time'))
    .withPanel(
      new StateTimelinePanel()
        .title('Up / down')
        .withTarget(query(`bulk_upload_probe_success{${sel}}`, '{{target}} {{probe}} {{depth}}'))
        .mappings([
          { type: MappingType.ValueToText, options: { '0': { text: 'down', color: 'red' }, '1': { text: 'up', color: 'green' } } },
        ])
        .thresholds(upDown)
        .height(6)
        .span(24),
    )
    .withPanel(
      new TimeseriesPanel()
        .title('Failures by reason')
        .description('Failed runs per reason; docs/monitoring.md maps each reason to its likely cause in TIS.')
        .withTarget(
          query(
            `sum by (target, reason) (increase(bulk_upload_probe_failures_total{${sel}}[$__rate_interval])) > 0`,
            '{{target}} {{reason}}',
          ),
        )
        .drawStyle(common.GraphDrawStyle.Bars)
        .stacking(new common.StackingConfigBuilder().mode(common.StackingMode.Normal))
        .fillOpacity(80)
        .min(0)
        .decimals(0)
        .height(8)
        .span(12),
    )
    .withPanel(
      new TimeseriesPanel()
        .title('Runs by result')
        .withTarget(
          query(`sum by (target, result) (increase(bulk_upload_probe_runs_total{${sel}}[$__rate_interval]))`, '{{target}} {{result}}'),
        )
        .drawStyle(common.GraphDrawStyle.Bars)
        .stacking(new common.StackingConfigBuilder().mode(common.StackingMode.Normal))
        .fillOpacity(60)
        .min(0)
        .height(8)
        .span(12),
    )
    .withRow(new RowBuilder('Durations'))
    .withPanel(
      secondsSeries('Run duration (p50, p90)')
        .withTarget(
          query(
            `histogram_quantile(0.5, sum by (le, target, probe, depth) (rate(bulk_upload_probe_run_duration_seconds_bucket{${sel}}[$__rate_interval])))`,
            '{{target}} {{probe}} {{depth}} p50',
          ),
        )
        .withTarget(
          query(
            `histogram_quantile(0.9, sum by (le, target, probe, depth) (rate(bulk_upload_probe_run_duration_seconds_bucket{${sel}}[$__rate_interval])))`,
            '{{target}} {{probe}} {{depth}} p90',
            'B',
          ),
        ),
    )
    .withPanel(
      secondsSeries('Step duration (average)').withTarget(
        query(
          `sum by (target, probe, depth, step) (rate(bulk_upload_probe_step_duration_seconds_sum{${sel}}[$__rate_interval]))` +
            ` / sum by (target, probe, depth, step) (rate(bulk_upload_probe_step_duration_seconds_count{${sel}}[$__rate_interval]))`,
          '{{target}} {{probe}} {{depth}} {{step}}',
        ),
      ),
    )
    .withPanel(
      canaryP90(
        'Canary queue wait (uploaded → import started)',
        'bulk_upload_probe_canary_queue_wait_seconds_bucket',
        'How long the canary waited in the import queue.',
      ),
    )
    .withPanel(
      canaryP90(
        'Canary import time (started → finished)',
        'bulk_upload_probe_canary_import_duration_seconds_bucket',
        "How long the canary's import took.",
      ),
    )
    .withRow(new RowBuilder('Target HTTP'))
    .withPanel(
      new TimeseriesPanel()
        .title('Target responses by status class')
        .description('Responses the probes got from the target; "none" = no answer (refused, reset, timed out).')
        .withTarget(
          query(
            `sum by (target, code_class) (increase(bulk_upload_probe_target_responses_total{${sel}}[$__rate_interval]))`,
            '{{target}} {{code_class}}',
          ),
        )
        .drawStyle(common.GraphDrawStyle.Bars)
        .stacking(new common.StackingConfigBuilder().mode(common.StackingMode.Normal))
        .fillOpacity(60)
        .min(0)
        .height(8)
        .span(24),
    )
    .withRow(new RowBuilder("Real users' uploads (passive)"))
    .withPanel(
      new TimeseriesPanel()
        .title('Real uploads ended, by outcome')
        .description(
          "Real users' uploads seen ending between two light API runs (the probe's canaries left out; counts only). " +
            'A burst of unexpected_error is what 2021-03-18 looked like to users; a signal, not proof: real files can be wrong.',
        )
        .withTarget(
          query(
            `sum by (target, outcome) (increase(bulk_upload_probe_real_uploads_ended_total{${targetSel}}[$__rate_interval]))`,
            '{{target}} {{outcome}}',
          ),
        )
        .drawStyle(common.GraphDrawStyle.Bars)
        .stacking(new common.StackingConfigBuilder().mode(common.StackingMode.Normal))
        .fillOpacity(70)
        .min(0)
        .decimals(0)
        .height(8)
        .span(24),
    )
    .build();
  // The SDK puts annotation toggles into the controls menu; keep them on the dashboard, where
  // people see that alerts and smoke runs are marked.
  for (const a of dashboard.annotations?.list ?? []) delete a.placement;
  return dashboard;
}

/** A bar per target and depth: the success ratio over `window` (one instant query). */
function availabilityGauge(window: (typeof AVAILABILITY_WINDOWS)[number], title: string): BarGaugePanel {
  return new BarGaugePanel()
    .title(title)
    .description(
      'Successful runs out of all runs that ended (cancelled runs left out), per target and depth. ' +
        `Green from ${AVAILABILITY_GOOD * 100} %, orange from ${AVAILABILITY_POOR * 100} %, red below; the bar starts at 90 %. ` +
        `Read it for the service's job: a smoke push replaces the previous one, so smoke runs are not all counted.`,
    )
    .withTarget(query(successRatioExpr(window), '{{target}} {{depth}}').instant())
    .unit('percentunit')
    .min(0.9)
    .max(1)
    .decimals(2)
    .noValue('no runs')
    .thresholds(availabilitySteps)
    .displayMode(common.BarGaugeDisplayMode.Basic)
    .orientation(common.VizOrientation.Horizontal)
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']))
    .height(8)
    .span(6);
}

/**
 * A marker for each smoke run (pushed under SMOKE_JOB) that passed (`success` 1) or failed (0):
 * on for two minutes after the run finished, so one scrape of the Pushgateway is enough.
 */
function smokeAnnotation(name: string, color: string, success: 0 | 1): AnnotationQueryBuilder {
  const smoke = `job="${SMOKE_JOB}",target=~"$target"`;
  return new AnnotationQueryBuilder()
    .name(name)
    .datasource(datasource)
    .enable(true)
    .iconColor(color)
    .expr(
      `(time() - bulk_upload_probe_last_run_timestamp_seconds{${smoke}} < bool 120) == 1` +
        ` and on(instance, probe, depth, target) bulk_upload_probe_success{${smoke}} == ${success}`,
    )
    .step('1m')
    .titleFormat(`Smoke run ${success ? 'passed' : 'failed'}`)
    .textFormat('{{target}} {{probe}} {{depth}} {{instance}}')
    .tagKeys('target,probe,depth');
}

/** Each panel's title and PromQL expressions, as committed in the JSON. */
export function panelQueries(d: Dashboard): { title: string; exprs: string[] }[] {
  return (d.panels ?? []).flatMap((p) => {
    if (!('targets' in p) || !p.targets) return [];
    const exprs = p.targets.map((t) => (t as { expr?: string }).expr).filter((e): e is string => typeof e === 'string');
    return [{ title: p.title ?? '', exprs }];
  });
}

/** Every PromQL expression of the dashboard, with where it is: panels, annotations, and the series selectors of the variables' label_values(). */
export function dashboardExprs(d: Dashboard): { where: string; expr: string }[] {
  const panels = panelQueries(d).flatMap((p) => p.exprs.map((expr) => ({ where: `panel "${p.title}"`, expr })));
  const annotations = (d.annotations?.list ?? []).flatMap((a) =>
    typeof a.expr === 'string' ? [{ where: `annotation "${a.name}"`, expr: a.expr }] : [],
  );
  const variables = (d.templating?.list ?? []).flatMap((v) => {
    const m = typeof v.query === 'string' ? /^label_values\((.+),\s*\w+\)$/.exec(v.query) : null;
    return m ? [{ where: `variable "${v.name}"`, expr: m[1]! }] : [];
  });
  return [...panels, ...annotations, ...variables];
}

export const DASHBOARD_FILE = fileURLToPath(new URL('./bulk-upload-probe.json', import.meta.url));

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(DASHBOARD_FILE, `${JSON.stringify(buildDashboard(), null, 2)}\n`);
  console.log(`wrote ${DASHBOARD_FILE}`);
}
