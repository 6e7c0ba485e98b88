"""The legacy SQLite layout (content-schema.md) and the sample data generated in it.

The expectations below are transcribed from the spec, not derived from ``LEGACY_DDL``, so a
drift between the two fails here. Everything runs against real SQLite files in tmp_path.
"""

from __future__ import annotations

import json
import re
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from tldw_Server_API.app.core.DB_Management.legacy_layout import (
    LAYOUTS,
    LEGACY_DDL,
    LEGACY_FTS,
    LEGACY_TABLES,
    create_legacy_database,
    legacy_layout,
)
from tldw_Server_API.app.core.DB_Management.sample_data import (
    generate,
    generate_installation,
    main,
    row_counts,
)
from tldw_Server_API.app.core.Workflows.definitions import DefinitionError, parse_definition
from tldw_Server_API.app.core.Workflows.steps import STEP_TYPES

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
        "document_performance": (
            "id", "timestamp", "document_hash", "document_type", "chunk_size", "retrieval_count",
            "avg_relevance_score", "citation_count", "feedback_positive", "feedback_negative",
            "last_accessed",
        ),
        "feedback_analytics": (
            "id", "timestamp", "session_hash", "query_hash", "feedback_type", "rating",
            "response_quality", "retrieval_accuracy", "response_time_acceptable", "categories",
            "improvement_areas",
        ),
        "citation_analytics": (
            "id", "timestamp", "citation_style", "document_count", "chunk_count",
            "verification_requested", "format_errors", "generation_time_ms",
        ),
        "error_tracking": (
            "id", "timestamp", "error_type", "error_category", "error_hash", "component",
            "severity", "frequency", "resolved", "resolution_time", "stack_trace_hash",
        ),
        "system_performance": (
            "id", "timestamp", "metric_type", "metric_value", "component", "operation",
            "duration_ms", "memory_mb", "cpu_percent",
        ),
        "feature_usage": (
            "id", "timestamp", "feature_name", "usage_count", "success_count", "failure_count",
            "avg_execution_time_ms", "last_used",
        ),
        "query_patterns": (
            "id", "pattern_hash", "pattern_type", "frequency", "avg_results_quality",
            "avg_response_time_ms", "first_seen", "last_seen",
        ),
        "ab_testing": (
            "id", "timestamp", "test_name", "variant", "session_hash", "metric_name",
            "metric_value", "conversion",
        ),
        "analytics_events": ("id", "timestamp", "event_type", "query_hash", "metrics"),
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

# What "Current installations: Media schema version 23" adds to core tables.
V23_ADDED_COLUMNS: dict[str, tuple[str, ...]] = {
    "Media": ("org_id", "team_id", "latest_transcription_run_id", "next_transcription_run_id"),
    "Transcripts": ("transcription_run_id", "supersedes_run_id", "idempotency_key"),
    "Claims": (
        "review_status", "reviewer_id", "review_group", "reviewed_at", "review_notes",
        "review_version", "review_reason_code", "claim_cluster_id",
    ),
    "sync_log": ("org_id", "team_id"),
}  # fmt: skip

# ... and the tables it describes column by column.
V23_TABLES: dict[str, tuple[str, ...]] = {
    "VisualDocuments": (
        "id", "media_id", "location", "page_number", "frame_index", "timestamp_seconds",
        "caption", "ocr_text", "tags", "thumbnail_path", "extra_metadata", "uuid", "created_at",
        "last_modified", "version", "client_id", "deleted", "prev_version", "merge_parent_uuid",
    ),
    "DocumentStructureIndex": (
        "id", "media_id", "parent_id", "kind", "level", "title", "start_char", "end_char",
        "order_index", "path", "created_at", "last_modified", "version", "client_id", "deleted",
    ),
    "ChunkingTemplates": (
        "id", "name", "description", "template_json", "is_builtin", "tags", "created_at",
        "updated_at", "org_id", "team_id", "user_id", *SYNC_ALL,
    ),
    "MediaFiles": (
        "id", "media_id", "file_type", "storage_path", "original_filename", "file_size",
        "mime_type", "checksum", "created_at", *SYNC_ALL,
    ),
    "schema_migrations": (
        "version", "name", "checksum", "applied_at", "execution_time", "success",
        "error_message",
    ),
}  # fmt: skip

# Tables the spec names without their columns, and what a user added by hand.
V23_NAMED_TABLES = (
    "claims_review_log", "claim_clusters", "claim_cluster_membership", "tts_history",
    "data_tables", "data_table_columns", "data_table_rows", "data_table_sources",
    "email_messages", "email_participants", "email_labels", "content_items",
    "content_item_tags", "reading_highlights",
)  # fmt: skip
USER_TABLES = ("my_reading_list",)
USER_COLUMNS = {"Media": ("my_rating",)}

SCHEMA_VERSION = {"early": 1, "late-2025": 6, "current": 23}


def spec_columns(kind: str, layout: str) -> dict[str, tuple[str, ...] | None]:
    """table -> its columns in order, for *kind* in *layout* (None: only the name is known)."""
    expected: dict[str, tuple[str, ...] | None] = dict(SPEC_COLUMNS[kind])
    if kind != "media":
        return expected
    if layout == "early":
        del expected["DocumentVersionIdentifiers"], expected["Claims"]
    if layout == "current":
        for table, added in V23_ADDED_COLUMNS.items():
            expected[table] = (*SPEC_COLUMNS[kind][table], *added, *USER_COLUMNS.get(table, ()))
        expected.update(V23_TABLES)
        expected.update(dict.fromkeys((*V23_NAMED_TABLES, *USER_TABLES)))
    return expected


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
V23_FOREIGN_KEYS = {
    ("VisualDocuments", "media_id"): ("Media", "id", "CASCADE"),
    ("DocumentStructureIndex", "media_id"): ("Media", "id", "CASCADE"),
    ("MediaFiles", "media_id"): ("Media", "id", "CASCADE"),
}


