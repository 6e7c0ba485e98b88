"""The Embeddings store: one user's chunk vectors (in their Media database) and the
nearest-neighbour search over them.

Exact search is one code path for every backend: the vectors of one model are scored
with numpy (a dot product: vectors are stored at unit length), so SQLite and PostgreSQL
return the same neighbours in the same order (ties broken by row id). Approximate search
goes through the dialect's index where there is one (pgvector's HNSW); where there is
none it is the exact search.

The exact search keeps each database's vectors in memory (:class:`VectorCache`, one per
process, bounded in bytes) instead of reading them all at every query. Whether the copy
is current is asked of the database at each query, so writes of other processes are seen:
the copy is stamped with the row count of its model's vectors and the table's highest row
id, and every write changes one of them (rows are replaced by deleting the item's chunks and
inserting new rows, and ids are never reused: the table is AUTOINCREMENT on SQLite and a
sequence on PostgreSQL). New rows only are read when nothing else changed.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import Connection, delete, func, or_, select
from sqlalchemy.sql.elements import ColumnElement

from ..backends.base import Database
from ..backends.vector_index import Neighbour, VectorIndex, VectorSupport
from ..schemas.embeddings import SOURCES, TABLE
from ._common import now
from .chunking import ChunkSpan
from .errors import InvalidInput

KEY = ("source", "item_id", "chunk_index")
#: Rows read per round trip by the exact scan.
SCAN_BATCH = 20_000
#: Memory the process may spend on cached vectors, all databases together (80,000
#: chunks of 256 dimensions take 82 MB); the least recently searched go first.
CACHE_BYTES = 512 * 1024 * 1024


@dataclass(frozen=True)
class VectorHit:
    """One chunk near the query."""

    source: str
    item_id: str
    chunk_index: int
    chunk_text: str
    start_char: int | None
    end_char: int | None
    score: float


@dataclass(frozen=True)
class ItemVectors:
    """One item's chunks and their vectors, as made from the item at ``item_version``."""

    source: str
    item_id: str
    item_version: int
    spans: Sequence[ChunkSpan]
    vectors: np.ndarray


def _rows(item: ItemVectors, model: str, created: Any) -> list[dict[str, Any]]:
    return [
        {
            "source": item.source,
            "item_id": str(item.item_id),
            "item_version": int(item.item_version),
            "chunk_index": number,
            "chunk_text": span.text,
            "start_char": span.start,
            "end_char": span.end,
            "model": model,
            "dimensions": int(vector.shape[0]),
            "embedding": to_bytes(vector),
            "created_at": created,
        }
        for number, (span, vector) in enumerate(zip(item.spans, item.vectors, strict=True))
    ]


def to_bytes(vector: np.ndarray) -> bytes:
    """The stored form: float32, little-endian (the same bytes on every machine)."""
    return np.ascontiguousarray(vector, dtype="<f4").tobytes()


@dataclass(frozen=True)
class _Matrix:
    """One model's vectors of one database, as of ``stamp`` (rows, highest id)."""

    stamp: tuple[int, int]
    ids: np.ndarray  # int64, ascending
    sources: np.ndarray  # the source of each row, as an index into SOURCES
    items: np.ndarray  # item ids (str objects)
    vectors: np.ndarray  # float32, one row per id

    @property
    def nbytes(self) -> int:
        return int(self.ids.nbytes + self.sources.nbytes + self.vectors.nbytes) + 64 * len(
            self.items
        )


