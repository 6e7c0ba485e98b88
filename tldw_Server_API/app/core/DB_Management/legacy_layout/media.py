"""Media_DB_v2.db as each server version laid it out (``early``, ``late-2025``, ``current``)."""

from __future__ import annotations

from .layout import MEDIA_SCHEMA_VERSION, SYNC_COLUMNS, Fts

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
    owner_user_id INTEGER,{SYNC_COLUMNS}{_MEDIA_ADDED if current else ""}
);
CREATE TABLE Keywords (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    keyword TEXT NOT NULL UNIQUE COLLATE NOCASE,{SYNC_COLUMNS}
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
    created_at DATETIME,{SYNC_COLUMNS}{transcripts_tail}
CREATE TABLE MediaChunks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    media_id INTEGER REFERENCES Media(id) ON DELETE CASCADE,
    chunk_text TEXT NOT NULL,
    start_index INTEGER,
    end_index INTEGER,
    chunk_id TEXT UNIQUE,{SYNC_COLUMNS}
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
    metadata TEXT,{SYNC_COLUMNS},
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
    created_at DATETIME,{SYNC_COLUMNS},
    UNIQUE (media_id, version_number)
);
"""
    if layout != "early":
        ddl += _IDENTIFIERS_AND_CLAIMS.format(
            sync=SYNC_COLUMNS, added=_CLAIMS_ADDED if current else ""
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
    user_id TEXT,{SYNC_COLUMNS}
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
    created_at TEXT DEFAULT (datetime('now')),{SYNC_COLUMNS}
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


def media_fts(layout: str) -> tuple[Fts, ...]:
    fts = [
        Fts("media_fts", "Media", ("title", "content"), key="id"),
        Fts("keyword_fts", "Keywords", ("keyword",), key="id"),
    ]
    if layout != "early":
        fts.append(Fts("claims_fts", "Claims", ("claim_text",), key="id"))
    if layout == "current":
        fts += [
            Fts("unvectorized_chunks_fts", "UnvectorizedMediaChunks", ("chunk_text",), key="id"),
            Fts("email_fts", "email_messages", ("subject", "body_text", "from_address"), key="id"),
            Fts(
                "content_items_fts",
                "content_items",
                ("title", "summary"),
                key="id",
                contentless=True,
                live_only=False,
            ),
        ]
    return tuple(fts)


def media_ddl(layout: str) -> str:
    ddl = _media_core(layout)
    if layout == "current":
        ddl += _MEDIA_V23_TABLES + _MEDIA_FEATURE_TABLES + _MEDIA_USER_ADDITIONS
    return ddl
