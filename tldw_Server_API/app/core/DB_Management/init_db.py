"""Command line: create or upgrade every database on the configured backend.

    python -m tldw_Server_API.app.core.DB_Management.init_db [--user-id ID ...]

It reads the same configuration as the server (environment, then
``Config_Files/config.txt``, then defaults), so a migration never needs the
server to be started first. With ``TLDW_CONTENT_DB_BACKEND=postgresql`` it
creates the PostgreSQL schemas, search artefacts and the database's default
``search_path``; running it again changes nothing.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ..config import ConfigError, Settings, load_settings
from .registry import DatabaseRegistry, InvalidUserId
from .schemas.manager import SchemaError, SchemaState


def init_databases(
    settings: Settings, user_ids: list[str] | None = None
) -> list[tuple[str, SchemaState]]:
    """Open (creating or upgrading) every database; return (description, state) per database."""
    registry = DatabaseRegistry(settings)
    try:
        opened = registry.open_all(user_ids)
        return [(db.describe(), registry.states[(db.schema.name, db.user_id)]) for db in opened]
    finally:
        registry.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tldw_Server_API.app.core.DB_Management.init_db",
        description="Create or upgrade the Media, ChaChaNotes, Analytics and Workflows databases.",
    )
    parser.add_argument(
        "--user-id",
        action="append",
        help="a user whose Media and ChaChaNotes databases to create (repeatable; default: 1)",
    )
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
        states = init_databases(settings, args.user_id)
    except (ConfigError, InvalidUserId, SchemaError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for where, state in states:
        detail = f" from version {state.from_version}" if state.outcome == "upgraded" else ""
        print(f"{where}: {state.outcome}{detail} (schema version {state.version})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
