"""The SQLite layout our users already have (``content-schema.md``), as DDL.

The migration tool, its tests and the benchmarks need files shaped exactly like the ones in the
field: CamelCase tables in the media file, the sync columns, foreign keys with their ``ON DELETE``
actions, the reference cycles of ChaChaNotes, and FTS5 external-content tables kept in step by
triggers. This module is the one place that layout is written down as SQL, so nothing else has to
guess it. It describes *their* files; it is not our schema (see ``schemas/``).

Users ran different server versions, so a file comes in one of several *layouts*:

- ``early``: the media core without ``DocumentVersionIdentifiers`` and ``Claims``
  (``schema_version`` 1);
- ``late-2025``: the media core as the spec's main table lists it (``schema_version`` 6);
- ``current`` (the default): media schema version 23, the core plus the spec's "Current
  installations" additions, plus tables the spec names without columns (claims review, TTS
  history, data tables, email, content items) with columns chosen here as plausible stand-ins
  for tables our server does not know, and a column and a table a user added by hand.

ChaChaNotes differs between layouts only in its ``db_schema_version`` row; Analytics.db is the
same in all. workflows.db names its step table ``workflow_step_runs`` (older files, the default)
or ``workflow_steps`` (newer ones, same columns): see ``steps_table``.

Where the spec leaves a type or a default open, the choice follows the conventions the spec
states: times are ``DATETIME`` in the content files and ``TIMESTAMP`` in Analytics.db, ChaChaNotes'
``created_at``/``last_modified`` are ``DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP`` (as the spec
says of character cards), and workflows.db keeps ids and times as ``TEXT``. Analytics.db keeps the
spec's short type names (``INT``, ``BOOL``) as its tables declare them.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "DEFAULT_LAYOUT",
    "DEFAULT_STEPS_TABLE",
    "KINDS",
    "LAYOUTS",
    "LEGACY_DDL",
    "LEGACY_FTS",
    "LEGACY_TABLES",
    "STEP_TABLES",
    "LegacyLayout",
    "create_legacy_database",
    "legacy_layout",
]

KINDS: tuple[str, ...] = ("media", "chacha", "analytics", "workflows")
"""The legacy file kinds."""

LAYOUTS: tuple[str, ...] = ("early", "late-2025", "current")
"""Server versions whose files differ, oldest first."""

DEFAULT_LAYOUT = "current"

STEP_TABLES: tuple[str, ...] = ("workflow_step_runs", "workflow_steps")
"""The two names workflows.db files give their step table (older, newer)."""

DEFAULT_STEPS_TABLE = "workflow_step_runs"

MEDIA_SCHEMA_VERSION: dict[str, int] = {"early": 1, "late-2025": 6, "current": 23}
"""The ``schema_version`` row of a media file, per layout."""

CHACHA_SCHEMA_VERSION: dict[str, int] = {"early": 1, "late-2025": 5, "current": 9}
"""The ``db_schema_version`` row ('ChaChaNotes', n) of a notes file, per layout."""

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


@dataclass(frozen=True)
class _Fts:
    """One FTS5 table over *table*; ``content=''`` when *contentless*."""

    name: str
    table: str
    columns: tuple[str, ...]
    key: str = "rowid"
    contentless: bool = False
    live_only: bool = True  # index only rows with deleted = 0

    def ddl(self) -> str:
        """The FTS5 table and the triggers that keep it current.

        Only live rows (``deleted = 0``) are indexed where the table has the flag. External
        content and contentless tables alike lose a row through FTS5's ``'delete'`` command with
        the values it was indexed with (the ``old`` row), never through ``DELETE FROM``.
        """
        fts, table, key = self.name, self.table, self.key
        cols = ", ".join(self.columns)
        new = ", ".join(f"new.{c}" for c in self.columns)
        old = ", ".join(f"old.{c}" for c in self.columns)
        content = "''" if self.contentless else f"'{table}'"
        rowid_option = "" if key == "rowid" or self.contentless else f", content_rowid='{key}'"
        when_new = " WHEN new.deleted = 0" if self.live_only else ""
        when_old = " WHEN old.deleted = 0" if self.live_only else ""
        where_old = " WHERE old.deleted = 0" if self.live_only else ""
        where_new = " WHERE new.deleted = 0" if self.live_only else ""
        watched = f"{cols}, deleted" if self.live_only else cols
        return f"""
