"""PostgreSQL: engine and pool, tsvector search, and the rules as PL/pgSQL triggers.

Every database lives in its own PostgreSQL schema (see ``places.py``); one
engine serves them all, and a connection is pointed at a schema through
SQLAlchemy's ``schema_translate_map``. Search vectors are kept current by a
row trigger: the database computes them for every row the application writes,
so no application step is ever needed to make rows searchable.
"""

from __future__ import annotations

import threading
import time
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar, TypeVar

from sqlalchemy import (
    REAL,
    Column,
    Connection,
    Engine,
    LargeBinary,
    Select,
    Table,
    UniqueConstraint,
    cast,
    create_engine,
    event,
    func,
    literal,
    literal_column,
    select,
    text,
    update,
)
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects.postgresql import ARRAY, TSQUERY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.sql.elements import ColumnElement

from ..schemas.spec import DatabaseSchema, SearchIndex, SyncedTable
from ..schemas.types import is_false
from ..search import (
    compile_query,
    postgres_search_functions_sql,
    postgres_tsvector_sql,
    restriction,
)
from .base import Backend, DialectOps, unique_rules
from .target import PgTarget
from .vector_index import VectorIndex, probe_pgvector
from .wakes import Callback, Listening, PgListener, pg_channel

T = TypeVar("T")
#: Connections kept for :meth:`PostgresBackend.glance` (one poller needs one).
GLANCE_POOL_SIZE = 1
#: A pooled connection idle longer than this is pinged before it is handed out.
PING_AFTER_IDLE_SECONDS = 2.0


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


SEARCH_COLUMN = "search_vector"


def search_trigger(index: SearchIndex) -> str:
    """The name of the trigger (and of its function) keeping *index*'s vectors current."""
    return f"tldw_{index.name}_vector"


def search_vector_sql(namespace: str, index: SearchIndex) -> str:
    """The expression computing *index*'s search vector from a row's columns."""
    return postgres_tsvector_sql(namespace, list(index.columns))


def _run(conn: Connection, sql: str) -> None:
    # The driver always parses '%' placeholders: double the '%' of PL/pgSQL messages.
    # (text() would also take ':name' inside literals for bind parameters.)
    conn.exec_driver_sql(sql.replace("%", "%%"))


def quote_ident(name: str) -> str:
    """*name* as a PostgreSQL identifier: in double quotes, inner quotes doubled."""
    return '"' + name.replace('"', '""') + '"'


def qualified(namespace: str | None, name: str) -> str:
    return f"{quote_ident(namespace)}.{quote_ident(name)}" if namespace else quote_ident(name)


