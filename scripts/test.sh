#!/usr/bin/env bash
# The whole suite: set-up (idempotent), type check, vitest (unit + integration against
# TIS in a box + real Prometheus), then the Playwright Test browser journey.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npx tsc --noEmit
npx vitest run
npx playwright test
