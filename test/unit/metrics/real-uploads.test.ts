// The passive signal: real users' uploads counted from the light API run's list, and those that
// ended between two runs counted once (the first list after a start is only the baseline).
import { describe, expect, it } from 'vitest';
import { countRecent } from '../../../probes/api.ts';
import { ProbeMetrics } from '../../../src/metrics/registry.ts';
import type { Upload } from '../../../src/model/upload.ts';
import { fakeResult } from '../../support/results.ts';

const upload = (logId: number, fileStatus: string, numberOfErrors: number | null = null, fileName = `people-${logId}.xlsx`): Upload => ({
  logId,
  fileName,
  fileStatus,
  numberOfErrors,
  numberImported: null,
});

describe('countRecent', () => {
  it('counts real uploads by outcome, leaves the canaries out, and names no file or user', () => {
    const recent = countRecent(
      [
        upload(1, 'COMPLETED', 0),
        upload(2, 'COMPLETED', 3),
        upload(3, 'UNEXPECTED_ERROR'),
        upload(4, 'INVALID_FILE_FORMAT'),
        upload(5, 'PENDING'),
        upload(6, 'COMPLETED', 1, 'synthetic-probe-prod-api-full-20261127T100000000Z.xlsx'),
      ],
      'synthetic-probe',
    );
    expect(recent).toEqual({
      listed: 5,
      byOutcome: { completed: 1, completed_with_errors: 1, unexpected_error: 1, invalid: 1, not_ended: 1 },
      ended: [
        { id: '1', outcome: 'completed' },
        { id: '2', outcome: 'completed_with_errors' },
        { id: '3', outcome: 'unexpected_error' },
        { id: '4', outcome: 'invalid' },
      ],
    });
    expect(JSON.stringify(recent)).not.toContain('people-');
  });
});

describe('real uploads in the metrics', () => {
  const light = (uploads: Upload[]) => ({
    ...fakeResult({ depth: 'light' }),
    canary: undefined,
    recentUploads: countRecent(uploads, 'synthetic-probe'),
  });
  const value = async (m: ProbeMetrics, name: string, outcome: string) => {
    const f = (await m.registry.getMetricsAsJSON()).find((x) => x.name === name);
    return f?.values.find((v) => v.labels.outcome === outcome && v.labels.target === 'box')?.value;
  };

  it('the first list is a baseline; what ends afterwards is counted once, by outcome', async () => {
    const m = new ProbeMetrics();
    m.prepare('api', 'light', 'box', 60);
    m.record(light([upload(1, 'UNEXPECTED_ERROR'), upload(2, 'PENDING')]));
    expect(await value(m, 'bulk_upload_probe_real_uploads_ended_total', 'unexpected_error')).toBe(0);
    expect(await value(m, 'bulk_upload_probe_real_uploads_recent', 'unexpected_error')).toBe(1);
    // Upload 2 ended in error, upload 3 is new and ended in error: two new failed imports.
    m.record(
      light([upload(1, 'UNEXPECTED_ERROR'), upload(2, 'UNEXPECTED_ERROR'), upload(3, 'UNEXPECTED_ERROR'), upload(4, 'COMPLETED', 0)]),
    );
    expect(await value(m, 'bulk_upload_probe_real_uploads_ended_total', 'unexpected_error')).toBe(2);
    expect(await value(m, 'bulk_upload_probe_real_uploads_ended_total', 'completed')).toBe(1);
    // The same list again: nothing new.
    m.record(
      light([upload(1, 'UNEXPECTED_ERROR'), upload(2, 'UNEXPECTED_ERROR'), upload(3, 'UNEXPECTED_ERROR'), upload(4, 'COMPLETED', 0)]),
    );
    expect(await value(m, 'bulk_upload_probe_real_uploads_ended_total', 'unexpected_error')).toBe(2);
  });

  it('depth is a label of every run series, with two values', async () => {
    const m = new ProbeMetrics();
    m.prepare('api', 'light', 'box', 60);
    m.prepare('api', 'full', 'box', 900);
    m.record(fakeResult({ depth: 'light' }));
    m.record(fakeResult({ depth: 'full', reason: 'import_failed' }));
    const text = await m.metrics();
    expect(text).toContain('bulk_upload_probe_success{probe="api",depth="light",target="box"} 1');
    expect(text).toContain('bulk_upload_probe_success{probe="api",depth="full",target="box"} 0');
    expect(text).toContain('bulk_upload_probe_interval_seconds{probe="api",depth="full",target="box"} 900');
  });
});