class PostgresDialect(DialectOps):
    name = "postgresql"

    def __init__(self) -> None:
        self._vectors: VectorIndex | None = None
        self._vectors_lock = threading.Lock()

    # -- artefacts --------------------------------------------------------------
    def prepare_namespace(self, conn: Connection, namespace: str | None) -> None:
        if namespace:
            _run(conn, f"CREATE SCHEMA IF NOT EXISTS {quote_ident(namespace)}")

    def install_artefacts(
        self, conn: Connection, schema: DatabaseSchema, namespace: str | None, *, rebuild: bool
    ) -> None:
        ns = namespace or "public"
        if schema.search:
            for function in postgres_search_functions_sql(ns):
                _run(conn, function)
        for index in schema.search:
            self._install_search(conn, ns, index, backfill=rebuild)
        if schema.synced:
            _run(conn, _version_rule_function(ns))
        if schema.synced and schema.sync_log is not None:
            _run(conn, _sync_log_function(ns, schema))
        for synced in schema.synced:
            self._install_triggers(conn, ns, schema, synced)

    def drop_artefacts(
        self, conn: Connection, schema: DatabaseSchema, namespace: str | None
    ) -> None:
        ns = namespace or "public"
        for synced in schema.synced:
            tbl = qualified(ns, synced.table)
            for trigger in (f"tldw_{synced.table}_version_rule", f"tldw_{synced.table}_sync"):
                _run(conn, f"DROP TRIGGER IF EXISTS {quote_ident(trigger)} ON {tbl}")
        for index in schema.search:
            tbl = qualified(ns, index.table)
            _run(conn, f"DROP TRIGGER IF EXISTS {quote_ident(search_trigger(index))} ON {tbl}")
            _run(conn, f"DROP FUNCTION IF EXISTS {quote_ident(ns)}.{search_trigger(index)}()")
            _run(conn, f"ALTER TABLE {tbl} DROP COLUMN IF EXISTS {SEARCH_COLUMN}")
        functions = ("tldw_version_rule()", "tldw_sync_log()", "fts_vector(text[], text)")
        for function in (*functions, "fts_norm(text)"):
            _run(conn, f"DROP FUNCTION IF EXISTS {quote_ident(ns)}.{function}")

    def _install_search(
        self, conn: Connection, ns: str, index: SearchIndex, *, backfill: bool
    ) -> None:
        """A search-vector column, the trigger keeping it current, and its GIN index.

        A trigger rather than a generated column: every writer (the application,
        a plain ``COPY``) still gets a current vector, while the migration can set
        its own triggers aside and compute all vectors set-wise with parallel
        workers, which a generated column's per-row evaluation cannot use.
        """
        tbl = qualified(ns, index.table)
        function = f"{quote_ident(ns)}.{quote_ident(search_trigger(index))}"
        columns = ", ".join(quote_ident(c) for c in index.column_names)
        _run(conn, f"ALTER TABLE {tbl} ADD COLUMN IF NOT EXISTS {SEARCH_COLUMN} tsvector")
        _run(
            conn,
            f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $fn$\n"
            f"BEGIN\n    NEW.{SEARCH_COLUMN} := "
            f"{postgres_tsvector_sql(ns, list(index.columns), row='NEW')};\n"
            "    RETURN NEW;\nEND\n$fn$",
        )
        trigger = quote_ident(search_trigger(index))
        _run(conn, f"DROP TRIGGER IF EXISTS {trigger} ON {tbl}")
        _run(
            conn,
            f"CREATE TRIGGER {trigger} BEFORE INSERT OR UPDATE OF {columns} ON {tbl} "
            f"FOR EACH ROW EXECUTE FUNCTION {function}()",
        )
        if backfill:
            # Rows that predate the column: one set-wise pass, no rule or log triggers.
            _run(conn, f"ALTER TABLE {tbl} DISABLE TRIGGER USER")
            _run(conn, f"UPDATE {tbl} SET {SEARCH_COLUMN} = {search_vector_sql(ns, index)}")
            _run(conn, f"ALTER TABLE {tbl} ENABLE TRIGGER USER")
        _run(
            conn,
            f"CREATE INDEX IF NOT EXISTS {quote_ident(f'ix_{index.name}')} "
            f"ON {tbl} USING gin ({SEARCH_COLUMN})",
        )

    def _install_triggers(
        self, conn: Connection, ns: str, schema: DatabaseSchema, synced: SyncedTable
    ) -> None:
        tbl = qualified(ns, synced.table)
        rule = quote_ident(f"tldw_{synced.table}_version_rule")
        _run(conn, f"DROP TRIGGER IF EXISTS {rule} ON {tbl}")
        _run(
            conn,
            f"CREATE TRIGGER {rule} BEFORE UPDATE ON {tbl} FOR EACH ROW "
            f"EXECUTE FUNCTION {quote_ident(ns)}.tldw_version_rule()",
        )
        if schema.sync_log is None:
            return
        sync = quote_ident(f"tldw_{synced.table}_sync")
        _run(conn, f"DROP TRIGGER IF EXISTS {sync} ON {tbl}")
        _run(
            conn,
            f"CREATE TRIGGER {sync} AFTER INSERT OR UPDATE OR DELETE ON {tbl} FOR EACH ROW "
            f"EXECUTE FUNCTION {quote_ident(ns)}.tldw_sync_log("
            f"'{synced.entity}', '{synced.key}')",
        )

    def replace_unique(
        self, conn: Connection, table: Table, old_columns: Sequence[str], namespace: str | None
    ) -> None:
        old = frozenset(c.lower() for c in old_columns)
        target = qualified(namespace, table.name)
        kept: set[frozenset[str]] = set()
        for rule in unique_rules(conn, table.name, namespace):
            if rule.columns != old:
                kept.add(rule.columns)
            elif rule.kind == "constraint":
                _run(conn, f"ALTER TABLE {target} DROP CONSTRAINT {quote_ident(str(rule.name))}")
            else:
                _run(conn, f"DROP INDEX {qualified(namespace, str(rule.name))}")
        for constraint in table.constraints:
            if not isinstance(constraint, UniqueConstraint):
                continue
            columns = [c.name for c in constraint.columns]
            if frozenset(c.lower() for c in columns) in kept:
                continue
            listed = ", ".join(quote_ident(c) for c in columns)
            name = quote_ident(str(constraint.name))
            _run(conn, f"ALTER TABLE {target} ADD CONSTRAINT {name} UNIQUE ({listed})")

    def sync_sequences(
        self, conn: Connection, schema: DatabaseSchema, namespace: str | None
    ) -> None:
        """Move each serial sequence past its table's highest id, never backwards.

        Rows that arrive with explicit ids (an older layout's rows, a restore, a
        hand-written INSERT) do not advance a sequence; without this the next
        insert would collide with them. Only a sequence that is behind is moved,
        so a concurrent writer's freshly drawn ids are never handed out again.
        """
        for table in schema.metadata.sorted_tables:
            pk = list(table.primary_key.columns)
            numbered = [c for c in table.columns if c.identity is not None and not c.primary_key]
            if len(pk) == 1 and pk[0].type.python_type is int:
                numbered.insert(0, pk[0])
            for column in numbered:
                self.sync_identity(conn, column, namespace)

    def sync_identity(self, conn: Connection, column: Column[Any], namespace: str | None) -> None:
        assert isinstance(column.table, Table)
        tbl, col = qualified(namespace or "public", column.table.name), quote_ident(column.name)
        conn.execute(
            text(
                "SELECT setval(s.seq, m.top) "
                "FROM (SELECT pg_get_serial_sequence(:tbl, :col) AS seq) s, "
                f"(SELECT max({col}) AS top FROM {tbl}) m "
                "WHERE s.seq IS NOT NULL AND m.top IS NOT NULL "
                "AND m.top > coalesce(pg_sequence_last_value(s.seq::regclass), 0)"
            ),
            {"tbl": tbl, "col": column.name},
        )

    # -- statements --------------------------------------------------------------
    def search(
        self,
        table: Table,
        index: SearchIndex,
        query_text: str,
        *,
        live_only: bool = True,
        columns: Sequence[str] | None = None,
        boosts: Mapping[str, float] | None = None,
    ) -> Select[Any] | None:
        _, weights = restriction(index.columns, columns)
        compiled = compile_query(query_text, weights=weights)
        if compiled.tsquery is None:
            return None
        # A cast, not to_tsquery(): the text-search parser must not split the words again.
        query = cast(compiled.tsquery, TSQUERY)
        vector: ColumnElement[Any] = literal_column(SEARCH_COLUMN)
        key = next(iter(table.primary_key.columns))
        ranks_titles = bool(index.title_columns) and len(index.title_columns) < len(index.columns)
        if ranks_titles:
            title_hit: ColumnElement[Any] = literal_column(
                f"ts_filter({SEARCH_COLUMN}, '{{a}}')"
            ).op("@@")(query)
        else:
            title_hit = literal_column("true")
        rank = _rank(vector, query, index, boosts)
        stmt = (
            select(key.label("key"), title_hit.label("title_hit"), rank.label("rank"))
            .select_from(table)
            .where(vector.op("@@")(query))
        )
        if live_only and "deleted" in table.c:
            stmt = stmt.where(is_false(table.c.deleted))
        if live_only and "is_trash" in table.c:
            stmt = stmt.where(is_false(table.c.is_trash))
        # A constant title_hit cannot be sorted on (PostgreSQL refuses ORDER BY true).
        by_title = [title_hit.desc()] if ranks_titles else []
        return stmt.order_by(*by_title, rank.desc(), key)

    def insert(self, table: Table) -> Any:
        return pg_insert(table)

    def claim(self, select: Select[Any]) -> Select[Any]:
        return select.with_for_update(skip_locked=True)

    def claim_first(
        self, conn: Connection, table: Table, pick: Select[Any], values: Mapping[str, Any]
    ) -> dict[str, Any] | None:
        # One statement: UPDATE ... FROM (SELECT ... FOR UPDATE SKIP LOCKED) ... RETURNING,
        # whose FROM still holds the picked row's values from before the update.
        picked = self.claim(pick).subquery("picked")
        key_name = pick.selected_columns[0].name
        before = [c for c in picked.c if c.name != key_name]
        row = conn.execute(
            update(table)
            .where(table.c[key_name] == picked.c[key_name])
            .values(**values)
            .returning(*table.c, *before)
        ).first()
        return None if row is None else dict(row._mapping)

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


