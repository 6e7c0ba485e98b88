"""SQLite: the embedded default. Engine set-up, FTS5 search and trigger rules.

Each database is its own file. Connections run in WAL mode with foreign keys
on; transactions are opened explicitly (``BEGIN`` or ``BEGIN IMMEDIATE`` for
writers) because the stdlib driver's implicit transactions do not mix with
SQLAlchemy's. FTS5 external-content tables index live rows only and are kept
current by triggers; the version rule and the sync log are triggers too, so
they hold for every writer, not only ours.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    LargeBinary,
    Select,
    Table,
    create_engine,
    event,
    func,
    inspect,
    literal_column,
    select,
    text,
)
from sqlalchemy import column as sql_column
from sqlalchemy import table as sql_table
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.sql.elements import ColumnElement, TextClause

from ..schemas.spec import DatabaseSchema, SearchIndex, SyncedTable
from ..schemas.types import Flag
from ..search import SQLITE_TOKENIZER, CompiledQuery
from .base import (
    Backend,
    Boosts,
    DialectOps,
    TextMatch,
    declared_unique_columns,
    unique_rules,
)
from .vector_index import SQLITE_VECTORS, VectorIndex

NOW_TEXT = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"


def quote_sqlite(name: str) -> str:
    """*name* as a SQLite identifier: in double quotes, inner quotes doubled."""
    return '"' + name.replace('"', '""') + '"'


def _rowid_column(table: Table) -> str:
    """FTS5 needs an integer key: the INTEGER PRIMARY KEY, else the implicit rowid."""
    pk = list(table.primary_key.columns)
    if len(pk) == 1 and pk[0].type.python_type is int:
        return pk[0].name
    return "rowid"


class SqliteDialect(DialectOps):
    name = "sqlite"

    # -- artefacts --------------------------------------------------------------
    def prepare_namespace(self, conn: Connection, namespace: str | None) -> None:
        return None

    def install_artefacts(
        self, conn: Connection, schema: DatabaseSchema, namespace: str | None, *, rebuild: bool
    ) -> None:
        for index in schema.search:
            self._install_search(conn, schema.table(index.table), index, rebuild=rebuild)
        for synced in schema.synced:
            self._install_version_rule(conn, synced)
            if schema.sync_log is not None:
                self._install_sync_log(conn, schema, synced)

    def drop_artefacts(
        self, conn: Connection, schema: DatabaseSchema, namespace: str | None
    ) -> None:
        names = {index.name for index in schema.search}
        tables = {index.table for index in schema.search} | {s.table for s in schema.synced}
        for trigger, tbl, sql in conn.execute(
            text("SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'trigger'")
        ):
            ours = trigger.startswith("tldw_")
            feeds_fts = tbl.lower() in tables and any(n in (sql or "") for n in names)
            if ours or feeds_fts:
                conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {quote_sqlite(trigger)}")
        for name in names:
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {quote_sqlite(name)}")

    def normalize_legacy_values(
        self, conn: Connection, schema: DatabaseSchema, namespace: str | None
    ) -> None:
        """Store hand-written 'true'/'false' booleans as the 1/0 our triggers compare with."""
        for table in schema.metadata.sorted_tables:
            for column in table.columns:
                if isinstance(column.type, Flag):
                    col = quote_sqlite(column.name)
                    conn.exec_driver_sql(
                        f"UPDATE {quote_sqlite(table.name)} SET {col} = CASE lower(trim({col})) "
                        "WHEN 'true' THEN 1 WHEN 't' THEN 1 WHEN 'yes' THEN 1 WHEN '1' THEN 1 "
                        "WHEN 'false' THEN 0 WHEN 'f' THEN 0 WHEN 'no' THEN 0 WHEN '0' THEN 0 "
                        f"ELSE {col} END WHERE typeof({col}) = 'text'"
                    )

    def addable_column(self, column: Column[Any]) -> Column[Any]:
        # SQLite adds a column only with a constant default ("Cannot add a column with
        # non-constant default"): an expression such as CURRENT_TIMESTAMP is left to the
        # application there; plain literals stay.
        default = column.server_default
        if default is not None and isinstance(getattr(default, "arg", None), TextClause):
            column.server_default = None
            column.nullable = True
        if column.identity is not None:
            column.nullable = True  # numbered by the application here (identity_value)
        return column

    def identity_value(self, column: Column[Any]) -> ColumnElement[Any] | None:
        # SQLite has one rowid per table and no identity columns: the insert takes the next
        # number itself, safely, because writers hold the database lock (BEGIN IMMEDIATE).
        assert column.table is not None
        return select(func.coalesce(func.max(column), 0) + 1).scalar_subquery()

    def _install_search(
        self, conn: Connection, table: Table, index: SearchIndex, *, rebuild: bool
    ) -> None:
        fts, tbl = quote_sqlite(index.name), quote_sqlite(table.name)
        rowid = _rowid_column(table)
        cols = ", ".join(quote_sqlite(c) for c in index.column_names)
        new_cols = ", ".join(f"NEW.{quote_sqlite(c)}" for c in index.column_names)
        old_cols = ", ".join(f"OLD.{quote_sqlite(c)}" for c in index.column_names)
        live_new = "NEW.deleted = 0" if "deleted" in table.c else "1"
        live_old = "OLD.deleted = 0" if "deleted" in table.c else "1"
        conn.exec_driver_sql(
            f"CREATE VIRTUAL TABLE IF NOT EXISTS {fts} USING fts5({cols}, content={tbl}, "
            f"content_rowid={quote_sqlite(rowid)}, tokenize='{SQLITE_TOKENIZER}')"
        )
        add = f"INSERT INTO {fts}(rowid, {cols}) SELECT NEW.{rowid}, {new_cols} WHERE {live_new};"
        remove = (
            f"INSERT INTO {fts}({fts}, rowid, {cols}) "
            f"SELECT 'delete', OLD.{rowid}, {old_cols} WHERE {live_old};"
        )
        for suffix, when, body in (
            ("ai", "AFTER INSERT", add),
            ("ad", "AFTER DELETE", remove),
            ("au", "AFTER UPDATE", remove + " " + add),
        ):
            conn.exec_driver_sql(
                f"CREATE TRIGGER IF NOT EXISTS {quote_sqlite(f'tldw_{index.name}_{suffix}')} "
                f"{when} ON {tbl} BEGIN {body} END"
            )
        if rebuild:
            live = "deleted = 0" if "deleted" in table.c else "1"
            conn.exec_driver_sql(f"INSERT INTO {fts}({fts}) VALUES ('delete-all')")
            conn.exec_driver_sql(
                f"INSERT INTO {fts}(rowid, {cols}) SELECT {rowid}, {cols} FROM {tbl} WHERE {live}"
            )

    def _install_version_rule(self, conn: Connection, synced: SyncedTable) -> None:
        tbl = quote_sqlite(synced.table)
        conn.exec_driver_sql(
            f"CREATE TRIGGER IF NOT EXISTS {quote_sqlite(f'tldw_{synced.table}_version_rule')} "
            f"BEFORE UPDATE ON {tbl} WHEN NEW.version IS NOT OLD.version + 1 BEGIN "
            f"SELECT RAISE(ABORT, 'version rule: {synced.table}.version must grow by exactly 1 "
            "on every update'); END"
        )

    def _install_sync_log(
        self, conn: Connection, schema: DatabaseSchema, synced: SyncedTable
    ) -> None:
        assert schema.sync_log is not None
        log = schema.sync_log
        table = schema.table(synced.table)
        payload_cols = [c.name for c in table.columns if not isinstance(c.type, LargeBinary)]

        def row(alias: str) -> str:
            pairs = ", ".join(f"'{c}', {alias}.{quote_sqlite(c)}" for c in payload_cols)
            return (
                f"'{synced.entity}', CAST({alias}.{quote_sqlite(synced.key)} AS TEXT), {{op}}, "
                f"coalesce({alias}.last_modified, {NOW_TEXT}), "
                f"coalesce({alias}.client_id, 'unknown'), coalesce({alias}.version, 1), "
                f"json_object({pairs})"
            )

        insert = (
            f"INSERT INTO {quote_sqlite(log.table)}(entity, {log.key_column}, operation, "
            "timestamp, client_id, version, payload) VALUES "
        )
        update_op = "CASE WHEN NEW.deleted = 1 AND OLD.deleted = 0 THEN 'delete' ELSE 'update' END"
        for suffix, when, values in (
            ("ai", "AFTER INSERT", row("NEW").replace("{op}", "'create'")),
            ("au", "AFTER UPDATE", row("NEW").replace("{op}", update_op)),
            ("ad", "AFTER DELETE", row("OLD").replace("{op}", "'delete'")),
        ):
            trigger = quote_sqlite(f"tldw_{synced.table}_sync_{suffix}")
            conn.exec_driver_sql(
                f"CREATE TRIGGER IF NOT EXISTS {trigger} "
                f"{when} ON {quote_sqlite(synced.table)} BEGIN {insert}({values}); END"
            )

    def replace_unique(
        self, conn: Connection, table: Table, old_columns: Sequence[str], namespace: str | None
    ) -> None:
        old = frozenset(c.lower() for c in old_columns)
        rules = unique_rules(conn, table.name, namespace)
        for rule in rules:
            if rule.kind == "index" and rule.columns == old:
                conn.exec_driver_sql(f"DROP INDEX {quote_sqlite(str(rule.name))}")
        kept = {r.columns for r in rules if r.columns != old}
        inline_old = any(r.kind == "constraint" and r.columns == old for r in rules)
        if inline_old or not set(declared_unique_columns(table)) <= kept:
            # SQLite can neither drop nor add a table constraint: the table is made again.
            _rebuild_table(conn, table)

        # -- statements --------------------------------------------------------------

    def live_filter(self, table: Table, flag: str) -> ColumnElement[bool]:
        # "+column = 0": the unary plus keeps SQLite from driving the join from an index
        # on the flag (one full-text lookup per live row: counting a common word's
        # matches among 20,000 items took over a second), so the match drives it.
        return literal_column(f"+{quote_sqlite(table.name)}.{quote_sqlite(flag)}") == 0

    def text_match(
        self, table: Table, index: SearchIndex, query: CompiledQuery, boosts: Boosts
    ) -> TextMatch | None:
        if query.fts5 is None:
            return None
        fts = quote_sqlite(index.name)
        factor = boosts or {}
        weights = ", ".join(
            repr((10.0 if w == "A" else 1.0) * float(factor.get(c, 1.0))) for c, w in index.columns
        )
        fts_table = sql_table(index.name, sql_column("rowid"))
        content_rowid: ColumnElement[Any] = literal_column(
            f"{quote_sqlite(table.name)}.{quote_sqlite(_rowid_column(table))}"
        )
        params = {"fts_q": query.fts5}
        title_hit: ColumnElement[Any] | None = None
        if index.ranks_titles:
            titles = " ".join(quote_sqlite(c) for c in index.title_columns)
            params["title_q"] = f"{{{titles}}} : ({query.fts5})"
            # text() (not literal_column) so that :title_q is a real bind parameter.
            title_hit = content_rowid.in_(
                select(fts_table.c.rowid).where(text(f"{fts} MATCH :title_q"))
            )
        return TextMatch(
            source=table.join(fts_table, fts_table.c.rowid == content_rowid),
            condition=text(f"{fts} MATCH :fts_q"),
            rank=literal_column(f"-bm25({fts}, {weights})"),
            title_hit=title_hit,
            params=params,
        )

    def insert(self, table: Table) -> Any:
        return sqlite_insert(table)

    def nocase_equals(self, column: ColumnElement[Any], value: str) -> ColumnElement[bool]:
        # SQLite has no translate(); its own NOCASE folds exactly A-Z, the rule itself.
        return column.collate("NOCASE") == value

    def claim(self, select: Select[Any]) -> Select[Any]:
        # Writers hold the database lock from BEGIN IMMEDIATE: nobody else can claim meanwhile.
        return select

    def serialize(self, conn: Connection, key: str) -> None:
        # Every writer already holds the whole database's lock from BEGIN IMMEDIATE.
        return None

    def vector_index(self, conn: Connection) -> VectorIndex:
        return VectorIndex(SQLITE_VECTORS)


def _rebuild_table(conn: Connection, table: Table) -> None:
    """Make *table* again as declared, with its rows, its ids' sequence and any columns of
    the file's own that we do not declare.

    Foreign keys stay enforced: rows referring to it are checked when the transaction
    commits (``defer_foreign_keys``), by which time every row is back under the same id.
    The new table is created under its own name (never renamed into place), so the
    references other tables make to it are never rewritten.
    """
    name = table.name
    found = inspect(conn).get_columns(name)
    declared = {c.name.lower() for c in table.columns}
    kept = f"_tldw_rebuild_{name}"
    conn.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
    conn.exec_driver_sql(
        f"CREATE TEMP TABLE {quote_sqlite(kept)} AS SELECT * FROM {quote_sqlite(name)}"
    )
    has_sequences = inspect(conn).has_table("sqlite_sequence")
    sequence = (
        conn.exec_driver_sql("SELECT seq FROM sqlite_sequence WHERE name = ?", (name,)).scalar()
        if has_sequences
        else None
    )
    conn.exec_driver_sql(f"DROP TABLE {quote_sqlite(name)}")
    table.create(conn)
    for column in found:
        if str(column["name"]).lower() not in declared:
            kind = column["type"].compile(dialect=conn.dialect)
            conn.exec_driver_sql(
                f"ALTER TABLE {quote_sqlite(name)} ADD COLUMN {quote_sqlite(column['name'])} {kind}"
            )
    listed = ", ".join(quote_sqlite(c["name"]) for c in found)
    conn.exec_driver_sql(
        f"INSERT INTO {quote_sqlite(name)} ({listed}) "
        f"SELECT {listed} FROM temp.{quote_sqlite(kept)}"
    )
    conn.exec_driver_sql(f"DROP TABLE temp.{quote_sqlite(kept)}")
    if sequence is not None:  # ids deleted before the rebuild are still never reused
        conn.exec_driver_sql("DELETE FROM sqlite_sequence WHERE name = ?", (name,))
        conn.exec_driver_sql(
            "INSERT INTO sqlite_sequence (name, seq) "
            f"SELECT ?, max(?, coalesce(max(rowid), 0)) FROM {quote_sqlite(name)}",
            (name, sequence),
        )


class SqliteBackend(Backend):
    """One SQLite file and a small pool of connections to it."""

    kind = "sqlite"
    keeps_copies = True

    def __init__(self, path: Path, *, busy_timeout_s: float = 30.0) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.dialect = SqliteDialect()
        self.engine = create_engine(
            f"sqlite:///{self.path}",
            connect_args={"check_same_thread": False, "timeout": busy_timeout_s},
            pool_size=8,
            max_overflow=16,
        )
        event.listen(self.engine, "connect", _configure_connection)
        event.listen(self.engine, "begin", _begin)

    def describe(self) -> str:
        return f"SQLite at {self.path}"

    def wake_place(self, namespace: str | None) -> str:
        return str(self.path.resolve())  # every handle on one file hears the same news

    def keep_copy(self, label: str) -> str | None:
        """Copy the file (consistently, through SQLite's backup API) to ``<name>.<label>.bak``.

        An existing copy is never overwritten: the first one holds the file as the
        user's own server left it.
        """
        if not self.path.exists() or self.path.stat().st_size == 0:
            return None
        copy = self.path.with_name(f"{self.path.name}.{label}.bak")
        number = 1
        while copy.exists():
            number += 1
            copy = self.path.with_name(f"{self.path.name}.{label}.{number}.bak")
        with closing(sqlite3.connect(self.path)) as source, closing(sqlite3.connect(copy)) as dest:
            source.backup(dest)
        return str(copy)

    @contextmanager
    def begin(self, namespace: str | None, *, write: bool = True) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            conn.execution_options(sqlite_immediate=write)
            with conn.begin():
                yield conn


def _configure_connection(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event, not the driver, open transactions.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    for pragma in (
        "PRAGMA foreign_keys = ON",
        "PRAGMA journal_mode = WAL",
        "PRAGMA synchronous = NORMAL",
    ):
        cursor.execute(pragma)
    cursor.close()


def _begin(conn: Connection) -> None:
    immediate = conn.get_execution_options().get("sqlite_immediate", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
