"""The backend abstraction: one interface over SQLite and PostgreSQL.

A :class:`Backend` owns an SQLAlchemy engine (and so its connection pool).
A :class:`Database` is one of our four databases at one place on a backend: a
SQLite file, or a PostgreSQL schema. Repositories only ever see a
:class:`Database`; they build statements with SQLAlchemy Core and ask
``database.dialect`` (a :class:`DialectOps`) for the few things that differ.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeVar

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    FromClause,
    Insert,
    Select,
    Table,
    UniqueConstraint,
    Update,
    bindparam,
    inspect,
    select,
    true,
)
from sqlalchemy.sql.elements import ColumnElement, TextClause

from ..schemas.types import is_false
from ..search import CompiledQuery, compile_query, restriction
from .wakes import LOCAL_WAKES, Callback, Listening

if TYPE_CHECKING:
    from ..schemas.spec import DatabaseSchema, SearchIndex
    from .vector_index import VectorIndex

BackendKind = Literal["sqlite", "postgresql"]
#: Where :meth:`Database.begin` keeps, on its connection, the topics announced meanwhile.
_NEWS = "tldw_announced_topics"
T = TypeVar("T")
#: A search's weight factors, per column name.
Boosts = Mapping[str, float] | None


class DialectOps(ABC):
    """Everything that is said differently on SQLite and PostgreSQL."""

    name: BackendKind

    # -- schema artefacts ----------------------------------------------------
    @abstractmethod
    def prepare_namespace(self, conn: Connection, namespace: str | None) -> None:
        """Make sure the place for a schema exists (a PostgreSQL schema; nothing on SQLite)."""

    @abstractmethod
    def install_artefacts(
        self, conn: Connection, schema: DatabaseSchema, namespace: str | None, *, rebuild: bool
    ) -> None:
        """Create search indexes, the version rule and sync-log triggers (idempotent)."""

    @abstractmethod
    def drop_artefacts(
        self, conn: Connection, schema: DatabaseSchema, namespace: str | None
    ) -> None:
        """Remove what :meth:`install_artefacts` created (for downgrades)."""

    def normalize_legacy_values(  # noqa: B027 - optional hook, most dialects need nothing
        self, conn: Connection, schema: DatabaseSchema, namespace: str | None
    ) -> None:
        """Rewrite stored forms the dialect tolerates but our rules expect (default: nothing)."""

    def addable_column(self, column: Column[Any]) -> Column[Any]:
        """*column* as this dialect's ``ALTER TABLE ... ADD COLUMN`` accepts it (default: as is)."""
        return column

    @abstractmethod
    def replace_unique(
        self, conn: Connection, table: Table, old_columns: Sequence[str], namespace: str | None
    ) -> None:
        """Drop *table*'s unique rules over exactly *old_columns* (a constraint or a unique
        index, named or not) and add the unique constraints *table* declares that it lacks,
        keeping every row. Raises :class:`sqlalchemy.exc.IntegrityError` when the rows
        break a declared rule."""

    def sync_sequences(  # noqa: B027 - optional hook: SQLite's AUTOINCREMENT keeps up itself
        self, conn: Connection, schema: DatabaseSchema, namespace: str | None
    ) -> None:
        """Move id generators past rows inserted with explicit ids (default: nothing)."""

    def sync_identity(  # noqa: B027 - optional hook: SQLite numbers rows in the insert
        self, conn: Connection, column: Column[Any], namespace: str | None
    ) -> None:
        """Move *column*'s number generator past its highest value (default: nothing)."""

    # -- statements ------------------------------------------------------------
    def identity_value(self, column: Column[Any]) -> ColumnElement[Any] | None:
        """What an INSERT writes into *column*, an identity column (declared ``Identity()``).

        ``None`` where the database numbers new rows itself (the default); else an
        expression the insert computes (see the SQLite dialect).
        """
        return None

    def search(
        self,
        table: Table,
        index: SearchIndex,
        query_text: str,
        *,
        live_only: bool = True,
        columns: Sequence[str] | None = None,
        boosts: Boosts = None,
    ) -> Select[Any] | None:
        """A SELECT of ``(key, title_hit, rank)`` rows, best first; ``None`` when nothing can match.

        ``key`` is the table's primary key. ``title_hit`` is true when a title
        column matched; rows with a title hit come first. *columns* confines the
        match to those columns of the index (:func:`..search.restriction`; a
        ``ValueError`` for one it cannot); *boosts* multiplies a column's weight
        in the rank (column name to factor).
        """
        chosen, weights = restriction(index.columns, columns)
        compiled = compile_query(query_text, columns=chosen, weights=weights)
        match = self.text_match(table, index, compiled, boosts)
        if match is None:
            return None
        key = next(iter(table.primary_key.columns))
        title_hit = true() if match.title_hit is None else match.title_hit
        stmt = (
            select(key.label("key"), title_hit.label("title_hit"), match.rank.label("rank"))
            .select_from(match.source)
            .where(match.condition)
        )
        if live_only:
            for flag in ("deleted", "is_trash"):
                if flag in table.c:
                    stmt = stmt.where(self.live_filter(table, flag))
        # A constant title_hit cannot be sorted on: PostgreSQL refuses ORDER BY true,
        # SQLite reads ORDER BY 1 as the first column.
        by_title = [] if match.title_hit is None else [match.title_hit.desc()]
        return stmt.order_by(*by_title, match.rank.desc(), key).params(**match.params)

    def live_filter(self, table: Table, flag: str) -> ColumnElement[bool]:
        """The condition a search puts on a row's *flag* column (``deleted``, ``is_trash``)."""
        return is_false(table.c[flag])

    @abstractmethod
    def text_match(
        self, table: Table, index: SearchIndex, query: CompiledQuery, boosts: Boosts
    ) -> TextMatch | None:
        """The dialect's part of :meth:`search`: how *query* matches rows and ranks them.

        ``None`` when the query, rendered for this dialect, can match nothing.
        """

    @abstractmethod
    def insert(self, table: Table) -> Any:
        """The dialect's INSERT construct (it has ``on_conflict_do_update``)."""

    def nocase_equals(self, column: ColumnElement[Any], value: str) -> ColumnElement[bool]:
        from ..schemas.nocase import ascii_fold

        return ascii_fold(column) == ascii_fold(value)

    @abstractmethod
    def claim(self, select: Select[Any]) -> Select[Any]:
        """Make *select* claim rows for this transaction (``FOR UPDATE SKIP LOCKED`` or alike)."""

    def picked_update(self, table: Table, pick: Select[Any], update: Update) -> PickedUpdate:
        """*update* (of *table*, with its ``RETURNING``) restricted to the rows whose column
        named as *pick*'s first matches the row *pick* selects (and locks, if it says so),
        built once. *pick* may hold bound parameters (given when it is called) and labels
        the values wanted as they were before the update.

        By default two statements, for a database whose writers take turns (SQLite: no
        round trip to save, and a RETURNING clause there sees only the updated table).
        """
        return PickedUpdate(table, pick, update)

    def write_together(self, first: Insert, then: Insert) -> Insert | None:
        """One statement making the inserts *first* and *then* (neither reading what the
        other writes): a round trip fewer. None where the database has no such statement
        (the caller then executes them in turn)."""
        return None

    @abstractmethod
    def serialize(self, conn: Connection, key: str) -> None:
        """Hold, until *conn*'s write transaction ends, a lock every writer naming *key* takes.

        For a check-then-insert that no unique rule covers (the next version of a
        name, an idempotency key): writers of one *key* then run one at a time,
        writers of other keys are not held up.
        """

    @abstractmethod
    def vector_index(self, conn: Connection) -> VectorIndex:
        """How this backend finds nearest neighbours (decided once, on first use)."""