CREATE VIRTUAL TABLE {fts} USING fts5({cols}, content={content}{rowid_option});
CREATE TRIGGER {fts}_ai AFTER INSERT ON {table}{when_new} BEGIN
    INSERT INTO {fts}(rowid, {cols}) VALUES (new.{key}, {new});
END;
CREATE TRIGGER {fts}_ad AFTER DELETE ON {table}{when_old} BEGIN
    INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', old.{key}, {old});
END;
CREATE TRIGGER {fts}_au AFTER UPDATE OF {watched} ON {table} BEGIN
    INSERT INTO {fts}({fts}, rowid, {cols}) SELECT 'delete', old.{key}, {old}{where_old};
    INSERT INTO {fts}(rowid, {cols}) SELECT new.{key}, {new}{where_new};
END;
"""


@dataclass(frozen=True)
class LegacyLayout:
    """One file kind in one layout: its DDL, its ordinary tables and its FTS tables."""

    kind: str
    layout: str
    ddl: str
    tables: tuple[str, ...]
    """The ordinary tables (no FTS tables or their shadow tables), in DDL order."""
    fts: Mapping[str, str]
    """FTS5 table -> the table it indexes: derived data a migration rebuilds."""


def _table_names(ddl: str) -> tuple[str, ...]:
    """The ordinary tables a script creates, in order (virtual tables are not matched)."""
    return tuple(re.findall(r"^CREATE TABLE (\w+) \(", ddl, flags=re.MULTILINE))


# --------------------------------------------------------------------------------------------
# Media_DB_v2.db
# --------------------------------------------------------------------------------------------

# Columns a current installation's server added to core tables (spec: "Current installations").
_MEDIA_ADDED = """,
    org_id INTEGER,
    team_id INTEGER,
    latest_transcription_run_id INTEGER,
    next_transcription_run_id INTEGER NOT NULL DEFAULT 1"""
_TRANSCRIPTS_ADDED = """,
    transcription_run_id INTEGER,
    supersedes_run_id INTEGER,
    idempotency_key TEXT"""
_CLAIMS_ADDED = """,
    review_status TEXT NOT NULL DEFAULT 'pending',
    reviewer_id INTEGER,
    review_group TEXT,
    reviewed_at DATETIME,
    review_notes TEXT,
    review_version INTEGER NOT NULL DEFAULT 1,
    review_reason_code TEXT,
    claim_cluster_id INTEGER"""
_SYNC_LOG_ADDED = """,
    org_id INTEGER,
    team_id INTEGER"""


def _media_core(layout: str) -> str:
    """The core tables of the media file as *layout* has them."""
    current = layout == "current"
    visibility = (
        "visibility TEXT DEFAULT 'personal' CHECK (visibility IN ('personal', 'team', 'org'))"
        if current
        else "visibility TEXT DEFAULT 'personal'"
    )
    # Older servers allowed one transcript per model; v23 replaced that with run ids.
    transcripts_tail = (
        _TRANSCRIPTS_ADDED + "\n);\n" + _TRANSCRIPT_RUN_INDEXES
        if current
        else ",\n    UNIQUE (media_id, whisper_model)\n);\n"
    )
    ddl = f"""
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
    {visibility},
    owner_user_id INTEGER,{_SYNC_COLUMNS}{_MEDIA_ADDED if current else ""}
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
    created_at DATETIME,{_SYNC_COLUMNS}{transcripts_tail}
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
"""
    if layout != "early":
        ddl += _IDENTIFIERS_AND_CLAIMS.format(
            sync=_SYNC_COLUMNS, added=_CLAIMS_ADDED if current else ""
        )
    return (
        ddl
        + f"""
