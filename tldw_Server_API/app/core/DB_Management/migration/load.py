"""Load one database's plan into PostgreSQL, in one transaction, at COPY speed.

Inside a single transaction (all or nothing: a failure or a SIGKILL at any
moment leaves the target as it was):

1. clear the target tables with ``TRUNCATE`` (its cost does not depend on
   indexes or statistics, unlike row-by-row ``DELETE``);
2. set aside what would otherwise be maintained row by row: foreign keys,
   primary-key and unique constraints, secondary indexes (the GIN search
   indexes among them) and user triggers (sync log, version rule);
3. stream every table with ``COPY ... FROM STDIN`` (``FREEZE``: the tables were
   truncated in this transaction, so rows are written already frozen);
4. rebuild the constraints and indexes set-wise (sorted builds, one validation
   query per foreign key), re-enable the triggers;
5. resync sequences past the highest id (and SQLite's AUTOINCREMENT high-water
   mark, so deleted ids are never reused);
6. verify counts and checksums, and commit only if they match.

Search vectors arrive with their rows, computed by the feed
(:mod:`..search.vectors`): PostgreSQL parses a finished vector instead of
folding, splitting and parsing the text, which would cost it more than storing
the row. The few rows the feed declines, PostgreSQL computes set-wise; a sample
of the others is checked against PostgreSQL's own expression. The data is
searchable the moment the transaction commits.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

import psycopg

from ..backends.postgres import SEARCH_COLUMN, search_vector_sql
from ..schemas.spec import SearchIndex
from .casts import Policies
from .check import Exclusions, scan_values
from .errors import SourceDefect, ValueProblem, VerificationFailed, short_repr
from .feed import BATCH_ROWS, DEFAULT_JOBS, CastFailed, RowFeed
from .plan import DatabasePlan, TablePlan
from .source import quote_sqlite
from .verify import (
    SEPARATOR,
    Checksum,
    batch_canonicalizer,
    families_of,
    key_order,
    row_canonicalizer,
    target_checksum,
    target_rows_by_key,
)

logger = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]
_COPY_CONTEXT = re.compile(
    r"COPY (?P<table>[^,]+), line (?P<line>\d+)(?:, column (?P<column>[^:]+))?"
)


@dataclass
class TableResult:
    source: str
    target: str
    source_rows: int
    target_rows: int = 0
    copied_rows: int = 0
    verified: bool = False
    seconds: float = 0.0
    policy_changes: dict[str, int] = field(default_factory=dict)
    source_checksum: int | None = None
    target_checksum: int | None = None
    carried: bool = False
    """The table is not in our schema: created from the source's own layout."""
    carried_columns: list[str] = field(default_factory=list)
    """Columns not in our schema, created from the source's own layout."""


@dataclass
class LoadResult:
    tables: list[TableResult]
    setval_statements: list[str]
    cleared_outside_plan: list[str]
    seconds: float


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass
class _SetAside:
    """Constraints, indexes and triggers removed for the copy, to be restored after it."""

    foreign_keys: list[tuple[str, str, str]] = field(default_factory=list)  # table, name, def
    keys: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # table: (name, def)
    indexes: dict[str, list[str]] = field(default_factory=dict)  # table: definitions
    triggers: list[str] = field(default_factory=list)  # qualified tables


def _set_aside(conn: psycopg.Connection, plan: DatabasePlan, namespace_tables: dict) -> _SetAside:
    planned = {t.name for t in plan.tables}
    aside = _SetAside()
    for table in namespace_tables.values():
        for fk in table.foreign_keys:
            if table.name in planned or fk.parent in planned:
                aside.foreign_keys.append((table.qualified, fk.name, fk.definition))
    for qualified, name, _ in aside.foreign_keys:
        conn.execute(f"ALTER TABLE {qualified} DROP CONSTRAINT {_q(name)}")
    for table_plan in plan.tables:
        table = table_plan.target
        indexes = aside.indexes.setdefault(table.qualified, [])
        for index in table.secondary_indexes:
            indexes.append(index.definition)
            conn.execute(f"DROP INDEX {_q(table.namespace)}.{_q(index.name)}")
        keys = aside.keys.setdefault(table.qualified, [])
        for constraint in table.constraints:
            if constraint.kind in "pu":
                keys.append((constraint.name, constraint.definition))
                conn.execute(f"ALTER TABLE {table.qualified} DROP CONSTRAINT {_q(constraint.name)}")
        if table.user_triggers:
            aside.triggers.append(table.qualified)
            conn.execute(f"ALTER TABLE {table.qualified} DISABLE TRIGGER USER")
    return aside


