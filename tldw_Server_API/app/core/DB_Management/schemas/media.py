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

from .nocase import NoCaseText, nocase_unique
from .spec import (
    DatabaseSchema,
    SearchIndex,
    SyncedTable,
    SyncLog,
    VersionRecord,
    sync_columns,
)
from .types import Blob, Double, Flag, Instant, Int, Json, Key, Uuid
from .upgrades import foreign_key_index_upgrade

metadata = MetaData()
_AUTO = {"sqlite_autoincrement": True}


def _media_fk(name: str = "media_id") -> Column:
    return Column(name, Key, ForeignKey("media.id", ondelete="CASCADE"), nullable=False)


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
    CheckConstraint(
        "visibility IS NULL OR visibility IN ('personal', 'team', 'org')",
        name="ck_media_visibility",
    ),
    **_AUTO,
)

keywords = Table(
    "keywords",
    metadata,
    Column("id", Key, primary_key=True),
    Column("keyword", NoCaseText, nullable=False),
    *sync_columns(),
    **_AUTO,
)
nocase_unique(keywords, "keyword")

media_keywords = Table(
    "mediakeywords",
    metadata,
    Column("id", Key, primary_key=True),
    _media_fk(),
    Column("keyword_id", Key, ForeignKey("keywords.id", ondelete="CASCADE"), nullable=False),
    UniqueConstraint("media_id", "keyword_id", name="uq_mediakeywords"),
    **_AUTO,
)

transcripts = Table(
    "transcripts",
    metadata,
    Column("id", Key, primary_key=True),
    _media_fk(),
    Column("whisper_model", Text),
    Column("transcription", Text),
    Column("created_at", Instant),
    *sync_columns(),
    **_AUTO,
)

media_chunks = Table(
    "mediachunks",
    metadata,
    Column("id", Key, primary_key=True),
    _media_fk(),
    Column("chunk_text", Text, nullable=False),
    Column("start_index", Int),
    Column("end_index", Int),
    Column("chunk_id", Text, unique=True),
    *sync_columns(),
    **_AUTO,
)

unvectorized_chunks = Table(
    "unvectorizedmediachunks",
    metadata,
    Column("id", Key, primary_key=True),
    _media_fk(),
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
    **_AUTO,
)

document_versions = Table(
    "documentversions",
    metadata,
    Column("id", Key, primary_key=True),
    _media_fk(),
    Column("version_number", Int, nullable=False),
    Column("prompt", Text),
    Column("analysis_content", Text),
    Column("safe_metadata", Json),
    Column("content", Text, nullable=False),
    Column("created_at", Instant),
    *sync_columns(),
    UniqueConstraint("media_id", "version_number", name="uq_documentversions"),
    **_AUTO,
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

claims = Table(
    "claims",
    metadata,
    Column("id", Key, primary_key=True),
    _media_fk(),
    Column("chunk_index", Int, nullable=False),
    Column("span_start", Int),
    Column("span_end", Int),
    Column("claim_text", Text, nullable=False),
    Column("confidence", Double),
    Column("extractor", Text, nullable=False),
    Column("extractor_version", Text, nullable=False),
    Column("chunk_hash", Text, nullable=False),
    Column("created_at", Instant, nullable=False, server_default=text("CURRENT_TIMESTAMP")),
    *sync_columns(),
    **_AUTO,
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
    CheckConstraint(
        "operation IN ('create', 'update', 'delete', 'link', 'unlink')",
        name="ck_media_sync_log_operation",
    ),
    **_AUTO,
)

schema_version = Table(
    "schema_version",
    metadata,
    Column("version", Int, primary_key=True, autoincrement=False),
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
    version=2,
    version_record=VersionRecord("schema_version"),
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
    ),
    sync_log=SyncLog("sync_log", "entity_uuid"),
    upgrades=(foreign_key_index_upgrade(2, FOREIGN_KEY_INDEXES),),
)

__all__ = ["SCHEMA", "metadata"]
