"""Command line: create or upgrade every database on the configured backend.

    python -m tldw_Server_API.app.core.DB_Management.init_db [--user-id ID ...]

It reads the same configuration as the server (environment, then
``Config_Files/config.txt``, then defaults), so a migration never needs the
server to be started first. With ``TLDW_CONTENT_DB_BACKEND=postgresql`` it
creates the PostgreSQL schemas, search artefacts and the database's default
``search_path``; running it again changes nothing.

Exit codes: 0 done, 2 a configuration error, 3 a database that cannot be
reached or opened (one line says where and what to do; ``TLDW_DEBUG=1`` adds
the traceback).
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Sequence

from ..commands import add_user_ids_option, command_parser
from ..config import ConfigError, Settings, load_settings
from .backends.target import PgTarget
from .backends.unreachable import (
    DatabaseUnavailable,
    debug_enabled,
    is_open_failure,
    pg_unavailable,
    sqlite_unavailable,
)
from .registry import DatabaseRegistry, InvalidUserId
from .schemas.manager import SchemaError, SchemaState

#: The exit code when a database cannot be reached or opened (as the migration tool's).
UNREACHABLE = 3


def open_failure(exc: BaseException, settings: Settings) -> DatabaseUnavailable:
    """The one line for databases of *settings* that could not be reached or opened."""
    if settings.uses_postgres:
        return pg_unavailable(exc, PgTarget.from_settings(settings))
    return sqlite_unavailable(exc, settings.data_dir)


def unreachable_exit(exc: Exception, settings: Settings) -> int:
    """A command's end when a database cannot be reached or opened: the one line of
    :func:`open_failure` (``TLDW_DEBUG=1`` adds the traceback), exit code
    :data:`UNREACHABLE`. Any other exception is raised again."""
    if not is_open_failure(exc):
        raise exc
    if debug_enabled():
        traceback.print_exc()
    print(f"error: {open_failure(exc, settings)}", file=sys.stderr)
    return UNREACHABLE


def init_databases(
    settings: Settings, user_ids: list[str] | None = None
) -> list[tuple[str, SchemaState]]:
    """Open (creating or upgrading) every database; return (description, state) per database."""
    registry = DatabaseRegistry(settings)
    found: list[tuple[str, SchemaState]] = []
    try:
        # One user at a time: only a bounded number of users stays open.
        for user_id in user_ids or [settings.default_user_id]:
            with registry.user(user_id) as user:
                found += [(db.describe(), user.states[db.schema.name]) for db in user.databases]
        for database in registry.open_server():
            found.append((database.describe(), registry.states[(database.schema.name, None)]))
        return found
    finally:
        registry.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = command_parser(
        "tldw-init-db",
        "tldw_Server_API.app.core.DB_Management.init_db",
        "Create or upgrade the Media, ChaChaNotes, Analytics and Workflows databases.",
    )
    add_user_ids_option(parser, "Media and ChaChaNotes databases to create", default="1")
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        states = init_databases(settings, args.user_id)
    except (InvalidUserId, SchemaError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        return unreachable_exit(exc, settings)
    for where, state in states:
        detail = f" from version {state.from_version}" if state.outcome == "upgraded" else ""
        print(f"{where}: {state.outcome}{detail} (schema version {state.version})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