def _restore_table(conn: psycopg.Connection, aside: _SetAside, qualified: str) -> None:
    """Rebuild one loaded table's keys and indexes (sorted builds, once, set-wise).

    Done as soon as the table is loaded: while PostgreSQL builds, the feed keeps
    converting the next tables' rows.
    """
    for name, definition in aside.keys.pop(qualified, []):
        conn.execute(f"ALTER TABLE {qualified} ADD CONSTRAINT {_q(name)} {definition}")
    for definition in aside.indexes.pop(qualified, []):
        conn.execute(definition)


def _restore(conn: psycopg.Connection, aside: _SetAside) -> None:
    """Restore what is still set aside: foreign keys last, as they need every table loaded."""
    for qualified in list(aside.keys) + [q for q in aside.indexes if q not in aside.keys]:
        _restore_table(conn, aside, qualified)
    for qualified, name, definition in aside.foreign_keys:
        conn.execute(f"ALTER TABLE {qualified} ADD CONSTRAINT {_q(name)} {definition}")
    for qualified in aside.triggers:
        conn.execute(f"ALTER TABLE {qualified} ENABLE TRIGGER USER")


def _truncate(conn: psycopg.Connection, plan: DatabasePlan, namespace_tables: dict) -> list[str]:
    """TRUNCATE the planned tables and report any other table the cascade reaches."""
    planned = {t.name for t in plan.tables}
    reached = sorted(
        t.display
        for t in namespace_tables.values()
        if t.name not in planned and any(fk.parent in planned for fk in t.foreign_keys)
    )
    if plan.tables:
        names = ", ".join(t.target.qualified for t in plan.tables)
        # RESTART IDENTITY gives each owned sequence a new relfilenode in this transaction, so
        # the setval() of step 5 is rolled back with everything else (a bare setval is not).
        conn.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    return reached


def _source_rows(
    source: sqlite3.Connection, table: TablePlan, order_by: str | None = None
) -> Iterator[tuple[Any, ...]]:
    rowid = "rowid" if table.source.has_rowid else "NULL"
    cols = ", ".join(quote_sqlite(c) for c in table.source_columns)
    cursor = source.execute(
        f"SELECT {rowid}, {cols} FROM {quote_sqlite(table.source.name)} "
        f"ORDER BY {order_by or table.order_by}"
    )
    while True:
        batch = cursor.fetchmany(2000)
        if not batch:
            return
        yield from batch


def copied_rows(
    source: sqlite3.Connection,
    table: TablePlan,
    exclusions: Exclusions,
    order_by: str | None = None,
) -> Iterator[tuple[Any, tuple[Any, ...]]]:
    """(rowid, source values) of every row a load copies, after the orphan policy.

    Rows ``--on-orphan=skip`` removed are left out and references
    ``--on-orphan=null`` cleared are ``None``: the load, the checksum of
    ``--verify-only`` and the search for a first difference all see the same rows.
    """
    nulled = exclusions.nulled.get(table.name, {})
    skipped = exclusions.skipped.get(table.name)
    if not nulled and not skipped:  # the usual case: every row as it is
        for raw in _source_rows(source, table, order_by):
            yield raw[0], raw[1:]
        return
    null_positions = {
        rowid: {table.source_columns.index(c) for c in cols} for rowid, cols in nulled.items()
    }
    for raw in _source_rows(source, table, order_by):
        rowid, values = raw[0], raw[1:]
        if skipped and rowid in skipped:
            continue
        if rowid in null_positions:
            positions = null_positions[rowid]
            values = tuple(None if i in positions else v for i, v in enumerate(values))
        yield rowid, values


