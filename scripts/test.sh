#!/usr/bin/env bash
# The whole suite: set-up (idempotent), type check, lint and format check, vitest (unit +
# integration against TIS in a box + real Prometheus), then the Playwright Test browser journeys.
# Ends with one line "N passed, N failed" over both runners.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit 1
npx tsc --noEmit || exit 1
npm run --silent lint || exit 1

mkdir -p .state/test-summary  # not test-results/: Playwright empties its outputDir at start
rm -f .state/test-summary/*.json
npx vitest run --reporter=default --reporter=json --outputFile.json=.state/test-summary/vitest.json
vitest_rc=$?
PLAYWRIGHT_JSON_OUTPUT_NAME=.state/test-summary/playwright.json npx playwright test --reporter=list,json
playwright_rc=$?

node - <<'JS'
const fs = require('node:fs');
const read = (f) => { try { return JSON.parse(fs.readFileSync(f, 'utf8')); } catch { return undefined; } };
const v = read(".state/test-summary/vitest.json");
const p = read(".state/test-summary/playwright.json");
const passed = (v?.numPassedTests ?? 0) + (p?.stats?.expected ?? 0) + (p?.stats?.flaky ?? 0);
const failed = (v?.numFailedTests ?? 0) + (p?.stats?.unexpected ?? 0);
const skipped = (v?.numPendingTests ?? 0) + (v?.numTodoTests ?? 0) + (p?.stats?.skipped ?? 0);
if (!v) console.log('vitest wrote no results');
if (!p) console.log('playwright wrote no results');
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
JS
[ "$vitest_rc" -eq 0 ] && [ "$playwright_rc" -eq 0 ]
