"""Nearest-neighbour indexes over the chunk-embeddings table, per dialect.

Every backend stores the same declared columns (the vector as float32 bytes), and
every backend can answer exactly: the store scans the vectors of one model with numpy
(:mod:`..stores.embeddings`), which is what SQLite always does (the standard library's
``sqlite3`` is often built without ``enable_load_extension``, so no vector extension can
be loaded into it) and what PostgreSQL does without pgvector.

Where the PostgreSQL server has pgvector (``CREATE EXTENSION vector`` succeeds), each
user's table gets a ``vector`` column of its own, filled from the stored bytes, and an
HNSW index per dimension (an expression index ``embedding_hnsw::vector(N)``, partial on
``dimensions = N``, because an index needs a fixed dimension while models differ).
Approximate answers come from that index; the exact scan stays available to both.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from sqlalchemy import Connection, Table, cast, literal, literal_column, select, text
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import UserDefinedType

log = logging.getLogger("tldw_server.rag")

#: The column pgvector's index reads (not declared: only PostgreSQL with pgvector has it).
HNSW_COLUMN = "embedding_hnsw"
#: Candidates the HNSW graph search keeps (pgvector's default is 40): recall over speed.
EF_SEARCH_MIN = 200
#: The graph's links per node and build-time candidates (pgvector's defaults: 16 and 64):
#: a denser graph, built more slowly, keeps recall@10 above 0.95 on clustered vectors.
HNSW_M = 16
HNSW_EF_CONSTRUCTION = 128
BACKFILL_BATCH = 500


@dataclass(frozen=True)
class VectorSupport:
    """How a backend answers nearest-neighbour queries, for logs and ``/api/v1/health``."""

    method: Literal["hnsw", "exact"]
    detail: str


@dataclass(frozen=True)
class Neighbour:
    id: int
    score: float  # cosine similarity


class VectorIndex:
    """No index: every query is answered by the store's exact scan."""

    def __init__(self, support: VectorSupport) -> None:
        self.support = support

    def stored(
        self,
        conn: Connection,
        namespace: str | None,
        table: Table,
        ids: Sequence[int],
        vectors: np.ndarray,
    ) -> None:
        """Rows *ids* were just inserted with *vectors*: bring the index up to date."""

    def replacing(
        self,
        conn: Connection,
        namespace: str | None,
        table: Table,
        items: Sequence[tuple[str, str]],
    ) -> None:
        """The chunks of *items* ``(source, item_id)`` are about to be rewritten."""

    def nearest(
        self,
        conn: Connection,
        namespace: str | None,
        table: Table,
        query: np.ndarray,
        *,
        model: str,
        k: int,
        where: Sequence[ColumnElement[bool]] = (),
    ) -> list[Neighbour] | None:
        """The *k* nearest rows by the index, best first; ``None``: use the exact scan."""
        return None


def vector_literal(vector: np.ndarray) -> str:
    """pgvector's text form; 9 significant digits read back as the same float32."""
    return "[" + ",".join(f"{float(x):.9g}" for x in vector) + "]"


class _PgVector(UserDefinedType[Any]):
    cache_ok = True

    def __init__(self, vector_type: str, dimensions: int) -> None:
        self.vector_type = vector_type
        self.dimensions = int(dimensions)

    def get_col_spec(self, **_: Any) -> str:
        return f"{self.vector_type}({self.dimensions})"


def _qualified(namespace: str | None, name: str) -> str:
    quoted = '"' + name.replace('"', '""') + '"'
    return f'"{namespace.replace(chr(34), chr(34) * 2)}".{quoted}' if namespace else quoted


