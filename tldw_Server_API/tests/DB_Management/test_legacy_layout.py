"""The legacy SQLite layout (content-schema.md) and the sample data generated in it.

The expectations below are transcribed from the spec, not derived from ``LEGACY_DDL``, so a
drift between the two fails here. Everything runs against real SQLite files in tmp_path.
"""

from __future__ import annotations

import re
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from tldw_Server_API.app.core.DB_Management.legacy_layout import (
    LEGACY_DDL,
    LEGACY_FTS,
    LEGACY_TABLES,
    create_legacy_database,
)
from tldw_Server_API.app.core.DB_Management.sample_data import (
    generate,
    generate_installation,
    main,
)

SYNC = ("uuid", "last_modified", "version", "client_id", "deleted", "prev_version")
SYNC_ALL = (*SYNC, "merge_parent_uuid")
CHACHA_TIMES = ("created_at", "last_modified", "deleted", "client_id", "version")

# table -> columns, per content-schema.md
SPEC_COLUMNS: dict[str, dict[str, tuple[str, ...]]] = {
    "media": {
        "Media": (
            "id", "url", "title", "type", "content", "author", "ingestion_date",
            "transcription_model", "is_trash", "trash_date", "vector_embedding",
            "chunking_status", "vector_processing", "content_hash", "source_hash", "visibility",
            "owner_user_id", *SYNC_ALL,
        ),
        "Keywords": ("id", "keyword", *SYNC_ALL),
        "MediaKeywords": ("id", "media_id", "keyword_id"),
        "Transcripts": (
            "id", "media_id", "whisper_model", "transcription", "created_at", *SYNC_ALL,
        ),
        "MediaChunks": (
            "id", "media_id", "chunk_text", "start_index", "end_index", "chunk_id", *SYNC_ALL,
        ),
        "UnvectorizedMediaChunks": (
            "id", "media_id", "chunk_text", "chunk_index", "start_char", "end_char",
            "chunk_type", "creation_date", "last_modified_orig", "is_processed", "metadata",
            *SYNC_ALL,
        ),
        "DocumentVersions": (
            "id", "media_id", "version_number", "prompt", "analysis_content", "safe_metadata",
            "content", "created_at", *SYNC_ALL,
        ),
        "DocumentVersionIdentifiers": ("dv_id", "doi", "pmid", "pmcid", "arxiv_id", "s2_paper_id"),
        "Claims": (
            "id", "media_id", "chunk_index", "span_start", "span_end", "claim_text",
            "confidence", "extractor", "extractor_version", "chunk_hash", "created_at",
            *SYNC_ALL,
        ),
        "sync_log": (
            "change_id", "entity", "entity_uuid", "operation", "timestamp", "client_id",
            "version", "payload",
        ),
        "schema_version": ("version",),
    },
    "chacha": {
        "character_cards": (
            "id", "name", "description", "personality", "scenario", "system_prompt", "image",
            "post_history_instructions", "first_message", "message_example", "creator_notes",
            "alternate_greetings", "tags", "creator", "character_version", "extensions",
            *CHACHA_TIMES,
        ),
        "conversations": (
            "id", "root_id", "forked_from_message_id", "parent_conversation_id", "character_id",
            "title", "rating", *CHACHA_TIMES,
        ),
        "messages": (
            "id", "conversation_id", "parent_message_id", "sender", "content", "image_data",
            "image_mime_type", "timestamp", "ranking", "last_modified", "deleted", "client_id",
            "version",
        ),
        "notes": (
            "id", "title", "content", *CHACHA_TIMES, "conversation_id", "message_id",
        ),
        "keywords": ("id", "keyword", *CHACHA_TIMES),
        "keyword_collections": ("id", "name", "parent_id", *CHACHA_TIMES),
        "conversation_keywords": ("conversation_id", "keyword_id", "created_at"),
        "collection_keywords": ("collection_id", "keyword_id", "created_at"),
        "note_keywords": ("note_id", "keyword_id", "created_at"),
        "sync_log": (
            "change_id", "entity", "entity_id", "operation", "timestamp", "client_id",
            "version", "payload",
        ),
        "db_schema_version": ("schema_name", "version"),
    },
    "analytics": {
        "search_analytics": (
            "id", "timestamp", "query_hash", "query_length", "query_complexity", "search_type",
            "results_count", "max_score", "avg_score", "response_time_ms", "cache_hit",
            "reranking_used", "expansion_used", "filters_used", "error_occurred", "error_type",
        ),
        "analytics_events": ("id", "timestamp", "event_type", "query_hash", "metrics"),
        # The spec names these five without columns: id and timestamp are all it promises.
        "document_performance": ("id", "timestamp"),
        "feedback_analytics": ("id", "timestamp"),
        "error_tracking": ("id", "timestamp"),
        "system_performance": ("id", "timestamp"),
        "feature_usage": ("id", "timestamp"),
    },
    "workflows": {
        "workflows": (
            "id", "tenant_id", "name", "version", "owner_id", "visibility", "description",
            "tags", "definition_json", "created_at", "updated_at", "is_active",
        ),
        "workflow_runs": (
            "run_id", "tenant_id", "workflow_id", "status", "status_reason", "user_id",
            "inputs_json", "outputs_json", "error", "duration_ms", "created_at", "started_at",
            "ended_at", "definition_version", "definition_snapshot_json", "idempotency_key",
            "cancel_requested",
        ),
        "workflow_step_runs": (
            "step_run_id", "tenant_id", "run_id", "step_id", "name", "type", "status",
            "attempt", "started_at", "ended_at", "inputs_json", "outputs_json", "error",
            "locked_by", "locked_at", "lock_expires_at", "heartbeat_at",
        ),
        "workflow_events": (
            "event_id", "tenant_id", "run_id", "step_run_id", "event_seq", "event_type",
            "payload_json", "created_at",
        ),
        "workflow_artifacts": (
            "artifact_id", "tenant_id", "run_id", "step_run_id", "type", "uri", "size_bytes",
            "mime_type", "checksum_sha256", "metadata_json", "created_at",
        ),
    },
}  # fmt: skip

