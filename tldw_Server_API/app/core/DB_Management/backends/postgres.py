"""PostgreSQL: the engine and pool, and the dialect that speaks for it.

Every database lives in its own PostgreSQL schema (see ``places.py``); one
engine serves them all, and a connection is pointed at a schema through
SQLAlchemy's ``schema_translate_map``. What the dialect says is rendered by
the ``pg_*`` modules: triggers and search vectors (``pg_triggers``), the search
statement (``pg_search``), unique rules and sequences (``pg_keys``).
"""

from __future__ import annotations

import threading
import time
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar, TypeVar

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Insert,
    Select,
    Table,
    Update,
    create_engine,
    event,
    text,
)
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects.postgresql import insert as pg_insert

from ..schemas.spec import DatabaseSchema
from . import pg_keys, pg_triggers
from .base import Backend, DialectOps, PickedUpdate
from .pg_search import PostgresSearch
from .pg_sql import quote_ident, run_sql
from .target import PgTarget
from .vector_index import VectorIndex, probe_pgvector
from .wakes import Callback, Listening, PgListener, pg_channel

T = TypeVar("T")
#: Connections kept for :meth:`PostgresBackend.glance` (one poller needs one).
GLANCE_POOL_SIZE = 1
#: A pooled connection idle longer than this is pinged before it is handed out.
PING_AFTER_IDLE_SECONDS = 2.0
#: The announcement of :meth:`PostgresBackend.announce` (built once: a ``text()`` is parsed
#: anew each time it is made).
_NOTIFY = text("SELECT pg_notify(:c, '')")


