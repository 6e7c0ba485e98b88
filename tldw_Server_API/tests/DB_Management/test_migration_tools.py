"""The migration as a library call: ``migrate(MigrationOptions(...))`` on real files and PostgreSQL.

Each test writes a SQLite file in our users' layout (``legacy_layout``), migrates it into the
module's PostgreSQL database (every run replaces the whole schema's rows, so tests do not see each
other's data) and reads the result back from PostgreSQL itself, not from the tool's report.
"""

from __future__ import annotations

import hashlib
import math
import os
import sqlite3
import struct
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from tldw_Server_API.app.core.DB_Management.backends.target import PgTarget
from tldw_Server_API.app.core.DB_Management.migration.options import SourceFile
from tldw_Server_API.app.core.DB_Management.registry import DatabaseRegistry
from tldw_Server_API.app.core.DB_Management.sample_data import generate, row_counts
from tldw_Server_API.app.core.DB_Management.stores.media import MediaStore
from tldw_Server_API.tests.conftest import settings_for
from tldw_Server_API.tests.DB_Management.conftest import (
    STAMP,
    assert_ok,
    fetch,
    media,
    media_row,
    run,
)


def test_migrate_returns_a_verified_result_per_table(tmp_path: Path, pg_target: PgTarget) -> None:
    path = tmp_path / "Media_DB_v2.db"
    counts = generate("media", path, size=8)
    result = run(pg_target, media(path))
    assert_ok(result)
    (db,) = result.databases
    assert db.status == "migrated" and db.namespace == "user_1_media"
    by_source = {t.source: t for t in db.tables}
    expected = dict(counts)  # their server's schema_version row is their data: copied too
    assert set(by_source) == set(expected)
    for name, n in expected.items():
        table = by_source[name]
        assert (table.source_rows, table.target_rows, table.verified) == (n, n, True), name
        assert table.target == f"user_1_media.{name.lower()}"
    assert "schema_version" not in db.skipped
    assert any(s.startswith("SELECT setval('user_1_media.media_id_seq'") for s in db.setval)


def test_timestamps_in_every_form_arrive_as_the_same_instant(
    media_file: Path, pg_target: PgTarget
) -> None:
    moment = datetime(2025, 10, 8, 12, 34, 56, 789000, tzinfo=UTC)
    whole = moment.replace(microsecond=0)
    forms: dict[int, tuple[object, datetime]] = {
        1: ("2025-10-08T12:34:56.789Z", moment),
        2: ("2025-10-08T12:34:56.789+00:00", moment),
        3: ("2025-10-08 12:34:56.789", moment),
        4: ("2025-10-08T12:34:56.789", moment),
        5: ("2025-10-08T14:34:56.789+02:00", moment),
        6: ("2025-10-08 12:34:56", whole),
        7: ("2025-10-08", datetime(2025, 10, 8, tzinfo=UTC)),
        8: (1759926896, whole),
        9: (1759926896789, moment),
    }
    with closing(sqlite3.connect(media_file)) as conn:
        for media_id, (value, _) in forms.items():
            media_row(conn, media_id, ingestion_date=value, last_modified=value)
        conn.commit()
    assert_ok(run(pg_target, media(media_file)))
    rows = fetch(
        pg_target,
        "SELECT id, ingestion_date, last_modified, "
        "(extract(epoch FROM ingestion_date) * 1000)::bigint FROM user_1_media.media",
    )
    assert len(rows) == len(forms)
    for media_id, ingested, modified, millis in rows:
        expected = forms[media_id][1]
        assert ingested == expected == modified, forms[media_id][0]
        assert millis == int(expected.timestamp() * 1000)


