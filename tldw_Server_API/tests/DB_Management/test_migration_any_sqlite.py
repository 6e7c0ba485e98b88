"""Any SQLite file migrates into a schema the tool creates from the file's own layout."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import psycopg
import pytest

from tldw_Server_API.app.core.DB_Management.backends.target import PgTarget
from tldw_Server_API.app.core.DB_Management.migration.options import MigrationOptions, SourceFile
from tldw_Server_API.app.core.DB_Management.migration.results import MigrationResult
from tldw_Server_API.app.core.DB_Management.migration.run import migrate
from tldw_Server_API.app.core.DB_Management.migration_tools import run_cli
from tldw_Server_API.tests.DB_Management.conftest import pg_flags

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


def test_a_table_without_rowid_keyed_by_a_name_holding_a_quote_is_copied(
    tmp_path: Path, target: PgTarget
) -> None:
    path = tmp_path / "odd.db"
    with closing(sqlite3.connect(path)) as conn:
        conn.execute('CREATE TABLE tags("the ""key""" TEXT PRIMARY KEY, n INTEGER) WITHOUT ROWID')
        conn.executemany("INSERT INTO tags VALUES (?, ?)", [("b", 2), ("a", 1)])
        conn.commit()
    result = run(target, path)
    assert result.exit_code == 0, [(d.error, d.problems[:3]) for d in result.databases]
    with psycopg.connect(target.conninfo()) as conn:
        rows = conn.execute('SELECT "the ""key""", n FROM library.tags ORDER BY n').fetchall()
    assert rows == [("a", 1), ("b", 2)]


def test_the_command_line_takes_any_file_with_a_target_schema(
    library: Path, target: PgTarget
) -> None:
    argv = ["--sqlite", str(library), "--target-schema", "library", "--create-schema"]
    assert run_cli([*argv, *pg_flags(target), "--quiet"], env={}) == 0
    assert column_types(target, "books")["meta"] == "jsonb"