def spec_foreign_keys(kind: str, layout: str) -> dict[tuple[str, str], tuple[str, str, str]]:
    """The spec's foreign keys of *kind* in *layout*, on the tables whose columns it lists."""
    expected = dict(SPEC_FOREIGN_KEYS[kind])
    if kind == "media" and layout == "early":
        del expected[("DocumentVersionIdentifiers", "dv_id")], expected[("Claims", "media_id")]
    if kind == "media" and layout == "current":
        expected.update(V23_FOREIGN_KEYS)
    return expected


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
    "analytics": {"query_patterns": [("pattern_hash",)]},
    "workflows": {
        "workflows": [("tenant_id", "name", "version")],
        "workflow_events": [("run_id", "event_seq")],
    },
}

FTS_COLUMNS = {
    "media_fts": ("title", "content"),
    "keyword_fts": ("keyword",),
    "claims_fts": ("claim_text",),
    "unvectorized_chunks_fts": ("chunk_text",),
    "email_fts": ("subject", "body_text", "from_address"),
    "content_items_fts": ("title", "summary"),
    "character_cards_fts": ("name", "description", "personality", "scenario", "system_prompt"),
    "conversations_fts": ("title",),
    "messages_fts": ("content",),
    "keywords_fts": ("keyword",),
    "keyword_collections_fts": ("name",),
    "notes_fts": ("title", "content"),
}
MEDIA_FTS = {
    "early": {"media_fts": "Media", "keyword_fts": "Keywords"},
    "late-2025": {"media_fts": "Media", "keyword_fts": "Keywords", "claims_fts": "Claims"},
    "current": {
        "media_fts": "Media",
        "keyword_fts": "Keywords",
        "claims_fts": "Claims",
        "unvectorized_chunks_fts": "UnvectorizedMediaChunks",
        "email_fts": "email_messages",
        "content_items_fts": "content_items",
    },
}
CONTENTLESS = {"content_items_fts"}

SIZES = {"media": 60, "chacha": 40, "analytics": 120, "workflows": 40}
KIND_LAYOUTS = [(kind, layout) for layout in LAYOUTS for kind in SIZES]


def connect(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path)


def columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in conn.execute(f'PRAGMA table_info("{table}")')]


def column_info(conn: sqlite3.Connection, table: str) -> dict[str, tuple[str, int, str | None]]:
    """column -> (declared type, not null, default)."""
    return {r[1]: (r[2], r[3], r[4]) for r in conn.execute(f'PRAGMA table_info("{table}")')}


def unique_column_sets(conn: sqlite3.Connection, table: str) -> set[tuple[str, ...]]:
    """Column sets covered by a UNIQUE index without a WHERE, or the (non-rowid) primary key."""
    sets = set()
    for _, name, unique, _, partial in conn.execute(f'PRAGMA index_list("{table}")'):
        if unique and not partial:
            info = conn.execute(f'PRAGMA index_info("{name}")').fetchall()
            sets.add(tuple(row[2] for row in info))
    pk = [row for row in conn.execute(f'PRAGMA table_info("{table}")') if row[5]]
    sets.add(tuple(row[1] for row in sorted(pk, key=lambda r: r[5])))
    return sets


def partial_unique_indexes(conn: sqlite3.Connection, table: str) -> dict[tuple[str, ...], str]:
    """Column sets of UNIQUE indexes with a WHERE clause -> the index's SQL."""
    found = {}
    for _, name, unique, _, partial in conn.execute(f'PRAGMA index_list("{table}")'):
        if unique and partial:
            info = conn.execute(f'PRAGMA index_info("{name}")').fetchall()
            sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (name,)).fetchone()
            found[tuple(row[2] for row in info)] = sql[0]
    return found


def table_names(conn: sqlite3.Connection, fts: dict[str, str]) -> set[str]:
    """Ordinary tables of a file: no FTS tables, their shadow tables, or SQLite's own."""
    names = {
        r[0]
        for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        if not r[0].startswith("sqlite_")
    }
    return {t for t in names if not any(t == f or t.startswith(f"{f}_") for f in fts)}


def fts_hits(conn: sqlite3.Connection, fts: str, query: str) -> list[int]:
    """Rowids an FTS5 table matches for *query*, in order."""
    sql = f"SELECT rowid FROM {fts} WHERE {fts} MATCH ? ORDER BY rowid"
    return [r[0] for r in conn.execute(sql, (query,))]


def dump(path: Path) -> list[str]:
    with closing(connect(path)) as conn:
        return list(conn.iterdump())


@pytest.fixture(scope="module")
def empty_dbs(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Path]:
    root = tmp_path_factory.mktemp("empty")
    paths = {(kind, layout): root / f"{kind}-{layout}.db" for kind, layout in KIND_LAYOUTS}
    for (kind, layout), path in paths.items():
        create_legacy_database(kind, path, layout)
    return paths


@pytest.fixture(scope="module")
def sample_dbs(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Path]:
    root = tmp_path_factory.mktemp("sample")
    paths = {(kind, layout): root / f"{kind}-{layout}.db" for kind, layout in KIND_LAYOUTS}
    for (kind, layout), path in paths.items():
        generate(kind, path, size=SIZES[kind], seed=3, layout=layout)
    return paths


@pytest.fixture
def media(sample_dbs: dict[tuple[str, str], Path]) -> Iterator[sqlite3.Connection]:
    """A generated media file in the default (current) layout."""
    with closing(connect(sample_dbs["media", "current"])) as conn:
        yield conn


@pytest.fixture
def chacha(sample_dbs: dict[tuple[str, str], Path]) -> Iterator[sqlite3.Connection]:
    with closing(connect(sample_dbs["chacha", "current"])) as conn:
        yield conn


# ------------------------------------------------------------------------------------------
# The layout
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "layout"), KIND_LAYOUTS)
def test_every_table_and_column_of_the_spec(
    empty_dbs: dict[tuple[str, str], Path], kind: str, layout: str
) -> None:
    expected = spec_columns(kind, layout)
    described = legacy_layout(kind, layout)
    with closing(connect(empty_dbs[kind, layout])) as conn:
        assert table_names(conn, dict(described.fts)) == set(expected) == set(described.tables)
        for table, wanted in expected.items():
            actual = columns(conn, table)
            if wanted is None:
                assert len(actual) >= 3, table
            else:
                assert actual == list(wanted), table