#: ts_rank's default weight of each label, in its array order {D, C, B, A}.
_TS_RANK_WEIGHTS = {"D": 0.1, "C": 0.2, "B": 0.4, "A": 1.0}


def _rank(
    vector: ColumnElement[Any], query: Any, index: SearchIndex, boosts: Mapping[str, float] | None
) -> ColumnElement[Any]:
    """``ts_rank``; with *boosts*, each boosted column's label weighs *boost* times its default."""
    if not boosts:
        return func.ts_rank(vector, query)
    weights = dict(_TS_RANK_WEIGHTS)
    for column, label in index.columns:
        weights[label] = _TS_RANK_WEIGHTS[label] * float(boosts.get(column, 1.0))
    # PostgreSQL takes weights up to 1: scaling all of them alike keeps the order.
    top = max(weights.values())
    array = literal([weights[label] / top for label in "DCBA"], ARRAY(REAL))
    return func.ts_rank(cast(array, ARRAY(REAL)), vector, query)


def _version_rule_function(ns: str) -> str:
    return f"""
CREATE OR REPLACE FUNCTION {quote_ident(ns)}.tldw_version_rule() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    IF NEW.version IS DISTINCT FROM OLD.version + 1 THEN
        RAISE EXCEPTION
            'version rule: %.version must grow by exactly 1 on every update (was %, got %)',
            TG_TABLE_NAME, OLD.version, NEW.version
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$fn$"""


