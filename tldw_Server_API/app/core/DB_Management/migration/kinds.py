"""Is a file given as one of our four databases really that database?

A user's media file may be years old or much newer than this tool, with many
tables we do not know; so a file is taken as a kind of database when it has at
least one of that kind's characteristic tables (its own tables that no other
of our databases also has: ``Media``, ``MediaChunks``, ... for the media file,
not ``keywords`` or ``sync_log``). Only a file with none of them is refused,
before anything connects to PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from ..schemas import SCHEMAS
from .errors import UsageError
from .source import open_source

#: The command-line flag that names each kind's file.
FLAGS = {
    "media": "--content-sqlite",
    "chacha": "--chacha-sqlite",
    "analytics": "--analytics-sqlite",
    "workflows": "--workflows-sqlite",
    "users": "--users-sqlite",
}


def _table_names(kind: str) -> set[str]:
    schema = SCHEMAS[kind]
    names = {t.name.lower() for t in schema.metadata.tables.values()}
    names |= {legacy.lower() for legacy in schema.legacy_table_names}
    return names - {schema.version_record.table}


def characteristic_tables(kind: str) -> set[str]:
    """The tables (lower case) that only the *kind* database has among our four."""
    others = set().union(*(_table_names(k) for k in SCHEMAS if k != kind))
    return _table_names(kind) - others


def check_kind(kind: str, path: Path) -> None:
    """Refuse *path* as a *kind* database if it has none of the kind's characteristic tables."""
    expected = characteristic_tables(kind)
    conn = open_source(path)
    try:
        present = {
            str(name).lower()
            for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
    finally:
        conn.close()
    if present & expected:
        return
    schema = SCHEMAS[kind]
    usual = f", usually {schema.sqlite_file}" if schema.sqlite_file else ""
    listed = ", ".join(sorted(expected)[:6]) + (", ..." if len(expected) > 6 else "")
    raise UsageError(
        f"{FLAGS[kind]} {path}: not the {schema.title} database{usual} (it has none of its "
        f"tables: {listed}). To migrate any other SQLite file, use "
        f"--sqlite {path} --target-schema NAME --create-schema"
    )


def check_kinds(sources: Iterable[tuple[str, Path]]) -> None:
    """:func:`check_kind` for each (kind, path) of one of our databases that exists."""
    for kind, path in sources:
        if kind in SCHEMAS and path.exists():
            check_kind(kind, path)
