#!/usr/bin/env bash
# The main job on a fresh clone: sets up .venv (scripts/setup.sh), then runs the demo.
# Extra arguments go to the demo.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/medembed-rag demo "$@"