def test_reals_stay_exactly_the_same_double(media_file: Path, pg_target: PgTarget) -> None:
    values = [0.1, 1 / 3, 2.0**-1074, 1.7976931348623157e308, -0.0, 123456789.123456789, math.pi]
    with closing(sqlite3.connect(media_file)) as conn:
        media_row(conn, 1)
        for n, value in enumerate(values, 1):
            conn.execute(
                "INSERT INTO Claims (id, media_id, chunk_index, claim_text, confidence, extractor, "
                "extractor_version, chunk_hash, uuid, last_modified, client_id) "
                "VALUES (?, 1, 0, 'c', ?, 'x', '1', 'h', ?, ?, 'test')",
                (n, value, str(uuid.uuid4()), STAMP),
            )
        conn.commit()
        stored = dict(conn.execute("SELECT id, confidence FROM Claims"))
    assert_ok(run(pg_target, media(media_file)))
    rows = dict(
        fetch(
            pg_target,
            "SELECT id, encode(float8send(confidence), 'hex') FROM user_1_media.claims",
        )
    )
    assert set(rows) == set(stored) == set(range(1, len(values) + 1))
    for n, value in stored.items():
        assert isinstance(value, float)
        assert rows[n] == struct.pack(">d", value).hex(), value
    assert stored[2] == 1 / 3 and stored[3] == 2.0**-1074


def test_booleans_from_0_1_true_false(media_file: Path, pg_target: PgTarget) -> None:
    flags = {1: 0, 2: 1, 3: "true", 4: "false", 5: "TRUE"}
    with closing(sqlite3.connect(media_file)) as conn:
        for media_id, flag in flags.items():
            media_row(conn, media_id, is_trash=flag, deleted=flag)
        conn.commit()
    assert_ok(run(pg_target, media(media_file)))
    rows = {
        r[0]: r[1:]
        for r in fetch(pg_target, "SELECT id, is_trash, deleted FROM user_1_media.media")
    }
    expected = {1: False, 2: True, 3: True, 4: False, 5: True}
    assert rows == {k: (v, v) for k, v in expected.items()}


def test_uuids_and_text_keys_are_preserved(tmp_path: Path, pg_target: PgTarget) -> None:
    media_path, chacha_path = tmp_path / "Media_DB_v2.db", tmp_path / "ChaChaNotes.db"
    generate("media", media_path, size=5)
    generate("chacha", chacha_path, size=5)
    with closing(sqlite3.connect(chacha_path)) as conn:
        # Forms other tools wrote: upper case and braces are kept as they are.
        conn.execute("PRAGMA foreign_keys = ON")
        odd = "{" + str(uuid.uuid4()).upper() + "}"
        conn.execute(
            "INSERT INTO notes (id, title, content, client_id) VALUES (?, 't', 'c', 'x')", (odd,)
        )
        conn.commit()
    result = run(pg_target, media(media_path), SourceFile("chacha", chacha_path, "1"))
    assert_ok(result)
    with closing(sqlite3.connect(media_path)) as conn:
        media_uuids = {r[0] for r in conn.execute("SELECT uuid FROM Media")}
    with closing(sqlite3.connect(chacha_path)) as conn:
        note_ids = {r[0] for r in conn.execute("SELECT id FROM notes")}
        message_ids = {r[0] for r in conn.execute("SELECT id FROM messages")}
    assert {r[0] for r in fetch(pg_target, "SELECT uuid FROM user_1_media.media")} == media_uuids
    assert {r[0] for r in fetch(pg_target, "SELECT id FROM user_1_chacha.notes")} == note_ids
    assert odd in note_ids
    pg_messages = {r[0] for r in fetch(pg_target, "SELECT id FROM user_1_chacha.messages")}
    assert pg_messages == message_ids


def test_soft_delete_flags_are_preserved(tmp_path: Path, pg_target: PgTarget) -> None:
    path = tmp_path / "Media_DB_v2.db"
    generate("media", path, size=30)
    with closing(sqlite3.connect(path)) as conn:
        deleted = {
            r[0] for r in conn.execute("SELECT uuid FROM Media WHERE deleted IN (1, 'true')")
        }
        live = {r[0] for r in conn.execute("SELECT uuid FROM Media WHERE deleted IN (0, 'false')")}
    assert deleted and live
    assert_ok(run(pg_target, media(path)))
    rows = fetch(pg_target, "SELECT uuid, deleted FROM user_1_media.media")
    assert {u for u, d in rows if d} == deleted
    assert {u for u, d in rows if not d} == live


