import { defineConfig } from 'vitest/config';

// Vitest runs unit and integration tests only. Playwright Test specs (*.spec.ts under
// test/e2e) belong to `playwright test` and are kept out of here on purpose.
export default defineConfig({
  test: {
    exclude: ['test/e2e/**', 'node_modules/**'],
    reporters: ['default'],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          testTimeout: 30_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/box/**/*.test.ts', 'test/probes/**/*.test.ts', 'test/monitoring/**/*.test.ts'],
          // One TIS in a box for the whole run; suites inject faults into it, so files run one at a time.
          globalSetup: ['test/global-setup.ts'],
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'hostile',
          // A misbehaving fake target on loopback (test/support/hostile-target.ts): no box needed.
          include: ['test/hostile/**/*.test.ts'],
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
