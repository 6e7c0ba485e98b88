"""The ChaChaNotes database (one per user): notes, keywords, characters and chats.

Conversations and messages reference each other (a conversation may be forked
from a message of another conversation), and several tables reference
themselves; ``use_alter`` lets both dialects create such cycles.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
)

from .nocase import keywords_table
from .spec import DatabaseSchema, SearchIndex, SyncedTable, SyncLog, version_table
from .types import AUTOINCREMENT, NOW, Blob, Flag, Instant, Int, Json, Key, Uuid
from .upgrades import foreign_key_index_upgrade, layout_upgrade

metadata = MetaData()


def _chat_sync(*, client_default: str | None = None) -> list[Column]:
    """ChaChaNotes' sync columns: timestamps, soft delete, client and version."""
    return [
        Column("created_at", Instant, server_default=NOW),
        Column("last_modified", Instant, nullable=False, server_default=NOW),
        Column("deleted", Flag, nullable=False, server_default="0"),
        Column("client_id", Text, nullable=False, server_default=client_default or "unknown"),
        Column("version", Int, nullable=False, server_default="1"),
    ]


#: A character card's text fields, in their column order: the first four stand before the
#: image column, the others after it.
CHARACTER_TEXT_FIELDS = (
    "description",
    "personality",
    "scenario",
    "system_prompt",
    "post_history_instructions",
    "first_message",
    "message_example",
    "creator_notes",
    "alternate_greetings",
    "tags",
    "creator",
    "character_version",
    "extensions",
)

character_cards = Table(
    "character_cards",
    metadata,
    Column("id", Key, primary_key=True),
    Column("name", Text, nullable=False, unique=True),
    *(Column(name, Text) for name in CHARACTER_TEXT_FIELDS[:4]),
    Column("image", Blob),
    *(Column(name, Text) for name in CHARACTER_TEXT_FIELDS[4:]),
    *_chat_sync(),
    **AUTOINCREMENT,
)

conversations = Table(
    "conversations",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("root_id", Uuid, nullable=False),
    Column(
        "forked_from_message_id",
        Uuid,
        ForeignKey("messages.id", ondelete="SET NULL", use_alter=True, name="fk_conv_forked_msg"),
    ),
    Column("parent_conversation_id", Uuid, ForeignKey("conversations.id", ondelete="SET NULL")),
    Column("character_id", Key, ForeignKey("character_cards.id", ondelete="CASCADE")),
    Column("title", Text),
    Column("rating", Int, CheckConstraint("rating BETWEEN 1 AND 5", name="ck_conv_rating")),
    *_chat_sync(),
    # tldw_server's conversation labels (version 4): lifecycle state and navigation.
    Column("state", Text, nullable=False, server_default="in-progress"),
    *(Column(name, Text) for name in ("topic_label", "cluster_id", "source", "external_ref")),
)

