"""Every row, value by value: a whole installation in the users' layout, migrated and read back.

Independent of the tool's own checksums: the PostgreSQL side is read as typed values through
psycopg, the SQLite side as stored, and each value is compared after the one conversion its
target type calls for (instants to UTC, 0/1 and words to booleans, JSON text to documents).
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tldw_Server_API.app.core.DB_Management.backends.target import PgTarget
from tldw_Server_API.app.core.DB_Management.instants import to_instant
from tldw_Server_API.app.core.DB_Management.legacy_layout import LEGACY_TABLES
from tldw_Server_API.app.core.DB_Management.migration.options import MigrationOptions, SourceFile
from tldw_Server_API.app.core.DB_Management.migration.run import migrate
from tldw_Server_API.app.core.DB_Management.sample_data import generate

RENAMED = {"workflow_step_runs": "workflow_steps"}
FILES = {
    "media": ("user_databases/1/Media_DB_v2.db", "user_1_media"),
    "chacha": ("user_databases/1/ChaChaNotes.db", "user_1_chacha"),
    "analytics": ("Analytics.db", "analytics"),
    "workflows": ("workflows.db", "workflows"),
}


@pytest.fixture(scope="module")
def installation(
    pg_target: PgTarget, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, PgTarget]:
    data_dir = tmp_path_factory.mktemp("install") / "Databases"
    sizes = {"media": 24, "chacha": 12, "analytics": 50, "workflows": 400}
    for kind, (rel, _) in FILES.items():
        # 400 runs make 21 workflow definitions: enough for the hand-written 'true' the
        # generator puts in every 37th row of the integer column is_active.
        generate(kind, data_dir / rel, size=sizes[kind], seed=3)
    with closing(sqlite3.connect(data_dir / "workflows.db")) as conn:
        words = conn.execute("SELECT count(*) FROM workflows WHERE typeof(is_active) = 'text'")
        assert words.fetchone()[0] > 0
    sources = [
        SourceFile(kind, data_dir / rel, "1" if kind in ("media", "chacha") else None)  # type: ignore[arg-type]
        for kind, (rel, _) in FILES.items()
    ]
    result = migrate(MigrationOptions(sources=sources, target=pg_target, create_schema=True))
    assert result.exit_code == 0, [d.error for d in result.databases]
    return data_dir, pg_target


def target_types(conn: psycopg.Connection, schema: str, table: str) -> dict[str, str]:
    rows = conn.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = %s AND table_name = %s",
        (schema, table),
    ).fetchall()
    return dict(rows)


def expected_value(value: Any, data_type: str) -> Any:
    """What PostgreSQL should hold for the SQLite *value* in a column of *data_type*."""
    if value is None:
        return None
    if data_type == "timestamp with time zone":
        return to_instant(value)
    if data_type == "boolean":
        if isinstance(value, str):
            return {"true": True, "false": False, "1": True, "0": False}[value.lower()]
        return bool(value)
    if data_type == "jsonb":
        return json.loads(value)
    if data_type == "bytea":
        return bytes(value)
    if data_type == "double precision":
        return float(value)
    if data_type == "bigint" and isinstance(value, str):
        return {"true": 1, "false": 0}[value.lower()]  # a flag word in an integer flag column
    return value


def primary_key(conn: sqlite3.Connection, table: str) -> list[str]:
    info = conn.execute(f'PRAGMA table_info("{table}")').fetchall()
    return [r[1] for r in sorted((r for r in info if r[5]), key=lambda r: r[5])]


CASES = [(kind, table) for kind in FILES for table in LEGACY_TABLES[kind]]


@pytest.mark.parametrize(("kind", "table"), CASES, ids=[f"{k}-{t}" for k, t in CASES])
def test_every_row_and_value_matches(
    installation: tuple[Path, PgTarget], kind: str, table: str
) -> None:
    data_dir, target = installation
    rel, schema = FILES[kind]
    pg_table = RENAMED.get(table, table.lower())
    with closing(sqlite3.connect(f"file:{data_dir / rel}?mode=ro", uri=True)) as src:
        key = primary_key(src, table)
        cursor = src.execute(f'SELECT * FROM "{table}"')
        columns = [d[0] for d in cursor.description]
        source_rows = [dict(zip(columns, row, strict=True)) for row in cursor]
    assert source_rows, f"the sample has no {table} rows: the comparison would prove nothing"
    with psycopg.connect(target.conninfo()) as conn:
        types = target_types(conn, schema, pg_table)
        cursor = conn.execute(
            f"SELECT {', '.join(f'{chr(34)}{c.lower()}{chr(34)}' for c in columns)} "
            f'FROM "{schema}"."{pg_table}"'
        )
        target_rows = [dict(zip(columns, row, strict=True)) for row in cursor]
    assert len(target_rows) == len(source_rows)
    by_key = {tuple(row[k] for k in key): row for row in target_rows}
    assert len(by_key) == len(target_rows)
    for row in source_rows:
        row_key = tuple(row[k] for k in key)
        migrated = by_key[row_key]
        for column in columns:
            data_type = types[column.lower()]
            expected = expected_value(row[column], data_type)
            actual = migrated[column]
            if isinstance(actual, memoryview):
                actual = bytes(actual)
            assert actual == expected, f"{table} {row_key} {column}: {row[column]!r}"
            if data_type == "double precision" and expected is not None:
                assert actual.hex() == expected.hex()