# (table, column) -> (referenced table, referenced column, ON DELETE)
SPEC_FOREIGN_KEYS: dict[str, dict[tuple[str, str], tuple[str, str, str]]] = {
    "media": {
        ("MediaKeywords", "media_id"): ("Media", "id", "CASCADE"),
        ("MediaKeywords", "keyword_id"): ("Keywords", "id", "CASCADE"),
        ("Transcripts", "media_id"): ("Media", "id", "CASCADE"),
        ("MediaChunks", "media_id"): ("Media", "id", "CASCADE"),
        ("UnvectorizedMediaChunks", "media_id"): ("Media", "id", "CASCADE"),
        ("DocumentVersions", "media_id"): ("Media", "id", "CASCADE"),
        ("DocumentVersionIdentifiers", "dv_id"): ("DocumentVersions", "id", "CASCADE"),
        ("Claims", "media_id"): ("Media", "id", "CASCADE"),
    },
    "chacha": {
        ("conversations", "forked_from_message_id"): ("messages", "id", "SET NULL"),
        ("conversations", "parent_conversation_id"): ("conversations", "id", "SET NULL"),
        ("conversations", "character_id"): ("character_cards", "id", "CASCADE"),
        ("messages", "conversation_id"): ("conversations", "id", "CASCADE"),
        ("messages", "parent_message_id"): ("messages", "id", "SET NULL"),
        ("notes", "conversation_id"): ("conversations", "id", "SET NULL"),
        ("notes", "message_id"): ("messages", "id", "SET NULL"),
        ("keyword_collections", "parent_id"): ("keyword_collections", "id", "SET NULL"),
        ("conversation_keywords", "conversation_id"): ("conversations", "id", "CASCADE"),
        ("conversation_keywords", "keyword_id"): ("keywords", "id", "CASCADE"),
        ("collection_keywords", "collection_id"): ("keyword_collections", "id", "CASCADE"),
        ("collection_keywords", "keyword_id"): ("keywords", "id", "CASCADE"),
        ("note_keywords", "note_id"): ("notes", "id", "CASCADE"),
        ("note_keywords", "keyword_id"): ("keywords", "id", "CASCADE"),
    },
    "analytics": {},
    "workflows": {
        ("workflow_runs", "workflow_id"): ("workflows", "id", "NO ACTION"),
        ("workflow_step_runs", "run_id"): ("workflow_runs", "run_id", "CASCADE"),
        ("workflow_events", "run_id"): ("workflow_runs", "run_id", "CASCADE"),
        ("workflow_artifacts", "run_id"): ("workflow_runs", "run_id", "CASCADE"),
    },
}