CREATE TABLE sync_log (
    change_id INTEGER PRIMARY KEY AUTOINCREMENT,
    entity TEXT NOT NULL,
    entity_uuid TEXT NOT NULL,
    operation TEXT NOT NULL
        CHECK (operation IN ('create', 'update', 'delete', 'link', 'unlink')),
    timestamp DATETIME NOT NULL,
    client_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    payload TEXT{_SYNC_LOG_ADDED if current else ""}
);
CREATE TABLE schema_version (
    version INTEGER PRIMARY KEY
);
INSERT INTO schema_version (version) VALUES ({MEDIA_SCHEMA_VERSION[layout]});
"""
    )


_TRANSCRIPT_RUN_INDEXES = """CREATE UNIQUE INDEX idx_transcripts_media_run
    ON Transcripts(media_id, transcription_run_id) WHERE transcription_run_id IS NOT NULL;
CREATE UNIQUE INDEX idx_transcripts_media_idempotency
    ON Transcripts(media_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
"""

_IDENTIFIERS_AND_CLAIMS = """
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
    created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,{sync}{added}
);
"""

# Tables of schema version 23 the spec describes column by column.
_MEDIA_V23_TABLES = f"""
CREATE TABLE VisualDocuments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    media_id INTEGER NOT NULL REFERENCES Media(id) ON DELETE CASCADE,
    location TEXT,
    page_number INTEGER,
    frame_index INTEGER,
    timestamp_seconds REAL,
    caption TEXT,
    ocr_text TEXT,
    tags TEXT,
    thumbnail_path TEXT,
    extra_metadata TEXT,
    uuid TEXT UNIQUE NOT NULL,
    created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
    last_modified DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    version INTEGER NOT NULL DEFAULT 1,
    client_id TEXT NOT NULL,
    deleted BOOLEAN NOT NULL DEFAULT 0,
    prev_version INTEGER,
    merge_parent_uuid TEXT
);
CREATE TABLE DocumentStructureIndex (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    media_id INTEGER NOT NULL REFERENCES Media(id) ON DELETE CASCADE,
    parent_id INTEGER,
    kind TEXT NOT NULL,
    level INTEGER,
    title TEXT,
    start_char INTEGER NOT NULL,
    end_char INTEGER NOT NULL,
    order_index INTEGER,
    path TEXT,
    created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
    last_modified DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    version INTEGER NOT NULL DEFAULT 1,
    client_id TEXT NOT NULL,
    deleted BOOLEAN NOT NULL DEFAULT 0
);
CREATE INDEX idx_dsi_media ON DocumentStructureIndex(media_id, start_char);
CREATE TABLE ChunkingTemplates (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    description TEXT,
    template_json TEXT NOT NULL,
    is_builtin BOOLEAN NOT NULL DEFAULT 0,
    tags TEXT,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    org_id INTEGER,
    team_id INTEGER,
    user_id TEXT,{_SYNC_COLUMNS}
);
CREATE UNIQUE INDEX idx_chunking_templates_live_name ON ChunkingTemplates(name) WHERE deleted = 0;
CREATE TABLE MediaFiles (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    media_id INTEGER NOT NULL REFERENCES Media(id) ON DELETE CASCADE,
    file_type TEXT NOT NULL DEFAULT 'original',
    storage_path TEXT NOT NULL,
    original_filename TEXT,
    file_size INTEGER,
    mime_type TEXT,
    checksum TEXT,
    created_at TEXT DEFAULT (datetime('now')),{_SYNC_COLUMNS}
);
CREATE TABLE schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    checksum TEXT NOT NULL,
    applied_at TIMESTAMP NOT NULL,
    execution_time REAL NOT NULL,
    success BOOLEAN NOT NULL DEFAULT 1,
    error_message TEXT
);
"""

# Tables the spec names without columns. Their columns are chosen here: they stand for tables
# our server does not know, so what matters is that they look like a feature's tables (foreign
# keys into Media, Claims and each other, every storage class, SQL-computed defaults, a NOCASE
# unique name, a column declared JSON) and that every value in them must arrive.
_MEDIA_FEATURE_TABLES = """
CREATE TABLE claims_review_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    claim_id INTEGER NOT NULL REFERENCES Claims(id) ON DELETE CASCADE,
    old_status TEXT,
    new_status TEXT NOT NULL,
    reviewer_id INTEGER,
    notes TEXT,
    reason_code TEXT,
    review_version INTEGER NOT NULL DEFAULT 1,
    created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX idx_claims_review_log_claim ON claims_review_log(claim_id);