messages = Table(
    "messages",
    metadata,
    Column(
        "id",
        Uuid,
        primary_key=True,
    ),
    Column(
        "conversation_id",
        Uuid,
        ForeignKey("conversations.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("parent_message_id", Uuid, ForeignKey("messages.id", ondelete="SET NULL")),
    Column("sender", Text, nullable=False),
    Column("content", Text),
    Column("image_data", Blob),
    Column("image_mime_type", Text),
    Column("timestamp", Instant, nullable=False),
    Column("ranking", Int),
    *[c for c in _chat_sync() if c.name != "created_at"],
    Column("pinned", Flag, nullable=False, server_default="0"),  # version 4
)

notes = Table(
    "notes",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("title", Text, nullable=False),
    Column("content", Text, nullable=False),
    *_chat_sync(),
    Column("conversation_id", Uuid, ForeignKey("conversations.id", ondelete="SET NULL")),
    Column("message_id", Uuid, ForeignKey("messages.id", ondelete="SET NULL")),
)

keywords = keywords_table(metadata, _chat_sync())

keyword_collections = Table(
    "keyword_collections",
    metadata,
    Column("id", Key, primary_key=True),
    Column("name", Text, nullable=False, unique=True),
    Column("parent_id", Key, ForeignKey("keyword_collections.id", ondelete="SET NULL")),
    *_chat_sync(),
    **AUTOINCREMENT,
)


def _link_table(name: str, left: str, left_target: str, left_type: Any) -> Table:
    return Table(
        name,
        metadata,
        Column(left, left_type, ForeignKey(left_target, ondelete="CASCADE"), nullable=False),
        Column("keyword_id", Key, ForeignKey("keywords.id", ondelete="CASCADE"), nullable=False),
        Column("created_at", Instant, server_default=NOW),
        PrimaryKeyConstraint(left, "keyword_id", name=f"pk_{name}"),
    )


conversation_keywords = _link_table(
    "conversation_keywords", "conversation_id", "conversations.id", Uuid
)
collection_keywords = _link_table(
    "collection_keywords", "collection_id", "keyword_collections.id", Key
)
note_keywords = _link_table("note_keywords", "note_id", "notes.id", Uuid)

sync_log = Table(
    "sync_log",
    metadata,
    Column("change_id", Key, primary_key=True),
    Column("entity", Text, nullable=False),
    Column("entity_id", Text, nullable=False),
    Column("operation", Text, nullable=False),
    Column("timestamp", Instant, server_default=NOW),
    Column("client_id", Text),
    Column("version", Int),
    Column("payload", Json, nullable=False),
    CheckConstraint(
        "operation IN ('create', 'update', 'delete')", name="ck_chacha_sync_log_operation"
    ),
    **AUTOINCREMENT,
)

# Our users' server's own version record: their data (we never read or write its numbers).
db_schema_version = Table(
    "db_schema_version",
    metadata,
    Column("schema_name", Text, primary_key=True),
    Column("version", Int, nullable=False),
)

tldw_schema = version_table(metadata)

FOREIGN_KEY_INDEXES = (
    Index("ix_messages_conversation_id", messages.c.conversation_id, messages.c.timestamp),
    Index("ix_messages_parent_message_id", messages.c.parent_message_id),
    Index("ix_conversations_character_id", conversations.c.character_id),
    Index("ix_conversations_forked_from", conversations.c.forked_from_message_id),
    Index("ix_conversations_parent", conversations.c.parent_conversation_id),
    Index("ix_notes_conversation_id", notes.c.conversation_id),
    Index("ix_notes_message_id", notes.c.message_id),
    Index("ix_keyword_collections_parent", keyword_collections.c.parent_id),
    Index("ix_conversation_keywords_keyword", conversation_keywords.c.keyword_id),
    Index("ix_collection_keywords_keyword", collection_keywords.c.keyword_id),
    Index("ix_note_keywords_keyword", note_keywords.c.keyword_id),
)

SCHEMA = DatabaseSchema(
    name="chacha",
    title="ChaChaNotes",
    metadata=metadata,
    version=4,
    per_user=True,
    sqlite_file="ChaChaNotes.db",
    search=(
        SearchIndex(
            "character_cards_fts",
            "character_cards",
            (
                ("name", "A"),
                ("description", "B"),
                ("personality", "B"),
                ("scenario", "B"),
                ("system_prompt", "B"),
            ),
        ),
        SearchIndex("conversations_fts", "conversations", (("title", "A"),)),
        SearchIndex("messages_fts", "messages", (("content", "A"),)),
        SearchIndex("keywords_fts", "keywords", (("keyword", "A"),)),
        SearchIndex("keyword_collections_fts", "keyword_collections", (("name", "A"),)),
        SearchIndex("notes_fts", "notes", (("title", "A"), ("content", "B"))),
    ),
    synced=(
        SyncedTable("character_cards", "character_cards", key="id"),
        SyncedTable("conversations", "conversations", key="id"),
        SyncedTable("messages", "messages", key="id"),
        SyncedTable("notes", "notes", key="id"),
        SyncedTable("keywords", "keywords", key="id"),
        SyncedTable("keyword_collections", "keyword_collections", key="id"),
    ),
    sync_log=SyncLog("sync_log", "entity_id"),
    upgrades=(
        foreign_key_index_upgrade(2, FOREIGN_KEY_INDEXES),
        layout_upgrade(3, "our version record apart from the users' db_schema_version"),
        layout_upgrade(
            4,
            "conversation state and labels, pinned messages (tldw_server's chat fields)",
            columns=(
                *(
                    conversations.c[name]
                    for name in ("state", "topic_label", "cluster_id", "source", "external_ref")
                ),
                messages.c.pinned,
            ),
        ),
    ),
)

__all__ = ["SCHEMA", "metadata"]
