#!/usr/bin/env bash
# Install everything the project needs (into .venv) and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip >/dev/null 2>&1 || true
.venv/bin/python -m pip install --quiet -e ".[dev]"
# The browser tests (tldw_Server_API/tests/ui) drive Debian's chromium, never a downloaded one.
if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) \
        >/dev/null || echo "chromium could not be installed: the browser tests will be skipped" >&2
fi
# Two test processes on two cores (at most four elsewhere); each test file stays in one process,
# so a module's server and databases are set up once. TLDW_TEST_WORKERS=0 runs in this process.
exec .venv/bin/python -m pytest tldw_Server_API/tests -q \
    --numprocesses "${TLDW_TEST_WORKERS:-auto}" --maxprocesses 4 --dist loadfile "$@"