CREATE TABLE claim_clusters (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    canonical_claim_text TEXT NOT NULL,
    representative_claim_id INTEGER REFERENCES Claims(id) ON DELETE SET NULL,
    member_count INTEGER NOT NULL DEFAULT 0,
    similarity_threshold REAL DEFAULT 0.85,
    watchlist_count INTEGER NOT NULL DEFAULT 0,
    cluster_version INTEGER NOT NULL DEFAULT 1,
    created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE claim_cluster_membership (
    cluster_id INTEGER NOT NULL REFERENCES claim_clusters(id) ON DELETE CASCADE,
    claim_id INTEGER NOT NULL REFERENCES Claims(id) ON DELETE CASCADE,
    similarity_score REAL,
    joined_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (cluster_id, claim_id)
);
CREATE TABLE tts_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id TEXT NOT NULL,
    media_id INTEGER REFERENCES Media(id) ON DELETE SET NULL,
    text TEXT,
    text_hash TEXT NOT NULL,
    text_length INTEGER,
    provider TEXT,
    model TEXT,
    voice_name TEXT,
    format TEXT DEFAULT 'mp3',
    duration_ms INTEGER,
    generation_time_ms INTEGER,
    speed REAL DEFAULT 1.0,
    params_json TEXT,
    status TEXT NOT NULL DEFAULT 'success',
    error_message TEXT,
    waveform BLOB,
    favorite BOOLEAN NOT NULL DEFAULT 0,
    created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    deleted BOOLEAN NOT NULL DEFAULT 0,
    deleted_at DATETIME
);
CREATE TABLE data_tables (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid TEXT UNIQUE NOT NULL,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    description TEXT,
    prompt TEXT,
    status TEXT NOT NULL DEFAULT 'ready',
    row_count INTEGER NOT NULL DEFAULT 0,
    generation_model TEXT,
    owner_user_id INTEGER,
    created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    version INTEGER NOT NULL DEFAULT 1,
    client_id TEXT NOT NULL,
    deleted BOOLEAN NOT NULL DEFAULT 0
);
CREATE TABLE data_table_columns (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    table_id INTEGER NOT NULL REFERENCES data_tables(id) ON DELETE CASCADE,
    column_id TEXT NOT NULL,
    name TEXT NOT NULL,
    type TEXT NOT NULL,
    description TEXT,
    position INTEGER NOT NULL,
    created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
    UNIQUE (table_id, column_id),
    UNIQUE (table_id, position)
);
CREATE TABLE data_table_rows (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    table_id INTEGER NOT NULL REFERENCES data_tables(id) ON DELETE CASCADE,
    row_id TEXT NOT NULL,
    row_index INTEGER NOT NULL,
    row_json JSON NOT NULL,
    row_hash TEXT,
    created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
    UNIQUE (table_id, row_index)
);
CREATE TABLE data_table_sources (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    table_id INTEGER NOT NULL REFERENCES data_tables(id) ON DELETE CASCADE,
    media_id INTEGER REFERENCES Media(id) ON DELETE SET NULL,
    source_type TEXT NOT NULL,
    source_id TEXT NOT NULL,
    title TEXT,
    snapshot_json TEXT,
    retrieval_params_json TEXT,
    created_at DATETIME DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE email_messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    media_id INTEGER REFERENCES Media(id) ON DELETE CASCADE,
    tenant_id TEXT NOT NULL,
    message_id TEXT,
    thread_key TEXT,
    subject TEXT,
    body_text TEXT,
    from_address TEXT,
    internal_date DATETIME,
    has_attachments BOOLEAN NOT NULL DEFAULT 0,
    size_bytes INTEGER,
    raw_headers_json TEXT,
    created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at DATETIME NOT NULL DEFAULT (datetime('now')),
    deleted BOOLEAN NOT NULL DEFAULT 0,
    UNIQUE (tenant_id, message_id)
);
CREATE TABLE email_participants (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    email_message_id INTEGER NOT NULL REFERENCES email_messages(id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('from', 'to', 'cc', 'bcc')),
    display_name TEXT,
    email_address TEXT NOT NULL COLLATE NOCASE
);
CREATE TABLE email_labels (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    email_message_id INTEGER NOT NULL REFERENCES email_messages(id) ON DELETE CASCADE,
    label TEXT NOT NULL,
    source TEXT NOT NULL DEFAULT 'imap',
    applied_at DATETIME DEFAULT CURRENT_TIMESTAMP,
    UNIQUE (email_message_id, label)
);
CREATE TABLE content_items (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    media_id INTEGER REFERENCES Media(id) ON DELETE SET NULL,
    origin TEXT NOT NULL,
    url TEXT,
    canonical_url TEXT,
    domain TEXT,
    title TEXT,
    summary TEXT,
    content_hash TEXT,
    word_count INTEGER,
    published_at DATETIME,
    status TEXT NOT NULL DEFAULT 'new',
    favorite BOOLEAN NOT NULL DEFAULT 0,
    reading_progress REAL DEFAULT 0.0,
    metadata_json TEXT,
    thumbnail BLOB,
    created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at DATETIME NOT NULL DEFAULT (datetime('now'))
);
CREATE TABLE content_item_tags (
    item_id INTEGER NOT NULL REFERENCES content_items(id) ON DELETE CASCADE,
    tag TEXT NOT NULL COLLATE NOCASE,
    created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (item_id, tag)
);
CREATE TABLE reading_highlights (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    item_id INTEGER NOT NULL REFERENCES content_items(id) ON DELETE CASCADE,
    quote TEXT NOT NULL,
    start_offset INTEGER,
    end_offset INTEGER,
    color TEXT DEFAULT 'yellow',
    note TEXT,
    state TEXT NOT NULL DEFAULT 'active',
    created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);
