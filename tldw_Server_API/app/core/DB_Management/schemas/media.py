"""The Media database (``Media_DB_v2.db``, one per user): media items and what hangs off them.

Tables and columns are those of content-schema.md; names are lower case, which
SQLite matches case-insensitively against our users' CamelCase files and
PostgreSQL uses as written (``SELECT COUNT(*) FROM media``).
"""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    MetaData,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from .embeddings import chunk_embeddings_table, embedding_indexes, embeddings_upgrade
from .nocase import keywords_table
from .spec import (
    DatabaseSchema,
    SearchIndex,
    SyncedTable,
    SyncLog,
    sync_columns,
    version_table,
)
from .types import AUTOINCREMENT, NOW, Blob, Double, Flag, Instant, Int, Json, Key, Uuid
from .upgrades import foreign_key_index_upgrade, layout_upgrade

metadata = MetaData()


def _media_child(name: str, *columns: Column | UniqueConstraint) -> Table:
    """A table of one media item's rows: an id, the item (deleted with it), its own columns."""
    return Table(
        name,
        metadata,
        Column("id", Key, primary_key=True),
        Column("media_id", Key, ForeignKey("media.id", ondelete="CASCADE"), nullable=False),
        *columns,
        **AUTOINCREMENT,
    )


def _unique_where_set(name: str, owner: Column, key: Column) -> Index:
    """*key* unique per *owner* among the rows where it is set (a partial unique index)."""
    return Index(
        name,
        owner,
        key,
        unique=True,
        sqlite_where=key.isnot(None),
        postgresql_where=key.isnot(None),
    )


# Columns of current installations (our users' Media schema 23), added by our version 3.
MEDIA_V3_COLUMNS = (
    Column("org_id", Key),
    Column("team_id", Key),
    Column("latest_transcription_run_id", Key),
    Column("next_transcription_run_id", Key, nullable=False, server_default="1"),
)
TRANSCRIPT_V3_COLUMNS = (
    Column("transcription_run_id", Key),
    Column("supersedes_run_id", Key),
    Column("idempotency_key", Text),
)
CLAIM_V3_COLUMNS = (
    Column("review_status", Text, nullable=False, server_default="pending"),
    Column("reviewer_id", Key),
    Column("review_group", Text),
    Column("reviewed_at", Instant),
    Column("review_notes", Text),
    Column("review_version", Key, nullable=False, server_default="1"),
    Column("review_reason_code", Text),
    Column("claim_cluster_id", Key),
)
SYNC_LOG_V3_COLUMNS = (Column("org_id", Key), Column("team_id", Key))


media = Table(
    "media",
    metadata,
    Column("id", Key, primary_key=True),
    Column("url", Text, unique=True),
    Column("title", Text, nullable=False),
    Column("type", Text, nullable=False),
    Column("content", Text),
    Column("author", Text),
    Column("ingestion_date", Instant),
    Column("transcription_model", Text),
    Column("is_trash", Flag, nullable=False, server_default="0"),
    Column("trash_date", Instant),
    Column("vector_embedding", Blob),
    Column("chunking_status", Text, nullable=False, server_default="pending"),
    Column("vector_processing", Int, nullable=False, server_default="0"),
    Column("content_hash", Text, nullable=False),
    Column("source_hash", Text),
    Column("visibility", Text, server_default="personal"),
    Column("owner_user_id", Key),
    *sync_columns(),
    *MEDIA_V3_COLUMNS,
    CheckConstraint(
        "visibility IS NULL OR visibility IN ('personal', 'team', 'org')",
        name="ck_media_visibility",
    ),
    **AUTOINCREMENT,
)

keywords = keywords_table(metadata, sync_columns())

media_keywords = _media_child(
    "mediakeywords",
    Column("keyword_id", Key, ForeignKey("keywords.id", ondelete="CASCADE"), nullable=False),
    UniqueConstraint("media_id", "keyword_id", name="uq_mediakeywords"),
)

transcripts = _media_child(
    "transcripts",
    Column("whisper_model", Text),
    Column("transcription", Text),
    Column("created_at", Instant),
    *sync_columns(),
    *TRANSCRIPT_V3_COLUMNS,
)

media_chunks = _media_child(
    "mediachunks",
    Column("chunk_text", Text, nullable=False),
    Column("start_index", Int),
    Column("end_index", Int),
    Column("chunk_id", Text, unique=True),
    *sync_columns(),
)