# table -> column sets that must be UNIQUE (by a constraint or a primary key)
SPEC_UNIQUE: dict[str, dict[str, list[tuple[str, ...]]]] = {
    "media": {
        "Media": [("url",), ("uuid",)],
        "Keywords": [("keyword",), ("uuid",)],
        "MediaKeywords": [("media_id", "keyword_id")],
        "MediaChunks": [("chunk_id",), ("uuid",)],
        "UnvectorizedMediaChunks": [("media_id", "chunk_index", "chunk_type"), ("uuid",)],
        "DocumentVersions": [("media_id", "version_number"), ("uuid",)],
        "Transcripts": [("uuid",)],
        "Claims": [("uuid",)],
    },
    "chacha": {
        "character_cards": [("name",)],
        "keywords": [("keyword",)],
        "keyword_collections": [("name",)],
        "conversation_keywords": [("conversation_id", "keyword_id")],
        "collection_keywords": [("collection_id", "keyword_id")],
        "note_keywords": [("note_id", "keyword_id")],
    },
    "analytics": {},
    "workflows": {
        "workflows": [("tenant_id", "name", "version")],
        "workflow_events": [("run_id", "event_seq")],
    },
}

FTS_COLUMNS = {
    "media_fts": ("title", "content"),
    "keyword_fts": ("keyword",),
    "claims_fts": ("claim_text",),
    "character_cards_fts": ("name", "description", "personality", "scenario", "system_prompt"),
    "conversations_fts": ("title",),
    "messages_fts": ("content",),
    "keywords_fts": ("keyword",),
    "keyword_collections_fts": ("name",),
    "notes_fts": ("title", "content"),
}

SIZES = {"media": 60, "chacha": 40, "analytics": 120, "workflows": 40}


def connect(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path)


def columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in conn.execute(f'PRAGMA table_info("{table}")')]


def unique_column_sets(conn: sqlite3.Connection, table: str) -> set[tuple[str, ...]]:
    """Column sets covered by a UNIQUE index or the (non-rowid) primary key."""
    sets = set()
    for _, name, unique, _, _ in conn.execute(f'PRAGMA index_list("{table}")'):
        if unique:
            info = conn.execute(f'PRAGMA index_info("{name}")').fetchall()
            sets.add(tuple(row[2] for row in info))
    pk = [row for row in conn.execute(f'PRAGMA table_info("{table}")') if row[5]]
    sets.add(tuple(row[1] for row in sorted(pk, key=lambda r: r[5])))
    return sets


def dump(path: Path) -> list[str]:
    with closing(connect(path)) as conn:
        return list(conn.iterdump())


@pytest.fixture(scope="module")
def empty_dbs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("empty")
    paths = {kind: root / f"{kind}.db" for kind in LEGACY_DDL}
    for kind, path in paths.items():
        create_legacy_database(kind, path)
    return paths


@pytest.fixture(scope="module")
def sample_dbs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("sample")
    paths = {kind: root / f"{kind}.db" for kind in LEGACY_DDL}
    for kind, path in paths.items():
        generate(kind, path, size=SIZES[kind], seed=3)
    return paths


@pytest.fixture
def media(sample_dbs: dict[str, Path]) -> Iterator[sqlite3.Connection]:
    with closing(connect(sample_dbs["media"])) as conn:
        yield conn


@pytest.fixture
def chacha(sample_dbs: dict[str, Path]) -> Iterator[sqlite3.Connection]:
    with closing(connect(sample_dbs["chacha"])) as conn:
        yield conn


# ------------------------------------------------------------------------------------------
# The layout
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(SPEC_COLUMNS))
def test_every_table_and_column_of_the_spec(empty_dbs: dict[str, Path], kind: str) -> None:
    with closing(connect(empty_dbs[kind])) as conn:
        tables = {
            r[0]
            for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if not r[0].startswith("sqlite_")
        }
        fts_shadow = {t for t in tables if any(t.startswith(f) for f in LEGACY_FTS[kind])}
        assert tables - fts_shadow == set(SPEC_COLUMNS[kind]) == set(LEGACY_TABLES[kind])
        for table, expected in SPEC_COLUMNS[kind].items():
            actual = columns(conn, table)
            if kind == "analytics" and len(expected) == 2:
                assert actual[:2] == ["id", "timestamp"] and len(actual) > 4, table
            else:
                assert actual == list(expected), table