class VectorCache:
    """Vectors kept in memory for the exact scan, least recently used dropped first."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[tuple[str, str, int], _Matrix] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str, int]) -> _Matrix | None:
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
            return found

    def put(self, key: tuple[str, str, int], matrix: _Matrix) -> None:
        with self._lock:
            self._entries.pop(key, None)
            if matrix.nbytes > self.max_bytes:
                return  # larger than the whole budget: scanned, not kept
            self._entries[key] = matrix
            while sum(m.nbytes for m in self._entries.values()) > self.max_bytes:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    @property
    def nbytes(self) -> int:
        with self._lock:
            return sum(m.nbytes for m in self._entries.values())


#: The process's cache, shared by every store on every database.
CACHE = VectorCache(CACHE_BYTES)


class EmbeddingStore:
    """Reads and writes one user's chunk embeddings."""

    def __init__(self, database: Database) -> None:
        if TABLE not in database.schema.metadata.tables:
            raise InvalidInput(
                "embeddings",
                f"chunk embeddings live in the Media database, not {database.schema.title}",
            )
        self.database = database
        self.table = database.table(TABLE)
        self._upsert_stmt: Any = None

    # -- writing ------------------------------------------------------------------------

    def replace_item(
        self,
        source: str,
        item_id: str,
        item_version: int,
        model: str,
        spans: Sequence[ChunkSpan],
        vectors: np.ndarray,
    ) -> int:
        """Store *spans* with their *vectors* as the item's chunks (its old ones go)."""
        return self.replace_items(
            [ItemVectors(source, item_id, item_version, spans, vectors)], model
        )

    def replace_items(self, items: Sequence[ItemVectors], model: str) -> int:
        """:meth:`replace_item` for several items in one transaction; the chunks stored."""
        t = self.table
        created = now()
        rows: list[dict[str, Any]] = []
        with self.database.begin(write=True) as conn:
            for item in items:
                self._check_source(item.source)
                if len(item.spans) != len(item.vectors):
                    raise InvalidInput(
                        "embeddings", f"{len(item.spans)} chunks but {len(item.vectors)} vectors"
                    )
                # All of the item's rows go and new ones come (new ids): the exact scan's
                # cache sees the change by the highest id (see the module's docstring).
                conn.execute(
                    delete(t).where(t.c.source == item.source, t.c.item_id == str(item.item_id))
                )
                rows += _rows(item, model, created)
            if not rows:
                return 0
            index = self._index(conn)
            keys = [(item.source, str(item.item_id)) for item in items]
            index.replacing(conn, self.database.namespace, t, keys)
            inserted = conn.execute(self._upsert(), rows)
            ids = [int(i) for i in inserted.scalars()]
            vectors = np.vstack([item.vectors for item in items if len(item.spans)])
            index.stored(conn, self.database.namespace, t, ids, vectors)
        return len(rows)

    def _upsert(self) -> Any:
        """INSERT ... ON CONFLICT (the chunk) DO UPDATE, built once per store.

        An upsert, not delete-then-insert: two indexers embedding the same item at once
        (the server's and a command's) both succeed, the later one winning.
        """
        if self._upsert_stmt is None:
            t = self.table
            upsert = self.database.dialect.insert(t)
            upsert = upsert.on_conflict_do_update(
                index_elements=[t.c[name] for name in KEY],
                set_={
                    c.name: upsert.excluded[c.name] for c in t.columns if c.name not in (*KEY, "id")
                },
            )
            self._upsert_stmt = upsert.returning(t.c.id, sort_by_parameter_order=True)
        return self._upsert_stmt

    def remove_items(self, source: str, item_ids: Sequence[str]) -> int:
        """Forget the chunks of items that are gone (deleted, trashed)."""
        t = self.table
        with self.database.begin(write=True) as conn:
            result = conn.execute(
                delete(t).where(t.c.source == source, t.c.item_id.in_([str(i) for i in item_ids]))
            )
        return int(result.rowcount or 0)

    # -- reading ------------------------------------------------------------------------

    def embedded_versions(self, source: str, model: str) -> dict[str, int]:
        """item id -> the item version its chunks were made from, by *model* only."""
        t = self.table
        stmt = (
            select(t.c.item_id, func.min(t.c.item_version))
            .where(t.c.source == source, t.c.model == model)
            .group_by(t.c.item_id)
        )
        with self.database.begin(write=False) as conn:
            return {str(item): int(version) for item, version in conn.execute(stmt)}

    def embedded_items(self, source: str) -> set[str]:
        """Ids of the items that have chunks, whatever the model."""
        t = self.table
        with self.database.begin(write=False) as conn:
            return {
                str(i)
                for i in conn.execute(
                    select(t.c.item_id).where(t.c.source == source).distinct()
                ).scalars()
            }

    def count(self, model: str | None = None) -> int:
        t = self.table
        stmt = select(func.count()).select_from(t)
        if model is not None:
            stmt = stmt.where(t.c.model == model)
        with self.database.begin(write=False) as conn:
            return int(conn.execute(stmt).scalar_one())

    def support(self) -> VectorSupport:
        """How this backend answers nearest-neighbour queries."""
        with self.database.begin(write=False) as conn:
            return self._index(conn).support

    def nearest(
        self,
        query: np.ndarray,
        model: str,
        k: int,
        *,
        sources: Sequence[str] = SOURCES,
        only: Mapping[str, Sequence[str]] | None = None,
        exact: bool = False,
    ) -> list[VectorHit]:
        """The *k* chunks nearest *query* (cosine), best first, of *model*'s vectors.

        *sources* limits the kinds of items; *only* maps a source to the item ids it may
        return (a source absent from it is not limited). ``exact`` forces the scan even
        where an index exists.
        """
        if k < 1:
            return []
        for source in sources:
            self._check_source(source)
        query = np.asarray(query, dtype=np.float32)
        where = self._filters(sources, only or {})
        # A read on SQLite (no writer is locked out); pgvector may add its column and index
        # on first use, which PostgreSQL does inside any transaction.
        with self.database.begin(write=False) as conn:
            found = (
                None
                if exact
                else self._index(conn).nearest(
                    conn, self.database.namespace, self.table, query, model=model, k=k, where=where
                )
            )
            if found is None:
                found = self._exact(conn, query, model, k, sources, only or {})
            return self._hits(conn, found)

    # -- internals ----------------------------------------------------------------------

    def _index(self, conn: Connection) -> VectorIndex:
        return self.database.dialect.vector_index(conn)

    def _filters(
        self, sources: Sequence[str], only: Mapping[str, Sequence[str]]
    ) -> list[ColumnElement[bool]]:
        t = self.table
        allowed: list[ColumnElement[bool]] = []
        for source in sources:
            if source in only:
                ids = [str(i) for i in only[source]]
                allowed.append((t.c.source == source) & t.c.item_id.in_(ids))
            else:
                allowed.append(t.c.source == source)
        return [or_(*allowed)] if allowed else [t.c.id.is_(None)]

    def _exact(
        self,
        conn: Connection,
        query: np.ndarray,
        model: str,
        k: int,
        sources: Sequence[str],
        only: Mapping[str, Sequence[str]],
    ) -> list[Neighbour]:
        matrix = self._matrix(conn, model, int(query.shape[0]))
        if not len(matrix.ids):
            return []
        keep = np.zeros(len(matrix.ids), dtype=bool)
        for source in sources:
            of_source = matrix.sources == SOURCES.index(source)
            if source in only:
                of_source &= np.isin(matrix.items, np.array([str(i) for i in only[source]]))
            keep |= of_source
        rows = np.flatnonzero(keep)
        if not len(rows):
            return []
        # Every row is scored, then the kept ones taken: selecting rows of the matrix first
        # would copy it (82 MB for 80,000 chunks) at each query.
        scores = (matrix.vectors @ query).astype(np.float32)[rows]
        if len(rows) > k:  # the k best (and all tied with the k-th), then ordered exactly
            kth = np.partition(-scores, k - 1)[k - 1]
            close = np.flatnonzero(-scores <= kth)
            rows, scores = rows[close], scores[close]
        ids = matrix.ids[rows]
        order = np.lexsort((ids, -scores))[:k]
        return [Neighbour(int(ids[i]), float(scores[i])) for i in order]

    def _matrix(self, conn: Connection, model: str, dims: int) -> _Matrix:
        """*model*'s vectors of *dims*, from the cache if it is current, else read."""
        t = self.table
        # Two cheap reads: the model's rows counted on the index by model (a model has one
        # dimension), and the table's highest id from the primary key. The model's own
        # highest id would make PostgreSQL visit every row (its index holds no id).
        count = select(func.count()).where(t.c.model == model).scalar_subquery()
        top = select(func.max(t.c.id)).scalar_subquery()
        rows, highest = conn.execute(select(count, top)).one()
        # Taken before the rows are read: a write committing meanwhile (PostgreSQL reads
        # each statement afresh) makes the next query's stamp differ, and it reads again.
        stamp = (int(rows), int(highest or 0))
        of_model = (t.c.model == model, t.c.dimensions == dims)
        key = (self.database.backend.wake_place(self.database.namespace), model, dims)
        cached = CACHE.get(key)
        if cached is not None and cached.stamp == stamp:
            return cached
        if cached is not None and stamp[1] > cached.stamp[1]:
            added = self._read(conn, (*of_model, t.c.id > cached.stamp[1]), dims, stamp)
            if len(cached.ids) + len(added.ids) == stamp[0]:  # rows were only added
                matrix = _Matrix(
                    stamp,
                    np.concatenate([cached.ids, added.ids]),
                    np.concatenate([cached.sources, added.sources]),
                    np.concatenate([cached.items, added.items]),
                    np.vstack([cached.vectors, added.vectors]),
                )
                CACHE.put(key, matrix)
                return matrix
        matrix = self._read(conn, of_model, dims, stamp)
        CACHE.put(key, matrix)
        return matrix

    def _read(
        self,
        conn: Connection,
        where: Sequence[ColumnElement[bool]],
        dims: int,
        stamp: tuple[int, int],
    ) -> _Matrix:
        """The rows *where* selects, as of *stamp*."""
        t = self.table
        stmt = select(t.c.id, t.c.source, t.c.item_id, t.c.embedding).where(*where).order_by(t.c.id)
        codes = {name: number for number, name in enumerate(SOURCES)}
        ids: list[np.ndarray] = []
        sources: list[np.ndarray] = []
        items: list[np.ndarray] = []
        vectors: list[np.ndarray] = []
        for batch in conn.execution_options(yield_per=SCAN_BATCH).execute(stmt).partitions():
            ids.append(np.fromiter((row.id for row in batch), dtype=np.int64, count=len(batch)))
            sources.append(
                np.fromiter((codes[row.source] for row in batch), dtype=np.int8, count=len(batch))
            )
            items.append(np.array([str(row.item_id) for row in batch], dtype=object))
            blob = b"".join(row.embedding for row in batch)
            vectors.append(np.frombuffer(blob, dtype="<f4").reshape(len(batch), dims))
        if not ids:
            empty = np.zeros(0, dtype=np.int64)
            return _Matrix(
                stamp, empty, empty.astype(np.int8), empty.astype(object),
                np.zeros((0, dims), dtype=np.float32),
            )  # fmt: skip
        return _Matrix(
            stamp,
            np.concatenate(ids),
            np.concatenate(sources),
            np.concatenate(items),
            np.ascontiguousarray(np.vstack(vectors), dtype=np.float32),
        )

    def _hits(self, conn: Connection, found: Sequence[Neighbour]) -> list[VectorHit]:
        t = self.table
        if not found:
            return []
        rows = {
            row.id: row
            for row in conn.execute(
                select(
                    t.c.id,
                    t.c.source,
                    t.c.item_id,
                    t.c.chunk_index,
                    t.c.chunk_text,
                    t.c.start_char,
                    t.c.end_char,
                ).where(t.c.id.in_([n.id for n in found]))
            )
        }
        return [
            VectorHit(
                source=rows[n.id].source,
                item_id=str(rows[n.id].item_id),
                chunk_index=int(rows[n.id].chunk_index),
                chunk_text=rows[n.id].chunk_text,
                start_char=rows[n.id].start_char,
                end_char=rows[n.id].end_char,
                score=n.score,
            )
            for n in found
            if n.id in rows
        ]

    @staticmethod
    def _check_source(source: str) -> None:
        if source not in SOURCES:
            raise InvalidInput(
                "embeddings", f"source must be one of {', '.join(SOURCES)}, got {source!r}"
            )