class PgvectorIndex(VectorIndex):
    """pgvector's HNSW index (cosine), per user schema and embedding dimension."""

    def __init__(self, support: VectorSupport, version: str, schema: str) -> None:
        super().__init__(support)
        # Names qualified by the extension's schema: a connection's search_path may hold
        # only the user's own schema.
        ext = '"' + schema.replace('"', '""') + '"'
        self._type = f"{ext}.vector"
        self._ops = f"{ext}.vector_cosine_ops"
        self._distance = f"OPERATOR({ext}.<=>)"
        self._iterative = tuple(int(p) for p in version.split(".")[:2]) >= (0, 8)
        self._ready: set[tuple[str | None, int]] = set()
        self._lock = threading.Lock()

    def _prepare(self, conn: Connection, namespace: str | None, table: Table, dims: int) -> None:
        """The column, the index for *dims*, and vectors for rows stored without one
        (rows that came in by a migration or before pgvector was installed)."""
        with self._lock:
            if (namespace, dims) in self._ready:
                return
        name = _qualified(namespace, table.name)
        conn.exec_driver_sql(
            f"ALTER TABLE {name} ADD COLUMN IF NOT EXISTS {HNSW_COLUMN} {self._type}"
        )
        index = f'"ix_{table.name}_hnsw_{int(dims)}"'
        conn.exec_driver_sql(
            f"CREATE INDEX IF NOT EXISTS {index} ON {name} USING hnsw "
            f"(({HNSW_COLUMN}::{self._type}({int(dims)})) {self._ops}) "
            f"WITH (m = {HNSW_M}, ef_construction = {HNSW_EF_CONSTRUCTION}) "
            f"WHERE dimensions = {int(dims)}"
        )
        missing = literal_column(HNSW_COLUMN).is_(None)
        while True:
            rows = conn.execute(
                select(table.c.id, table.c.embedding).where(missing).limit(BACKFILL_BATCH)
            ).all()
            if not rows:
                break
            vectors = [np.frombuffer(row.embedding, dtype="<f4") for row in rows]
            self._write(conn, name, [row.id for row in rows], vectors)
        with self._lock:
            self._ready.add((namespace, dims))

    def _write(
        self, conn: Connection, name: str, ids: Sequence[int], vectors: Sequence[Any]
    ) -> None:
        # One statement for the batch (arrays unnested), not one round trip per row.
        conn.execute(
            text(
                f"UPDATE {name} AS t SET {HNSW_COLUMN} = CAST(d.v AS {self._type}) "
                "FROM unnest(CAST(:ids AS bigint[]), CAST(:vs AS text[])) AS d(id, v) "
                "WHERE t.id = d.id"
            ),
            {"ids": [int(i) for i in ids], "vs": [vector_literal(v) for v in vectors]},
        )

    def stored(
        self,
        conn: Connection,
        namespace: str | None,
        table: Table,
        ids: Sequence[int],
        vectors: np.ndarray,
    ) -> None:
        if not ids:
            return
        self._prepare(conn, namespace, table, vectors.shape[1])
        self._write(conn, _qualified(namespace, table.name), ids, list(vectors))

    def replacing(
        self,
        conn: Connection,
        namespace: str | None,
        table: Table,
        items: Sequence[tuple[str, str]],
    ) -> None:
        # An upserted row must not keep the old model's vector (maybe of another dimension)
        # even for a moment: an index of the new dimension would cast it and fail.
        name = _qualified(namespace, table.name)
        with self._lock:  # ALTER TABLE locks out readers: only while the column may be missing
            known = any(place == namespace for place, _ in self._ready)
        if not known:
            conn.exec_driver_sql(
                f"ALTER TABLE {name} ADD COLUMN IF NOT EXISTS {HNSW_COLUMN} {self._type}"
            )
        conn.execute(
            text(
                f"UPDATE {name} AS t SET {HNSW_COLUMN} = NULL "
                "FROM unnest(CAST(:s AS text[]), CAST(:i AS text[])) AS d(s, i) "
                f"WHERE t.source = d.s AND t.item_id = d.i AND t.{HNSW_COLUMN} IS NOT NULL"
            ),
            {"s": [source for source, _ in items], "i": [item for _, item in items]},
        )

    def nearest(
        self,
        conn: Connection,
        namespace: str | None,
        table: Table,
        query: np.ndarray,
        *,
        model: str,
        k: int,
        where: Sequence[ColumnElement[bool]] = (),
    ) -> list[Neighbour] | None:
        dims = int(query.shape[0])
        self._prepare(conn, namespace, table, dims)
        conn.exec_driver_sql(f"SET LOCAL hnsw.ef_search = {max(EF_SEARCH_MIN, 2 * int(k))}")
        if self._iterative:  # filtered queries keep searching until k rows pass the filter
            conn.exec_driver_sql("SET LOCAL hnsw.iterative_scan = relaxed_order")
        distance = literal_column(f"({HNSW_COLUMN}::{self._type}({dims}))").op(self._distance)(
            cast(literal(vector_literal(query)), _PgVector(self._type, dims))
        )
        stmt = (
            select(table.c.id, distance.label("distance"))
            .where(literal_column("dimensions") == dims, table.c.model == model, *where)
            .order_by(distance)
            .limit(k)
        )
        found = [Neighbour(int(r.id), 1.0 - float(r.distance)) for r in conn.execute(stmt)]
        # relaxed_order may return near-ties out of order: the answer is sorted as exact is.
        return sorted(found, key=lambda n: (-n.score, n.id))


_EXTENSION_VERSION = "SELECT extversion FROM pg_extension WHERE extname = 'vector'"
_EXTENSION_SCHEMA = (
    "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
    "WHERE e.extname = 'vector'"
)


def probe_pgvector(conn: Connection) -> VectorIndex:
    """pgvector's index if the server has (or can install) the extension, else exact."""
    version = conn.exec_driver_sql(_EXTENSION_VERSION).scalar()
    reason = "the server has no pgvector extension"
    if version is None:
        available = conn.exec_driver_sql(
            "SELECT 1 FROM pg_available_extensions WHERE name = 'vector'"
        ).scalar()
        if available:
            try:
                with conn.begin_nested():
                    conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS vector SCHEMA public")
            except Exception as exc:  # no privilege, or another session raced us
                reason = f"CREATE EXTENSION vector failed ({exc.__class__.__name__})"
            version = conn.exec_driver_sql(_EXTENSION_VERSION).scalar()
    if version is None:
        support = VectorSupport("exact", f"exact scan: {reason}")
        log.warning(
            "Vector search on PostgreSQL: %s; exact scan instead (same results, slower)", reason
        )
        return VectorIndex(support)
    support = VectorSupport("hnsw", f"pgvector {version}, HNSW index (cosine)")
    log.info("Vector search on PostgreSQL: %s", support.detail)
    schema = str(conn.exec_driver_sql(_EXTENSION_SCHEMA).scalar())
    return PgvectorIndex(support, str(version), schema)


SQLITE_VECTORS = VectorSupport(
    "exact", "exact scan: the standard library's sqlite3 cannot load a vector extension"
)