def test_workflow_steps_keep_their_old_table_name(empty_dbs: dict[str, Path]) -> None:
    with closing(connect(empty_dbs["workflows"])) as conn:
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    assert "workflow_step_runs" in names and "workflow_steps" not in names


@pytest.mark.parametrize("kind", list(SPEC_FOREIGN_KEYS))
def test_foreign_keys_and_their_delete_actions(empty_dbs: dict[str, Path], kind: str) -> None:
    with closing(connect(empty_dbs[kind])) as conn:
        actual = {}
        for table in LEGACY_TABLES[kind]:
            for row in conn.execute(f'PRAGMA foreign_key_list("{table}")'):
                actual[(table, row[3])] = (row[2], row[4], row[6])
    assert actual == SPEC_FOREIGN_KEYS[kind]


@pytest.mark.parametrize("kind", list(SPEC_UNIQUE))
def test_unique_constraints(empty_dbs: dict[str, Path], kind: str) -> None:
    with closing(connect(empty_dbs[kind])) as conn:
        for table, expected in SPEC_UNIQUE[kind].items():
            found = unique_column_sets(conn, table)
            for cols in expected:
                assert cols in found, (table, cols, found)


SYNCED_MEDIA_TABLES = (
    "Media",
    "Keywords",
    "Transcripts",
    "MediaChunks",
    "UnvectorizedMediaChunks",
    "DocumentVersions",
    "Claims",
)


def test_only_synced_tables_have_sync_columns(empty_dbs: dict[str, Path]) -> None:
    with closing(connect(empty_dbs["media"])) as conn:
        synced = {t for t in LEGACY_TABLES["media"] if "merge_parent_uuid" in columns(conn, t)}
    assert synced == set(SYNCED_MEDIA_TABLES)


@pytest.mark.parametrize("table", SYNCED_MEDIA_TABLES)
def test_sync_columns_are_declared_as_the_spec_says(empty_dbs: dict[str, Path], table: str) -> None:
    with closing(connect(empty_dbs["media"])) as conn:
        info = {r[1]: (r[2], r[3], r[4]) for r in conn.execute(f'PRAGMA table_info("{table}")')}
    assert info["uuid"] == ("TEXT", 1, None)
    assert info["last_modified"] == ("DATETIME", 1, None)
    assert info["version"] == ("INTEGER", 1, "1")
    assert info["client_id"] == ("TEXT", 1, None)
    assert info["deleted"] == ("BOOLEAN", 1, "0")
    assert info["prev_version"] == ("INTEGER", 0, None)
    assert info["merge_parent_uuid"] == ("TEXT", 0, None)


def test_media_defaults_and_types(empty_dbs: dict[str, Path]) -> None:
    with closing(connect(empty_dbs["media"])) as conn:
        media = {r[1]: (r[2], r[3], r[4]) for r in conn.execute("PRAGMA table_info(Media)")}
        claims = {r[1]: (r[2], r[3], r[4]) for r in conn.execute("PRAGMA table_info(Claims)")}
        autoinc = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'Media'").fetchone()
    assert media["is_trash"] == ("BOOLEAN", 1, "0")
    assert media["chunking_status"] == ("TEXT", 1, "'pending'")
    assert media["vector_processing"] == ("INTEGER", 1, "0")
    assert media["visibility"] == ("TEXT", 0, "'personal'")
    assert media["vector_embedding"][0] == "BLOB"
    assert claims["created_at"] == ("DATETIME", 1, "CURRENT_TIMESTAMP")
    assert claims["confidence"][0] == "REAL"
    assert "AUTOINCREMENT" in autoinc[0]


