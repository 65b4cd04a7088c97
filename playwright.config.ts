import { defineConfig } from '@playwright/test';
import { launchOptions } from './src/browser/launch.ts';

// Browser journeys against TIS in a box (started once by the global setup). Chromium is
// Debian's, launched with the project's flags.
export default defineConfig({
  testDir: 'test/e2e',
  testMatch: '**/*.spec.ts',
  globalSetup: './test/support/playwright-box.ts',
  timeout: 120_000,
  expect: { timeout: 30_000 },
  workers: 1,
  fullyParallel: false,
  reporter: [['list'], ['html', { open: 'never' }]],
  outputDir: 'test-results',
  use: {
    launchOptions: launchOptions(),
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    acceptDownloads: true,
  },
});
