"""The SQLite layout our users already have (``content-schema.md``), as DDL.

The migration tool, its tests and the benchmarks need files shaped exactly like the ones in the
field: CamelCase tables in the media file, the sync columns, foreign keys with their ``ON DELETE``
actions, the reference cycles of ChaChaNotes, and FTS5 external-content tables kept in step by
triggers. This module is the one place that layout is written down as SQL, so nothing else has to
guess it. It describes *their* files; it is not our schema (see ``schemas/``).

Where the spec leaves a type or a default open, the choice follows the conventions the spec
states: times are ``DATETIME`` in the content files and ``TIMESTAMP`` in Analytics.db, ChaChaNotes'
``created_at``/``last_modified`` are ``DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP`` (as the spec
says of character cards), and workflows.db keeps ids and times as ``TEXT``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

__all__ = [
    "LEGACY_DDL",
    "LEGACY_FTS",
    "LEGACY_TABLES",
    "create_legacy_database",
]

# The sync columns of every synced table ("+sync" in the spec), verbatim.
_SYNC_COLUMNS = """
    uuid TEXT UNIQUE NOT NULL,
    last_modified DATETIME NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    client_id TEXT NOT NULL,
    deleted BOOLEAN NOT NULL DEFAULT 0,
    prev_version INTEGER,
    merge_parent_uuid TEXT"""

# ChaChaNotes' own bookkeeping columns (no uuid: its text primary keys are the uuids).
_CHACHA_TIMES = """
    created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    last_modified DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    deleted BOOLEAN NOT NULL DEFAULT 0"""


def _fts5(fts: str, table: str, columns: Sequence[str], key: str = "rowid") -> str:
    """An FTS5 external-content table over *table* and the triggers that keep it current.

    Only live rows (``deleted = 0``) are indexed. Because the content lives in *table*, a row
    leaves the index through FTS5's ``'delete'`` command with the values it was indexed with
    (the ``old`` row), never through ``DELETE FROM`` on the FTS table.
    """
    cols = ", ".join(columns)
    new = ", ".join(f"new.{c}" for c in columns)
    old = ", ".join(f"old.{c}" for c in columns)
    rowid_option = "" if key == "rowid" else f", content_rowid='{key}'"
    return f"""
CREATE VIRTUAL TABLE {fts} USING fts5({cols}, content='{table}'{rowid_option});
CREATE TRIGGER {fts}_ai AFTER INSERT ON {table} WHEN new.deleted = 0 BEGIN
    INSERT INTO {fts}(rowid, {cols}) VALUES (new.{key}, {new});
END;
CREATE TRIGGER {fts}_ad AFTER DELETE ON {table} WHEN old.deleted = 0 BEGIN
    INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', old.{key}, {old});
END;
CREATE TRIGGER {fts}_au AFTER UPDATE OF {cols}, deleted ON {table} BEGIN
    INSERT INTO {fts}({fts}, rowid, {cols}) SELECT 'delete', old.{key}, {old} WHERE old.deleted = 0;
    INSERT INTO {fts}(rowid, {cols}) SELECT new.{key}, {new} WHERE new.deleted = 0;