def _copy_table(
    conn: psycopg.Connection,
    feed: RowFeed,
    table: TablePlan,
    batch_size: int,
    progress: Progress | None,
    *,
    with_vectors: bool = False,
) -> tuple[int, Checksum]:
    """Stream one table (its search vectors too, if asked); return (rows, source checksum)."""
    names = [c.name for c in table.target_columns] + ([SEARCH_COLUMN] if with_vectors else [])
    columns = ", ".join(_q(n) for n in names)
    copied = 0
    name = table.target.display
    # FREEZE: the target was truncated in this transaction, so its rows can be written frozen.
    statement = f"COPY {table.target.qualified} ({columns}) FROM STDIN WITH (FREEZE)"
    with conn.cursor() as cursor, cursor.copy(statement) as copy:
        for row in feed.rows(table.name):
            copy.write_row(row)
            copied += 1
            if progress is not None and copied % batch_size == 0:
                progress(name, copied, table.source.row_count)
    if progress is not None:
        progress(name, copied, table.source.row_count)
    return copied, feed.checksum


def _load_table(
    conn: psycopg.Connection,
    feed: RowFeed,
    source: sqlite3.Connection,
    plan: DatabasePlan,
    table: TablePlan,
    exclusions: Exclusions,
    policies: Policies,
    batch_size: int,
    progress: Progress | None,
) -> tuple[int, Checksum]:
    """Copy one table; a value the cast or PostgreSQL refuses becomes a :class:`SourceDefect`."""
    try:
        index = plan.search_index(table)
        if index is None:
            return _copy_table(conn, feed, table, batch_size, progress)
        loaded = _copy_table(conn, feed, table, batch_size, progress, with_vectors=True)
        _complete_vectors(conn, table, index)
        return loaded
    except CastFailed as failed:
        raise _defect(plan, table, source, failed.rowid, failed.problem, policies) from None
    except (
        psycopg.errors.DataError,
        psycopg.errors.IntegrityError,
        psycopg.errors.ProgramLimitExceeded,  # e.g. a tsvector word too long
    ) as exc:
        feed.stop()  # the source connection is needed to name the refused row
        raise _map_copy_error(conn, exc, plan, table, source, exclusions, policies) from None


_PARALLEL_SETTINGS = {
    "max_parallel_workers_per_gather": "2",
    "parallel_setup_cost": "0",
    "parallel_tuple_cost": "0",
    "min_parallel_table_scan_size": "0",
}


def _prefer_lz4(conn: psycopg.Connection) -> None:
    """Compress what the load writes with lz4 when the server has it.

    pglz, the default, costs more CPU than any other step of storing a row of
    text; lz4 values are read transparently, and rows written later by the
    application keep the server's default.
    """
    row = conn.execute(
        "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"
    ).fetchone()
    if row and row[0]:
        conn.execute("SET LOCAL default_toast_compression = 'lz4'")


@contextmanager
def parallel_workers(conn: psycopg.Connection) -> Iterator[None]:
    """Let the statements inside use parallel workers even on tables this transaction wrote.

    The planner's costs assume a busy server; during a migration the target is ours.
    """
    for name, value in _PARALLEL_SETTINGS.items():
        conn.execute(f"SET LOCAL {name} = {value}")
    try:
        yield
    finally:
        for name in _PARALLEL_SETTINGS:
            conn.execute(f"SET LOCAL {name} TO DEFAULT")


#: How many rows of each searchable table have their vector checked against PostgreSQL's.
VECTOR_SAMPLE_ROWS = 500