"""

# What a user added by hand (sqlite3 shell, a script): a column on a known table, and a table.
_MEDIA_USER_ADDITIONS = """
ALTER TABLE Media ADD COLUMN my_rating INTEGER;
CREATE TABLE my_reading_list (
    id INTEGER PRIMARY KEY,
    media_id INTEGER REFERENCES Media(id),
    priority INTEGER DEFAULT 3,
    added DATETIME DEFAULT CURRENT_TIMESTAMP,
    note TEXT,
    done BOOLEAN DEFAULT 0
);
"""


def _media_fts(layout: str) -> tuple[_Fts, ...]:
    fts = [
        _Fts("media_fts", "Media", ("title", "content"), key="id"),
        _Fts("keyword_fts", "Keywords", ("keyword",), key="id"),
    ]
    if layout != "early":
        fts.append(_Fts("claims_fts", "Claims", ("claim_text",), key="id"))
    if layout == "current":
        fts += [
            _Fts("unvectorized_chunks_fts", "UnvectorizedMediaChunks", ("chunk_text",), key="id"),
            _Fts("email_fts", "email_messages", ("subject", "body_text", "from_address"), key="id"),
            _Fts(
                "content_items_fts",
                "content_items",
                ("title", "summary"),
                key="id",
                contentless=True,
                live_only=False,
            ),
        ]
    return tuple(fts)


def _media_ddl(layout: str) -> str:
    ddl = _media_core(layout)
    if layout == "current":
        ddl += _MEDIA_V23_TABLES + _MEDIA_FEATURE_TABLES + _MEDIA_USER_ADDITIONS
    return ddl


# --------------------------------------------------------------------------------------------
# ChaChaNotes.db (its db_schema_version row is added per layout)
# --------------------------------------------------------------------------------------------

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
"""