def test_document_version_identifiers_are_indexed(empty_dbs: dict[str, Path]) -> None:
    with closing(connect(empty_dbs["media"])) as conn:
        indexed = {
            conn.execute(f'PRAGMA index_info("{r[1]}")').fetchone()[2]
            for r in conn.execute("PRAGMA index_list(DocumentVersionIdentifiers)")
        }
    assert {"doi", "pmid", "pmcid", "arxiv_id", "s2_paper_id"} <= indexed


@pytest.mark.parametrize("kind", ["media", "chacha"])
def test_keywords_are_nocase_and_ascii_only(empty_dbs: dict[str, Path], kind: str) -> None:
    table = "Keywords" if kind == "media" else "keywords"
    sync = ", uuid, last_modified, client_id" if kind == "media" else ""
    values = ", 'u{0}', 'x', 'c'" if kind == "media" else ""
    with closing(connect(empty_dbs[kind])) as conn:
        insert = f"INSERT INTO {table} (keyword{sync}) VALUES (?{values})"
        conn.execute(insert.format(1), ("Python",))
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute(insert.format(2), ("PYTHON",))
        conn.execute(insert.format(3), ("ÉCOLE",))
        conn.execute(insert.format(4), ("école",))  # NOCASE folds ASCII only: distinct
        conn.rollback()


def test_check_constraints(empty_dbs: dict[str, Path]) -> None:
    with closing(connect(empty_dbs["chacha"])) as conn:
        conn.execute("INSERT INTO character_cards (name) VALUES ('c')")
        ok = "INSERT INTO conversations (id, root_id, character_id, rating, client_id) "
        conn.execute(ok + "VALUES ('a', 'a', 1, 5, 'x')")
        for bad in (0, 6):
            with pytest.raises(sqlite3.IntegrityError):
                conn.execute(ok + "VALUES (?, 'b', 1, ?, 'x')", (f"r{bad}", bad))
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute(
                "INSERT INTO sync_log (entity, entity_id, operation, client_id, version, payload)"
                " VALUES ('notes', '1', 'link', 'x', 1, '{}')"
            )
        conn.rollback()
    with closing(connect(empty_dbs["media"])) as conn:
        log = (
            "INSERT INTO sync_log (entity, entity_uuid, operation, timestamp, client_id, version)"
            " VALUES ('Media', 'u', ?, 't', 'c', 1)"
        )
        for op in ("create", "update", "delete", "link", "unlink"):
            conn.execute(log, (op,))
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute(log, ("upsert",))
        conn.rollback()


def test_schema_version_rows(empty_dbs: dict[str, Path]) -> None:
    with closing(connect(empty_dbs["media"])) as conn:
        assert conn.execute("SELECT * FROM schema_version").fetchall() == [(1,)]
    with closing(connect(empty_dbs["chacha"])) as conn:
        rows = conn.execute("SELECT * FROM db_schema_version").fetchall()
        assert rows == [("ChaChaNotes", 1)]


@pytest.mark.parametrize("kind", ["media", "chacha"])
def test_fts_tables_are_external_content_with_default_tokenizer(
    empty_dbs: dict[str, Path], kind: str
) -> None:
    with closing(connect(empty_dbs[kind])) as conn:
        for fts, content in LEGACY_FTS[kind].items():
            sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (fts,)).fetchone()
            assert sql is not None and "USING fts5" in sql[0], fts
            assert f"content='{content}'" in sql[0] and "tokenize" not in sql[0], fts
            assert columns(conn, fts) == list(FTS_COLUMNS[fts])
            triggers = conn.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?",
                (content,),
            ).fetchone()[0]
            assert triggers == 3, fts