def test_fts_tables_are_skipped_and_search_works_at_once(
    media_file: Path, pg_target: PgTarget, tmp_path: Path
) -> None:
    with closing(sqlite3.connect(media_file)) as conn:
        media_row(conn, 1, title="Zebra migration", content="the zebra crossed the river")
        media_row(conn, 2, title="Other", content="nothing about stripes here")
        media_row(conn, 3, title="Zebra deleted", content="zebra", deleted=1)
        conn.commit()
    result = run(pg_target, media(media_file))
    assert_ok(result)
    skipped = result.databases[0].skipped
    for fts in ("media_fts", "keyword_fts", "claims_fts"):
        assert skipped[fts].startswith("virtual (full-text) table")
    assert "media_fts_data" in skipped
    planned = {t.target for t in result.databases[0].tables}
    assert not any("fts" in name for name in planned)
    # The search vector is there the moment the migration commits: no rebuild step.
    matching = fetch(
        pg_target,
        "SELECT id FROM user_1_media.media WHERE search_vector @@ to_tsquery('simple', 'zebra') "
        "ORDER BY id",
    )
    assert matching == [(1,), (3,)]
    registry = DatabaseRegistry(settings_for("postgresql", tmp_path / "Databases", pg_target))
    try:
        hits = MediaStore(registry.media("1")).search_media("zebra")
    finally:
        registry.close()
    assert [h.id for h in hits] == [1]


def test_blobs_arrive_byte_for_byte(media_file: Path, pg_target: PgTarget) -> None:
    blobs = {1: bytes(range(256)) * 4, 2: b"", 3: b"\x00" * 17, 4: os.urandom(4096)}
    with closing(sqlite3.connect(media_file)) as conn:
        for media_id, blob in blobs.items():
            media_row(conn, media_id, vector_embedding=blob)
        conn.commit()
    assert_ok(run(pg_target, media(media_file)))
    rows = dict(fetch(pg_target, "SELECT id, vector_embedding FROM user_1_media.media"))
    assert {k: bytes(v) for k, v in rows.items()} == blobs


def test_sequences_resume_past_sqlite_autoincrement_high_water_mark(
    media_file: Path, pg_target: PgTarget
) -> None:
    with closing(sqlite3.connect(media_file)) as conn:
        for media_id in range(1, 11):
            media_row(conn, media_id)
        conn.execute("DELETE FROM Media WHERE id > 7")  # AUTOINCREMENT still remembers 10
        conn.commit()
        assert conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'Media'").fetchone() == (
            10,
        )
    assert_ok(run(pg_target, media(media_file)))
    assert fetch(pg_target, "SELECT max(id) FROM user_1_media.media") == [(7,)]
    next_id = fetch(pg_target, "SELECT nextval(pg_get_serial_sequence('user_1_media.media', 'id'))")
    assert next_id == [(11,)]


def test_keywords_differing_only_in_non_ascii_case_both_migrate(
    media_file: Path, pg_target: PgTarget
) -> None:
    with closing(sqlite3.connect(media_file)) as conn:
        for n, word in enumerate(("ÉCOLE", "école", "Ecole"), 1):
            conn.execute(
                "INSERT INTO Keywords (id, keyword, uuid, last_modified, client_id) "
                "VALUES (?, ?, ?, ?, 'test')",
                (n, word, str(uuid.uuid4()), STAMP),
            )
        conn.commit()
    assert_ok(run(pg_target, media(media_file)))
    words = {r[0] for r in fetch(pg_target, "SELECT keyword FROM user_1_media.keywords")}
    assert words == {"ÉCOLE", "école", "Ecole"}


