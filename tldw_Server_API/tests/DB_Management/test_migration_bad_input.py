"""Bad source values: the run stops before anything commits, and says where the value is.

Each defect class our users' files can hold is written into a real SQLite file. Without a policy
the command exits 2, names the file, table, primary key, column and value, and leaves the target
exactly as it was. With the matching policy the run succeeds and counts what it touched.
"""

from __future__ import annotations

import json
import os
import sqlite3
import uuid
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import psycopg
import pytest

from tldw_Server_API.app.core.DB_Management.backends.target import PgTarget
from tldw_Server_API.app.core.DB_Management.migration.errors import UsageError
from tldw_Server_API.app.core.DB_Management.migration.options import (
    MigrationOptions,
    RunOptions,
    SourceFile,
)
from tldw_Server_API.app.core.DB_Management.migration.run import migrate
from tldw_Server_API.app.core.DB_Management.migration_tools import run_cli
from tldw_Server_API.app.core.DB_Management.sample_data import generate
from tldw_Server_API.tests.DB_Management.conftest import fetch, pg_flags, snapshot

STAMP = "2025-10-08T12:34:56.789Z"
Defect = Callable[[sqlite3.Connection], None]


@pytest.fixture(scope="module")
def target(pg_target: PgTarget, tmp_path_factory: pytest.TempPathFactory) -> PgTarget:
    """A target holding an earlier, good migration of both per-user databases."""
    root = tmp_path_factory.mktemp("baseline")
    sources = [
        SourceFile("media", root / "Media_DB_v2.db", "1"),
        SourceFile("chacha", root / "ChaChaNotes.db", "1"),
    ]
    for source in sources:
        generate(source.kind, source.path, size=3, seed=99)
    result = migrate(MigrationOptions(sources=sources, target=pg_target, create_schema=True))
    assert result.exit_code == 0
    return pg_target


def media_file(tmp_path: Path, *defects: Defect) -> Path:
    path = tmp_path / "Media_DB_v2.db"
    generate("media", path, size=5)
    with closing(sqlite3.connect(path)) as conn:
        for defect in defects:
            defect(conn)
        conn.commit()
    return path


def cli(capsys: pytest.CaptureFixture[str], target: PgTarget, *args: str) -> tuple[int, str, str]:
    code = run_cli([*args, *pg_flags(target), "--quiet"], env={})
    out, err = capsys.readouterr()
    return code, out, err


# -- the defects -----------------------------------------------------------------------------


def nul_in_text(conn: sqlite3.Connection) -> None:
    conn.execute("UPDATE Media SET content = 'before' || char(0) || 'after' WHERE id = 4")


def invalid_utf8(conn: sqlite3.Connection) -> None:
    conn.execute("UPDATE Media SET title = CAST(X'4162FF63' AS TEXT) WHERE id = 3")


# Text in an INTEGER column and a fraction in one are not defects: the target column is widened
# to hold them (test_migration_carry.py). A flag that is neither true nor false is one.
def word_in_flag(conn: sqlite3.Connection) -> None:
    conn.execute("UPDATE MediaChunks SET deleted = 'perhaps' WHERE id = 2")


def bad_timestamp(conn: sqlite3.Connection) -> None:
    conn.execute("UPDATE Media SET ingestion_date = 'yesterday at noon' WHERE id = 2")


def orphan(conn: sqlite3.Connection) -> None:
    conn.execute("PRAGMA foreign_keys = OFF")
    conn.execute("UPDATE MediaChunks SET media_id = 999 WHERE id = 7")


