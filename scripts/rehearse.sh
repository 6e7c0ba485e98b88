#!/usr/bin/env bash
# Install the project (into .venv) and rehearse a migration into a throw-away embedded
# PostgreSQL: your files under Databases/ if there are any, else a generated sample.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet -e ".[embedded]"
exec .venv/bin/python -m tldw_Server_API.app.core.DB_Management.migration_tools --rehearse "$@"
