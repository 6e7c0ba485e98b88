"""Fixtures and helpers shared by the database and migration tests.

Helpers are plain functions the test modules import from here: a library run
(:func:`run`), a CLI's target flags (:func:`pg_flags`), reading PostgreSQL back
(:func:`fetch`, :func:`snapshot`) and writing source rows (:func:`media_row`).
"""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

import psycopg
import pytest

from tldw_Server_API.app.core.config import Settings
from tldw_Server_API.app.core.DB_Management.backends.target import PgTarget
from tldw_Server_API.app.core.DB_Management.legacy_layout import create_legacy_database
from tldw_Server_API.app.core.DB_Management.migration.options import MigrationOptions, SourceFile
from tldw_Server_API.app.core.DB_Management.migration.results import MigrationResult
from tldw_Server_API.app.core.DB_Management.migration.run import migrate
from tldw_Server_API.app.core.DB_Management.schemas.migrations import NAMESPACE as MIGRATION_HISTORY
from tldw_Server_API.tests.conftest import settings_for

#: The instant the sync columns of rows written by :func:`media_row` hold.
STAMP = "2025-10-08T12:34:56.789Z"


@pytest.fixture
def user_settings(backend_kind: str, tmp_path: Path, pg_target: PgTarget) -> Settings:
    """A fresh installation per test, cheaply: on PostgreSQL, a new default user's schemas
    in this module's database instead of a new database."""
    user = f"t{uuid.uuid4().hex[:12]}"
    target = pg_target if backend_kind == "postgresql" else None
    return settings_for(backend_kind, tmp_path / "Databases", target, default_user_id=user)


@pytest.fixture
def media_file(tmp_path: Path) -> Path:
    """An empty Media database laid out as the users' SQLite files are."""
    path = tmp_path / "Media_DB_v2.db"
    create_legacy_database("media", path)
    return path


def media_row(conn: sqlite3.Connection, media_id: int, **values: object) -> None:
    """Insert one Media row with the sync columns filled; *values* override any column."""
    row: dict[str, object] = {
        "id": media_id,
        "title": f"item {media_id}",
        "type": "document",
        "content": f"content of item {media_id}",
        "content_hash": f"hash{media_id}",
        "uuid": str(uuid.uuid4()),
        "last_modified": STAMP,
        "client_id": "test",
    }
    row.update(values)
    columns = ", ".join(row)
    marks = ", ".join("?" for _ in row)
    conn.execute(f"INSERT INTO Media ({columns}) VALUES ({marks})", tuple(row.values()))


def run(target: PgTarget, *sources: SourceFile, **options: object) -> MigrationResult:
    """``migrate()`` of *sources* into *target*, creating schemas unless told otherwise."""
    defaults: dict[str, object] = {"create_schema": True}
    return migrate(MigrationOptions(sources=list(sources), target=target, **(defaults | options)))


def media(path: Path, user: str = "1") -> SourceFile:
    return SourceFile("media", path, user)


def assert_ok(result: MigrationResult) -> None:
    errors = [(d.label, d.error, d.problems[:3]) for d in result.databases if d.exit_code]
    assert result.exit_code == 0, errors


def fetch(target: PgTarget, sql: str, *params: object) -> list[tuple]:
    """The rows of *sql*, read on a fresh connection."""
    with psycopg.connect(target.conninfo()) as conn:
        return conn.execute(sql, params).fetchall()


def pg_flags(target: PgTarget) -> list[str]:
    """The command line's ``--pg-*`` flags naming *target* (no password: trust auth)."""
    return [
        "--pg-host",
        target.host,
        "--pg-port",
        str(target.port),
        "--pg-database",
        target.database,
        "--pg-user",
        target.user,
    ]


def snapshot(target: PgTarget) -> dict[str, object]:
    """Every table's row count and content digest, and every sequence's state (the migration
    history aside: each committed run adds its record there)."""
    state: dict[str, object] = {}
    with psycopg.connect(target.conninfo(), autocommit=True) as conn:
        for ns, name in conn.execute(
            "SELECT schemaname, tablename FROM pg_tables "
            "WHERE schemaname NOT IN ('pg_catalog', 'information_schema', %s) ORDER BY 1, 2",
            (MIGRATION_HISTORY,),
        ).fetchall():
            state[f"{ns}.{name}"] = conn.execute(
                "SELECT count(*), md5(coalesce(string_agg(t::text, chr(10) ORDER BY t::text), '')) "
                f'FROM "{ns}"."{name}" t'
            ).fetchone()
        for ns, name in conn.execute(
            "SELECT schemaname, sequencename FROM pg_sequences "
            "WHERE schemaname <> %s ORDER BY 1, 2",
            (MIGRATION_HISTORY,),
        ).fetchall():
            state[f"seq {ns}.{name}"] = conn.execute(
                f'SELECT last_value, is_called FROM "{ns}"."{name}"'
            ).fetchone()
    return state