def _complete_vectors(conn: psycopg.Connection, table: TablePlan, index: SearchIndex) -> None:
    """Compute the vectors the feed declined, and check a sample of the others.

    Declined rows arrived with a NULL vector (the expression never yields NULL):
    PostgreSQL computes them set-wise. Then a sample of the feed's vectors is
    compared with PostgreSQL's own; should any differ (a server whose parser or
    locale :mod:`..search.vectors` does not model), PostgreSQL recomputes them all,
    so the vectors are always exactly what the search trigger would have written.
    """
    target = table.target.qualified
    expression = search_vector_sql(table.target.namespace, index)
    conn.execute(
        f"UPDATE {target} SET {SEARCH_COLUMN} = {expression} WHERE {SEARCH_COLUMN} IS NULL"
    )
    percent = min(100.0, 100.0 * VECTOR_SAMPLE_ROWS / max(1, table.source.row_count))
    row = conn.execute(
        f"SELECT count(*) FROM {target} TABLESAMPLE SYSTEM ({percent:.6f}) REPEATABLE (0) "
        f"WHERE {SEARCH_COLUMN} IS DISTINCT FROM ({expression})"
    ).fetchone()
    if row and row[0]:
        logger.warning(
            "%s: %d sampled search vectors differ from PostgreSQL's; recomputing them all",
            table.target.display,
            row[0],
        )
        conn.execute(f"UPDATE {target} SET {SEARCH_COLUMN} = {expression}")


def _defect(
    plan: DatabasePlan,
    table: TablePlan,
    source: sqlite3.Connection,
    rowid: Any,
    exc: Exception,
    policies: Policies,
) -> SourceDefect:
    """Every bad value of *table* (not only the first), as the policies in force see them."""
    problems = list(scan_values(source, plan, table, policies))
    if not problems:
        problems = [
            ValueProblem(
                file=str(plan.source.path),
                table=table.source.name,
                key=f"rowid={rowid}",
                column="?",
                value="?",
                problem=str(exc),
            )
        ]
    return SourceDefect(problems[:200], total=len(problems))


def _map_copy_error(
    conn: psycopg.Connection,
    exc: psycopg.Error,
    plan: DatabasePlan,
    table: TablePlan,
    source: sqlite3.Connection,
    exclusions: Exclusions,
    policies: Policies,
) -> SourceDefect:
    """Turn PostgreSQL's refusal of a COPY row into the source row, column and value."""
    context = (exc.diag.context or "") if exc.diag else ""
    match = _COPY_CONTEXT.search(context)
    message = (exc.diag.message_primary if exc.diag else None) or str(exc).splitlines()[0]
    problems = list(scan_values(source, plan, table, policies))
    if problems:
        return SourceDefect(problems[:200], total=len(problems))
    column = (match["column"] if match else None) or _constraint_column(exc, table) or "?"
    key, value = "?", "?"
    if match:
        key, value, column = _row_at(
            source, table, exclusions, int(match["line"]), column, _server_codec(conn)
        )
    return SourceDefect(
        [
            ValueProblem(
                file=str(plan.source.path),
                table=table.source.name,
                key=key,
                column=column,
                value=value,
                problem=f"PostgreSQL refused it: {message}",
            )
        ]
    )


def _constraint_column(exc: psycopg.Error, table: TablePlan) -> str | None:
    """The (first) target column of the constraint PostgreSQL names, e.g. a CHECK."""
    name = exc.diag.constraint_name if exc.diag else None
    for constraint in table.target.constraints:
        if constraint.name == name and constraint.columns:
            return constraint.columns[0]
    return None


