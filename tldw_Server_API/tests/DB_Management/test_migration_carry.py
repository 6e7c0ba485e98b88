"""Nothing of the user's is left behind: tables and columns our schema does not know are carried.

Each test starts from a Media file in our users' layout, adds what a newer server, a feature we do
not have or the user themselves put there, migrates it and reads PostgreSQL back.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import psycopg
import pytest

from tldw_Server_API.app.core.DB_Management.backends.target import PgTarget
from tldw_Server_API.app.core.DB_Management.legacy_layout import create_legacy_database
from tldw_Server_API.app.core.DB_Management.migration.results import MigrationResult
from tldw_Server_API.tests.DB_Management.conftest import (
    assert_ok,
    fetch,
    media,
    media_row,
    run,
)

THEIRS = """
CREATE TABLE tts_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    media_id INTEGER REFERENCES Media(id) ON DELETE CASCADE,
    voice TEXT NOT NULL COLLATE NOCASE,
    seconds REAL,
    audio BLOB,
    created_at DATETIME DEFAULT (datetime('now')),
    settings JSON
);
CREATE INDEX idx_tts_history_voice ON tts_history(voice);
CREATE TABLE my_reading_list (title TEXT, added DATE DEFAULT CURRENT_DATE);
ALTER TABLE Media ADD COLUMN my_rating INTEGER DEFAULT 3;
ALTER TABLE Keywords ADD COLUMN colour TEXT;
"""


@pytest.fixture
def users_file(tmp_path: Path) -> Path:
    """A late-2025 Media file given a feature's table, a user's own table and column."""
    media_file = tmp_path / "late-2025" / "Media_DB_v2.db"
    create_legacy_database("media", media_file, layout="late-2025")
    with closing(sqlite3.connect(media_file)) as conn, conn:
        conn.executescript(THEIRS)
        media_row(conn, 1, my_rating=5)
        media_row(conn, 2)
        conn.execute(
            "INSERT INTO tts_history (media_id, voice, seconds, audio, settings) "
            "VALUES (1, 'Alloy', 12.5, x'00ff10', '{\"speed\": 1.2}'), "
            "(2, 'nova', NULL, NULL, NULL)"
        )
        conn.execute("INSERT INTO my_reading_list (title) VALUES ('Dune'), ('Solaris')")
    return media_file


def _migrated(result: MigrationResult) -> dict[str, bool]:
    assert_ok(result)
    return {t.target: t.verified for t in result.databases[0].tables}


def test_a_table_we_do_not_know_is_created_copied_and_verified(
    users_file: Path, pg_target: PgTarget
) -> None:
    verified = _migrated(run(pg_target, media(users_file)))
    assert verified["user_1_media.tts_history"] is True
    rows = fetch(
        pg_target,
        "SELECT media_id, voice, seconds, audio, settings "
        "FROM user_1_media.tts_history ORDER BY id",
    )
    assert rows == [
        (1, "Alloy", 12.5, b"\x00\xff\x10", {"speed": 1.2}),
        (2, "nova", None, None, None),
    ]


def test_a_table_without_keys_is_carried_too(users_file: Path, pg_target: PgTarget) -> None:
    verified = _migrated(run(pg_target, media(users_file)))
    assert verified["user_1_media.my_reading_list"] is True
    titles = fetch(pg_target, "SELECT title FROM user_1_media.my_reading_list ORDER BY title")
    assert titles == [("Dune",), ("Solaris",)]


def test_a_column_we_do_not_know_is_added_to_our_table(
    users_file: Path, pg_target: PgTarget
) -> None:
    _migrated(run(pg_target, media(users_file)))
    ratings = fetch(pg_target, "SELECT id, my_rating FROM user_1_media.media ORDER BY id")
    assert ratings == [(1, 5), (2, 3)]


def test_the_summary_lists_what_was_carried(users_file: Path, pg_target: PgTarget) -> None:
    result = run(pg_target, media(users_file))
    assert_ok(result)
    database = result.databases[0]
    assert set(database.carried) == {
        "table user_1_media.tts_history",
        "table user_1_media.my_reading_list",
        "column user_1_media.media.my_rating",
        "column user_1_media.keywords.colour",
    }
    by_target = {t.target: t for t in database.tables}
    assert by_target["user_1_media.tts_history"].carried is True
    assert by_target["user_1_media.media"].carried_columns == ["my_rating"]
    assert by_target["user_1_media.claims"].carried is False


def test_carried_foreign_keys_and_indexes_hold_on_the_target(
    users_file: Path, pg_target: PgTarget
) -> None:
    _migrated(run(pg_target, media(users_file)))
    with psycopg.connect(pg_target.conninfo()) as conn:
        with pytest.raises(psycopg.errors.ForeignKeyViolation):
            conn.execute("INSERT INTO user_1_media.tts_history (media_id, voice) VALUES (999, 'x')")
        conn.rollback()
        conn.execute("DELETE FROM user_1_media.media WHERE id = 2")
        left = conn.execute("SELECT media_id FROM user_1_media.tts_history").fetchall()
    assert left == [(1,)]  # ON DELETE CASCADE came along


def test_a_rerun_replaces_the_carried_rows(users_file: Path, pg_target: PgTarget) -> None:
    _migrated(run(pg_target, media(users_file)))
    with closing(sqlite3.connect(users_file)) as conn, conn:
        conn.execute("DELETE FROM my_reading_list WHERE title = 'Dune'")
    result = run(pg_target, media(users_file))
    assert _migrated(result)["user_1_media.my_reading_list"] is True
    assert fetch(pg_target, "SELECT title FROM user_1_media.my_reading_list") == [("Solaris",)]
    assert "table user_1_media.my_reading_list" in result.databases[0].carried


def test_a_dry_run_lists_what_would_be_carried_and_creates_nothing(
    users_file: Path, pg_database: PgTarget
) -> None:
    run(pg_database, media(users_file), dry_run=False, skip_tables={"tts_history"})
    result = run(pg_database, media(users_file), dry_run=True)
    assert result.exit_code == 0
    assert "table user_1_media.tts_history" in result.databases[0].carried
    tables = fetch(
        pg_database,
        "SELECT count(*) FROM pg_tables WHERE schemaname = 'user_1_media' "
        "AND tablename = 'tts_history'",
    )
    assert tables == [(0,)]


def test_skip_table_is_the_only_way_to_leave_a_table_out(
    users_file: Path, pg_database: PgTarget
) -> None:
    result = run(pg_database, media(users_file), skip_tables={"tts_history"})
    assert_ok(result)
    assert result.databases[0].skipped["tts_history"] == "--skip-table"
    assert "table user_1_media.tts_history" not in result.databases[0].carried


def test_a_failed_run_leaves_no_carried_table_behind(
    users_file: Path, pg_database: PgTarget
) -> None:
    with closing(sqlite3.connect(users_file)) as conn, conn:
        conn.execute("PRAGMA foreign_keys = OFF")
        conn.execute("INSERT INTO tts_history (media_id, voice) VALUES (404, 'orphan')")
    result = run(pg_database, media(users_file))
    assert result.exit_code != 0
    tables = fetch(
        pg_database,
        "SELECT tablename FROM pg_tables WHERE schemaname = 'user_1_media' "
        "AND tablename IN ('tts_history', 'my_reading_list')",
    )
    assert tables == []
    columns = fetch(
        pg_database,
        "SELECT column_name FROM information_schema.columns WHERE table_schema = 'user_1_media' "
        "AND column_name = 'my_rating'",
    )
    assert columns == []


def test_the_server_leaves_carried_tables_and_columns_alone(
    users_file: Path, pg_database: PgTarget, tmp_path: Path
) -> None:
    from tldw_Server_API.app.core.DB_Management.registry import DatabaseRegistry
    from tldw_Server_API.app.core.DB_Management.stores.media import MediaStore
    from tldw_Server_API.tests.conftest import settings_for

    _migrated(run(pg_database, media(users_file)))
    registry = DatabaseRegistry(settings_for("postgresql", tmp_path / "Databases", pg_database))
    try:
        store = MediaStore(registry.media())
        item = store.add_media("After the switch", "written by our server", "article")
        assert store.get_media(item.id).title == "After the switch"
    finally:
        registry.close()
    assert fetch(pg_database, "SELECT count(*) FROM user_1_media.tts_history") == [(2,)]
    ratings = fetch(pg_database, "SELECT my_rating FROM user_1_media.media WHERE id = 1")
    assert ratings == [(5,)]


# -- a target column narrower than the data is widened ------------------------------------------


def _with_values(media_file: Path, **columns: object) -> Path:
    with closing(sqlite3.connect(media_file)) as conn, conn:
        media_row(conn, 1, **columns)
        media_row(conn, 2)
    return media_file


def test_a_fraction_in_an_integer_column_widens_it_and_arrives_exact(
    media_file: Path, pg_database: PgTarget
) -> None:
    result = run(pg_database, media(_with_values(media_file, vector_processing=2.5)))
    assert_ok(result)
    assert result.databases[0].widened == [
        "user_1_media.media.vector_processing: bigint -> double precision"
    ]
    values = fetch(pg_database, "SELECT vector_processing FROM user_1_media.media ORDER BY id")
    assert values == [(2.5,), (0.0,)]


def test_text_in_an_integer_column_widens_it_to_text(
    media_file: Path, pg_database: PgTarget
) -> None:
    result = run(pg_database, media(_with_values(media_file, owner_user_id="alice")))
    assert_ok(result)
    assert result.databases[0].widened == ["user_1_media.media.owner_user_id: bigint -> text"]
    owners = fetch(pg_database, "SELECT owner_user_id FROM user_1_media.media ORDER BY id")
    assert owners == [("alice",), (None,)]


def test_numbers_written_as_text_do_not_widen_anything(
    media_file: Path, pg_database: PgTarget
) -> None:
    result = run(pg_database, media(_with_values(media_file, owner_user_id="12")))
    assert_ok(result)
    assert result.databases[0].widened == []
    assert fetch(pg_database, "SELECT owner_user_id FROM user_1_media.media WHERE id = 1") == [
        (12,)
    ]


def test_a_table_with_a_name_over_63_bytes_is_carried_under_its_short_name(
    users_file: Path, pg_database: PgTarget
) -> None:
    long_name = "reading_highlights_exported_from_the_browser_extension_" + "x" * 20
    with closing(sqlite3.connect(users_file)) as conn, conn:
        conn.execute(f'CREATE TABLE "{long_name}" (id INTEGER PRIMARY KEY, quote TEXT)')
        conn.execute(f"INSERT INTO \"{long_name}\" (quote) VALUES ('to be or not')")
    _migrated(run(pg_database, media(users_file)))
    verified = _migrated(run(pg_database, media(users_file)))  # found again, not re-created
    (target,) = [name for name in verified if name.startswith("user_1_media.reading_highlights")]
    assert verified[target] is True
    assert len(target.split(".", 1)[1].encode()) <= 63
    schema, table = target.split(".", 1)
    assert fetch(pg_database, f'SELECT quote FROM {schema}."{table}"') == [("to be or not",)]
