"""Keeps a user's chunk embeddings in step with their media, notes and chat messages.

An item needs embedding when no chunk of it was made by the current model from its
current ``version`` (every write bumps it); chunks of items that are gone (deleted,
trashed) are removed. Each item is written in its own transaction, so an interrupted
run loses nothing and the next run takes up where it stopped: the work list is
recomputed from what is stored, never kept aside.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import Table, null, select

from ..DB_Management.backends.base import Database
from ..DB_Management.registry import DatabaseRegistry, UserDatabases
from ..DB_Management.schemas.types import is_false
from ..DB_Management.stores.embeddings import EmbeddingStore, ItemVectors
from .chunks import chunk_item
from .embeddings import EmbeddingProvider

log = logging.getLogger("tldw_server.rag")
#: Items embedded per call to the provider (their chunks go in one batch).
ITEMS_PER_BATCH = 16

Progress = Callable[[int], None]


@dataclass(frozen=True)
class Work:
    """What is left to do for one user."""

    stale: dict[str, list[str]]  # source -> ids of items to (re-)embed
    gone: dict[str, list[str]]  # source -> ids of items whose chunks must go

    @property
    def items(self) -> int:
        return sum(len(ids) for ids in self.stale.values())


@dataclass(frozen=True)
class IndexReport:
    embedded_items: int
    chunks: int
    removed_items: int


class Indexer:
    """Embeds what is missing or out of date for the users of one registry."""

    def __init__(self, registry: DatabaseRegistry, provider: EmbeddingProvider) -> None:
        self.registry = registry
        self.provider = provider

    def _user(self, user_id: str, handles: UserDatabases | None) -> tuple[Database, Database]:
        """*user_id*'s Media and ChaChaNotes: *handles* if the caller holds them, else opened."""
        if handles is not None:
            return handles.media, handles.chacha
        return self.registry.media(user_id), self.registry.chacha(user_id)

    @staticmethod
    def _sources(media: Database, chacha: Database) -> dict[str, tuple[Database, Table]]:
        return {
            "media": (media, media.table("media")),
            "note": (chacha, chacha.table("notes")),
            "message": (chacha, chacha.table("messages")),
        }

    def work(self, user_id: str, handles: UserDatabases | None = None) -> Work:
        """The items of *user_id* to embed and those to forget."""
        media, chacha = self._user(user_id, handles)
        store = EmbeddingStore(media)
        stale: dict[str, list[str]] = {}
        gone: dict[str, list[str]] = {}
        for source, (database, table) in self._sources(media, chacha).items():
            live = _live_versions(database, table)
            done = store.embedded_versions(source, self.provider.model_id)
            stale[source] = [item for item, version in live.items() if done.get(item) != version]
            gone[source] = sorted(store.embedded_items(source) - set(live))
        return Work(stale, gone)

    def run(
        self,
        user_id: str,
        progress: Progress | None = None,
        handles: UserDatabases | None = None,
    ) -> IndexReport:
        """Bring *user_id*'s embeddings up to date; *progress* gets the items done each batch.

        *handles* are the user's databases when the caller holds them open (the server's
        background worker does, so a user is never closed under it).
        """
        media, chacha = self._user(user_id, handles)
        store = EmbeddingStore(media)
        work = self.work(user_id, handles)
        removed = sum(store.remove_items(s, ids) for s, ids in work.gone.items() if ids)
        embedded = chunks = 0
        for source, (database, table) in self._sources(media, chacha).items():
            ids = work.stale[source]
            for start in range(0, len(ids), ITEMS_PER_BATCH):
                batch = ids[start : start + ITEMS_PER_BATCH]
                chunks += self._embed_batch(store, source, database, table, batch)
                embedded += len(batch)
                if progress is not None:
                    progress(len(batch))
        return IndexReport(embedded, chunks, removed)

    def _embed_batch(
        self,
        store: EmbeddingStore,
        source: str,
        database: Database,
        table: Table,
        ids: Sequence[str],
    ) -> int:
        key = table.c.id
        wanted = [int(i) for i in ids] if source == "media" else list(ids)
        # A chat message has no title: its chunks are embedded from its text alone.
        title = table.c.title if "title" in table.c else null().label("title")
        stmt = select(key, table.c.version, title, table.c.content).where(
            key.in_(wanted), is_false(table.c.deleted)
        )
        with database.begin(write=False) as conn:
            rows = conn.execute(stmt).all()
        pieces = [chunk_item(row.title, row.content) for row in rows]
        texts = [text for piece in pieces for text in piece.texts_to_embed]
        vectors = self.provider.embed(texts)
        items, at = [], 0
        for row, piece in zip(rows, pieces, strict=True):
            count = len(piece.spans)
            items.append(
                ItemVectors(
                    source, str(row.id), int(row.version), piece.spans, vectors[at : at + count]
                )
            )
            at += count
        # One transaction per batch: an interruption loses at most this batch.
        return store.replace_items(items, self.provider.model_id)


def _live_versions(database: Database, table: Table) -> dict[str, int]:
    """id -> version of the items search may return (live; media also not trashed)."""
    stmt = select(table.c.id, table.c.version).where(is_false(table.c.deleted))
    if "is_trash" in table.c:
        stmt = stmt.where(is_false(table.c.is_trash))
    with database.begin(write=False) as conn:
        return {str(item): int(version) for item, version in conn.execute(stmt)}
