import { defineConfig } from 'vitest/config';

// Vitest runs unit and integration tests only. Playwright Test specs (*.spec.ts under
// test/e2e) belong to `playwright test` and are kept out of here on purpose.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/e2e/**', 'node_modules/**'],
    // Integration suites share one TIS in a box and inject faults into it: run files one at a time.
    fileParallelism: false,
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    reporters: ['default'],
  },
});