_CHACHA_FTS: tuple[_Fts, ...] = (
    _Fts(
        "character_cards_fts",
        "character_cards",
        ("name", "description", "personality", "scenario", "system_prompt"),
        key="id",
    ),
    _Fts("conversations_fts", "conversations", ("title",)),
    _Fts("messages_fts", "messages", ("content",)),
    _Fts("keywords_fts", "keywords", ("keyword",), key="id"),
    _Fts("keyword_collections_fts", "keyword_collections", ("name",), key="id"),
    _Fts("notes_fts", "notes", ("title", "content")),
)

# --------------------------------------------------------------------------------------------
# Analytics.db: the spec's types as written (INT, BOOL), every table but query_patterns with a
# defaulted timestamp.
# --------------------------------------------------------------------------------------------

_ANALYTICS_HEAD = """
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    timestamp TIMESTAMP DEFAULT CURRENT_TIMESTAMP,"""

_ANALYTICS_DDL = f"""
CREATE TABLE search_analytics ({_ANALYTICS_HEAD}
    query_hash TEXT NOT NULL,
    query_length INT,
    query_complexity TEXT,
    search_type TEXT,
    results_count INT,
    max_score REAL,
    avg_score REAL,
    response_time_ms INT,
    cache_hit BOOL,
    reranking_used BOOL,
    expansion_used BOOL,
    filters_used TEXT,
    error_occurred BOOL DEFAULT FALSE,
    error_type TEXT
);
CREATE TABLE document_performance ({_ANALYTICS_HEAD}
    document_hash TEXT NOT NULL,
    document_type TEXT,
    chunk_size INT,
    retrieval_count INT DEFAULT 0,
    avg_relevance_score REAL,
    citation_count INT DEFAULT 0,
    feedback_positive INT DEFAULT 0,
    feedback_negative INT DEFAULT 0,
    last_accessed TIMESTAMP
);
CREATE TABLE feedback_analytics ({_ANALYTICS_HEAD}
    session_hash TEXT NOT NULL,
    query_hash TEXT NOT NULL,
    feedback_type TEXT,
    rating INT,
    response_quality TEXT,
    retrieval_accuracy TEXT,
    response_time_acceptable BOOL,
    categories TEXT,
    improvement_areas TEXT
);
CREATE TABLE citation_analytics ({_ANALYTICS_HEAD}
    citation_style TEXT,
    document_count INT,
    chunk_count INT,
    verification_requested BOOL,
    format_errors INT DEFAULT 0,
    generation_time_ms INT
);
CREATE TABLE error_tracking ({_ANALYTICS_HEAD}
    error_type TEXT NOT NULL,
    error_category TEXT,
    error_hash TEXT,
    component TEXT,
    severity TEXT,
    frequency INT DEFAULT 1,
    resolved BOOL DEFAULT FALSE,
    resolution_time TIMESTAMP,
    stack_trace_hash TEXT
);
CREATE TABLE system_performance ({_ANALYTICS_HEAD}
    metric_type TEXT NOT NULL,
    metric_value REAL,
    component TEXT,
    operation TEXT,
    duration_ms INT,
    memory_mb REAL,
    cpu_percent REAL
);
CREATE TABLE feature_usage ({_ANALYTICS_HEAD}
    feature_name TEXT NOT NULL,
    usage_count INT DEFAULT 1,
    success_count INT DEFAULT 0,
    failure_count INT DEFAULT 0,
    avg_execution_time_ms INT,
    last_used TIMESTAMP
);
CREATE TABLE query_patterns (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    pattern_hash TEXT UNIQUE NOT NULL,
    pattern_type TEXT,
    frequency INT DEFAULT 1,
    avg_results_quality REAL,
    avg_response_time_ms INT,
    first_seen TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    last_seen TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE ab_testing ({_ANALYTICS_HEAD}
    test_name TEXT NOT NULL,
    variant TEXT NOT NULL,
    session_hash TEXT,
    metric_name TEXT,
    metric_value REAL,
    conversion BOOL
);
CREATE TABLE analytics_events ({_ANALYTICS_HEAD}
    event_type TEXT NOT NULL,
    query_hash TEXT,
    metrics TEXT
);
"""