def duplicate_uuid(conn: sqlite3.Connection) -> None:
    """Transcripts as an older file had it, without UNIQUE on uuid, holding one uuid twice."""
    columns = (
        "id, media_id, whisper_model, transcription, created_at, uuid, last_modified, "
        "version, client_id, deleted, prev_version, merge_parent_uuid"
    )
    conn.executescript(
        f"""
        ALTER TABLE Transcripts RENAME TO transcripts_old;
        CREATE TABLE Transcripts (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            media_id INTEGER REFERENCES Media(id) ON DELETE CASCADE,
            whisper_model TEXT, transcription TEXT, created_at DATETIME,
            uuid TEXT NOT NULL, last_modified DATETIME NOT NULL,
            version INTEGER NOT NULL DEFAULT 1, client_id TEXT NOT NULL,
            deleted BOOLEAN NOT NULL DEFAULT 0, prev_version INTEGER, merge_parent_uuid TEXT
        );
        INSERT INTO Transcripts ({columns}) SELECT {columns} FROM transcripts_old;
        DROP TABLE transcripts_old;
        """
    )
    for transcript_id in (101, 102):
        conn.execute(
            "INSERT INTO Transcripts (id, media_id, transcription, uuid, last_modified, client_id) "
            "VALUES (?, 1, 'text', 'dup-uuid-0001', ?, 'test')",
            (transcript_id, STAMP),
        )


def invalid_json(conn: sqlite3.Connection) -> None:
    conn.execute("UPDATE DocumentVersions SET safe_metadata = '{bad json' WHERE id = 2")


DEFECTS: dict[str, tuple[Defect, str, str, str, str]] = {
    # name: (defect, table, key, column, value as shown)
    "nul": (nul_in_text, "Media", "id=4", "content", r"'before\x00after'"),
    "utf8": (invalid_utf8, "Media", "id=3", "title", r"b'Ab\xffc'"),
    "word_in_flag": (word_in_flag, "MediaChunks", "id=2", "deleted", "'perhaps'"),
    "timestamp": (bad_timestamp, "Media", "id=2", "ingestion_date", "'yesterday at noon'"),
    "orphan": (orphan, "MediaChunks", "id=7", "media_id", "999"),
    "duplicate": (duplicate_uuid, "Transcripts", "id in (101, 102)", "uuid", "'dup-uuid-0001'"),
    "json": (invalid_json, "DocumentVersions", "id=2", "safe_metadata", "'{bad json'"),
}


@pytest.mark.parametrize("name", list(DEFECTS))
def test_bad_value_stops_the_run_and_names_it(
    name: str, tmp_path: Path, target: PgTarget, capsys: pytest.CaptureFixture[str]
) -> None:
    defect, table, key, column, value = DEFECTS[name]
    path = media_file(tmp_path, defect)
    before = snapshot(target)
    code, out, err = cli(capsys, target, "--content-sqlite", str(path))
    assert code == 2, out + err
    line = next((line for line in err.splitlines() if f"table {table}," in line), "")
    assert line.startswith(f"  {path}: table {table}, row {key}, column {column}: "), err
    assert f"(value {value})" in line
    assert snapshot(target) == before


def test_dry_run_lists_every_problem_in_one_run(
    tmp_path: Path, target: PgTarget, capsys: pytest.CaptureFixture[str]
) -> None:
    path = media_file(tmp_path, *(d[0] for d in DEFECTS.values()))
    before = snapshot(target)
    code, _, err = cli(capsys, target, "--content-sqlite", str(path), "--dry-run")
    assert code == 2
    problems = [line for line in err.splitlines() if line.startswith(f"  {path}: table ")]
    for _, table, key, column, value in DEFECTS.values():
        expected = f"table {table}, row {key}, column {column}: "
        assert any(expected in p and f"(value {value})" in p for p in problems), expected
    assert len(problems) == len(DEFECTS)
    assert snapshot(target) == before


def test_orphan_null_policy_cannot_clear_a_not_null_reference(
    tmp_path: Path, target: PgTarget, capsys: pytest.CaptureFixture[str]
) -> None:
    path = media_file(tmp_path, orphan)
    before = snapshot(target)
    code, _, err = cli(capsys, target, "--content-sqlite", str(path), "--on-orphan=null")
    assert code == 2
    assert "declares media_id NOT NULL; use --on-orphan=skip" in err
    assert snapshot(target) == before