def _row_at(
    source: sqlite3.Connection,
    table: TablePlan,
    exclusions: Exclusions,
    line: int,
    column: str,
    codec: str | None = None,
) -> tuple[str, str, str]:
    """The key, value and column of the *line*-th row the load copied (1-based).

    When PostgreSQL named no column (a character the database's encoding lacks is
    refused for the whole line), the column is the first text value *codec* cannot encode.
    """
    position = next((i for i, t in enumerate(table.target_columns) if t.name == column), None)
    for number, (rowid, values) in enumerate(copied_rows(source, table, exclusions), 1):
        if number < line:
            continue
        keys = table.key_columns
        if all(k in table.source_columns for k in keys):
            key_values = [values[table.source_columns.index(k)] for k in keys]
            key = ", ".join(f"{k}={v!r}" for k, v in zip(keys, key_values, strict=True))
        else:
            key = f"rowid={rowid}"
        if position is None and codec is not None:
            position = _unencodable(values, codec)
        if position is not None:
            return key, short_repr(values[position]), table.source_columns[position]
        return key, short_repr(values), column
    return "?", "?", column


def _server_codec(conn: psycopg.Connection) -> str | None:
    """The Python codec of the target database's encoding, if Python has one."""
    from psycopg._encodings import pg2pyenc  # the driver's own table of encoding names

    try:
        return pg2pyenc((conn.info.parameter_status("server_encoding") or "UTF8").encode())
    except (LookupError, psycopg.NotSupportedError):
        return None


def _unencodable(values: tuple[Any, ...], codec: str) -> int | None:
    """The position of the first text value the database's encoding cannot hold."""
    for position, value in enumerate(values):
        if isinstance(value, str):
            try:
                value.encode(codec)
            except UnicodeEncodeError:
                return position
    return None


def _map_rebuild_error(
    exc: psycopg.Error, plan: DatabasePlan, table: TablePlan, source: sqlite3.Connection
) -> SourceDefect:
    """A key or index PostgreSQL could not rebuild over the loaded rows, as a source defect.

    A value too long for a B-tree index (about 2,700 bytes) is named: the longest
    value of the table's indexed columns.
    """
    if isinstance(exc, psycopg.errors.ProgramLimitExceeded):
        found = _longest_indexed_value(source, table)
        if found is not None:
            key, column, value = found
            message = (exc.diag.message_primary if exc.diag else None) or first_line_of(exc)
            problem = f"PostgreSQL refused it: {message} (too long to be indexed)"
            return SourceDefect(
                [
                    ValueProblem(
                        str(plan.source.path), table.source.name, key, column, value, problem
                    )
                ]
            )
    return _map_constraint_error(exc, plan)