# --------------------------------------------------------------------------------------------
# workflows.db
# --------------------------------------------------------------------------------------------

_WORKFLOWS_TEMPLATE = """
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
CREATE TABLE {steps_table} (
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


# --------------------------------------------------------------------------------------------
# Layouts
# --------------------------------------------------------------------------------------------


def _check_choice(what: str, value: str, choices: Sequence[str]) -> None:
    if value not in choices:
        raise ValueError(f"unknown {what} {value!r}; expected one of {list(choices)}")


def legacy_layout(
    kind: str, layout: str = DEFAULT_LAYOUT, *, steps_table: str = DEFAULT_STEPS_TABLE
) -> LegacyLayout:
    """The layout of a *kind* file written by the server version *layout*.

    *steps_table* names workflows.db's step table (ignored for other kinds).
    """
    _check_choice("legacy database kind", kind, KINDS)
    _check_choice("layout", layout, LAYOUTS)
    _check_choice("workflow steps table", steps_table, STEP_TABLES)
    fts: tuple[_Fts, ...] = ()
    if kind == "media":
        fts = _media_fts(layout)
        tables_ddl = _media_ddl(layout)
    elif kind == "chacha":
        fts = _CHACHA_FTS
        tables_ddl = _CHACHA_TABLES + (
            "INSERT INTO db_schema_version (schema_name, version) "
            f"VALUES ('ChaChaNotes', {CHACHA_SCHEMA_VERSION[layout]});\n"
        )
    elif kind == "analytics":
        tables_ddl = _ANALYTICS_DDL
    else:
        tables_ddl = _WORKFLOWS_TEMPLATE.format(steps_table=steps_table)
    return LegacyLayout(
        kind=kind,
        layout=layout,
        ddl=tables_ddl + "".join(f.ddl() for f in fts),
        tables=_table_names(tables_ddl),
        fts={f.name: f.table for f in fts},
    )


_CURRENT = {kind: legacy_layout(kind) for kind in KINDS}

LEGACY_DDL: dict[str, str] = {kind: layout.ddl for kind, layout in _CURRENT.items()}
"""One ``executescript`` script per legacy file kind (default layout), creating its layout."""

LEGACY_TABLES: dict[str, tuple[str, ...]] = {
    kind: layout.tables for kind, layout in _CURRENT.items()
}
"""The ordinary tables of each kind in the default layout (no FTS tables), in DDL order."""

LEGACY_FTS: dict[str, dict[str, str]] = {
    kind: dict(layout.fts) for kind, layout in _CURRENT.items()
}
"""FTS5 table -> the table it indexes, per kind (default layout): derived data."""


def create_legacy_database(
    kind: str,
    path: Path,
    layout: str = DEFAULT_LAYOUT,
    *,
    steps_table: str = DEFAULT_STEPS_TABLE,
) -> LegacyLayout:
    """Create a new SQLite file at *path* with the legacy layout of *kind*; returns the layout.

    Refuses to touch an existing non-empty file: running the DDL over a user's file would fail
    half-way, and overwriting one would destroy data. The script runs in one transaction so a
    failure leaves no half-built layout behind.
    """
    chosen = legacy_layout(kind, layout, steps_table=steps_table)
    path = Path(path)
    if path.exists() and path.stat().st_size > 0:
        raise FileExistsError(
            f"{path} already exists; legacy layouts are only created in new files"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    try:
        conn.executescript("BEGIN;\n" + chosen.ddl + "\nCOMMIT;")
    finally:
        conn.close()
    return chosen