# -- policies --------------------------------------------------------------------------------


def run_with_policy(
    capsys: pytest.CaptureFixture[str], target: PgTarget, tmp_path: Path, *args: str
) -> tuple[str, dict]:
    report = tmp_path / "report.json"
    code, out, err = cli(capsys, target, *args, "--report", str(report))
    assert code == 0, out + err
    return out, json.loads(report.read_text())


def policy_changes(report: dict, source_table: str) -> dict[str, int]:
    for db in report["databases"]:
        for table in db["tables"]:
            if table["source"] == source_table:
                assert table["verified"] is True
                return table["policy_changes"]
    raise AssertionError(source_table)


def summary_line(out: str, source_table: str) -> str:
    return next(line for line in out.splitlines() if line.startswith(f"│ {source_table} "))


def test_on_nul_strip_removes_nul_bytes_and_counts_them(
    tmp_path: Path, target: PgTarget, capsys: pytest.CaptureFixture[str]
) -> None:
    path = media_file(tmp_path, nul_in_text)
    out, report = run_with_policy(
        capsys, target, tmp_path, "--content-sqlite", str(path), "--on-nul=strip"
    )
    assert fetch(target, "SELECT content FROM user_1_media.media WHERE id = 4") == [
        ("beforeafter",)
    ]
    assert policy_changes(report, "Media") == {"nul_stripped": 1}
    assert "nul_stripped=1" in summary_line(out, "Media")


def test_on_orphan_skip_skips_the_row_and_its_children(
    tmp_path: Path, target: PgTarget, capsys: pytest.CaptureFixture[str]
) -> None:
    def orphan_version_with_identifiers(conn: sqlite3.Connection) -> None:
        conn.execute("PRAGMA foreign_keys = OFF")
        conn.execute(
            "INSERT INTO DocumentVersions (id, media_id, version_number, content, uuid, "
            "last_modified, client_id) VALUES (500, 999, 1, 'c', ?, ?, 'test')",
            (str(uuid.uuid4()), STAMP),
        )
        conn.execute("INSERT INTO DocumentVersionIdentifiers (dv_id, doi) VALUES (500, '10.1/x')")

    path = media_file(tmp_path, orphan_version_with_identifiers)
    with closing(sqlite3.connect(path)) as conn:
        versions = conn.execute("SELECT count(*) FROM DocumentVersions").fetchone()[0]
        identifiers = conn.execute("SELECT count(*) FROM DocumentVersionIdentifiers").fetchone()[0]
    out, report = run_with_policy(
        capsys, target, tmp_path, "--content-sqlite", str(path), "--on-orphan=skip"
    )
    assert fetch(target, "SELECT count(*) FROM user_1_media.documentversions") == [(versions - 1,)]
    assert fetch(target, "SELECT count(*) FROM user_1_media.documentversionidentifiers") == [
        (identifiers - 1,)
    ]
    assert fetch(target, "SELECT count(*) FROM user_1_media.documentversions WHERE id = 500") == [
        (0,)
    ]
    assert policy_changes(report, "DocumentVersions") == {"orphan_rows_skipped": 1}
    assert policy_changes(report, "DocumentVersionIdentifiers") == {"orphan_rows_skipped": 1}
    assert "orphan_rows_skipped=1" in summary_line(out, "DocumentVersionIdentifiers")