def file_state(path: Path) -> dict[str, tuple[str, int] | None]:
    """sha256 and mtime of a file and of its -wal/-shm/-journal companions (None: absent)."""
    state: dict[str, tuple[str, int] | None] = {}
    for suffix in ("", "-wal", "-shm", "-journal"):
        companion = Path(f"{path}{suffix}")
        if companion.exists():
            digest = hashlib.sha256(companion.read_bytes()).hexdigest()
            state[suffix] = (digest, companion.stat().st_mtime_ns)
        else:
            state[suffix] = None
    return state


@pytest.mark.parametrize("journal_mode", ["delete", "wal"])
def test_source_files_are_never_written(
    tmp_path: Path, pg_target: PgTarget, journal_mode: str
) -> None:
    path = tmp_path / "Media_DB_v2.db"
    generate("media", path, size=5)
    with closing(sqlite3.connect(path)) as conn:
        conn.execute(f"PRAGMA journal_mode = {journal_mode}")
    before = file_state(path)
    assert before["-wal"] is None and before["-shm"] is None
    time.sleep(0.01)  # an mtime written now would differ
    assert_ok(run(pg_target, media(path)))
    assert_ok(run(pg_target, media(path), verify_only=True))
    assert_ok(run(pg_target, media(path), dry_run=True))
    assert file_state(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Media_DB_v2.db"]


@pytest.fixture
def wal_file(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "Media_DB_v2.db"
    generate("media", path, size=40)
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA journal_mode = wal")
    yield path


def test_a_writer_during_the_migration_does_not_tear_the_copy(
    wal_file: Path, pg_target: PgTarget
) -> None:
    with closing(sqlite3.connect(wal_file)) as conn:
        before = conn.execute("SELECT count(*) FROM sync_log").fetchone()[0]
    stop = threading.Event()
    written = 0

    def writer() -> None:
        nonlocal written
        conn = sqlite3.connect(wal_file, timeout=30)
        try:
            while not stop.is_set():
                conn.execute(
                    "INSERT INTO sync_log (entity, entity_uuid, operation, timestamp, client_id, "
                    "version) VALUES ('Media', ?, 'update', ?, 'writer', 1)",
                    (str(uuid.uuid4()), STAMP),
                )
                conn.commit()
                written += 1
        finally:
            conn.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while written < 20:
            time.sleep(0.001)
        result = run(pg_target, media(wal_file))
    finally:
        stop.set()
        thread.join()
    assert_ok(result)
    sync_log = next(t for t in result.databases[0].tables if t.source == "sync_log")
    after = before + written
    assert before + 20 <= sync_log.source_rows <= after
    assert sync_log.verified and sync_log.target_rows == sync_log.source_rows
    count = fetch(pg_target, "SELECT count(*) FROM user_1_media.sync_log")[0][0]
    assert count == sync_log.source_rows
    assert row_counts("media", wal_file)["sync_log"] == after


def test_migrated_search_vectors_equal_what_the_trigger_computes(
    media_file: Path, pg_target: PgTarget
) -> None:
    """The load computes vectors set-wise; the result is what any writer would get."""
    with closing(sqlite3.connect(media_file)) as conn:
        for media_id in range(1, 40):
            media_row(
                conn,
                media_id,
                title=f"Café {media_id} «naïve» ÉCOLE",
                content=f"東京タワー {media_id} foo-bar e-mail a@b.com 3.14 Straße",
            )
        conn.commit()
    assert_ok(run(pg_target, media(media_file)))
    # Touching an indexed column makes the trigger recompute the vector from scratch.
    before = dict(fetch(pg_target, "SELECT id, search_vector::text FROM user_1_media.media"))
    with psycopg.connect(pg_target.conninfo(), autocommit=True) as conn:
        conn.execute("UPDATE user_1_media.media SET title = title || '', version = version + 1")
    after = dict(fetch(pg_target, "SELECT id, search_vector::text FROM user_1_media.media"))
    assert len(before) == 39
    assert before == after