class PickedUpdate:
    """An update of the rows that match the row a select picks, built by
    :meth:`DialectOps.picked_update`: call it with the parameters.

    The result has the update's returned columns and the pick's, or is ``None`` when
    nothing was picked or nothing matched it.
    """

    #: The parameter that carries the picked row's key to the update.
    KEY = "picked_key"

    def __init__(self, table: Table, pick: Select[Any], update: Update) -> None:
        self.pick = pick
        self.update = update.where(_match_column(table, pick) == bindparam(self.KEY))

    def __call__(self, conn: Connection, params: Mapping[str, Any]) -> dict[str, Any] | None:
        before = conn.execute(self.pick, dict(params)).first()
        if before is None:
            return None
        after = conn.execute(self.update, {**params, self.KEY: before[0]}).first()
        return None if after is None else dict(before._mapping) | dict(after._mapping)


def _match_column(table: Table, pick: Select[Any]) -> Column[Any]:
    """The column of *table* named as *pick*'s first (the picked row's key)."""
    return table.c[pick.selected_columns[0].name]


@dataclass(frozen=True)
class TextMatch:
    """How a full-text query matches and ranks rows in one dialect (:meth:`DialectOps.search`)."""

    source: FromClause  # the table, joined to whatever the match reads
    condition: ColumnElement[Any] | TextClause
    rank: ColumnElement[Any]  # higher is better
    #: Whether a title column matched; ``None`` where the index ranks no titles first.
    title_hit: ColumnElement[Any] | None
    params: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class UniqueRule:
    """A unique rule a table holds: a constraint, or a unique index of its own."""

    kind: Literal["constraint", "index"]
    name: str | None  # SQLite's inline UNIQUE (...) has none
    columns: frozenset[str]


def unique_rules(conn: Connection, table: str, namespace: str | None) -> list[UniqueRule]:
    """The unique rules of *table* as the database reports them (primary key aside)."""
    found = inspect(conn)
    rules = [
        UniqueRule("constraint", c["name"], frozenset(str(n).lower() for n in c["column_names"]))
        for c in found.get_unique_constraints(table, schema=namespace)
    ]
    for index in found.get_indexes(table, schema=namespace):
        if index["unique"] and not index.get("duplicates_constraint"):
            columns = frozenset(str(n).lower() for n in index["column_names"] if n is not None)
            rules.append(UniqueRule("index", index["name"], columns))
    return rules


