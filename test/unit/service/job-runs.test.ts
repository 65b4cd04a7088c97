// Each job keeps its own last runs: a light job running every minute must not push a full job's
// runs (every 15 minutes) off its strip, before or after a restart.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import axios from 'axios';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/log.ts';
import type { RunResult } from '../../../src/model/result.ts';
import { JobRuns } from '../../../src/service/job-runs.ts';
import { startService, type RunningService } from '../../../src/service/service.ts';
import { fakeResult, testConfig } from '../../support/results.ts';

let service: RunningService | undefined;
let dir: string | undefined;
afterEach(async () => {
  await service?.stop();
  service = undefined;
  if (dir) await rm(dir, { recursive: true, force: true });
});

const T0 = Date.parse('2026-11-25T00:00:00Z');

describe('runs per job', () => {
  it('keeps the last n runs of each job, newest first', () => {
    const runs = new JobRuns(3);
    for (let i = 0; i < 5; i++) runs.add(fakeResult({ depth: 'light', at: new Date(T0 + i * 60_000) }));
    runs.add(fakeResult({ depth: 'full', at: new Date(T0) }));
    expect(runs.list({ target: 'box', probe: 'api', depth: 'light' }).map((r) => r.finishedAt)).toEqual([
      '2026-11-25T00:04:00.000Z',
      '2026-11-25T00:03:00.000Z',
      '2026-11-25T00:02:00.000Z',
    ]);
    expect(runs.list({ target: 'box', probe: 'api', depth: 'full' })).toHaveLength(1);
    expect(runs.list({ target: 'stage', probe: 'api', depth: 'full' })).toEqual([]);
    expect(runs.all()).toHaveLength(4);
  });

  it("after a restart the status page's full strip still shows its runs among many more light runs", async () => {
    dir = await mkdtemp(join(tmpdir(), 'bup-job-runs-'));
    const file = join(dir, 'history.jsonl');
    const lines: RunResult[] = [];
    // 15 hours: a full api run every 15 minutes (61, the oldest failed), light runs every minute.
    for (let m = 0; m <= 900; m++) {
      const at = new Date(T0 + m * 60_000);
      lines.push(fakeResult({ probe: 'api', depth: 'light', ok: true, at }));
      if (m % 15 === 0)
        lines.push(
          m === 0
            ? fakeResult({ probe: 'api', depth: 'full', reason: 'import_failed', at })
            : fakeResult({ probe: 'api', depth: 'full', ok: true, at }),
        );
    }
    await writeFile(file, lines.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const config = { ...testConfig({ historyFile: file, interval: 3600, light: 3600 }), probes: ['api' as const] };
    service = await startService({
      config,
      run: (req) =>
        new Promise<RunResult>((resolve) =>
          req.signal?.addEventListener('abort', () =>
            resolve({ ...fakeResult({ probe: 'api', depth: req.depth }), ok: false, cancelled: true }),
          ),
        ),
      logger: createLogger({ destination: new PassThrough() }),
      port: 0,
      tickMs: 10_000,
    });
    const html = (await axios.get<string>(`${service.url}/`)).data;
    const strips = html
      .split('<tr class="job">')
      .slice(1)
      .map((row) => [/api · (\w+)/.exec(row)![1], (row.split('</div>')[0]!.match(/<a class="bar/g) ?? []).length]);
    expect(strips).toEqual([
      ['light', 60],
      ['full', 60],
    ]);
    // The oldest full run (a failure 15 hours ago) is off the strip; the 60th newest is on it, with its page.
    const fullRuns = lines.filter((r) => r.depth === 'full');
    const oldestShown = fullRuns.at(-60)!;
    const page = await axios.get<string>(`${service.url}/targets/box/api/last-failure?depth=full`, {
      maxRedirects: 0,
      validateStatus: () => true,
    });
    expect(page.status).toBe(404);
    expect(html).toContain(`title="${oldestShown.finishedAt.slice(0, 19).replace('T', ' ')} UTC · ok`);
  });
});
