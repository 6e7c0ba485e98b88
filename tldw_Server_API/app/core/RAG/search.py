"""Retrieval over one user's media, notes and chats: full-text, vector or hybrid.

A *unit* is what a document stands for: a whole item, or one chunk of it
(``fts_level``); chat messages are always whole. Full-text search is the stores' own
(the same hits, in the same order, as ``/api/v1/media/search`` and friends); vector
search is the embedding store's nearest chunks; hybrid fuses both (:mod:`.fusion`).
Vector search covers media, notes and chat messages, and in ``vector`` mode every
document is a chunk.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import select

from ..DB_Management.backends.base import Database
from ..DB_Management.schemas.types import is_false
from ..DB_Management.stores import ChatStore, MediaStore, NotesStore, SearchHit
from ..DB_Management.stores.embeddings import EmbeddingStore, VectorHit
from .chunks import chunk_item, query_words, words_found
from .embeddings import EmbeddingProvider
from .fusion import fts_scores, fuse

Source = Literal["media_db", "notes", "chats"]
Mode = Literal["fts", "vector", "hybrid"]
Level = Literal["media", "chunk"]
#: Full-text hits read when filters may drop some (a filtered search is cut afterwards).
FILTERED_FTS_POOL = 1000
#: Store source names of the embedding table, per API source.
EMBEDDED: dict[Source, str] = {"media_db": "media", "notes": "note", "chats": "message"}
#: API source names, per store source of the embedding table.
SEARCHED: dict[str, Source] = {stored: source for source, stored in EMBEDDED.items()}
#: Runs the vector side of searches beside their full-text side.
_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="rag-vector")


@dataclass(frozen=True)
class RagQuery:
    query: str
    sources: Sequence[Source] = ("media_db",)
    mode: Mode = "hybrid"
    top_k: int = 10
    alpha: float = 0.7
    min_score: float = 0.0
    level: Level = "media"
    keyword_filter: Sequence[str] = ()
    include_media_ids: Sequence[int] | None = None
    include_note_ids: Sequence[str] | None = None


@dataclass
class RagDocument:
    id: str
    content: str
    source: Source
    score: float
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class RagAnswer:
    documents: list[RagDocument]
    timings: dict[str, float]
    vector_search: str | None


@dataclass
class _Unit:
    """One candidate document with what each side found of it."""

    source: Source
    item_id: str
    chunk: int | None
    content: str
    metadata: dict[str, Any]
    fts: float | None = None
    vector: float | None = None


class Retriever:
    """Searches one user's databases (their Media and ChaChaNotes handles)."""

    def __init__(self, media: Database, chacha: Database, provider: EmbeddingProvider) -> None:
        self.media = MediaStore(media)
        self.notes = NotesStore(chacha)
        self.chats = ChatStore(chacha)
        self.vectors = EmbeddingStore(media)
        self.provider = provider
        self.timings: dict[str, float] = {}

    def search(self, q: RagQuery) -> RagAnswer:
        started = time.perf_counter()
        self.timings = {}
        units: dict[Hashable, _Unit] = {}
        allowed = self._allowed(q)
        support = None
        embedded = [s for s in q.sources if s in EMBEDDED]
        # Both sides wait on their database (and numpy), not on Python: in hybrid mode the
        # vector side runs in another thread while full text runs here, so the search takes
        # about the longer of the two rather than their sum.
        nearest: Future[list[VectorHit]] | None = None
        if q.mode in ("vector", "hybrid") and embedded:
            nearest = _POOL.submit(self._nearest, q, embedded, allowed)
        if q.mode in ("fts", "hybrid"):
            with self._timed("fts_ms"):
                for source in q.sources:
                    self._full_text(q, source, allowed.get(source), units)
        if nearest is not None:
            hits = nearest.result()
            with self._timed("vector_ms"):
                self._vector(q, hits, units)
            support = self.vectors.support().detail
        documents = self._rank(q, units)
        self.timings["total_ms"] = round((time.perf_counter() - started) * 1000, 3)
        return RagAnswer(documents, dict(self.timings), support)

    def _nearest(
        self, q: RagQuery, embedded: list[Source], allowed: dict[Source, list[str]]
    ) -> list[VectorHit]:
        with self._timed("embed_ms"):
            vector = self.provider.embed_one(q.query)
        with self._timed("vector_ms"):
            return self.vectors.nearest(
                vector,
                self.provider.model_id,
                min(max(3 * q.top_k, 30), 300),
                sources=[EMBEDDED[s] for s in embedded],
                only={EMBEDDED[s]: ids for s, ids in allowed.items() if s in EMBEDDED},
            )

    # -- filters ----------------------------------------------------------------------------

    def _allowed(self, q: RagQuery) -> dict[Source, list[str]]:
        """Per source, the only item ids it may return (a source absent: no limit)."""
        allowed: dict[Source, list[str]] = {}
        media: set[str] | None = None
        notes: set[str] | None = None
        if q.include_media_ids is not None:
            media = {str(i) for i in q.include_media_ids}
        if q.include_note_ids is not None:
            notes = {str(i) for i in q.include_note_ids}
        if q.keyword_filter:
            tagged_media = {
                str(i) for w in q.keyword_filter for i in self.media.media_with_keyword(w)
            }
            tagged_notes = {
                str(i) for w in q.keyword_filter for i in self.notes.notes_with_keyword(w)
            }
            media = tagged_media if media is None else media & tagged_media
            notes = tagged_notes if notes is None else notes & tagged_notes
        if media is not None:
            allowed["media_db"] = sorted(media)
        if notes is not None:
            allowed["notes"] = sorted(notes)
        if q.keyword_filter:  # chats carry no keywords: a keyword filter excludes them
            allowed["chats"] = []
        return allowed

    # -- full text ----------------------------------------------------------------------------

    def _full_text(
        self, q: RagQuery, source: Source, allowed: list[str] | None, units: dict[Hashable, _Unit]
    ) -> None:
        search: Callable[..., list[SearchHit]]
        if source == "media_db":
            search = self.media.search_media
        elif source == "notes":
            search = self.notes.search_notes
        else:
            search = self.chats.search_messages
        limit = q.top_k if allowed is None else FILTERED_FTS_POOL
        hits = search(q.query, limit=limit)
        if allowed is not None:
            keep = set(allowed)
            hits = [h for h in hits if str(h.id) in keep][: q.top_k]
        rows = self._rows(source, [str(h.id) for h in hits])
        scores = fts_scores([(str(h.id), h.title_hit, h.rank) for h in hits])
        words = query_words(q.query)
        for hit in hits:
            item_id = str(hit.id)
            row = rows.get(item_id)
            if row is None:
                continue
            if q.level == "media" or source == "chats":
                unit = self._unit(units, source, item_id, None, row["content"], row)
                unit.fts = scores[item_id]
                continue
            chunks = chunk_item(row["title"], row["content"]).spans
            found = sorted(
                ((words_found(span.text, words), number) for number, span in enumerate(chunks)),
                key=lambda pair: -pair[0],
            )
            for count, number in found:
                if count:
                    unit = self._unit(units, source, item_id, number, chunks[number].text, row)
                    unit.metadata |= {
                        "start_char": chunks[number].start,
                        "end_char": chunks[number].end,
                    }
                    unit.fts = scores[item_id]

    # -- vectors ---------------------------------------------------------------------------------

    def _vector(self, q: RagQuery, hits: list[VectorHit], units: dict[Hashable, _Unit]) -> None:
        by_source: dict[Source, list[VectorHit]] = {}
        for hit in hits:
            by_source.setdefault(SEARCHED[hit.source], []).append(hit)
        for source, found in by_source.items():
            rows = self._rows(source, list({h.item_id for h in found}))
            for hit in found:  # best first: an item's first hit is its best chunk
                row = rows.get(hit.item_id)
                if row is None:  # deleted or trashed since it was embedded
                    continue
                # Chat messages are whole in full text at every level: so are they here.
                whole = q.mode == "hybrid" and (q.level == "media" or source == "chats")
                chunk = None if whole else hit.chunk_index
                content = row["content"] if whole else hit.chunk_text
                unit = self._unit(units, source, hit.item_id, chunk, content, row)
                if unit.vector is None:
                    unit.vector = hit.score
                    if not whole:
                        unit.metadata |= {"start_char": hit.start_char, "end_char": hit.end_char}

    # -- ranking ---------------------------------------------------------------------------------

    def _rank(self, q: RagQuery, units: dict[Hashable, _Unit]) -> list[RagDocument]:
        fts = {key: u.fts for key, u in units.items() if u.fts is not None}
        vec = {key: u.vector for key, u in units.items() if u.vector is not None}
        if q.mode == "fts":
            scores = fts
        elif q.mode == "vector":
            scores = {key: max(0.0, s) for key, s in vec.items()}
        else:
            scores = fuse(fts, vec, q.alpha)
        # Stable: equal scores keep full-text order, then vector order.
        ranked = sorted(scores.items(), key=lambda pair: -pair[1])
        documents = []
        for key, score in ranked:
            if score < q.min_score:
                continue
            unit = units[key]
            metadata = unit.metadata | {"fts_score": unit.fts, "vector_score": unit.vector}
            if unit.chunk is not None:
                metadata["chunk_index"] = unit.chunk
            documents.append(
                RagDocument(
                    _document_id(unit), unit.content, unit.source, round(score, 6), metadata
                )
            )
        return documents[: q.top_k]

    # -- rows ------------------------------------------------------------------------------------

    def _rows(self, source: Source, ids: list[str]) -> dict[str, dict[str, Any]]:
        """Live items by id, with what a document shows of them."""
        if not ids:
            return {}
        if source == "media_db":
            media = self.media.t.media
            stmt = select(
                media.c.id,
                media.c.title,
                media.c.content,
                media.c.type,
                media.c.author,
                media.c.url,
            ).where(
                media.c.id.in_([int(i) for i in ids if i.isdigit()]),
                is_false(media.c.deleted),
                is_false(media.c.is_trash),
            )
            with self.media.database.begin(write=False) as conn:
                return {
                    str(r.id): {
                        "media_id": r.id,
                        "title": r.title,
                        "content": r.content or "",
                        "type": r.type,
                        "author": r.author,
                        "url": r.url,
                    }
                    for r in conn.execute(stmt)
                }
        if source == "notes":
            notes = self.notes.database.table("notes")
            stmt = select(notes.c.id, notes.c.title, notes.c.content).where(
                notes.c.id.in_(ids), is_false(notes.c.deleted)
            )
            with self.notes.database.begin(write=False) as conn:
                return {
                    str(r.id): {"note_id": r.id, "title": r.title, "content": r.content or ""}
                    for r in conn.execute(stmt)
                }
        messages = self.chats.database.table("messages")
        stmt = select(
            messages.c.id, messages.c.conversation_id, messages.c.sender, messages.c.content
        ).where(messages.c.id.in_(ids), is_false(messages.c.deleted))
        with self.chats.database.begin(write=False) as conn:
            return {
                str(r.id): {
                    "message_id": r.id,
                    "conversation_id": r.conversation_id,
                    "sender": r.sender,
                    "title": r.sender,
                    "content": r.content or "",
                }
                for r in conn.execute(stmt)
            }

    @staticmethod
    def _unit(
        units: dict[Hashable, _Unit],
        source: Source,
        item_id: str,
        chunk: int | None,
        content: str,
        row: dict[str, Any],
    ) -> _Unit:
        key = (source, item_id, chunk)
        if key not in units:
            shown = {k: v for k, v in row.items() if k != "content"}
            units[key] = _Unit(source, item_id, chunk, content, shown)
        return units[key]

    def _timed(self, name: str) -> _Timer:
        return _Timer(self.timings, name)


class _Timer:
    def __init__(self, timings: dict[str, float], name: str) -> None:
        self.timings, self.name = timings, name

    def __enter__(self) -> None:
        self.started = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        elapsed = (time.perf_counter() - self.started) * 1000
        self.timings[self.name] = round(self.timings.get(self.name, 0.0) + elapsed, 3)


def _document_id(unit: _Unit) -> str:
    base = f"{unit.source}:{unit.item_id}"
    return base if unit.chunk is None else f"{base}:{unit.chunk}"