unvectorized_chunks = _media_child(
    "unvectorizedmediachunks",
    Column("chunk_text", Text, nullable=False),
    Column("chunk_index", Int, nullable=False),
    Column("start_char", Int),
    Column("end_char", Int),
    Column("chunk_type", Text),
    Column("creation_date", Instant),
    Column("last_modified_orig", Instant),
    Column("is_processed", Flag, nullable=False, server_default="0"),
    Column("metadata", Json),
    *sync_columns(),
    UniqueConstraint("media_id", "chunk_index", "chunk_type", name="uq_unvectorized_chunk"),
)

document_versions = _media_child(
    "documentversions",
    Column("version_number", Int, nullable=False),
    Column("prompt", Text),
    Column("analysis_content", Text),
    Column("safe_metadata", Json),
    Column("content", Text, nullable=False),
    Column("created_at", Instant),
    *sync_columns(),
    UniqueConstraint("media_id", "version_number", name="uq_documentversions"),
)

document_version_identifiers = Table(
    "documentversionidentifiers",
    metadata,
    Column(
        "dv_id",
        Key,
        ForeignKey("documentversions.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    ),
    *(
        Column(name, Text, index=True)
        for name in ("doi", "pmid", "pmcid", "arxiv_id", "s2_paper_id")
    ),
)

claims = _media_child(
    "claims",
    Column("chunk_index", Int, nullable=False),
    Column("span_start", Int),
    Column("span_end", Int),
    Column("claim_text", Text, nullable=False),
    Column("confidence", Double),
    Column("extractor", Text, nullable=False),
    Column("extractor_version", Text, nullable=False),
    Column("chunk_hash", Text, nullable=False),
    Column("created_at", Instant, nullable=False, server_default=NOW),
    *sync_columns(),
    *CLAIM_V3_COLUMNS,
)

sync_log = Table(
    "sync_log",
    metadata,
    Column("change_id", Key, primary_key=True),
    Column("entity", Text, nullable=False),
    Column("entity_uuid", Uuid, nullable=False),
    Column("operation", Text, nullable=False),
    Column("timestamp", Instant, nullable=False),
    Column("client_id", Uuid, nullable=False),
    Column("version", Int, nullable=False),
    Column("payload", Json),
    *SYNC_LOG_V3_COLUMNS,
    CheckConstraint(
        "operation IN ('create', 'update', 'delete', 'link', 'unlink')",
        name="ck_media_sync_log_operation",
    ),
    **AUTOINCREMENT,
)

# Our users' server's own version record: their data (we never read or write its number).
schema_version = Table(
    "schema_version",
    metadata,
    Column("version", Int, primary_key=True, autoincrement=False),
)

visual_documents = _media_child(
    "visualdocuments",
    Column("location", Text),
    Column("page_number", Int),
    Column("frame_index", Int),
    Column("timestamp_seconds", Double),
    Column("caption", Text),
    Column("ocr_text", Text),
    Column("tags", Text),
    Column("thumbnail_path", Text),
    Column("extra_metadata", Text),
    Column("uuid", Uuid, nullable=False, unique=True),
    Column("created_at", Instant, server_default=NOW),
    Column("last_modified", Instant, nullable=False, server_default=NOW),
    Column("version", Key, nullable=False, server_default="1"),
    Column("client_id", Uuid),
    Column("deleted", Flag, nullable=False, server_default="0"),
    Column("prev_version", Key),
    Column("merge_parent_uuid", Uuid),
)

document_structure_index = _media_child(
    "documentstructureindex",
    Column("parent_id", Key),  # another row's id; their server declares no foreign key
    Column("kind", Text, nullable=False),
    Column("level", Int),
    Column("title", Text),
    Column("start_char", Int, nullable=False),
    Column("end_char", Int, nullable=False),
    Column("order_index", Int),
    Column("path", Text),
    Column("created_at", Instant, server_default=NOW),
    Column("last_modified", Instant, nullable=False, server_default=NOW),
    Column("version", Key, nullable=False, server_default="1"),
    Column("client_id", Uuid, nullable=False),
    Column("deleted", Flag, nullable=False, server_default="0"),
)

chunking_templates = Table(
    "chunkingtemplates",
    metadata,
    Column("id", Key, primary_key=True),
    Column("name", Text, nullable=False),
    Column("description", Text),
    Column("template_json", Text, nullable=False),
    Column("is_builtin", Flag, nullable=False, server_default="0"),
    Column("tags", Text),
    Column("created_at", Instant, nullable=False, server_default=NOW),
    Column("updated_at", Instant, nullable=False, server_default=NOW),
    Column("org_id", Key),
    Column("team_id", Key),
    Column("user_id", Text),
    *sync_columns(),
    **AUTOINCREMENT,
)

media_files = _media_child(
    "mediafiles",
    Column("file_type", Text, nullable=False, server_default="original"),
    Column("storage_path", Text, nullable=False),
    Column("original_filename", Text),
    Column("file_size", Key),
    Column("mime_type", Text),
    Column("checksum", Text),
    Column("created_at", Instant, server_default=NOW),
    *sync_columns(),
)

schema_migrations = Table(
    "schema_migrations",
    metadata,
    Column("version", Int, primary_key=True, autoincrement=False),
    Column("name", Text, nullable=False),
    Column("checksum", Text, nullable=False),
    Column("applied_at", Instant, nullable=False),
    Column("execution_time", Double, nullable=False),
    Column("success", Flag, nullable=False, server_default="1"),
    Column("error_message", Text),
)

tldw_schema = version_table(metadata)
chunk_embeddings = chunk_embeddings_table(metadata)

# Unique rules of current installations, as partial indexes (rows where the key is set).
CURRENT_INSTALLATION_INDEXES = (
    _unique_where_set(
        "ux_transcripts_media_run", transcripts.c.media_id, transcripts.c.transcription_run_id
    ),
    _unique_where_set(
        "ux_transcripts_media_idempotency", transcripts.c.media_id, transcripts.c.idempotency_key
    ),
    Index(
        "ux_chunkingtemplates_live_name",
        chunking_templates.c.name,
        unique=True,
        sqlite_where=chunking_templates.c.deleted == text("0"),
        postgresql_where=chunking_templates.c.deleted == text("false"),
    ),
    Index("ix_visualdocuments_media_id", visual_documents.c.media_id),
    Index("ix_documentstructureindex_media_id", document_structure_index.c.media_id),
    Index("ix_mediafiles_media_id", media_files.c.media_id),
)

# Indexes our users' files lack; they make per-item reads and cascades cheap (version 2).
FOREIGN_KEY_INDEXES = (
    Index("ix_mediakeywords_keyword_id", media_keywords.c.keyword_id),
    Index("ix_transcripts_media_id", transcripts.c.media_id),
    Index("ix_mediachunks_media_id", media_chunks.c.media_id),
    Index("ix_documentversions_media_id", document_versions.c.media_id),
    Index("ix_claims_media_id", claims.c.media_id),
    Index("ix_media_live", media.c.deleted, media.c.is_trash),
    Index("ix_sync_log_entity_uuid", sync_log.c.entity_uuid),
)

SCHEMA = DatabaseSchema(
    name="media",
    title="Media",
    metadata=metadata,
    version=4,
    per_user=True,
    sqlite_file="Media_DB_v2.db",
    search=(
        SearchIndex("media_fts", "media", (("title", "A"), ("content", "B"))),
        SearchIndex("keyword_fts", "keywords", (("keyword", "A"),)),
        SearchIndex("claims_fts", "claims", (("claim_text", "A"),)),
    ),
    synced=(
        SyncedTable("media", "Media"),
        SyncedTable("keywords", "Keywords"),
        SyncedTable("transcripts", "Transcripts"),
        SyncedTable("mediachunks", "MediaChunks"),
        SyncedTable("unvectorizedmediachunks", "UnvectorizedMediaChunks"),
        SyncedTable("documentversions", "DocumentVersions"),
        SyncedTable("claims", "Claims"),
        SyncedTable("chunkingtemplates", "ChunkingTemplates"),
        SyncedTable("mediafiles", "MediaFiles"),
    ),
    sync_log=SyncLog("sync_log", "entity_uuid"),
    upgrades=(
        foreign_key_index_upgrade(2, FOREIGN_KEY_INDEXES),
        layout_upgrade(
            3,
            "the tables and columns of current installations (their Media schema 23)",
            tables=(
                visual_documents,
                document_structure_index,
                chunking_templates,
                media_files,
                schema_migrations,
            ),
            columns=(
                *MEDIA_V3_COLUMNS,
                *TRANSCRIPT_V3_COLUMNS,
                *CLAIM_V3_COLUMNS,
                *SYNC_LOG_V3_COLUMNS,
            ),
            indexes=CURRENT_INSTALLATION_INDEXES,
        ),
        embeddings_upgrade(4, chunk_embeddings, embedding_indexes(chunk_embeddings)),
    ),
)

__all__ = ["SCHEMA", "metadata"]