def test_the_default_layout_is_current() -> None:
    assert {k: legacy_layout(k).tables for k in SIZES} == LEGACY_TABLES
    assert {k: legacy_layout(k).ddl for k in SIZES} == LEGACY_DDL
    assert LEGACY_FTS["media"] == MEDIA_FTS["current"]
    assert set(V23_NAMED_TABLES) <= set(LEGACY_TABLES["media"])


def test_workflow_steps_keep_their_old_table_name_by_default(
    empty_dbs: dict[tuple[str, str], Path],
) -> None:
    with closing(connect(empty_dbs["workflows", "current"])) as conn:
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    assert "workflow_step_runs" in names and "workflow_steps" not in names


def test_a_newer_workflows_file_names_its_step_table_workflow_steps(tmp_path: Path) -> None:
    path = tmp_path / "workflows.db"
    create_legacy_database("workflows", path, steps_table="workflow_steps")
    with closing(connect(path)) as conn:
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        assert "workflow_steps" in names and "workflow_step_runs" not in names
        assert columns(conn, "workflow_steps") == list(
            SPEC_COLUMNS["workflows"]["workflow_step_runs"]
        )
        keys = {r[3]: (r[2], r[6]) for r in conn.execute("PRAGMA foreign_key_list(workflow_steps)")}
    assert keys == {"run_id": ("workflow_runs", "CASCADE")}


@pytest.mark.parametrize(("kind", "layout"), KIND_LAYOUTS)
def test_foreign_keys_and_their_delete_actions(
    empty_dbs: dict[tuple[str, str], Path], kind: str, layout: str
) -> None:
    described = spec_columns(kind, layout)
    with closing(connect(empty_dbs[kind, layout])) as conn:
        actual = {}
        for table, cols in described.items():
            if cols is None:  # tables the spec names only: see the next test
                continue
            for row in conn.execute(f'PRAGMA foreign_key_list("{table}")'):
                actual[(table, row[3])] = (row[2], row[4], row[6])
    assert actual == spec_foreign_keys(kind, layout)


def test_tables_unknown_to_our_server_reference_media_claims_and_each_other(
    empty_dbs: dict[tuple[str, str], Path],
) -> None:
    with closing(connect(empty_dbs["media", "current"])) as conn:
        referenced = {
            row[2]
            for table in (*V23_NAMED_TABLES, *USER_TABLES)
            for row in conn.execute(f'PRAGMA foreign_key_list("{table}")')
        }
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    assert {"Media", "Claims", "claim_clusters", "data_tables", "email_messages"} <= referenced
    assert "content_items" in referenced


@pytest.mark.parametrize(("kind", "layout"), KIND_LAYOUTS)
def test_unique_constraints(empty_dbs: dict[tuple[str, str], Path], kind: str, layout: str) -> None:
    with closing(connect(empty_dbs[kind, layout])) as conn:
        for table, expected in SPEC_UNIQUE[kind].items():
            if table not in spec_columns(kind, layout):
                continue
            found = unique_column_sets(conn, table)
            for cols in expected:
                assert cols in found, (table, cols, found)


@pytest.mark.parametrize("layout", ["early", "late-2025"])
def test_older_files_allow_one_transcript_per_model(
    empty_dbs: dict[tuple[str, str], Path], layout: str
) -> None:
    with closing(connect(empty_dbs["media", layout])) as conn:
        assert ("media_id", "whisper_model") in unique_column_sets(conn, "Transcripts")
        assert partial_unique_indexes(conn, "Transcripts") == {}


def test_current_transcripts_are_unique_per_run_and_idempotency_key(
    empty_dbs: dict[tuple[str, str], Path],
) -> None:
    with closing(connect(empty_dbs["media", "current"])) as conn:
        assert ("media_id", "whisper_model") not in unique_column_sets(conn, "Transcripts")
        partial = partial_unique_indexes(conn, "Transcripts")
        assert set(partial) == {
            ("media_id", "transcription_run_id"),
            ("media_id", "idempotency_key"),
        }
        assert "transcription_run_id IS NOT NULL" in partial["media_id", "transcription_run_id"]
        assert "idempotency_key IS NOT NULL" in partial["media_id", "idempotency_key"]
        insert = (
            "INSERT INTO Transcripts (media_id, whisper_model, transcription_run_id, "
            "idempotency_key, uuid, last_modified, client_id) VALUES (1, 'w', ?, ?, ?, 't', 'c')"
        )
        conn.execute(insert, (None, None, "u1"))
        conn.execute(insert, (None, None, "u2"))  # same model twice: allowed now
        conn.execute(insert, (1, "k", "u3"))
        for run, key, uid in ((1, None, "u4"), (2, "k", "u5")):
            with pytest.raises(sqlite3.IntegrityError):
                conn.execute(insert, (run, key, uid))
        conn.rollback()


def test_chunking_template_names_are_unique_among_live_rows(
    empty_dbs: dict[tuple[str, str], Path],
) -> None:
    with closing(connect(empty_dbs["media", "current"])) as conn:
        assert "deleted = 0" in partial_unique_indexes(conn, "ChunkingTemplates")["name",]
        insert = (
            "INSERT INTO ChunkingTemplates (name, template_json, uuid, last_modified, client_id,"
            " deleted) VALUES ('words', '{}', ?, 't', 'c', ?)"
        )
        conn.execute(insert, ("u1", 1))
        conn.execute(insert, ("u2", 0))
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute(insert, ("u3", 0))
        conn.rollback()


SYNCED_MEDIA_TABLES = (
    "Media",
    "Keywords",
    "Transcripts",
    "MediaChunks",
    "UnvectorizedMediaChunks",
    "DocumentVersions",
    "Claims",
)
V23_SYNCED_TABLES = ("VisualDocuments", "ChunkingTemplates", "MediaFiles")