def ping_when_idle(engine: Engine, after_seconds: float) -> None:
    """Check a pooled connection at checkout only if it sat idle over *after_seconds*.

    SQLAlchemy's ``pool_pre_ping`` pings at every checkout: a round trip before each
    transaction, which was a fifth of a busy workflow worker's time. A connection
    used a moment ago is alive (the ping would not have closed that window either);
    one idle for a while may have been dropped by a server restart or a firewall, and
    is replaced before anyone sees the error.
    """

    @event.listens_for(engine, "checkin")
    def _idle_from_now(_dbapi: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since <= after_seconds:
            return
        try:
            engine.dialect.do_ping(dbapi)
        except engine.dialect.loaded_dbapi.Error as exc:
            # The pool discards this connection and hands out a new one.
            raise sa_exc.DisconnectionError("the pooled connection is gone") from exc


class PickedInOne(PickedUpdate):
    """One statement: ``UPDATE ... FROM (SELECT ... [FOR UPDATE]) AS picked ... RETURNING``,
    whose FROM still holds the picked row's values from before the update."""

    def __init__(self, table: Table, pick: Select[Any], update: Update) -> None:
        picked = pick.subquery("picked")
        key_name = pick.selected_columns[0].name
        before = [c for c in picked.c if c.name != key_name]
        self.pick = pick
        self.update = update.where(table.c[key_name] == picked.c[key_name]).returning(*before)

    def __call__(self, conn: Connection, params: Mapping[str, Any]) -> dict[str, Any] | None:
        row = conn.execute(self.update, dict(params)).first()
        return None if row is None else dict(row._mapping)


class PostgresDialect(PostgresSearch, DialectOps):
    name = "postgresql"

    def __init__(self) -> None:
        self._vectors: VectorIndex | None = None
        self._vectors_lock = threading.Lock()

    # -- artefacts --------------------------------------------------------------
    def prepare_namespace(self, conn: Connection, namespace: str | None) -> None:
        if namespace:
            run_sql(conn, f"CREATE SCHEMA IF NOT EXISTS {quote_ident(namespace)}")

    def install_artefacts(
        self, conn: Connection, schema: DatabaseSchema, namespace: str | None, *, rebuild: bool
    ) -> None:
        pg_triggers.install_artefacts(conn, schema, namespace, rebuild=rebuild)

    def drop_artefacts(
        self, conn: Connection, schema: DatabaseSchema, namespace: str | None
    ) -> None:
        pg_triggers.drop_artefacts(conn, schema, namespace)

    def replace_unique(
        self, conn: Connection, table: Table, old_columns: Sequence[str], namespace: str | None
    ) -> None:
        pg_keys.replace_unique(conn, table, old_columns, namespace)

    def sync_sequences(
        self, conn: Connection, schema: DatabaseSchema, namespace: str | None
    ) -> None:
        pg_keys.sync_sequences(conn, schema, namespace)

    def sync_identity(self, conn: Connection, column: Column[Any], namespace: str | None) -> None:
        pg_keys.sync_identity(conn, column, namespace)

    # -- statements --------------------------------------------------------------
    def insert(self, table: Table) -> Any:
        return pg_insert(table)

    def claim(self, select: Select[Any]) -> Select[Any]:
        return select.with_for_update(skip_locked=True)

    def picked_update(self, table: Table, pick: Select[Any], update: Update) -> PickedUpdate:
        return PickedInOne(table, pick, update)

    def write_together(self, first: Insert, then: Insert) -> Insert | None:
        # A data-modifying WITH runs whether or not the statement reads it.
        return then.add_cte(first.cte("first_write"))

    def serialize(self, conn: Connection, key: str) -> None:
        # A transaction-scoped advisory lock on a 32-bit digest of the key: two keys that
        # share a digest only wait on each other, which is safe.
        digest = zlib.crc32(f"tldw:{key}".encode())
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": digest})

    def vector_index(self, conn: Connection) -> VectorIndex:
        # One probe per server (and one log line saying which way vectors are searched).
        with self._vectors_lock:
            if self._vectors is None:
                self._vectors = probe_pgvector(conn)
            return self._vectors


class PostgresBackend(Backend):
    """One PostgreSQL database and a pool of connections to it."""

    kind = "postgresql"
    pool_configurable = True

    def __init__(
        self,
        target: PgTarget,
        *,
        pool_size: int = 5,
        max_overflow: int = 10,
        pool_timeout: float = 30.0,
        ping_after_idle: float = PING_AFTER_IDLE_SECONDS,
    ) -> None:
        self.target = target
        self.dialect = PostgresDialect()
        self.pool_settings = {
            "pool_size": pool_size,
            "max_overflow": max_overflow,
            "timeout": pool_timeout,
        }
        self.engine = create_engine(
            target.sqlalchemy_url(),
            pool_size=pool_size,
            max_overflow=max_overflow,
            pool_timeout=pool_timeout,
        )
        ping_when_idle(self.engine, ping_after_idle)
        # Connects only when first used.
        self._glance_engine = create_engine(
            target.sqlalchemy_url(),
            pool_size=GLANCE_POOL_SIZE,
            max_overflow=2,
            pool_timeout=pool_timeout,
            isolation_level="AUTOCOMMIT",
        )

    def describe(self) -> str:
        return self.target.describe()

    def glance(self, namespace: str | None, read: Callable[[Connection], T]) -> T:
        """*read* on an autocommit connection of a small pool of its own.

        Under load every round trip waits for a CPU, so a glance makes only its
        own queries: no transaction to begin and end, no ping at checkout (a
        connection the server dropped is replaced and *read* run again, once). Its
        pool is apart from the application's, which the work being watched may
        have exhausted.
        """
        for attempt in (1, 2):
            try:
                with self._glance_engine.connect() as conn:
                    if namespace:
                        conn = conn.execution_options(schema_translate_map={None: namespace})
                    return read(conn)
            except sa_exc.DBAPIError as exc:
                if attempt == 2 or not exc.connection_invalidated:
                    raise
        raise AssertionError("unreachable")

    def dispose(self) -> None:
        super().dispose()
        self._glance_engine.dispose()

    #: Announcements reach every process (NOTIFY): looking is only a fallback.
    fallback_poll_seconds: ClassVar[float] = 5.0

    def announce(self, conn: Connection, namespace: str | None, topic: str) -> bool:
        # Sent at commit, to the listeners of every process; dropped on rollback.
        conn.execute(_NOTIFY, {"c": pg_channel(namespace, topic)})
        return False

    def listen(self, namespace: str | None, topic: str, callback: Callback) -> Listening:
        return PgListener(self.target.conninfo(), pg_channel(namespace, topic), callback)

    @contextmanager
    def begin(self, namespace: str | None, *, write: bool = True) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            if namespace:
                conn.execution_options(schema_translate_map={None: namespace})
            with conn.begin():
                yield conn
