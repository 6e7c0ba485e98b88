#!/usr/bin/env bash
# Install everything the project needs (into .venv) and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip >/dev/null 2>&1 || true
.venv/bin/python -m pip install --quiet -e ".[dev]"
exec .venv/bin/python -m pytest tldw_Server_API/tests -q "$@"
