// The benchmark's Playwright Test set-up (not the project's test suite: `npm run bench` spawns
// `npx playwright test -c scripts/bench/playwright.config.ts` once per run): the bare journey as
// a spec, as a team without the probe would cron it, with Playwright Test's own failure
// evidence (trace and screenshot kept on failure, recorded on every run).
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from '@playwright/test';
import { launchOptions } from '../../src/browser/launch.ts';

export default defineConfig({
  testDir: '.',
  testMatch: 'journey.spec.ts',
  timeout: 120_000,
  workers: 1,
  reporter: 'list',
  outputDir: process.env.BENCH_OUTPUT_DIR ?? join(tmpdir(), 'bench-playwright-test'),
  use: {
    launchOptions: launchOptions(),
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    acceptDownloads: true,
    viewport: { width: 1280, height: 900 },
  },
});