def _sync_log_function(ns: str, schema: DatabaseSchema) -> str:
    assert schema.sync_log is not None
    log = schema.sync_log
    blobs = sorted(
        {
            column.name
            for table in schema.metadata.tables.values()
            for column in table.columns
            if isinstance(column.type, LargeBinary)
        }
        | {SEARCH_COLUMN}
    )
    strip = " ".join(f"- '{name}'" for name in blobs)
    return f"""
CREATE OR REPLACE FUNCTION {quote_ident(ns)}.tldw_sync_log() RETURNS trigger
LANGUAGE plpgsql AS $fn$
DECLARE
    body jsonb;
    op text;
BEGIN
    IF TG_OP = 'DELETE' THEN
        body := to_jsonb(OLD) {strip};
        op := 'delete';
    ELSE
        body := to_jsonb(NEW) {strip};
        op := CASE
            WHEN TG_OP = 'INSERT' THEN 'create'
            WHEN (body->>'deleted')::boolean AND NOT (to_jsonb(OLD)->>'deleted')::boolean
                THEN 'delete'
            ELSE 'update'
        END;
    END IF;
    INSERT INTO {qualified(ns, log.table)}
        (entity, {log.key_column}, operation, timestamp, client_id, version, payload)
    VALUES (
        TG_ARGV[0], body->>TG_ARGV[1], op,
        coalesce((body->>'last_modified')::timestamptz, now()),
        coalesce(body->>'client_id', 'unknown'),
        coalesce((body->>'version')::integer, 1),
        body
    );
    RETURN NULL;
END
$fn$"""


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
        conn.execute(text("SELECT pg_notify(:c, '')"), {"c": pg_channel(namespace, topic)})
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