def test_fts_triggers_index_live_rows_only(tmp_path: Path) -> None:
    path = tmp_path / "media.db"
    create_legacy_database("media", path)

    def hits(conn: sqlite3.Connection, query: str) -> list[int]:
        sql = "SELECT rowid FROM media_fts WHERE media_fts MATCH ? ORDER BY rowid"
        return [r[0] for r in conn.execute(sql, (query,))]

    with closing(connect(path)) as conn:
        insert = (
            "INSERT INTO Media (title, type, content, content_hash, uuid, last_modified,"
            " client_id, deleted) VALUES (?, 'document', ?, 'h', ?, 'now', 'c', ?)"
        )
        conn.execute(insert, ("Café notes", "alpha beta", "u1", 0))
        conn.execute(insert, ("Gone", "alpha gamma", "u2", 1))
        assert hits(conn, "alpha") == [1]
        assert hits(conn, "cafe") == [1]  # unicode61 removes diacritics
        conn.execute("UPDATE Media SET deleted = 1, version = 2 WHERE id = 1")
        assert hits(conn, "alpha") == []
        conn.execute("UPDATE Media SET deleted = 0, version = 2 WHERE id = 2")
        assert hits(conn, "gamma") == [2]
        conn.execute("UPDATE Media SET content = 'delta', version = 3 WHERE id = 2")
        assert hits(conn, "gamma") == [] and hits(conn, "delta") == [2]
        conn.execute("DELETE FROM Media WHERE id = 2")
        assert hits(conn, "delta") == []
        assert conn.execute("SELECT count(*) FROM media_fts_docsize").fetchone()[0] == 0


def test_conversation_message_cycle_is_expressible(empty_dbs: dict[str, Path]) -> None:
    with closing(connect(empty_dbs["chacha"])) as conn:
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("BEGIN")
        conn.execute("INSERT INTO character_cards (name) VALUES ('x')")
        conv = (
            "INSERT INTO conversations (id, root_id, character_id, client_id) VALUES (?, ?, 1, 'c')"
        )
        conn.execute(conv, ("A", "A"))
        conn.execute(
            "INSERT INTO messages (id, conversation_id, sender, client_id)"
            " VALUES ('m', 'A', 'u', 'c')"
        )
        conn.execute(conv, ("B", "A"))
        conn.execute("UPDATE conversations SET forked_from_message_id = 'm' WHERE id = 'B'")
        conn.execute("UPDATE conversations SET forked_from_message_id = NULL WHERE id = 'A'")
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        conn.execute("DELETE FROM messages WHERE id = 'm'")  # ON DELETE SET NULL
        fork = conn.execute("SELECT forked_from_message_id FROM conversations WHERE id = 'B'")
        assert fork.fetchone() == (None,)
        conn.rollback()


def test_create_refuses_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    path.write_bytes(b"SQLite format 3\x00 pretend")
    with pytest.raises(FileExistsError):
        create_legacy_database("media", path)
    with pytest.raises(ValueError):
        create_legacy_database("nope", tmp_path / "y.db")


# ------------------------------------------------------------------------------------------
# Generated data
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(LEGACY_DDL))
def test_generated_files_are_consistent(sample_dbs: dict[str, Path], kind: str) -> None:
    with closing(connect(sample_dbs[kind])) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        for table in LEGACY_TABLES[kind]:
            assert conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0] > 0, table


@pytest.mark.parametrize("kind", ["media", "chacha"])
def test_fts_index_holds_exactly_the_live_rows(sample_dbs: dict[str, Path], kind: str) -> None:
    with closing(connect(sample_dbs[kind])) as conn:
        for fts, table in LEGACY_FTS[kind].items():
            indexed = {r[0] for r in conn.execute(f"SELECT id FROM {fts}_docsize")}
            live = {r[0] for r in conn.execute(f'SELECT rowid FROM "{table}" WHERE deleted = 0')}
            dead = conn.execute(f'SELECT count(*) FROM "{table}" WHERE deleted <> 0').fetchone()
            assert indexed == live, fts
            if table in ("Media", "conversations", "messages", "notes"):
                assert dead[0] > 0, f"{table} should hold soft-deleted rows"


def test_media_search_finds_generated_text_and_skips_deleted(media: sqlite3.Connection) -> None:
    title, mid = media.execute(
        "SELECT title, id FROM Media WHERE deleted = 0 ORDER BY id LIMIT 1"
    ).fetchone()
    word = max(re.findall(r"\w+", title), key=len)
    found = [
        r[0] for r in media.execute("SELECT rowid FROM media_fts WHERE media_fts MATCH ?", (word,))
    ]
    assert mid in found
    deleted = media.execute("SELECT id, title FROM Media WHERE deleted = 1").fetchall()
    assert deleted
    for dead_id, dead_title in deleted:
        query = '"' + dead_title.replace('"', "") + '"'
        ids = {
            r[0]
            for r in media.execute("SELECT rowid FROM media_fts WHERE media_fts MATCH ?", (query,))
        }
        assert dead_id not in ids
    common = media.execute(
        "SELECT count(*) FROM media_fts JOIN Media ON Media.id = media_fts.rowid "
        "WHERE media_fts MATCH 'the' AND Media.deleted = 0"
    ).fetchone()[0]
    assert common > 0
    accents = media.execute("SELECT count(*) FROM media_fts WHERE media_fts MATCH 'cafe OR naive'")
    assert accents.fetchone()[0] > 0
    claim = media.execute("SELECT id, claim_text FROM Claims WHERE deleted = 0 LIMIT 1").fetchone()
    cword = max(re.findall(r"\w+", claim[1]), key=len)
    claims = media.execute("SELECT rowid FROM claims_fts WHERE claims_fts MATCH ?", (cword,))
    assert claim[0] in {r[0] for r in claims}