def test_sqlite_without_a_target_schema_is_a_usage_error(
    library: Path, target: PgTarget, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(["--sqlite", str(library), *pg_flags(target), "--quiet"], env={}) == 2
    assert "--target-schema" in capsys.readouterr().err


# -- names over PostgreSQL's 63 bytes ----------------------------------------------------------

SHARED = "a_table_whose_name_goes_on_and_on_past_what_postgresql_keeps_"  # 61 bytes
WIDE = "é" * 40  # 80 bytes of UTF-8


def long_names_file(tmp_path: Path) -> Path:
    path = tmp_path / "long.db"
    with closing(sqlite3.connect(path)) as conn:
        conn.executescript(
            f"""
            CREATE TABLE "{SHARED}parents" (
                id INTEGER PRIMARY KEY,
                "{SHARED}first_column" TEXT UNIQUE,
                "{SHARED}second_column" TEXT,
                "{WIDE}a" INTEGER,
                "{WIDE}b" INTEGER
            );
            CREATE TABLE "{SHARED}children" (
                id INTEGER PRIMARY KEY,
                parent_id INTEGER REFERENCES "{SHARED}parents"(id)
            );
            CREATE INDEX "{SHARED}index_one" ON "{SHARED}parents"("{SHARED}second_column");
            CREATE INDEX "{SHARED}index_two" ON "{SHARED}parents"("{WIDE}a");
            INSERT INTO "{SHARED}parents" VALUES (1, 'x', 'y', 1, 2), (2, 'z', 'w', 3, 4);
            INSERT INTO "{SHARED}children" VALUES (1, 1), (2, 2);
            """
        )
    return path


def long_names_cli(target: PgTarget, path: Path, *extra: str) -> list[str]:
    return ["--sqlite", str(path), "--target-schema", "long", *extra, *pg_flags(target), "--quiet"]


def pg_names(target: PgTarget, sql: str) -> list[str]:
    with psycopg.connect(target.conninfo()) as conn:
        return [r[0] for r in conn.execute(sql).fetchall()]


def test_names_sharing_their_first_63_bytes_stay_distinct_and_load(
    tmp_path: Path, target: PgTarget, capsys: pytest.CaptureFixture[str]
) -> None:
    path = long_names_file(tmp_path)
    assert run_cli(long_names_cli(target, path, "--create-schema"), env={}) == 0
    tables = pg_names(target, "SELECT tablename FROM pg_tables WHERE schemaname = 'long'")
    columns = pg_names(
        target,
        "SELECT table_name || '.' || column_name FROM information_schema.columns "
        "WHERE table_schema = 'long'",
    )
    indexes = pg_names(target, "SELECT indexname FROM pg_indexes WHERE schemaname = 'long'")
    for names in (tables, columns, indexes):
        assert len(set(names)) == len(names)
        assert all(len(part.encode()) <= 63 for n in names for part in n.split("."))
    assert len(tables) == 2 and len(columns) == 7
    assert len(indexes) == 5  # two primary keys, one unique column, two indexes
    assert "renamed " + SHARED + "parents -> " in capsys.readouterr().out


def test_shortened_names_are_the_same_on_every_run_and_verify(
    tmp_path: Path, target: PgTarget
) -> None:
    path = long_names_file(tmp_path)
    assert run_cli(long_names_cli(target, path, "--create-schema"), env={}) == 0
    assert run_cli(long_names_cli(target, path), env={}) == 0
    assert run_cli(long_names_cli(target, path, "--verify-only"), env={}) == 0


def test_the_report_maps_each_long_source_name_to_its_target_name(
    tmp_path: Path, target: PgTarget
) -> None:
    path, report = long_names_file(tmp_path), tmp_path / "report.json"
    argv = long_names_cli(target, path, "--create-schema", "--report", str(report))
    assert run_cli(argv, env={}) == 0
    renamed = json.loads(report.read_text())["databases"][0]["renamed_identifiers"]
    by_source = {r["source"]: r["target"] for r in renamed}
    parents = f"{SHARED}parents"
    assert set(by_source) == {
        parents,
        f"{SHARED}children",
        f"{parents}.{SHARED}first_column",
        f"{parents}.{SHARED}second_column",
        f"{parents}.{WIDE}a",
        f"{parents}.{WIDE}b",
    }
    with psycopg.connect(target.conninfo()) as conn:
        row = conn.execute(
            f'SELECT "{by_source[parents + "." + WIDE + "b"]}" '
            f'FROM long."{by_source[parents]}" WHERE id = 2'
        ).fetchone()
    assert row == (4,)


# -- defaults ---------------------------------------------------------------------------------


def test_a_date_default_on_a_datetime_column_migrates_and_dropped_ones_are_reported(
    tmp_path: Path, target: PgTarget, capsys: pytest.CaptureFixture[str]
) -> None:
    path, report = tmp_path / "values.db", tmp_path / "report.json"
    with closing(sqlite3.connect(path)) as conn:
        conn.executescript(
            """
            CREATE TABLE my_table (
                id INTEGER PRIMARY KEY,
                my_value datetime default current_date,
                local_value datetime default (datetime('now', 'localtime'))
            );
            INSERT INTO my_table (id) VALUES (1);
            """
        )
    argv = ["--sqlite", str(path), "--target-schema", "vals", "--create-schema"]
    assert run_cli([*argv, "--report", str(report), *pg_flags(target), "--quiet"], env={}) == 0
    out = capsys.readouterr().out
    assert "default left out: my_table.local_value: " in out
    dropped = json.loads(report.read_text())["databases"][0]["defaults_dropped"]
    assert len(dropped) == 1 and dropped[0].startswith("my_table.local_value: ")
    with psycopg.connect(target.conninfo()) as conn:
        row = conn.execute(
            "INSERT INTO vals.my_table (id) VALUES (2) "
            "RETURNING my_value = date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', "
            "local_value"
        ).fetchone()
    assert row == (True, None)