@pytest.mark.parametrize("layout", LAYOUTS)
def test_only_synced_tables_have_sync_columns(
    empty_dbs: dict[tuple[str, str], Path], layout: str
) -> None:
    expected = set(SYNCED_MEDIA_TABLES) - ({"Claims"} if layout == "early" else set())
    if layout == "current":
        expected |= set(V23_SYNCED_TABLES)
    with closing(connect(empty_dbs["media", layout])) as conn:
        tables = legacy_layout("media", layout).tables
        synced = {t for t in tables if "merge_parent_uuid" in columns(conn, t)}
    assert synced == expected


@pytest.mark.parametrize("table", (*SYNCED_MEDIA_TABLES, "ChunkingTemplates", "MediaFiles"))
def test_sync_columns_are_declared_as_the_spec_says(
    empty_dbs: dict[tuple[str, str], Path], table: str
) -> None:
    with closing(connect(empty_dbs["media", "current"])) as conn:
        info = column_info(conn, table)
    assert info["uuid"] == ("TEXT", 1, None)
    assert info["last_modified"] == ("DATETIME", 1, None)
    assert info["version"] == ("INTEGER", 1, "1")
    assert info["client_id"] == ("TEXT", 1, None)
    assert info["deleted"] == ("BOOLEAN", 1, "0")
    assert info["prev_version"] == ("INTEGER", 0, None)
    assert info["merge_parent_uuid"] == ("TEXT", 0, None)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_media_defaults_and_types(empty_dbs: dict[tuple[str, str], Path], layout: str) -> None:
    with closing(connect(empty_dbs["media", layout])) as conn:
        media = column_info(conn, "Media")
        autoinc = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'Media'").fetchone()
    assert media["is_trash"] == ("BOOLEAN", 1, "0")
    assert media["chunking_status"] == ("TEXT", 1, "'pending'")
    assert media["vector_processing"] == ("INTEGER", 1, "0")
    assert media["visibility"] == ("TEXT", 0, "'personal'")
    assert media["vector_embedding"][0] == "BLOB"
    assert "AUTOINCREMENT" in autoinc[0]


@pytest.mark.parametrize("layout", ["late-2025", "current"])
def test_claims_defaults_and_types(empty_dbs: dict[tuple[str, str], Path], layout: str) -> None:
    with closing(connect(empty_dbs["media", layout])) as conn:
        claims = column_info(conn, "Claims")
    assert claims["created_at"] == ("DATETIME", 1, "CURRENT_TIMESTAMP")
    assert claims["confidence"][0] == "REAL"


# Declared type, NOT NULL, default of what a current installation added, as the spec says.
V23_DECLARATIONS = {
    ("Media", "org_id"): ("INTEGER", 0, None),
    ("Media", "latest_transcription_run_id"): ("INTEGER", 0, None),
    ("Media", "next_transcription_run_id"): ("INTEGER", 1, "1"),
    ("Media", "my_rating"): ("INTEGER", 0, None),
    ("Transcripts", "idempotency_key"): ("TEXT", 0, None),
    ("Claims", "review_status"): ("TEXT", 1, "'pending'"),
    ("Claims", "reviewed_at"): ("DATETIME", 0, None),
    ("Claims", "review_version"): ("INTEGER", 1, "1"),
    ("Claims", "claim_cluster_id"): ("INTEGER", 0, None),
    ("sync_log", "team_id"): ("INTEGER", 0, None),
    ("VisualDocuments", "media_id"): ("INTEGER", 1, None),
    ("VisualDocuments", "timestamp_seconds"): ("REAL", 0, None),
    ("VisualDocuments", "created_at"): ("DATETIME", 0, "CURRENT_TIMESTAMP"),
    ("VisualDocuments", "last_modified"): ("DATETIME", 1, "CURRENT_TIMESTAMP"),
    ("DocumentStructureIndex", "kind"): ("TEXT", 1, None),
    ("DocumentStructureIndex", "start_char"): ("INTEGER", 1, None),
    ("DocumentStructureIndex", "client_id"): ("TEXT", 1, None),
    ("ChunkingTemplates", "is_builtin"): ("BOOLEAN", 1, "0"),
    ("ChunkingTemplates", "updated_at"): ("TIMESTAMP", 1, "CURRENT_TIMESTAMP"),
    ("ChunkingTemplates", "user_id"): ("TEXT", 0, None),
    ("MediaFiles", "file_type"): ("TEXT", 1, "'original'"),
    ("MediaFiles", "storage_path"): ("TEXT", 1, None),
    ("MediaFiles", "created_at"): ("TEXT", 0, "datetime('now')"),
    ("schema_migrations", "applied_at"): ("TIMESTAMP", 1, None),
    ("schema_migrations", "execution_time"): ("REAL", 1, None),
    ("schema_migrations", "success"): ("BOOLEAN", 1, "1"),
}


@pytest.mark.parametrize(("table", "column"), list(V23_DECLARATIONS))
def test_current_installation_declarations(
    empty_dbs: dict[tuple[str, str], Path], table: str, column: str
) -> None:
    with closing(connect(empty_dbs["media", "current"])) as conn:
        assert column_info(conn, table)[column] == V23_DECLARATIONS[table, column]


def test_current_media_visibility_is_checked(empty_dbs: dict[tuple[str, str], Path]) -> None:
    insert = (
        "INSERT INTO Media (title, type, content_hash, uuid, last_modified, client_id,"
        " visibility) VALUES ('t', 'pdf', 'h', ?, 'now', 'c', ?)"
    )
    with closing(connect(empty_dbs["media", "current"])) as conn:
        for n, ok in enumerate(("personal", "team", "org")):
            conn.execute(insert, (f"u{n}", ok))
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute(insert, ("u9", "public"))
        conn.rollback()


