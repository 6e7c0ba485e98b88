"""The chunk-embeddings table of the Media database: retrieval's vectors, per user.

One row per chunk of an embedded item: the chunk's text and place in its item, the
vector (float32, little-endian bytes: the same value on both backends, carried as is by
the migration), which model made it, and the item's ``version`` when it was embedded
(an item whose version has moved on, or that a different model embedded, is stale).
Items of the ChaChaNotes database (notes, chat messages) are embedded here too, under
their own ``source``: vectors live beside the user's media, in the user's own place.

Nothing here is synced: rows are derived from the items and rebuilt from them.
PostgreSQL with pgvector adds an indexed ``vector`` column of its own (see
``backends/vector_index.py``); the declared columns are the same everywhere.
"""

from __future__ import annotations

from sqlalchemy import Column, Index, MetaData, Table, Text, UniqueConstraint

from .spec import Upgrade
from .types import AUTOINCREMENT, Blob, Instant, Int, Key
from .upgrades import UpgradeContext, create_indexes, drop_indexes

TABLE = "chunkembeddings"
#: What an embedded item is: a Media item, a note or a chat message.
SOURCES = ("media", "note", "message")


def chunk_embeddings_table(metadata: MetaData) -> Table:
    """Declare the table in the Media database's *metadata*."""
    return Table(
        TABLE,
        metadata,
        Column("id", Key, primary_key=True),
        Column("source", Text, nullable=False),
        Column("item_id", Text, nullable=False),
        Column("item_version", Int, nullable=False),
        Column("chunk_index", Int, nullable=False),
        Column("chunk_text", Text, nullable=False),
        Column("start_char", Int),
        Column("end_char", Int),
        Column("model", Text, nullable=False),
        Column("dimensions", Int, nullable=False),
        Column("embedding", Blob, nullable=False),
        Column("created_at", Instant, nullable=False),
        UniqueConstraint("source", "item_id", "chunk_index", name="uq_chunkembeddings_chunk"),
        **AUTOINCREMENT,
    )


def embedding_indexes(table: Table) -> tuple[Index, ...]:
    """Reads by model (every search) and by item (re-embedding one)."""
    return (Index("ix_chunkembeddings_model", table.c.model, table.c.source),)


def embeddings_upgrade(version: int, table: Table, indexes: tuple[Index, ...]) -> Upgrade:
    """The step that adds the table: nothing else is touched (no search index rebuilt)."""

    def up(ctx: UpgradeContext) -> None:
        if TABLE not in ctx.table_names():
            table.create(ctx.conn)
        create_indexes(ctx, indexes)

    def down(ctx: UpgradeContext) -> None:
        drop_indexes(ctx, indexes)
        table.drop(ctx.conn, checkfirst=True)

    return Upgrade(version, "chunk embeddings for retrieval", upgrade=up, downgrade=down)


__all__ = [
    "SOURCES",
    "TABLE",
    "chunk_embeddings_table",
    "embedding_indexes",
    "embeddings_upgrade",
]
