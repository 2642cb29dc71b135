#!/usr/bin/env bash
# Runs the whole test suite on a fresh clone: sets up .venv (scripts/setup.sh), then pytest.
# Extra arguments go to pytest, e.g. scripts/test.sh -k encoder
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m pytest "$@"