def test_unknown_tables_mix_types_and_sql_defaults(empty_dbs: dict[tuple[str, str], Path]) -> None:
    with closing(connect(empty_dbs["media", "current"])) as conn:
        declared = {
            info for table in V23_NAMED_TABLES for info in column_info(conn, table).values()
        }
        nocase_unique = conn.execute(
            "SELECT sql FROM sqlite_master WHERE name = 'data_tables'"
        ).fetchone()[0]
    types = {t for t, _, _ in declared}
    defaults = {d for _, _, d in declared}
    assert {"INTEGER", "TEXT", "REAL", "BLOB", "DATETIME", "BOOLEAN", "JSON"} <= types
    assert {"CURRENT_TIMESTAMP", "datetime('now')"} <= defaults
    assert "name TEXT NOT NULL UNIQUE COLLATE NOCASE" in nocase_unique


# (declared type, not null, default) of every Analytics.db column besides id, per the spec.
ANALYTICS_DECLARATIONS = {
    "search_analytics": {
        "query_hash": ("TEXT", 1, None), "query_length": ("INT", 0, None),
        "response_time_ms": ("INT", 0, None), "max_score": ("REAL", 0, None),
        "cache_hit": ("BOOL", 0, None), "filters_used": ("TEXT", 0, None),
        "error_occurred": ("BOOL", 0, "FALSE"),
    },
    "document_performance": {
        "document_hash": ("TEXT", 1, None), "chunk_size": ("INT", 0, None),
        "retrieval_count": ("INT", 0, "0"), "avg_relevance_score": ("REAL", 0, None),
        "citation_count": ("INT", 0, "0"), "feedback_positive": ("INT", 0, "0"),
        "feedback_negative": ("INT", 0, "0"), "last_accessed": ("TIMESTAMP", 0, None),
    },
    "feedback_analytics": {
        "session_hash": ("TEXT", 1, None), "query_hash": ("TEXT", 1, None),
        "rating": ("INT", 0, None), "response_time_acceptable": ("BOOL", 0, None),
    },
    "citation_analytics": {
        "document_count": ("INT", 0, None), "verification_requested": ("BOOL", 0, None),
        "format_errors": ("INT", 0, "0"), "generation_time_ms": ("INT", 0, None),
    },
    "error_tracking": {
        "error_type": ("TEXT", 1, None), "frequency": ("INT", 0, "1"),
        "resolved": ("BOOL", 0, "FALSE"), "resolution_time": ("TIMESTAMP", 0, None),
    },
    "system_performance": {
        "metric_type": ("TEXT", 1, None), "metric_value": ("REAL", 0, None),
        "duration_ms": ("INT", 0, None), "memory_mb": ("REAL", 0, None),
        "cpu_percent": ("REAL", 0, None),
    },
    "feature_usage": {
        "feature_name": ("TEXT", 1, None), "usage_count": ("INT", 0, "1"),
        "success_count": ("INT", 0, "0"), "failure_count": ("INT", 0, "0"),
        "avg_execution_time_ms": ("INT", 0, None), "last_used": ("TIMESTAMP", 0, None),
    },
    "query_patterns": {
        "pattern_hash": ("TEXT", 1, None), "frequency": ("INT", 0, "1"),
        "avg_results_quality": ("REAL", 0, None), "avg_response_time_ms": ("INT", 0, None),
        "first_seen": ("TIMESTAMP", 0, "CURRENT_TIMESTAMP"),
        "last_seen": ("TIMESTAMP", 0, "CURRENT_TIMESTAMP"),
    },
    "ab_testing": {
        "test_name": ("TEXT", 1, None), "variant": ("TEXT", 1, None),
        "metric_value": ("REAL", 0, None), "conversion": ("BOOL", 0, None),
    },
    "analytics_events": {"event_type": ("TEXT", 1, None), "metrics": ("TEXT", 0, None)},
}  # fmt: skip


@pytest.mark.parametrize("table", list(ANALYTICS_DECLARATIONS))
def test_analytics_types_and_defaults(empty_dbs: dict[tuple[str, str], Path], table: str) -> None:
    with closing(connect(empty_dbs["analytics", "current"])) as conn:
        info = column_info(conn, table)
    assert info["id"] == ("INTEGER", 0, None)
    if table == "query_patterns":
        assert "timestamp" not in info
    else:
        assert info["timestamp"] == ("TIMESTAMP", 0, "CURRENT_TIMESTAMP")
    for column, declared in ANALYTICS_DECLARATIONS[table].items():
        assert info[column] == declared, (table, column)


def test_document_version_identifiers_are_indexed(empty_dbs: dict[tuple[str, str], Path]) -> None:
    with closing(connect(empty_dbs["media", "late-2025"])) as conn:
        indexed = {
            conn.execute(f'PRAGMA index_info("{r[1]}")').fetchone()[2]
            for r in conn.execute("PRAGMA index_list(DocumentVersionIdentifiers)")
        }
    assert {"doi", "pmid", "pmcid", "arxiv_id", "s2_paper_id"} <= indexed


@pytest.mark.parametrize("kind", ["media", "chacha"])
def test_keywords_are_nocase_and_ascii_only(
    empty_dbs: dict[tuple[str, str], Path], kind: str
) -> None:
    table = "Keywords" if kind == "media" else "keywords"
    sync = ", uuid, last_modified, client_id" if kind == "media" else ""
    values = ", 'u{0}', 'x', 'c'" if kind == "media" else ""
    with closing(connect(empty_dbs[kind, "current"])) as conn:
        insert = f"INSERT INTO {table} (keyword{sync}) VALUES (?{values})"
        conn.execute(insert.format(1), ("Python",))
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute(insert.format(2), ("PYTHON",))
        conn.execute(insert.format(3), ("ÉCOLE",))
        conn.execute(insert.format(4), ("école",))  # NOCASE folds ASCII only: distinct
        conn.rollback()