def test_chacha_search(chacha: sqlite3.Connection) -> None:
    for fts, table, column in (
        ("messages_fts", "messages", "content"),
        ("notes_fts", "notes", "title"),
        ("conversations_fts", "conversations", "title"),
    ):
        rowid, text = chacha.execute(
            f"SELECT rowid, {column} FROM {table}"
            f" WHERE deleted = 0 AND {column} IS NOT NULL LIMIT 1"
        ).fetchone()
        word = max(re.findall(r"\w+", text), key=len)
        hits = {
            r[0] for r in chacha.execute(f"SELECT rowid FROM {fts} WHERE {fts} MATCH ?", (word,))
        }
        assert rowid in hits, fts


def test_chacha_keywords_differ_outside_ascii(chacha: sqlite3.Connection) -> None:
    words = {r[0] for r in chacha.execute("SELECT keyword FROM keywords")}
    assert {"ÉCOLE", "école"} <= words
    assert chacha.execute("SELECT count(*) FROM keywords WHERE keyword = 'école'").fetchone() == (
        1,
    )


def test_chacha_reference_cycles_exist(chacha: sqlite3.Connection) -> None:
    forks = chacha.execute(
        "SELECT count(*) FROM conversations c JOIN messages m ON m.id = c.forked_from_message_id "
        "WHERE m.conversation_id <> c.id AND c.parent_conversation_id = m.conversation_id"
    ).fetchone()[0]
    assert forks > 0
    threaded = "SELECT count(*) FROM messages WHERE parent_message_id IS NOT NULL"
    assert chacha.execute(threaded).fetchone()[0] > 0
    nested = "SELECT count(*) FROM keyword_collections WHERE parent_id IS NOT NULL"
    assert chacha.execute(nested).fetchone()[0] > 0
    linked = (
        "SELECT count(*) FROM notes WHERE conversation_id IS NOT NULL AND message_id IS NOT NULL"
    )
    assert chacha.execute(linked).fetchone()[0] > 0
    images = chacha.execute("SELECT image FROM character_cards WHERE image IS NOT NULL").fetchall()
    assert images and all(img[0].startswith(b"\x89PNG\r\n\x1a\n") for img in images)


