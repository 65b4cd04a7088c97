import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DASHBOARD_FILE, buildDashboard, panelQueries } from '../../../deploy/dashboard/build.ts';

const committed = JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as ReturnType<typeof buildDashboard>;

describe('Grafana dashboard', () => {
  it('the committed JSON is what deploy/dashboard/build.ts generates', () => {
    expect(committed).toEqual(JSON.parse(JSON.stringify(buildDashboard())));
  });

  it('shows per target: up/down, durations, failures by reason, queue wait, import time, last success', () => {
    const all = panelQueries(committed)
      .flatMap((p) => p.exprs)
      .join('\n');
    for (const family of [
      'bulk_upload_probe_success',
      'bulk_upload_probe_run_duration_seconds_bucket',
      'bulk_upload_probe_step_duration_seconds_sum',
      'bulk_upload_probe_failures_total',
      'bulk_upload_probe_canary_queue_wait_seconds_bucket',
      'bulk_upload_probe_canary_import_duration_seconds_bucket',
      'bulk_upload_probe_last_success_timestamp_seconds',
      'bulk_upload_probe_target_responses_total',
      'bulk_upload_probe_real_uploads_ended_total',
    ])
      expect(all).toContain(family);
  });

  it('every panel with data has a query on the probe families, filtered by the target variable', () => {
    const panels = panelQueries(committed);
    expect(panels.length).toBeGreaterThanOrEqual(10);
    for (const p of panels) {
      expect(p.exprs.length, p.title).toBeGreaterThan(0);
      for (const e of p.exprs) {
        expect(e).toMatch(/bulk_upload_probe_/);
        if (!e.includes('build_info')) expect(e, p.title).toContain('target=~"$target"');
      }
    }
    expect(committed.templating?.list?.map((v) => v.name)).toEqual(['datasource', 'target', 'probe', 'depth']);
  });
});