def test_check_constraints(empty_dbs: dict[tuple[str, str], Path]) -> None:
    with closing(connect(empty_dbs["chacha", "current"])) as conn:
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
    with closing(connect(empty_dbs["media", "current"])) as conn:
        log = (
            "INSERT INTO sync_log (entity, entity_uuid, operation, timestamp, client_id, version)"
            " VALUES ('Media', 'u', ?, 't', 'c', 1)"
        )
        for op in ("create", "update", "delete", "link", "unlink"):
            conn.execute(log, (op,))
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute(log, ("upsert",))
        conn.rollback()


@pytest.mark.parametrize("layout", LAYOUTS)
def test_media_schema_version_row(empty_dbs: dict[tuple[str, str], Path], layout: str) -> None:
    with closing(connect(empty_dbs["media", layout])) as conn:
        rows = conn.execute("SELECT * FROM schema_version").fetchall()
    assert rows == [(SCHEMA_VERSION[layout],)]


def test_current_chacha_schema_version_row(empty_dbs: dict[tuple[str, str], Path]) -> None:
    with closing(connect(empty_dbs["chacha", "current"])) as conn:
        rows = conn.execute("SELECT * FROM db_schema_version").fetchall()
    assert rows == [("ChaChaNotes", 9)]


def test_analytics_has_no_schema_version_table(empty_dbs: dict[tuple[str, str], Path]) -> None:
    with closing(connect(empty_dbs["analytics", "current"])) as conn:
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    assert not {n for n in names if "version" in n}


@pytest.mark.parametrize(
    ("kind", "layout"), [(k, la) for k, la in KIND_LAYOUTS if k != "workflows"]
)
def test_fts_tables_are_external_content_with_default_tokenizer(
    empty_dbs: dict[tuple[str, str], Path], kind: str, layout: str
) -> None:
    fts_tables = legacy_layout(kind, layout).fts
    if kind == "media":
        assert fts_tables == MEDIA_FTS[layout]
    with closing(connect(empty_dbs[kind, layout])) as conn:
        for fts, content in fts_tables.items():
            sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (fts,)).fetchone()
            assert sql is not None and "USING fts5" in sql[0], fts
            source = "''" if fts in CONTENTLESS else f"'{content}'"
            assert f"content={source}" in sql[0] and "tokenize" not in sql[0], fts
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
        return fts_hits(conn, "media_fts", query)

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


def test_contentless_fts_indexes_rows_it_does_not_store(tmp_path: Path) -> None:
    path = tmp_path / "media.db"
    create_legacy_database("media", path)

    def hits(conn: sqlite3.Connection, query: str) -> list[int]:
        return fts_hits(conn, "content_items_fts", query)

    with closing(connect(path)) as conn:
        insert = "INSERT INTO content_items (origin, title, summary) VALUES ('rss', ?, ?)"
        conn.execute(insert, ("Harbor lights", "alpha beta"))
        conn.execute(insert, ("Winter garden", "alpha gamma"))
        assert hits(conn, "alpha") == [1, 2] and hits(conn, "harbor") == [1]
        stored = conn.execute("SELECT title FROM content_items_fts WHERE rowid = 1").fetchone()
        assert stored == (None,)  # contentless: the index keeps no copy of the text
        conn.execute("UPDATE content_items SET summary = 'delta' WHERE id = 2")
        assert hits(conn, "gamma") == [] and hits(conn, "delta") == [2]
        conn.execute("DELETE FROM content_items WHERE id = 1")
        assert hits(conn, "alpha") == [] and hits(conn, "harbor") == []


def test_email_fts_indexes_live_messages(tmp_path: Path) -> None:
    path = tmp_path / "media.db"
    create_legacy_database("media", path)
    with closing(connect(path)) as conn:
        insert = (
            "INSERT INTO email_messages (tenant_id, subject, body_text, from_address, deleted)"
            " VALUES ('u', ?, 'see attached', 'ada@example.org', ?)"
        )
        conn.execute(insert, ("Quarterly invoice", 0))
        conn.execute(insert, ("Old invoice", 1))
        assert fts_hits(conn, "email_fts", "invoice") == [1]


def test_conversation_message_cycle_is_expressible(
    empty_dbs: dict[tuple[str, str], Path],
) -> None:
    with closing(connect(empty_dbs["chacha", "current"])) as conn:
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


@pytest.mark.parametrize(("kind", "layout"), KIND_LAYOUTS)
def test_generated_files_fill_every_table_of_their_layout(
    sample_dbs: dict[tuple[str, str], Path], kind: str, layout: str
) -> None:
    path = sample_dbs[kind, layout]
    with closing(connect(path)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        tables = table_names(conn, dict(legacy_layout(kind, layout).fts))
    counts = row_counts(kind, path, layout)
    assert set(counts) == tables == set(spec_columns(kind, layout))
    assert [t for t, n in counts.items() if n == 0] == []


@pytest.mark.parametrize(
    ("kind", "layout"), [(k, la) for k, la in KIND_LAYOUTS if k != "workflows"]
)
def test_fts_index_holds_exactly_the_live_rows(
    sample_dbs: dict[tuple[str, str], Path], kind: str, layout: str
) -> None:
    with closing(connect(sample_dbs[kind, layout])) as conn:
        for fts, table in legacy_layout(kind, layout).fts.items():
            indexed = {r[0] for r in conn.execute(f"SELECT id FROM {fts}_docsize")}
            live_only = "deleted" in columns(conn, table)
            where = "WHERE deleted = 0" if live_only else ""
            live = {r[0] for r in conn.execute(f'SELECT rowid FROM "{table}" {where}')}
            assert indexed == live, fts
            if table in ("Media", "conversations", "messages", "notes", "email_messages"):
                dead = conn.execute(f'SELECT count(*) FROM "{table}" WHERE deleted <> 0')
                assert dead.fetchone()[0] > 0, f"{table} should hold soft-deleted rows"


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
    sample_dbs: dict[tuple[str, str], Path],
) -> None:
    with closing(connect(sample_dbs["workflows", "current"])) as conn:
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


