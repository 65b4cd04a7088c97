#!/usr/bin/env bash
# npm start: set-up (idempotent), then TIS in a box in the foreground (Ctrl-C stops it).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec node bin/tis-box.js up "$@"