END;
"""


_MEDIA_TABLES = f"""
CREATE TABLE Media (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    url TEXT UNIQUE,
    title TEXT NOT NULL,
    type TEXT NOT NULL,
    content TEXT,
    author TEXT,
    ingestion_date DATETIME,
    transcription_model TEXT,
    is_trash BOOLEAN NOT NULL DEFAULT 0,
    trash_date DATETIME,
    vector_embedding BLOB,
    chunking_status TEXT NOT NULL DEFAULT 'pending',
    vector_processing INTEGER NOT NULL DEFAULT 0,
    content_hash TEXT NOT NULL,
    source_hash TEXT,
    visibility TEXT DEFAULT 'personal',
    owner_user_id INTEGER,{_SYNC_COLUMNS}
);
CREATE TABLE Keywords (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    keyword TEXT NOT NULL UNIQUE COLLATE NOCASE,{_SYNC_COLUMNS}
);
CREATE TABLE MediaKeywords (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    media_id INTEGER REFERENCES Media(id) ON DELETE CASCADE,
    keyword_id INTEGER REFERENCES Keywords(id) ON DELETE CASCADE,
    UNIQUE (media_id, keyword_id)
);
CREATE TABLE Transcripts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    media_id INTEGER REFERENCES Media(id) ON DELETE CASCADE,
    whisper_model TEXT,
    transcription TEXT,
    created_at DATETIME,{_SYNC_COLUMNS}
);
CREATE TABLE MediaChunks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    media_id INTEGER REFERENCES Media(id) ON DELETE CASCADE,
    chunk_text TEXT NOT NULL,
    start_index INTEGER,
    end_index INTEGER,
    chunk_id TEXT UNIQUE,{_SYNC_COLUMNS}
);
CREATE TABLE UnvectorizedMediaChunks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    media_id INTEGER REFERENCES Media(id) ON DELETE CASCADE,
    chunk_text TEXT NOT NULL,
    chunk_index INTEGER NOT NULL,
    start_char INTEGER,
    end_char INTEGER,
    chunk_type TEXT,
    creation_date DATETIME,
    last_modified_orig DATETIME,
    is_processed BOOLEAN NOT NULL DEFAULT 0,
    metadata TEXT,{_SYNC_COLUMNS},
    UNIQUE (media_id, chunk_index, chunk_type)
);
CREATE TABLE DocumentVersions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    media_id INTEGER REFERENCES Media(id) ON DELETE CASCADE,
    version_number INTEGER NOT NULL,
    prompt TEXT,
    analysis_content TEXT,
    safe_metadata TEXT,
    content TEXT NOT NULL,
    created_at DATETIME,{_SYNC_COLUMNS},
    UNIQUE (media_id, version_number)
);
CREATE TABLE DocumentVersionIdentifiers (
    dv_id INTEGER PRIMARY KEY REFERENCES DocumentVersions(id) ON DELETE CASCADE,
    doi TEXT,
    pmid TEXT,
    pmcid TEXT,
    arxiv_id TEXT,
    s2_paper_id TEXT
);
CREATE INDEX idx_dvi_doi ON DocumentVersionIdentifiers(doi);
CREATE INDEX idx_dvi_pmid ON DocumentVersionIdentifiers(pmid);
CREATE INDEX idx_dvi_pmcid ON DocumentVersionIdentifiers(pmcid);
CREATE INDEX idx_dvi_arxiv_id ON DocumentVersionIdentifiers(arxiv_id);
CREATE INDEX idx_dvi_s2_paper_id ON DocumentVersionIdentifiers(s2_paper_id);
CREATE TABLE Claims (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    media_id INTEGER REFERENCES Media(id) ON DELETE CASCADE,
    chunk_index INTEGER NOT NULL,
    span_start INTEGER,
    span_end INTEGER,
    claim_text TEXT NOT NULL,
    confidence REAL,
    extractor TEXT NOT NULL,
    extractor_version TEXT NOT NULL,
    chunk_hash TEXT NOT NULL,
    created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,{_SYNC_COLUMNS}
);
CREATE TABLE sync_log (
    change_id INTEGER PRIMARY KEY AUTOINCREMENT,
    entity TEXT NOT NULL,
    entity_uuid TEXT NOT NULL,
    operation TEXT NOT NULL
        CHECK (operation IN ('create', 'update', 'delete', 'link', 'unlink')),
    timestamp DATETIME NOT NULL,
    client_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    payload TEXT
);
CREATE TABLE schema_version (
    version INTEGER PRIMARY KEY
);
INSERT INTO schema_version (version) VALUES (1);
"""

_MEDIA_DDL = (
    _MEDIA_TABLES
    + _fts5("media_fts", "Media", ("title", "content"), key="id")
    + _fts5("keyword_fts", "Keywords", ("keyword",), key="id")
    + _fts5("claims_fts", "Claims", ("claim_text",), key="id")
)

# conversations -> messages is a forward reference: SQLite resolves foreign keys when they are
# enforced, not when the table is created, which is how the cycle exists in users' files.
_CHACHA_TABLES = f"""
CREATE TABLE character_cards (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT UNIQUE NOT NULL,
    description TEXT,
    personality TEXT,
    scenario TEXT,
    system_prompt TEXT,
    image BLOB,
    post_history_instructions TEXT,
    first_message TEXT,
    message_example TEXT,
    creator_notes TEXT,
    alternate_greetings TEXT,
    tags TEXT,
    creator TEXT,
    character_version TEXT,
    extensions TEXT,{_CHACHA_TIMES},
    client_id TEXT NOT NULL DEFAULT 'unknown',
    version INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE conversations (
    id TEXT PRIMARY KEY,
    root_id TEXT NOT NULL,
    forked_from_message_id TEXT REFERENCES messages(id) ON DELETE SET NULL,
    parent_conversation_id TEXT REFERENCES conversations(id) ON DELETE SET NULL,
    character_id INTEGER REFERENCES character_cards(id) ON DELETE CASCADE,
    title TEXT,
    rating INTEGER CHECK (rating BETWEEN 1 AND 5),{_CHACHA_TIMES},
    client_id TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE messages (
    id TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    parent_message_id TEXT REFERENCES messages(id) ON DELETE SET NULL,
    sender TEXT NOT NULL,
    content TEXT,
    image_data BLOB,
    image_mime_type TEXT,
    timestamp DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    ranking INTEGER,
    last_modified DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    deleted BOOLEAN NOT NULL DEFAULT 0,
    client_id TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE notes (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    content TEXT NOT NULL,{_CHACHA_TIMES},
    client_id TEXT NOT NULL DEFAULT 'unknown',
    version INTEGER NOT NULL DEFAULT 1,
    conversation_id TEXT REFERENCES conversations(id) ON DELETE SET NULL,
    message_id TEXT REFERENCES messages(id) ON DELETE SET NULL
);
CREATE TABLE keywords (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    keyword TEXT UNIQUE NOT NULL COLLATE NOCASE,{_CHACHA_TIMES},
    client_id TEXT NOT NULL DEFAULT 'unknown',
    version INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE keyword_collections (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT UNIQUE NOT NULL,
    parent_id INTEGER REFERENCES keyword_collections(id) ON DELETE SET NULL,{_CHACHA_TIMES},
    client_id TEXT NOT NULL DEFAULT 'unknown',
    version INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE conversation_keywords (
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    keyword_id INTEGER NOT NULL REFERENCES keywords(id) ON DELETE CASCADE,
    created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (conversation_id, keyword_id)
);
CREATE TABLE collection_keywords (
    collection_id INTEGER NOT NULL REFERENCES keyword_collections(id) ON DELETE CASCADE,
    keyword_id INTEGER NOT NULL REFERENCES keywords(id) ON DELETE CASCADE,
    created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (collection_id, keyword_id)
);
CREATE TABLE note_keywords (
    note_id TEXT NOT NULL REFERENCES notes(id) ON DELETE CASCADE,
    keyword_id INTEGER NOT NULL REFERENCES keywords(id) ON DELETE CASCADE,
    created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (note_id, keyword_id)
);
CREATE TABLE sync_log (
    change_id INTEGER PRIMARY KEY AUTOINCREMENT,
    entity TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    operation TEXT NOT NULL CHECK (operation IN ('create', 'update', 'delete')),
    timestamp DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    client_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    payload TEXT NOT NULL
);
CREATE TABLE db_schema_version (
    schema_name TEXT PRIMARY KEY NOT NULL,
    version INTEGER NOT NULL
);
INSERT INTO db_schema_version (schema_name, version) VALUES ('ChaChaNotes', 1);
"""

_CHACHA_DDL = (
    _CHACHA_TABLES
    + _fts5(
        "character_cards_fts",
        "character_cards",
        ("name", "description", "personality", "scenario", "system_prompt"),
        key="id",
    )
    + _fts5("conversations_fts", "conversations", ("title",))
    + _fts5("messages_fts", "messages", ("content",))
    + _fts5("keywords_fts", "keywords", ("keyword",), key="id")
    + _fts5("keyword_collections_fts", "keyword_collections", ("name",), key="id")
    + _fts5("notes_fts", "notes", ("title", "content"))
)

_ANALYTICS_HEAD = """
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    timestamp TIMESTAMP DEFAULT CURRENT_TIMESTAMP,"""

_ANALYTICS_DDL = f"""
CREATE TABLE search_analytics ({_ANALYTICS_HEAD}
    query_hash TEXT NOT NULL,
    query_length INTEGER,
    query_complexity TEXT,
    search_type TEXT,
    results_count INTEGER,
    max_score REAL,
    avg_score REAL,
    response_time_ms REAL,
    cache_hit BOOLEAN,
    reranking_used BOOLEAN,
    expansion_used BOOLEAN,
    filters_used TEXT,
    error_occurred BOOLEAN DEFAULT FALSE,
    error_type TEXT
);
CREATE TABLE document_performance ({_ANALYTICS_HEAD}
    document_id TEXT NOT NULL,
    query_hash TEXT,
    retrieval_rank INTEGER,
    relevance_score REAL,
    was_clicked BOOLEAN,
    dwell_time_ms INTEGER,
    chunk_count INTEGER
);
CREATE TABLE feedback_analytics ({_ANALYTICS_HEAD}
    query_hash TEXT,
    document_id TEXT,
    feedback_type TEXT NOT NULL,
    rating INTEGER,
    helpful BOOLEAN,
    comment_length INTEGER,
    details TEXT
);
CREATE TABLE error_tracking ({_ANALYTICS_HEAD}
    error_type TEXT NOT NULL,
    component TEXT,
    severity TEXT,
    error_hash TEXT,
    count INTEGER DEFAULT 1,
    details TEXT
);
CREATE TABLE system_performance ({_ANALYTICS_HEAD}
    metric_name TEXT NOT NULL,
    metric REAL,
    unit TEXT,
    component TEXT,
    details TEXT
);
CREATE TABLE feature_usage ({_ANALYTICS_HEAD}
    feature_name TEXT NOT NULL,
    count INTEGER DEFAULT 1,
    success BOOLEAN,
    user_segment TEXT,
    details TEXT
);
CREATE TABLE analytics_events ({_ANALYTICS_HEAD}
    event_type TEXT NOT NULL,
    query_hash TEXT,
    metrics TEXT
);
"""

_WORKFLOWS_DDL = """
CREATE TABLE workflows (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id TEXT NOT NULL,
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    owner_id TEXT NOT NULL,
    visibility TEXT NOT NULL DEFAULT 'private',
    description TEXT,
    tags TEXT,
    definition_json TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    is_active INTEGER NOT NULL DEFAULT 1,
    UNIQUE (tenant_id, name, version)
);
CREATE TABLE workflow_runs (
    run_id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    workflow_id INTEGER REFERENCES workflows(id),
    status TEXT NOT NULL,
    status_reason TEXT,
    user_id TEXT NOT NULL,
    inputs_json TEXT NOT NULL,
    outputs_json TEXT,
    error TEXT,
    duration_ms INTEGER,
    created_at TEXT NOT NULL,
    started_at TEXT,
    ended_at TEXT,
    definition_version INTEGER,
    definition_snapshot_json TEXT,
    idempotency_key TEXT,
    cancel_requested INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE workflow_step_runs (
    step_run_id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    run_id TEXT REFERENCES workflow_runs(run_id) ON DELETE CASCADE,
    step_id TEXT NOT NULL,
    name TEXT,
    type TEXT,
    status TEXT,
    attempt INTEGER DEFAULT 0,
    started_at TEXT,
    ended_at TEXT,
    inputs_json TEXT,
    outputs_json TEXT,
    error TEXT,
    locked_by TEXT,
    locked_at TEXT,
    lock_expires_at TEXT,
    heartbeat_at TEXT
);
CREATE TABLE workflow_events (
    event_id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id TEXT NOT NULL,
    run_id TEXT REFERENCES workflow_runs(run_id) ON DELETE CASCADE,
    step_run_id TEXT,
    event_seq INTEGER NOT NULL,
    event_type TEXT NOT NULL,
    payload_json TEXT,
    created_at TEXT NOT NULL,
    UNIQUE (run_id, event_seq)
);
CREATE TABLE workflow_artifacts (
    artifact_id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    run_id TEXT REFERENCES workflow_runs(run_id) ON DELETE CASCADE,
    step_run_id TEXT,
    type TEXT,
    uri TEXT,
    size_bytes INTEGER,
    mime_type TEXT,
    checksum_sha256 TEXT,
    metadata_json TEXT,
    created_at TEXT NOT NULL
);
"""

LEGACY_DDL: dict[str, str] = {
    "media": _MEDIA_DDL,
    "chacha": _CHACHA_DDL,
    "analytics": _ANALYTICS_DDL,
    "workflows": _WORKFLOWS_DDL,
}
"""One ``executescript`` script per legacy file kind, creating that file's whole layout."""

LEGACY_TABLES: dict[str, tuple[str, ...]] = {
    "media": (
        "Media",
        "Keywords",
        "MediaKeywords",
        "Transcripts",
        "MediaChunks",
        "UnvectorizedMediaChunks",
        "DocumentVersions",
        "DocumentVersionIdentifiers",
        "Claims",
        "sync_log",
        "schema_version",
    ),
    "chacha": (
        "character_cards",
        "conversations",
        "messages",
        "notes",
        "keywords",
        "keyword_collections",
        "conversation_keywords",
        "collection_keywords",
        "note_keywords",
        "sync_log",
        "db_schema_version",
    ),
    "analytics": (
        "search_analytics",
        "document_performance",
        "feedback_analytics",
        "error_tracking",
        "system_performance",
        "feature_usage",
        "analytics_events",
    ),
    "workflows": (
        "workflows",
        "workflow_runs",
        "workflow_step_runs",
        "workflow_events",
        "workflow_artifacts",
    ),
}
"""The ordinary tables of each kind (no FTS tables or their shadow tables), in DDL order."""

LEGACY_FTS: dict[str, dict[str, str]] = {
    "media": {"media_fts": "Media", "keyword_fts": "Keywords", "claims_fts": "Claims"},
    "chacha": {
        "character_cards_fts": "character_cards",
        "conversations_fts": "conversations",
        "messages_fts": "messages",
        "keywords_fts": "keywords",
        "keyword_collections_fts": "keyword_collections",
        "notes_fts": "notes",
    },
    "analytics": {},
    "workflows": {},
}
"""FTS5 table -> the content table it indexes, per kind: derived data a migration rebuilds."""


def create_legacy_database(kind: str, path: Path) -> None:
    """Create a new SQLite file at *path* with the legacy layout of *kind*.

    Refuses to touch an existing non-empty file: running the DDL over a user's file would fail
    half-way, and overwriting one would destroy data. The script runs in one transaction so a
    failure leaves no half-built layout behind.
    """
    if kind not in LEGACY_DDL:
        raise ValueError(
            f"unknown legacy database kind {kind!r}; expected one of {sorted(LEGACY_DDL)}"
        )
    path = Path(path)
    if path.exists() and path.stat().st_size > 0:
        raise FileExistsError(
            f"{path} already exists; legacy layouts are only created in new files"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    try:
        conn.executescript("BEGIN;\n" + LEGACY_DDL[kind] + "\nCOMMIT;")
    finally:
        conn.close()