def test_queued_runs_carry_a_snapshot_with_steps_but_no_name(
    sample_dbs: dict[tuple[str, str], Path],
) -> None:
    with closing(connect(sample_dbs["workflows", "current"])) as conn:
        snapshots = [
            r[0]
            for r in conn.execute(
                "SELECT definition_snapshot_json FROM workflow_runs WHERE status = 'queued'"
            )
        ]
    assert snapshots and all(s is not None for s in snapshots)
    for snapshot in map(json.loads, snapshots):
        assert snapshot["steps"] and "name" not in snapshot


def _definitions(conn: sqlite3.Connection) -> list[tuple[str, dict]]:
    return [
        (r[0], json.loads(r[1]))
        for r in conn.execute("SELECT name, definition_json FROM workflows")
    ]


def test_most_definitions_run_on_our_server_and_the_rest_use_unknown_step_types(
    tmp_path: Path,
) -> None:
    path = tmp_path / "workflows.db"
    generate("workflows", path, size=300, seed=4)  # enough runs for every workflow name
    runnable, foreign = 0, set()
    with closing(connect(path)) as conn:
        definitions = _definitions(conn)
    for _, definition in definitions:
        unknown = {step["type"] for step in definition["steps"]} - set(STEP_TYPES)
        if unknown:
            foreign |= unknown
            with pytest.raises(DefinitionError, match="unknown step type"):
                parse_definition(definition)
        else:
            parse_definition(definition)  # raises when a config is not what our steps take
            runnable += 1
    assert runnable > len(definitions) / 2
    assert foreign & {"tts", "summarize", "llm", "notify"}


def test_snapshots_without_a_name_run_once_the_workflow_name_is_added(
    sample_dbs: dict[tuple[str, str], Path],
) -> None:
    with closing(connect(sample_dbs["workflows", "current"])) as conn:
        rows = conn.execute(
            "SELECT w.name, r.definition_snapshot_json FROM workflow_runs r "
            "JOIN workflows w ON w.id = r.workflow_id WHERE r.status = 'queued'"
        ).fetchall()
    runnable = 0
    for name, snapshot in rows:
        document = json.loads(snapshot)
        if {s["type"] for s in document["steps"]} <= set(STEP_TYPES):
            parse_definition({"name": name, **document})
            runnable += 1
    assert runnable > 0


@pytest.mark.parametrize(("status", "step_type"), [
    ("waiting_human", "wait_for_human"), ("waiting_approval", "wait_for_approval"),
])  # fmt: skip
def test_runs_waiting_for_a_person_are_parked_on_the_step_that_waits(
    sample_dbs: dict[tuple[str, str], Path], status: str, step_type: str
) -> None:
    with closing(connect(sample_dbs["workflows", "current"])) as conn:
        runs = [
            r[0]
            for r in conn.execute("SELECT run_id FROM workflow_runs WHERE status = ?", (status,))
        ]
        parked = conn.execute(
            "SELECT DISTINCT run_id, type FROM workflow_step_runs WHERE status = ?", (status,)
        ).fetchall()
    assert runs and sorted(parked) == sorted((run, step_type) for run in runs)


def test_the_step_table_can_be_generated_under_its_newer_name(tmp_path: Path) -> None:
    path = tmp_path / "workflows.db"
    counts = generate("workflows", path, size=20, seed=1, steps_table="workflow_steps")
    assert "workflow_steps" in counts and "workflow_step_runs" not in counts
    assert counts["workflow_steps"] > 0
    assert row_counts("workflows", path, steps_table="workflow_steps") == counts


def test_current_transcripts_number_their_runs(media: sqlite3.Connection) -> None:
    reruns = media.execute(
        "SELECT count(*) FROM Transcripts WHERE transcription_run_id = 2 AND supersedes_run_id = 1"
    ).fetchone()[0]
    assert reruns > 0
    mismatched = media.execute(
        "SELECT count(*) FROM Media m WHERE m.latest_transcription_run_id IS NOT "
        "(SELECT max(transcription_run_id) FROM Transcripts t WHERE t.media_id = m.id) "
        "OR m.next_transcription_run_id <> coalesce(m.latest_transcription_run_id, 0) + 1"
    ).fetchone()[0]
    assert mismatched == 0


def test_current_claim_reviews_and_clusters_agree(media: sqlite3.Connection) -> None:
    reviewed = media.execute("SELECT count(*) FROM Claims WHERE review_status <> 'pending'")
    logged = media.execute("SELECT count(*) FROM claims_review_log")
    assert reviewed.fetchone()[0] == logged.fetchone()[0] > 0
    members = media.execute(
        "SELECT count(*) FROM claim_clusters c WHERE member_count <> "
        "(SELECT count(*) FROM claim_cluster_membership m WHERE m.cluster_id = c.id)"
    )
    assert members.fetchone()[0] == 0
    linked = media.execute(
        "SELECT count(*) FROM Claims c JOIN claim_cluster_membership m ON m.claim_id = c.id "
        "WHERE c.claim_cluster_id IS NOT m.cluster_id"
    )
    assert linked.fetchone()[0] == 0


def test_a_deleted_chunking_template_shares_its_name_with_a_live_one(
    media: sqlite3.Connection,
) -> None:
    shared = media.execute(
        "SELECT count(*) FROM ChunkingTemplates d JOIN ChunkingTemplates l USING (name) "
        "WHERE d.deleted = 1 AND l.deleted = 0"
    )
    assert shared.fetchone()[0] == 1


def test_contentless_and_email_search_find_generated_rows(media: sqlite3.Connection) -> None:
    rowid, title = media.execute("SELECT id, title FROM content_items LIMIT 1").fetchone()
    word = max(re.findall(r"\w+", title), key=len)
    found = media.execute(
        "SELECT rowid FROM content_items_fts WHERE content_items_fts MATCH ?", (f'"{word}"',)
    )
    assert rowid in {r[0] for r in found}
    dead = media.execute("SELECT id, subject FROM email_messages WHERE deleted = 1").fetchall()
    assert dead
    for dead_id, subject in dead:
        hits = media.execute(
            "SELECT rowid FROM email_fts WHERE email_fts MATCH ?", (f'"{subject}"',)
        )
        assert dead_id not in {r[0] for r in hits}


