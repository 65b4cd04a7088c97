// The probe's browser journey as a Playwright Test, for people who want Playwright's HTML
// report of it (`npx playwright test --reporter=html`). It runs the very journey the probe
// runs (probes/browser.ts through runProbe) on the browser Playwright Test provides, against
// the box started by playwright.config.ts's global setup. Each probe step shows as a test step;
// a failed run attaches its evidence (screenshot, scrubbed trace, network log).
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, test, type TestInfo } from '@playwright/test';
import { clearFault, setFault } from '../../box/control-client.ts';
import { loadConfig } from '../../src/config/load.ts';
import type { RunResult, StepResult } from '../../src/model/result.ts';
import { runProbe } from '../../src/run/runner.ts';
import { boxFromEnv } from '../support/playwright-box.ts';

const box = boxFromEnv();

// The probe traces its own context and keeps the trace scrubbed of secrets; Playwright Test's
// trace and screenshots would hold the password and tokens unscrubbed.
test.use({ trace: 'off', screenshot: 'off' });

test.afterEach(async () => {
  await clearFault(box.urls.control);
});

async function journey(browser: import('playwright-core').Browser, testInfo: TestInfo): Promise<RunResult> {
  const config = await loadConfig(box.configPath);
  config.evidence = { dir: testInfo.outputPath('evidence'), keep: 10 };
  const steps: StepResult[] = [];
  const result = await runProbe({
    probe: 'browser',
    targetName: 'box',
    target: config.targets.box!,
    config,
    browser,
    onStep: (s) => steps.push(s),
  });
  // The probe's steps, as steps of the report (the test's own expectations judge the run).
  for (const s of steps) {
    await test.step(`${s.name} ${s.ok ? 'ok' : `FAILED: ${s.error}`} (${s.durationSeconds.toFixed(1)} s)`, async () => {});
  }
  await testInfo.attach('result.json', { body: JSON.stringify(result, null, 2), contentType: 'application/json' });
  if (result.evidenceDir) {
    for (const f of await readdir(result.evidenceDir)) await testInfo.attach(f, { path: join(result.evidenceDir, f) });
  }
  return result;
}

test('browser journey: log in, upload the canary, follow its import, check the healthy ending', async ({ browser }, testInfo) => {
  const r = await journey(browser, testInfo);
  expect(r.ok, `${r.reason}: ${r.message}`).toBe(true);
  expect(r.canary).toMatchObject({
    status: 'COMPLETED',
    numberOfErrors: 1,
    numberImported: 0,
    reasonText: 'Person with id 999999999 does not exist',
  });
});

test('browser journey under the 2024-10-15 fault (stale configuration) fails with auth_rejected and evidence', async ({
  browser,
}, testInfo) => {
  await setFault(box.urls.control, 'stale-config');
  const r = await journey(browser, testInfo);
  expect(r.ok).toBe(false);
  expect(r.reason).toBe('auth_rejected');
  expect(r.failedStep).toBe('open_page');
  expect(r.evidenceDir).toBeTruthy();
  expect(r.steps.at(-1)).toMatchObject({ name: 'open_page', ok: false });
  testInfo.annotations.push({ type: 'diagnosis', description: `${r.reason}: ${r.message}` });
});
