// The Grafana dashboard for the Bulk Upload probe, as code. `npx tsx deploy/dashboard/build.ts`
// writes bulk-upload-probe.json beside this file (committed; import it into Grafana).
// Every panel's query is run against a real Prometheus by test/monitoring/alerting.test.ts.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as common from '@grafana/grafana-foundation-sdk/common';
import {
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

const datasource = { type: 'prometheus', uid: '${datasource}' };
/** Every query is narrowed to the chosen targets, probes and depths (light, full). */
const sel = 'target=~"$target",probe=~"$probe",depth=~"$depth"';
/** Only full runs have a canary: its series carry no depth. */
const canarySel = 'target=~"$target",probe=~"$probe"';

function query(expr: string, legend: string, refId = 'A'): DataqueryBuilder {
  return new DataqueryBuilder().datasource(datasource).expr(expr).legendFormat(legend).refId(refId);
}

const upDown = new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps([
  { value: null, color: 'red' },
  { value: 1, color: 'green' },
]);

/** A stat panel of the "Now" row: one value per series, its latest, a third of the row wide. */
function nowStat(title: string, expr: string, legend: string): StatPanel {
  return new StatPanel()
    .title(title)
    .withTarget(query(expr, legend))
    .graphMode(common.BigValueGraphMode.None)
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']))
    .height(5)
    .span(8);
}

/** A half-row time series in seconds, starting at 0 (the Durations row). */
function secondsSeries(title: string): TimeseriesPanel {
  return new TimeseriesPanel().title(title).unit('s').min(0).height(8).span(12);
}

export function buildDashboard(): Dashboard {
  return new DashboardBuilder('TIS Bulk Upload – synthetic probe')
    .uid('bulk-upload-probe')
    .description('Whether TIS Bulk Upload works end to end, as seen by bulk-upload-probe (login, upload the canary, import).')
    .tags(['tis', 'bulk-upload', 'synthetic'])
    .refresh('1m')
    .time({ from: 'now-6h', to: 'now' })
    .timezone('browser')
    .withVariable(new DatasourceVariableBuilder('datasource').label('Data source').type('prometheus'))
    .withVariable(
      new QueryVariableBuilder('target')
        .label('Target')
        .datasource(datasource)
        .query('label_values(bulk_upload_probe_runs_total, target)')
        .definition('label_values(bulk_upload_probe_runs_total, target)')
        .refresh(VariableRefresh.OnTimeRangeChanged)
        .sort(VariableSort.AlphabeticalAsc)
        .multi(true)
        .includeAll(true)
        .allValue('.*'),
    )
    .withVariable(
      new QueryVariableBuilder('probe')
        .label('Probe')
        .datasource(datasource)
        .query('label_values(bulk_upload_probe_runs_total, probe)')
        .definition('label_values(bulk_upload_probe_runs_total, probe)')
        .refresh(VariableRefresh.OnTimeRangeChanged)
        .multi(true)
        .includeAll(true)
        .allValue('.*'),
    )
    .withVariable(
      new QueryVariableBuilder('depth')
        .label('Depth')
        .description('light: log in and check the answers, upload nothing; full: the canary chain')
        .datasource(datasource)
        .query('label_values(bulk_upload_probe_runs_total, depth)')
        .definition('label_values(bulk_upload_probe_runs_total, depth)')
        .refresh(VariableRefresh.OnTimeRangeChanged)
        .multi(true)
        .includeAll(true)
        .allValue('.*'),
    )
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
      nowStat(
        'Time since last success',
        `time() - bulk_upload_probe_last_success_timestamp_seconds{${sel}}`,
        '{{target}} {{probe}} {{depth}}',
      )
        .unit('s')
        .thresholds(
          new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps([
            { value: null, color: 'green' },
            { value: 300, color: 'orange' },
            { value: 1800, color: 'red' },
          ]),
        )
        .colorMode(common.BigValueColorMode.Value),
    )
    .withPanel(nowStat('Probe version', 'bulk_upload_probe_build_info', '{{version}}').textMode(common.BigValueTextMode.Name))
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
      secondsSeries('Canary queue wait (uploaded → import started)').withTarget(
        query(
          `histogram_quantile(0.9, sum by (le, target) (rate(bulk_upload_probe_canary_queue_wait_seconds_bucket{${canarySel}}[$__rate_interval])))`,
          '{{target}} p90',
        ),
      ),
    )
    .withPanel(
      secondsSeries('Canary import time (started → finished)').withTarget(
        query(
          `histogram_quantile(0.9, sum by (le, target) (rate(bulk_upload_probe_canary_import_duration_seconds_bucket{${canarySel}}[$__rate_interval])))`,
          '{{target}} p90',
        ),
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
            `sum by (target, outcome) (increase(bulk_upload_probe_real_uploads_ended_total{target=~"$target"}[$__rate_interval]))`,
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
}

/** Each panel's title and PromQL expressions, as committed in the JSON. */
export function panelQueries(d: Dashboard): { title: string; exprs: string[] }[] {
  return (d.panels ?? []).flatMap((p) => {
    if (!('targets' in p) || !p.targets) return [];
    const exprs = p.targets.map((t) => (t as { expr?: string }).expr).filter((e): e is string => typeof e === 'string');
    return [{ title: p.title ?? '', exprs }];
  });
}

export const DASHBOARD_FILE = fileURLToPath(new URL('./bulk-upload-probe.json', import.meta.url));

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(DASHBOARD_FILE, `${JSON.stringify(buildDashboard(), null, 2)}\n`);
  console.log(`wrote ${DASHBOARD_FILE}`);
}