def test_on_orphan_null_clears_a_nullable_reference(
    tmp_path: Path, target: PgTarget, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "ChaChaNotes.db"
    generate("chacha", path, size=4)
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA foreign_keys = OFF")
        conversation = conn.execute("SELECT min(id) FROM conversations").fetchone()[0]
        conn.execute("UPDATE conversations SET character_id = 999 WHERE id = ?", (conversation,))
        conn.commit()
    out, report = run_with_policy(
        capsys, target, tmp_path, "--chacha-sqlite", str(path), "--on-orphan=null"
    )
    rows = fetch(
        target, f"SELECT character_id FROM user_1_chacha.conversations WHERE id = '{conversation}'"
    )
    assert rows == [(None,)]
    assert policy_changes(report, "conversations") == {"orphan_references_nulled": 1}
    assert "orphan_references_nulled=1" in summary_line(out, "conversations")


def test_on_invalid_json_string_keeps_the_text_as_a_json_string(
    tmp_path: Path, target: PgTarget, capsys: pytest.CaptureFixture[str]
) -> None:
    path = media_file(tmp_path, invalid_json)
    out, report = run_with_policy(
        capsys, target, tmp_path, "--content-sqlite", str(path), "--on-invalid-json=string"
    )
    rows = fetch(
        target,
        "SELECT safe_metadata, jsonb_typeof(safe_metadata) FROM user_1_media.documentversions "
        "WHERE id = 2",
    )
    assert rows == [("{bad json", "string")]
    assert policy_changes(report, "DocumentVersions") == {"invalid_json_as_string": 1}
    assert "invalid_json_as_string=1" in summary_line(out, "DocumentVersions")


def test_on_invalid_utf8_replace_substitutes_and_counts(
    tmp_path: Path, target: PgTarget, capsys: pytest.CaptureFixture[str]
) -> None:
    path = media_file(tmp_path, invalid_utf8)
    out, report = run_with_policy(
        capsys, target, tmp_path, "--content-sqlite", str(path), "--on-invalid-utf8=replace"
    )
    assert fetch(target, "SELECT title FROM user_1_media.media WHERE id = 3") == [("Ab\ufffdc",)]
    assert policy_changes(report, "Media") == {"invalid_utf8_replaced": 1}
    assert "invalid_utf8_replaced=1" in summary_line(out, "Media")


# -- a file of another kind --------------------------------------------------------------------


def test_a_file_that_is_not_the_media_database_is_refused_up_front(
    tmp_path: Path, target: PgTarget, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "recipes.db"
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("CREATE TABLE recipes (id INTEGER PRIMARY KEY, name TEXT)")
    before = snapshot(target)
    code, _, err = cli(capsys, target, "--content-sqlite", str(path))
    assert code == 2
    assert f"--content-sqlite {path}: not the Media database" in err
    assert f"--sqlite {path} --target-schema NAME --create-schema" in err
    assert snapshot(target) == before


def test_a_notes_file_given_as_the_media_file_is_refused(
    tmp_path: Path, target: PgTarget, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "ChaChaNotes.db"
    generate("chacha", path, size=2)  # it has keywords and sync_log, as the media file does
    code, _, err = cli(capsys, target, "--content-sqlite", str(path))
    assert code == 2
    assert "not the Media database" in err


def test_a_media_file_with_one_core_table_among_unknown_ones_is_not_refused_as_another_kind(
    tmp_path: Path, target: PgTarget, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "Media_DB_v2.db"
    with closing(sqlite3.connect(path)) as conn:
        conn.executescript(
            "CREATE TABLE Media (id INTEGER PRIMARY KEY, title TEXT);"
            "CREATE TABLE email_messages (id INTEGER PRIMARY KEY, subject TEXT);"
        )
    _, out, err = cli(capsys, target, "--content-sqlite", str(path), "--dry-run")
    assert "not the Media database" not in out + err


# -- values the server refuses -------------------------------------------------------------


def generic_target(target: PgTarget, schema: str, ddl: str) -> None:
    with psycopg.connect(target.conninfo(), autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        conn.execute(f"CREATE SCHEMA {schema}")
        conn.execute(ddl)


def pages_file(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "pages.db"
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("CREATE TABLE pages (id INTEGER PRIMARY KEY, body TEXT)")
        conn.executemany(
            "INSERT INTO pages VALUES (?, ?)", [(1, "fine words"), (2, body), (3, "more")]
        )
        conn.commit()
    return path


def test_a_word_too_long_for_a_tsvector_names_the_row_and_commits_nothing(
    tmp_path: Path, target: PgTarget, capsys: pytest.CaptureFixture[str]
) -> None:
    generic_target(target, "docs", "CREATE TABLE docs.pages (id bigint PRIMARY KEY, body tsvector)")
    path, report = pages_file(tmp_path, "x" * 3000), tmp_path / "report.json"
    before = snapshot(target)
    code, out, err = cli(
        capsys, target, "--sqlite", str(path), "--target-schema", "docs", "--report", str(report)
    )
    assert code == 2, out + err
    assert "lost the connection" not in out + err
    line = next(line for line in err.splitlines() if "table pages," in line)
    assert line.startswith(f"  {path}: table pages, row id=2, column body: PostgreSQL refused it: ")
    assert "word is too long" in line
    assert f"(value '{'x' * 76}...)" in line  # the value, cut to 80 characters
    assert snapshot(target) == before
    data = json.loads(report.read_text())
    assert data["exit_code"] == 2 and data["databases"][0]["problems"][0]["key"] == "id=2"


def test_a_character_the_database_encoding_lacks_names_the_row_and_column(
    tmp_path: Path, pg_server: PgTarget, capsys: pytest.CaptureFixture[str]
) -> None:
    name = f"latin1_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_server.conninfo(), autocommit=True) as conn:
        conn.execute(
            f"CREATE DATABASE {name} ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' "
            "TEMPLATE template0"
        )
    latin1 = PgTarget(**{**pg_server.__dict__, "database": name})
    try:
        path = pages_file(tmp_path, "price: 5 €")
        argv = ["--sqlite", str(path), "--target-schema", "docs", "--create-schema"]
        code, out, err = cli(capsys, latin1, *argv)
        assert code == 2, out + err
        line = next(line for line in err.splitlines() if "table pages," in line)
        assert line.startswith(f"  {path}: table pages, row id=2, column body: ")
        assert "has no equivalent in encoding" in line and "(value 'price: 5 €')" in line
        assert fetch(latin1, "SELECT count(*) FROM pg_namespace WHERE nspname = 'docs'") == [
            (1,)  # the schema was created first; its table holds nothing
        ]
        assert fetch(latin1, "SELECT count(*) FROM docs.pages") == [(0,)]
    finally:
        with psycopg.connect(pg_server.conninfo(), autocommit=True) as conn:
            conn.execute(f"DROP DATABASE {name}")


def test_a_value_too_long_to_index_names_the_row_and_column(
    tmp_path: Path, target: PgTarget, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "links.db"
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("CREATE TABLE links (id INTEGER PRIMARY KEY, url TEXT UNIQUE)")
        conn.executemany(
            "INSERT INTO links VALUES (?, ?)",
            [(1, "https://a.example"), (7, "data:" + os.urandom(8000).hex()), (9, "b")],
        )
        conn.commit()
    argv = ["--sqlite", str(path), "--target-schema", "links", "--create-schema"]
    code, out, err = cli(capsys, target, *argv)
    assert code == 2, out + err
    line = next(line for line in err.splitlines() if "table links," in line)
    assert line.startswith(f"  {path}: table links, row id=7, column url: PostgreSQL refused it: ")
    assert "too long to be indexed" in line and "(value 'data:" in line
    assert fetch(target, "SELECT count(*) FROM links.links") == [(0,)]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"batch_size": 0}, "--batch-size must be at least 1"),
        ({"jobs": -1}, "--jobs must be 0 or more"),
        ({"dry_run": True, "verify_only": True}, "--dry-run and --verify-only exclude each other"),
    ],
)
def test_run_options_refuse_what_no_run_can_do(options: dict[str, object], message: str) -> None:
    with pytest.raises(UsageError) as refused:
        RunOptions(**options)  # type: ignore[arg-type]
    assert str(refused.value) == message
