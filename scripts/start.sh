#!/usr/bin/env bash
# npm start: set-up (idempotent), then TIS in a box with the probe service watching it,
# in the foreground (Ctrl-C / SIGTERM stops the service, then the box).
# Options: --port-base N (box, default 18080), --state-dir DIR (default .state/box), --port N (service, default 9687)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# node --import tsx (not npx tsx): signals reach the service itself, not a wrapper.
exec node --import tsx scripts/start-service.ts "$@"