def declared_unique_columns(table: Table) -> list[frozenset[str]]:
    """The column sets of the unique constraints *table* declares."""
    return [
        frozenset(c.name.lower() for c in constraint.columns)
        for constraint in table.constraints
        if isinstance(constraint, UniqueConstraint)
    ]


class Backend(ABC):
    """One engine and its pool, on SQLite or PostgreSQL."""

    kind: BackendKind
    dialect: DialectOps
    engine: Engine

    @abstractmethod
    def describe(self) -> str:
        """A log-safe description, e.g. ``PostgreSQL at host:5432/db`` (never a password)."""

    @abstractmethod
    @contextmanager
    def begin(self, namespace: str | None, *, write: bool = True) -> Iterator[Connection]:
        """A connection inside a transaction, committed on success, rolled back on error."""

    def glance(self, namespace: str | None, read: Callable[[Connection], T]) -> T:
        """What *read* returns from a quick, read-only look at the database.

        For monitoring (``/api/v1/workflows/status``), polled while the server is
        busiest: a backend may serve it with fewer round trips, and from connections
        the work being watched cannot exhaust. By default, a read transaction.
        """
        with self.begin(namespace, write=False) as conn:
            return read(conn)

    #: Whether the server's pool settings (size, overflow, timeout) shape this backend's pool:
    #: a database server's pool is the operator's to size; a SQLite file's is fixed.
    pool_configurable: ClassVar[bool] = False
    #: The pool settings in effect, when :attr:`pool_configurable` (else empty).
    pool_settings: Mapping[str, Any] = MappingProxyType({})

    #: Whether :meth:`keep_copy` copies anything (a file does; a server's databases are the
    #: operator's to back up with pg_dump), so that nobody looks for an upgrade in vain.
    keeps_copies: ClassVar[bool] = False

    def keep_copy(self, label: str) -> str | None:
        """Keep a copy of the database as it is, before *label* changes it; where it went."""
        return None

    def pool_status(self) -> dict[str, Any]:
        pool = self.engine.pool
        status: dict[str, Any] = {"class": type(pool).__name__}
        for attr in ("size", "checkedout", "overflow", "checkedin"):
            method = getattr(pool, attr, None)
            if callable(method):
                status[attr] = method()
        return status

    def dispose(self) -> None:
        self.engine.dispose()

    # -- wake-ups (see wakes.py) ---------------------------------------------------------
    #: How often a listener that must not miss news should also look for itself: the
    #: announcements of this backend reach this process only (other processes' writers
    #: are found by looking).
    fallback_poll_seconds: ClassVar[float] = 0.5

    def wake_place(self, namespace: str | None) -> str:
        """What names the place *namespace* is, for this process's listeners."""
        return f"{self.describe()}|{namespace or ''}"

    def announce(self, conn: Connection, namespace: str | None, topic: str) -> bool:
        """Announce *topic* within *conn*'s transaction; True when it is for the listeners
        of this process only (:meth:`Database.begin` calls them after the commit)."""
        return True

    def listen(self, namespace: str | None, topic: str, callback: Callback) -> Listening:
        """Call *callback* whenever a committed write announced *topic* here."""
        return LOCAL_WAKES.listen(self.wake_place(namespace), topic, callback)


@dataclass
class Database:
    """One of our databases at one place: a SQLite file, or a schema on PostgreSQL."""

    backend: Backend
    schema: DatabaseSchema
    namespace: str | None = None
    user_id: str | None = None
    version: int = field(default=0)

    @property
    def dialect(self) -> DialectOps:
        return self.backend.dialect

    @property
    def kind(self) -> BackendKind:
        return self.backend.kind

    def describe(self) -> str:
        where = self.backend.describe()
        return f"{where} (schema {self.namespace})" if self.namespace else where

    @contextmanager
    def begin(self, *, write: bool = True) -> Iterator[Connection]:
        news: set[str] = set()
        with self.backend.begin(self.namespace, write=write) as conn:
            conn.info[_NEWS] = news
            try:
                yield conn
            finally:
                conn.info.pop(_NEWS, None)
        if news:  # committed: now the listeners of this process may look
            LOCAL_WAKES.deliver(self.backend.wake_place(self.namespace), news)

    def announce(self, conn: Connection, topic: str) -> None:
        """Wake the listeners of *topic* (see :mod:`.wakes`) once *conn*'s transaction,
        one :meth:`begin` made, commits."""
        if self.backend.announce(conn, self.namespace, topic):
            news = conn.info.get(_NEWS)
            if news is None:
                raise RuntimeError("announce() needs a transaction opened by Database.begin()")
            news.add(topic)

    def listen(self, topic: str, callback: Callback) -> Listening:
        """Call *callback* after every committed write that announced *topic* here."""
        return self.backend.listen(self.namespace, topic, callback)

    def glance(self, read: Callable[[Connection], T]) -> T:
        """:meth:`Backend.glance` at this database."""
        return self.backend.glance(self.namespace, read)

    def table(self, name: str) -> Table:
        return self.schema.table(name)