def test_values_look_like_users_files(media: sqlite3.Connection) -> None:
    kinds = dict(media.execute("SELECT typeof(ingestion_date), count(*) FROM Media GROUP BY 1"))
    assert set(kinds) == {"text", "integer"}
    ints = [
        r[0]
        for r in media.execute(
            "SELECT ingestion_date FROM Media WHERE typeof(ingestion_date) = 'integer'"
        )
    ]
    texts = [
        r[0]
        for r in media.execute(
            "SELECT ingestion_date FROM Media WHERE typeof(ingestion_date) = 'text'"
        )
    ]
    assert any(i < 10**10 for i in ints) and any(i > 10**12 for i in ints)  # seconds and ms
    iso = [t for t in texts if re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", t)]
    plain = [t for t in texts if re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", t)]
    assert len(iso) + len(plain) == len(texts) and len(iso) > len(plain) > 0
    trash = {r[0] for r in media.execute("SELECT DISTINCT is_trash FROM Media")}
    assert trash <= {0, 1, "true", "false"} and trash & {"true", "false"}
    for (value,) in media.execute("SELECT uuid FROM Media"):
        assert uuid.UUID(value).version == 4 and str(uuid.UUID(value)) == value
    blobs = media.execute(
        "SELECT length(vector_embedding) FROM Media WHERE vector_embedding IS NOT NULL"
    )
    assert all(n[0] % 4 == 0 for n in blobs)
    assert media.execute("SELECT count(*) FROM Media WHERE is_trash IN (1, 'true')").fetchone()[0]
    chunks = media.execute(
        "SELECT count(*) FROM MediaChunks c JOIN Media m ON m.id = c.media_id "
        "WHERE substr(m.content, c.start_index + 1, c.end_index - c.start_index) <> c.chunk_text"
    )
    assert chunks.fetchone()[0] == 0


def test_workflow_runs_cover_every_status_and_events_have_no_gaps(
    sample_dbs: dict[str, Path],
) -> None:
    with closing(connect(sample_dbs["workflows"])) as conn:
        statuses = {r[0] for r in conn.execute("SELECT DISTINCT status FROM workflow_runs")}
        assert statuses == {
            "queued", "running", "paused", "waiting_human", "waiting_approval",
            "succeeded", "failed", "cancelled",
        }  # fmt: skip
        gaps = conn.execute(
            "SELECT run_id FROM workflow_events GROUP BY run_id "
            "HAVING min(event_seq) <> 1 OR max(event_seq) <> count(*)"
        ).fetchall()
        assert gaps == []
        runs_without_events = conn.execute(
            "SELECT count(*) FROM workflow_runs r WHERE NOT EXISTS "
            "(SELECT 1 FROM workflow_events e WHERE e.run_id = r.run_id)"
        ).fetchone()[0]
        assert runs_without_events == 0
        queued_steps = conn.execute(
            "SELECT count(*) FROM workflow_step_runs s JOIN workflow_runs r USING (run_id) "
            "WHERE r.status = 'queued'"
        ).fetchone()[0]
        assert queued_steps == 0


def test_generation_is_deterministic(tmp_path: Path) -> None:
    for kind, size in SIZES.items():
        a, b, c = (tmp_path / f"{kind}-{n}.db" for n in "abc")
        assert generate(kind, a, size=size, seed=11) == generate(kind, b, size=size, seed=11)
        generate(kind, c, size=size, seed=12)
        assert dump(a) == dump(b), kind
        assert dump(a) != dump(c), kind


@pytest.mark.parametrize("kind", list(LEGACY_DDL))
def test_sizes_scale_with_size(tmp_path: Path, kind: str) -> None:
    small = generate(kind, tmp_path / "small.db", size=SIZES[kind], seed=5)
    large = generate(kind, tmp_path / "large.db", size=SIZES[kind] * 4, seed=5)
    assert (tmp_path / "large.db").stat().st_size > (tmp_path / "small.db").stat().st_size
    assert sum(large.values()) > 3 * sum(small.values())
    if kind == "media":
        assert small["Media"] == SIZES[kind] and large["Media"] == 4 * SIZES[kind]
        assert large["MediaChunks"] == 4 * large["Media"]


def test_generate_installation_and_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    written = generate_installation(tmp_path / "inst", users=["1", "2"], media_items=30, seed=1)
    assert set(written) == {
        "user_databases/1/Media_DB_v2.db",
        "user_databases/1/ChaChaNotes.db",
        "user_databases/2/Media_DB_v2.db",
        "user_databases/2/ChaChaNotes.db",
        "Analytics.db",
        "workflows.db",
    }
    assert written["user_databases/1/Media_DB_v2.db"]["Media"] == 30
    one, two = (dump(tmp_path / "inst" / f"user_databases/{u}/Media_DB_v2.db") for u in "12")
    assert one != two
    with closing(connect(tmp_path / "inst/user_databases/2/Media_DB_v2.db")) as conn:
        assert conn.execute("SELECT DISTINCT owner_user_id FROM Media").fetchall() == [(2,)]
    with pytest.raises(ValueError):
        generate_installation(tmp_path / "bad", users=["../x"])

    assert main(["--data-dir", str(tmp_path / "cli"), "--users", "7", "--media-items", "12"]) == 0
    out = capsys.readouterr().out
    assert "Media_DB_v2.db" in out and "Media=12" in out and "workflows.db" in out
    assert main(["--data-dir", str(tmp_path / "cli"), "--media-items", "12", "--users", "7"]) == 2