def first_line_of(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _longest_indexed_value(
    source: sqlite3.Connection, table: TablePlan
) -> tuple[str, str, str] | None:
    """(key, column, value) of the longest value, in bytes, of an indexed column of *table*."""
    target = table.target
    indexed = {c for index in target.indexes for c in index.columns}
    indexed |= {
        c
        for constraint in target.constraints
        if constraint.kind in "pu"
        for c in constraint.columns
    }
    keys = table.key_columns
    best: tuple[int, str, str, str] | None = None
    for source_name, target_column in zip(table.source_columns, table.target_columns, strict=True):
        if target_column.name not in indexed:
            continue
        column = quote_sqlite(source_name)
        row = source.execute(
            f"SELECT {', '.join(quote_sqlite(k) for k in keys)}, {column}, "
            f"length(CAST({column} AS BLOB)) AS size FROM {quote_sqlite(table.source.name)} "
            "ORDER BY size DESC LIMIT 1"
        ).fetchone()
        if row is not None and row[-1] is not None and (best is None or row[-1] > best[0]):
            key = ", ".join(f"{k}={v!r}" for k, v in zip(keys, row, strict=False))
            best = (int(row[-1]), key, source_name, short_repr(row[-2]))
    return best[1:] if best is not None else None


def _map_constraint_error(exc: psycopg.Error, plan: DatabasePlan) -> SourceDefect:
    diag = exc.diag
    return SourceDefect(
        [
            ValueProblem(
                file=str(plan.source.path),
                table=(diag.table_name or "?") if diag else "?",
                key=(diag.message_detail or "?") if diag else "?",
                column=(diag.column_name or diag.constraint_name or "?") if diag else "?",
                value="see key",
                problem=f"PostgreSQL refused it: {(diag.message_primary if diag else None) or exc}",
            )
        ]
    )


def setval_statements(conn: psycopg.Connection, plan: DatabasePlan) -> list[str]:
    """``SELECT setval(...)`` for every sequence of the planned tables, past the highest id."""
    statements = []
    for table in plan.tables:
        for column in table.target.columns:
            if not column.sequence:
                continue
            high = conn.execute(
                f"SELECT max({_q(column.name)}) FROM {table.target.qualified}"
            ).fetchone()
            top = max(int(high[0] or 0) if high else 0, table.source.autoincrement_seq or 0)
            is_called = "true" if top > 0 else "false"
            statements.append(f"SELECT setval('{column.sequence}', {max(top, 1)}, {is_called});")
    return statements


def load_database(
    conn: psycopg.Connection,
    source: sqlite3.Connection,
    plan: DatabasePlan,
    namespace_tables: dict,
    exclusions: Exclusions,
    policies: Policies,
    *,
    batch_size: int = 500,
    jobs: int = DEFAULT_JOBS,
    progress: Progress | None = None,
) -> LoadResult:
    """Run steps 1-6 of the module docstring inside the caller's transaction."""
    started = time.perf_counter()
    conn.execute("SET LOCAL TimeZone = 'UTC'")
    # Rows are sent as UTF-8 whatever the database's encoding: a character it cannot hold is
    # then refused by the server, for a row and column the error names (not by the driver).
    conn.execute("SET LOCAL client_encoding = 'UTF8'")
    conn.execute("SET LOCAL maintenance_work_mem = '256MB'")
    _prefer_lz4(conn)
    cleared = _truncate(conn, plan, namespace_tables)
    aside = _set_aside(conn, plan, namespace_tables)
    results: list[TableResult] = []
    checksums: dict[str, Checksum] = {}
    computed: dict[str, Checksum] = {}
    feed = RowFeed(source, plan, exclusions, jobs=jobs)
    try:
        for table in plan.tables:
            table_started = time.perf_counter()
            copied, checksum = _load_table(
                conn, feed, source, plan, table, exclusions, policies, batch_size, progress
            )
            try:
                _restore_table(conn, aside, table.target.qualified)
            except (psycopg.errors.IntegrityError, psycopg.errors.ProgramLimitExceeded) as exc:
                raise _map_rebuild_error(exc, plan, table, source) from None
            # Checked now, while the feed converts the next table: the rows are final.
            computed[table.name] = _target_checksum(conn, table)
            checksums[table.name] = checksum
            result = TableResult(
                source=table.source.name,
                target=table.target.display,
                source_rows=table.source.row_count,
                copied_rows=copied,
                seconds=time.perf_counter() - table_started,
            )
            result.policy_changes = policies.for_table(table.name) | exclusions.count(table.name)
            results.append(result)
    finally:
        feed.stop()
    try:
        _restore(conn, aside)
    except psycopg.errors.IntegrityError as exc:
        raise _map_constraint_error(exc, plan) from None
    statements = setval_statements(conn, plan)
    for statement in statements:
        conn.execute(statement)
    # No ANALYZE here: autovacuum analyzes the freshly loaded tables within a minute of
    # the commit, outside the transaction that holds every migrated table locked.
    verify_tables(conn, source, plan, results, checksums, exclusions, computed)
    return LoadResult(results, statements, cleared, time.perf_counter() - started)


def _target_checksum(conn: psycopg.Connection, table: TablePlan) -> Checksum:
    with parallel_workers(conn):
        return target_checksum(conn, table)


def verify_tables(
    conn: psycopg.Connection,
    source: sqlite3.Connection,
    plan: DatabasePlan,
    results: list[TableResult],
    checksums: dict[str, Checksum],
    exclusions: Exclusions,
    computed: dict[str, Checksum] | None = None,
) -> None:
    """Compare each table's target checksum with its source checksum; raise on the first miss.

    Target checksums already *computed* (right after each table was loaded) are used as
    they are; the others are computed now.
    """
    for table, result in zip(plan.tables, results, strict=True):
        expected = checksums[table.name]
        actual = (computed or {}).get(table.name) or _target_checksum(conn, table)
        result.target_rows = actual.rows
        result.source_checksum, result.target_checksum = expected.total, actual.total
        result.verified = expected.rows == actual.rows and expected.total == actual.total
    for table, result in zip(plan.tables, results, strict=True):
        if not result.verified:
            where = first_difference(conn, source, table, exclusions) or "no single row differs"
            raise VerificationFailed(
                f"verification failed for {result.target}: source {result.copied_rows} rows, "
                f"target {result.target_rows} rows; first difference: {where}",
                results,
            )


def source_checksum(
    source: sqlite3.Connection, table: TablePlan, exclusions: Exclusions
) -> Checksum:
    """The checksum of *table*'s source rows as a load would copy them (for --verify-only)."""
    canonical = batch_canonicalizer(families_of(table))
    checksum = Checksum()
    rows = (values for _, values in copied_rows(source, table, exclusions))
    while batch := list(islice(rows, BATCH_ROWS)):
        checksum.add_all(canonical(batch))
    return checksum


def first_difference(
    conn: psycopg.Connection,
    source: sqlite3.Connection,
    table: TablePlan,
    exclusions: Exclusions | None = None,
) -> str | None:
    """The key (and column) of the first row that differs between the two sides, in key order.

    Runs inside a transaction (the target side is read through a server-side cursor).
    """
    exclusions = exclusions or Exclusions()
    order = ", ".join(quote_sqlite(k) for k in table.key_columns)
    target_rows = target_rows_by_key(conn, table)
    try:
        return _first_difference(
            table, copied_rows(source, table, exclusions, order_by=order), target_rows
        )
    finally:
        target_rows.close()  # the server-side cursor, before the transaction ends


def _first_difference(
    table: TablePlan,
    source_rows: Iterator[tuple[Any, tuple[Any, ...]]],
    target_rows: Iterator[tuple[tuple[Any, ...], str]],
) -> str | None:
    canonical = row_canonicalizer(families_of(table))
    keys = table.key_columns
    positions = [table.source_columns.index(k) for k in keys]
    tgt = next(target_rows, None)
    for _, values in source_rows:
        key_values = tuple(values[i] for i in positions)
        shown = ", ".join(f"{k}={v!r}" for k, v in zip(keys, key_values, strict=True))
        if tgt is None:
            return f"{table.source.name} row {shown} is missing from {table.target.display}"
        if not _same_key(key_values, tgt[0]):
            try:
                target_first = key_order(tgt[0]) < key_order(key_values)
            except TypeError:
                return f"{table.source.name} row {shown} (target has {tgt[0]!r} in its place)"
            if target_first:
                return f"{table.target.display} has an extra row {_shown(keys, tgt[0])}"
            return f"{table.source.name} row {shown} is missing from {table.target.display}"
        expected = canonical(values)
        if tgt[1] != expected:
            columns = _columns_differing(table, expected, tgt[1])
            return f"{table.source.name} row {shown} differs{columns}"
        tgt = next(target_rows, None)
    if tgt is not None:
        return f"{table.target.display} has an extra row {_shown(keys, tgt[0])}"
    return None


def _same_key(source: tuple[Any, ...], target: tuple[Any, ...]) -> bool:
    return [str(v) for v in source] == [str(v) for v in target]


def _shown(keys: list[str], values: tuple[Any, ...]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in zip(keys, values, strict=True))


def _columns_differing(table: TablePlan, expected: str, actual: str) -> str:
    source_parts, target_parts = expected.split(SEPARATOR), actual.split(SEPARATOR)
    if len(source_parts) != len(target_parts) or len(source_parts) != len(table.source_columns):
        return ""
    names = [
        name
        for name, a, b in zip(table.source_columns, source_parts, target_parts, strict=True)
        if a != b
    ]
    return f" in column(s) {', '.join(names)}" if names else ""
