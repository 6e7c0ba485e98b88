"""Any SQLite file migrates into a schema the tool creates from the file's own layout."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import psycopg
import pytest

from tldw_Server_API.app.core.DB_Management.backends.target import PgTarget
from tldw_Server_API.app.core.DB_Management.migration.run import (
    MigrationOptions,
    MigrationResult,
    SourceFile,
    migrate,
)
from tldw_Server_API.app.core.DB_Management.migration_tools import run_cli

LAYOUT = """
CREATE TABLE authors(
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL COLLATE NOCASE UNIQUE,
    born DATE,
    active BOOLEAN DEFAULT 1,
    created DATETIME DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE books(
    id INTEGER PRIMARY KEY,
    author_id INTEGER REFERENCES authors(id) ON DELETE CASCADE,
    title VARCHAR(200),
    price NUMERIC,
    rating REAL,
    meta JSON,
    cover BLOB,
    misc,
    pages INTEGER,
    added TIMESTAMP DEFAULT (datetime('now'))
);
CREATE INDEX books_title ON books(title);
INSERT INTO authors(name, born, active) VALUES
    ('Ann', '1950-01-02', 1), ('Bob', '1960-03-04', 'false'),
    ('ÉCOLE', NULL, 0), ('école', NULL, 1);
INSERT INTO books(author_id, title, price, rating, meta, cover, misc, pages) VALUES
    (1, 'A', 9.99, 4.5, '{"a": 1}', x'00ff', 1, 100),
    (2, 'B', 10, 3, '[1, 2]', NULL, 'text', 'unknown'),
    (1, 'C', NULL, NULL, NULL, NULL, 2.5, NULL);
"""


@pytest.fixture
def library(tmp_path: Path) -> Path:
    path = tmp_path / "library.db"
    with closing(sqlite3.connect(path)) as conn:
        conn.executescript(LAYOUT)
        conn.commit()
    return path


@pytest.fixture
def target(pg_database: PgTarget) -> Iterator[PgTarget]:
    yield pg_database


def run(target: PgTarget, path: Path, *, create: bool = True) -> MigrationResult:
    source = SourceFile("generic", path, namespace="library")
    return migrate(MigrationOptions(sources=[source], target=target, create_schema=create))


def column_types(target: PgTarget, table: str) -> dict[str, str]:
    with psycopg.connect(target.conninfo()) as conn:
        rows = conn.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'library' AND table_name = %s",
            (table,),
        ).fetchall()
    return dict(rows)


def test_declared_types_map_as_documented(library: Path, target: PgTarget) -> None:
    assert run(target, library).exit_code == 0
    assert column_types(target, "authors") == {
        "id": "bigint",
        "name": "text",
        "born": "date",
        "active": "boolean",
        "created": "timestamp with time zone",
    }
    books = column_types(target, "books")
    assert books["title"] == "text"
    assert books["price"] == "numeric"
    assert books["rating"] == "double precision"
    assert books["meta"] == "jsonb"
    assert books["cover"] == "bytea"
    assert books["added"] == "timestamp with time zone"


def test_untyped_or_mixed_columns_get_a_type_holding_every_value(
    library: Path, target: PgTarget
) -> None:
    assert run(target, library).exit_code == 0
    books = column_types(target, "books")
    assert books["misc"] == "text"  # integer, text and real values
    assert books["pages"] == "text"  # declared INTEGER but holds 'unknown'
    with psycopg.connect(target.conninfo()) as conn:
        values = conn.execute("SELECT misc, pages FROM library.books ORDER BY id").fetchall()
    assert values == [("1", "100"), ("text", "unknown"), ("2.5", None)]


def test_every_table_is_verified_and_booleans_read_as_booleans(
    library: Path, target: PgTarget
) -> None:
    result = run(target, library)
    assert result.exit_code == 0
    assert all(t.verified for t in result.databases[0].tables)
    with psycopg.connect(target.conninfo()) as conn:
        active = conn.execute("SELECT name, active FROM library.authors ORDER BY id").fetchall()
    assert active == [("Ann", True), ("Bob", False), ("ÉCOLE", False), ("école", True)]


def test_integer_primary_key_continues_after_the_highest_id(
    library: Path, target: PgTarget
) -> None:
    assert run(target, library).exit_code == 0
    with psycopg.connect(target.conninfo()) as conn:
        new_id = conn.execute(
            "INSERT INTO library.authors(name) VALUES ('Dora') RETURNING id"
        ).fetchone()
    assert new_id == (5,)


def test_nocase_uniqueness_folds_ascii_only_as_sqlite(library: Path, target: PgTarget) -> None:
    assert run(target, library).exit_code == 0  # 'ÉCOLE' and 'école' are two names
    with psycopg.connect(target.conninfo()) as conn, pytest.raises(psycopg.errors.UniqueViolation):
        conn.execute("INSERT INTO library.authors(name) VALUES ('ann')")


def test_foreign_keys_and_their_delete_actions_carry_over(library: Path, target: PgTarget) -> None:
    assert run(target, library).exit_code == 0
    with psycopg.connect(target.conninfo()) as conn:
        conn.execute("DELETE FROM library.authors WHERE id = 1")
        left = conn.execute("SELECT title FROM library.books ORDER BY id").fetchall()
    assert left == [("B",)]


def test_defaults_become_postgresql_defaults(library: Path, target: PgTarget) -> None:
    assert run(target, library).exit_code == 0
    with psycopg.connect(target.conninfo()) as conn:
        row = conn.execute(
            "INSERT INTO library.books(title) VALUES ('D') RETURNING added IS NOT NULL"
        ).fetchone()
        active = conn.execute(
            "INSERT INTO library.authors(name) VALUES ('Eve') RETURNING active, created IS NOT NULL"
        ).fetchone()
    assert row == (True,)
    assert active == (True, True)


def test_secondary_indexes_carry_over(library: Path, target: PgTarget) -> None:
    assert run(target, library).exit_code == 0
    with psycopg.connect(target.conninfo()) as conn:
        names = {
            r[0]
            for r in conn.execute(
                "SELECT indexname FROM pg_indexes WHERE schemaname = 'library'"
            ).fetchall()
        }
    assert "books_books_title" in names


def test_without_create_schema_the_missing_tables_are_a_clear_error(
    library: Path, target: PgTarget
) -> None:
    result = run(target, library, create=False)
    assert result.exit_code == 5
    error = result.databases[0].error or ""
    assert "authors" in error and "--create-schema" in error


def test_a_second_run_reuses_the_schema_and_gives_the_same_rows(
    library: Path, target: PgTarget
) -> None:
    assert run(target, library).exit_code == 0
    second = run(target, library)
    assert second.exit_code == 0
    assert [t.target_rows for t in second.databases[0].tables] == [4, 3]


def cli_target(target: PgTarget) -> list[str]:
    return [
        "--pg-host",
        target.host,
        "--pg-port",
        str(target.port),
        "--pg-database",
        target.database,
        "--pg-user",
        target.user,
        "--quiet",
    ]


def test_the_command_line_takes_any_file_with_a_target_schema(
    library: Path, target: PgTarget
) -> None:
    argv = ["--sqlite", str(library), "--target-schema", "library", "--create-schema"]
    assert run_cli(argv + cli_target(target), env={}) == 0
    assert column_types(target, "books")["meta"] == "jsonb"


def test_sqlite_without_a_target_schema_is_a_usage_error(
    library: Path, target: PgTarget, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(["--sqlite", str(library), *cli_target(target)], env={}) == 2
    assert "--target-schema" in capsys.readouterr().err
