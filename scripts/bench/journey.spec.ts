// The bare browser journey (bare-journey.ts) as a Playwright Test spec: what a team without
// the probe would run from cron. Its target comes from the benchmark, in BENCH_TARGET (JSON).
import { readFile, writeFile } from 'node:fs/promises';
import { test } from '@playwright/test';
import { bareBrowserJourney, bareFileName, type BareTarget } from './bare-journey.ts';

test('bulk upload: log in, upload the canary, follow its import, check the ending', async ({ page }) => {
  const target = JSON.parse(process.env.BENCH_TARGET ?? '') as BareTarget;
  const steps = await bareBrowserJourney(page, target, await readFile(target.canaryPath), bareFileName('pwtest'));
  if (process.env.BENCH_STEPS_FILE) await writeFile(process.env.BENCH_STEPS_FILE, JSON.stringify(steps));
});
