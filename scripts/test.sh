#!/usr/bin/env bash
# The whole suite: set-up (idempotent), type check, lint and format check, then in parallel:
# vitest's unit and hostile projects (no box), the integration project split into
# TEST_SHARDS groups (default 2) of about equal time, each with its own TIS in a box (a box's
# faults are global, so the files sharing one run one at a time), and the Playwright Test browser
# journeys (their own box). Each part's output is printed whole when it ends; the suite ends with
# the time of each part and one line "N passed, N failed" over all of them.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit 1
npx tsc --noEmit || exit 1
npm run --silent lint || exit 1

out=.state/test-summary # not test-results/: Playwright empties its outputDir at start
mkdir -p "$out"
shards=${TEST_SHARDS:-2}
# Plan the integration groups from the previous run's times (when there is one), then clear.
mapfile -t groups < <(node --import tsx scripts/test-plan.ts "$shards" "$out"/vitest-integration-*.json)
rm -f "$out"/*.json "$out"/*.log "$out"/*.time

declare -A pids
part() { # name, command...: runs in the background, output and wall time to files
  local name=$1
  shift
  (
    start=$(date +%s)
    "$@" >"$out/$name.log" 2>&1
    rc=$?
    echo "$(($(date +%s) - start))" >"$out/$name.time"
    exit $rc
  ) &
  pids[$name]=$!
}

json() { echo "--reporter=default --reporter=json --outputFile.json=$out/$1.json"; }
# shellcheck disable=SC2046
part vitest-unit npx vitest run --project unit --project hostile $(json vitest-unit)
i=0
for files in "${groups[@]}"; do
  i=$((i + 1))
  # shellcheck disable=SC2046,SC2086
  part "vitest-integration-$i" npx vitest run --project integration $(json "vitest-integration-$i") $files
done
part playwright env PLAYWRIGHT_JSON_OUTPUT_NAME="$out/playwright.json" npx playwright test --reporter=list,json

failed_parts=()
for name in vitest-unit $(seq -f 'vitest-integration-%g' 1 "$i") playwright; do
  wait "${pids[$name]}" || failed_parts+=("$name")
  echo "════════ $name ($(cat "$out/$name.time" 2>/dev/null || echo '?') s) ════════"
  cat "$out/$name.log"
done

node - "$out" <<'JS'
const fs = require('node:fs');
const path = require('node:path');
const dir = process.argv[2];
const read = (f) => { try { return JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')); } catch { return undefined; } };
const time = (f) => { try { return fs.readFileSync(path.join(dir, f), 'utf8').trim(); } catch { return '?'; } };
let passed = 0, failed = 0, skipped = 0;
console.log('\ntime per part:');
for (const f of fs.readdirSync(dir).filter((f) => f.endsWith('.log')).sort()) {
  const name = f.slice(0, -4);
  const r = read(`${name}.json`);
  let counts = 'wrote no results';
  if (r && name.startsWith('vitest')) {
    passed += r.numPassedTests; failed += r.numFailedTests; skipped += r.numPendingTests + r.numTodoTests;
    counts = `${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.testResults.length} files`;
  } else if (r) {
    passed += r.stats.expected + r.stats.flaky; failed += r.stats.unexpected; skipped += r.stats.skipped;
    counts = `${r.stats.expected + r.stats.flaky} passed, ${r.stats.unexpected} failed`;
  } else failed += 1;
  console.log(`  ${name.padEnd(22)} ${time(`${name}.time`).padStart(5)} s   ${counts}`);
}
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
JS
[ ${#failed_parts[@]} -eq 0 ] || { echo "failed: ${failed_parts[*]}"; exit 1; }