def test_current_core_rows_are_the_late_2025_rows(sample_dbs: dict[tuple[str, str], Path]) -> None:
    """The layouts differ in what they add, not in the rows they share."""
    core = {"Media": len(SPEC_COLUMNS["media"]["Media"]), "MediaChunks": None, "Keywords": None}
    files = {layout: sample_dbs["media", layout] for layout in LAYOUTS}
    for table, width in core.items():
        rows = {}
        for layout, path in files.items():
            with closing(connect(path)) as conn:
                rows[layout] = [
                    r[:width] for r in conn.execute(f"SELECT * FROM {table} ORDER BY id")
                ]
        assert rows["early"] == rows["late-2025"] == rows["current"], table


def test_new_tables_hold_the_quirks_of_users_files(tmp_path: Path) -> None:
    path = tmp_path / "media.db"
    generate("media", path, size=150, seed=3)  # the quirks are a few percent of rows
    with closing(connect(path)) as media:
        assert_quirks_in_new_tables(media)


def assert_quirks_in_new_tables(media: sqlite3.Connection) -> None:
    epochs, words = 0, 0
    for table in (*V23_TABLES, *V23_NAMED_TABLES, *USER_TABLES):
        for name, (declared, _, _) in column_info(media, table).items():
            kinds = dict(
                media.execute(f'SELECT typeof("{name}"), count(*) FROM "{table}" GROUP BY 1')
            )
            if declared in ("DATETIME", "TIMESTAMP"):
                epochs += kinds.get("integer", 0)
            if declared == "BOOLEAN" and name != "deleted":
                words += media.execute(
                    f"SELECT count(*) FROM \"{table}\" WHERE \"{name}\" IN ('true', 'false')"
                ).fetchone()[0]
    assert epochs > 0 and words > 0
    blobs = media.execute("SELECT count(*) FROM tts_history WHERE typeof(waveform) = 'blob'")
    assert blobs.fetchone()[0] > 0
    for (row,) in media.execute("SELECT row_json FROM data_table_rows"):
        assert isinstance(json.loads(row), dict)
    ratings = media.execute("SELECT count(*) FROM Media WHERE my_rating BETWEEN 1 AND 5")
    assert ratings.fetchone()[0] > 0


@pytest.mark.parametrize("layout", LAYOUTS)
def test_generation_is_deterministic(tmp_path: Path, layout: str) -> None:
    for kind, size in SIZES.items():
        a, b, c = (tmp_path / f"{kind}-{n}.db" for n in "abc")
        first = generate(kind, a, size=size, seed=11, layout=layout)
        assert first == generate(kind, b, size=size, seed=11, layout=layout)
        generate(kind, c, size=size, seed=12, layout=layout)
        assert dump(a) == dump(b), kind
        assert dump(a) != dump(c), kind


def test_an_unknown_layout_is_refused_and_writes_nothing(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown layout 'v99'"):
        generate("media", tmp_path / "m.db", size=5, layout="v99")
    with pytest.raises(ValueError, match="unknown workflow steps table 'steps'"):
        generate("workflows", tmp_path / "w.db", size=5, steps_table="steps")
    with pytest.raises(ValueError, match="unknown layout"):
        generate_installation(tmp_path / "inst", media_items=5, layout="v99")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("kind", list(LEGACY_DDL))
def test_sizes_scale_with_size(tmp_path: Path, kind: str) -> None:
    small = generate(kind, tmp_path / "small.db", size=SIZES[kind], seed=5)
    large = generate(kind, tmp_path / "large.db", size=SIZES[kind] * 4, seed=5)
    assert (tmp_path / "large.db").stat().st_size > (tmp_path / "small.db").stat().st_size
    assert sum(large.values()) > 3 * sum(small.values())
    if kind == "media":
        assert small["Media"] == SIZES[kind] and large["Media"] == 4 * SIZES[kind]
        assert large["MediaChunks"] == 4 * large["Media"]


def _versions(data_dir: Path) -> tuple[list[tuple], list[tuple]]:
    """The schema version rows of user 1's media and notes files."""
    user = data_dir / "user_databases" / "1"
    with closing(connect(user / "Media_DB_v2.db")) as media_conn:
        media_rows = media_conn.execute("SELECT * FROM schema_version").fetchall()
    with closing(connect(user / "ChaChaNotes.db")) as notes_conn:
        notes_rows = notes_conn.execute("SELECT * FROM db_schema_version").fetchall()
    return media_rows, notes_rows


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


def test_an_installation_is_current_by_default(tmp_path: Path) -> None:
    written = generate_installation(tmp_path, media_items=8, seed=2)
    assert set(written["user_databases/1/Media_DB_v2.db"]) == set(LEGACY_TABLES["media"])
    assert _versions(tmp_path) == ([(23,)], [("ChaChaNotes", 9)])


def test_an_installation_in_an_older_layout(tmp_path: Path) -> None:
    written = generate_installation(tmp_path, media_items=8, seed=2, layout="early")
    assert "Claims" not in written["user_databases/1/Media_DB_v2.db"]
    assert _versions(tmp_path) == ([(1,)], [("ChaChaNotes", 1)])


def test_cli_layout_and_steps_table_options(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as help_exit:
        main(["--help"])
    assert help_exit.value.code == 0
    usage = capsys.readouterr().out
    assert "--layout {early,late-2025,current}" in usage and "--steps-table" in usage
    args = ["--data-dir", str(tmp_path), "--users", "1", "--media-items", "6"]
    assert main([*args, "--layout", "late-2025", "--steps-table", "workflow_steps"]) == 0
    out = capsys.readouterr().out
    assert "workflow_steps=" in out and "VisualDocuments" not in out
    assert _versions(tmp_path) == ([(6,)], [("ChaChaNotes", 5)])
    with pytest.raises(SystemExit) as bad:
        main(["--data-dir", str(tmp_path / "x"), "--layout", "v99"])
    assert bad.value.code == 2
    assert not (tmp_path / "x").exists()
