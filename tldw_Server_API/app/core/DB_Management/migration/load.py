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

Search vectors are generated columns, computed by PostgreSQL as rows arrive:
the data is searchable the moment the transaction commits.
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import psycopg

from .casts import CastProblem, Policies
from .check import Exclusions, scan_values
from .errors import SourceDefect, ValueProblem, VerificationFailed, short_repr
from .plan import DatabasePlan, TablePlan
from .source import quote_sqlite
from .verify import Checksum, families_of, python_row, target_checksum, target_rows_by_key

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
    keys: list[tuple[str, str, str]] = field(default_factory=list)
    indexes: list[str] = field(default_factory=list)
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
        for index in table.secondary_indexes:
            aside.indexes.append(index.definition)
            conn.execute(f"DROP INDEX {_q(table.namespace)}.{_q(index.name)}")
        for constraint in table.constraints:
            if constraint.kind in "pu":
                aside.keys.append((table.qualified, constraint.name, constraint.definition))
                conn.execute(f"ALTER TABLE {table.qualified} DROP CONSTRAINT {_q(constraint.name)}")
        if table.user_triggers:
            aside.triggers.append(table.qualified)
            conn.execute(f"ALTER TABLE {table.qualified} DISABLE TRIGGER USER")
    return aside


def _restore(conn: psycopg.Connection, aside: _SetAside) -> None:
    for qualified, name, definition in aside.keys:
        conn.execute(f"ALTER TABLE {qualified} ADD CONSTRAINT {_q(name)} {definition}")
    for definition in aside.indexes:
        conn.execute(definition)
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
        conn.execute(f"TRUNCATE {names} CASCADE")
    return reached


def _source_rows(source: sqlite3.Connection, table: TablePlan) -> Iterator[tuple[Any, ...]]:
    rowid = "rowid" if table.source.has_rowid else "NULL"
    cols = ", ".join(quote_sqlite(c) for c in table.source_columns)
    cursor = source.execute(
        f"SELECT {rowid}, {cols} FROM {quote_sqlite(table.source.name)} ORDER BY {table.order_by}"
    )
    while True:
        batch = cursor.fetchmany(2000)
        if not batch:
            return
        yield from batch


def _copy_table(
    conn: psycopg.Connection,
    source: sqlite3.Connection,
    plan: DatabasePlan,
    table: TablePlan,
    exclusions: Exclusions,
    batch_size: int,
    progress: Progress | None,
) -> tuple[int, Checksum]:
    """Stream one table; return (rows copied, checksum of the source rows copied)."""
    columns = ", ".join(_q(c.name) for c in table.target_columns)
    casts = table.casts
    families = families_of(table)
    nulled = exclusions.nulled.get(table.name, {})
    null_positions = {
        rowid: {table.source_columns.index(c) for c in cols} for rowid, cols in nulled.items()
    }
    checksum = Checksum()
    copied = 0
    with conn.cursor() as cursor:
        copy_sql = f"COPY {table.target.qualified} ({columns}) FROM STDIN WITH (FREEZE)"
        with cursor.copy(copy_sql) as copy:
            for raw in _source_rows(source, table):
                rowid, values = raw[0], raw[1:]
                if exclusions.is_skipped(table.name, rowid):
                    continue
                if rowid in null_positions:
                    values = tuple(
                        None if i in null_positions[rowid] else v for i, v in enumerate(values)
                    )
                try:
                    row = tuple(cast(v) for cast, v in zip(casts, values, strict=True))
                except CastProblem as exc:
                    raise _defect(plan, table, source, rowid, exc) from None
                copy.write_row(row)
                checksum.add(python_row(families, values))
                copied += 1
                if progress is not None and copied % batch_size == 0:
                    progress(table.name, copied, table.source.row_count)
    if progress is not None:
        progress(table.name, copied, table.source.row_count)
    return copied, checksum


def _defect(
    plan: DatabasePlan, table: TablePlan, source: sqlite3.Connection, rowid: Any, exc: Exception
) -> SourceDefect:
    problems = list(scan_values(source, plan, table, Policies()))
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
    exc: psycopg.Error, plan: DatabasePlan, table: TablePlan, source: sqlite3.Connection
) -> SourceDefect:
    """Turn PostgreSQL's refusal of a COPY row into the source row, column and value."""
    context = (exc.diag.context or "") if exc.diag else ""
    match = _COPY_CONTEXT.search(context)
    message = (exc.diag.message_primary if exc.diag else None) or str(exc).splitlines()[0]
    problems = list(scan_values(source, plan, table, Policies()))
    if problems:
        return SourceDefect(problems[:200], total=len(problems))
    key, column, value = "?", (match["column"] if match else "?") or "?", "?"
    if match:
        key, value = _row_at(source, table, int(match["line"]), column)
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


def _row_at(
    source: sqlite3.Connection, table: TablePlan, line: int, column: str
) -> tuple[str, str]:
    keys = ", ".join(quote_sqlite(k) for k in table.key_columns)
    source_col = next(
        (
            s
            for s, t in zip(table.source_columns, table.target_columns, strict=True)
            if t.name == column
        ),
        None,
    )
    shown = quote_sqlite(source_col) if source_col else "NULL"
    row = source.execute(
        f"SELECT {keys}, {shown} FROM {quote_sqlite(table.source.name)} "
        f"ORDER BY {table.order_by} LIMIT 1 OFFSET ?",
        (line - 1,),
    ).fetchone()
    if row is None:
        return "?", "?"
    key = ", ".join(f"{k}={v!r}" for k, v in zip(table.key_columns, row[:-1], strict=False))
    return key, short_repr(row[-1])


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
    progress: Progress | None = None,
) -> LoadResult:
    """Run steps 1-6 of the module docstring inside the caller's transaction."""
    started = time.perf_counter()
    conn.execute("SET LOCAL TimeZone = 'UTC'")
    conn.execute("SET LOCAL maintenance_work_mem = '256MB'")
    cleared = _truncate(conn, plan, namespace_tables)
    aside = _set_aside(conn, plan, namespace_tables)
    results: list[TableResult] = []
    checksums: dict[str, Checksum] = {}
    for table in plan.tables:
        table_started = time.perf_counter()
        try:
            copied, checksum = _copy_table(
                conn, source, plan, table, exclusions, batch_size, progress
            )
        except psycopg.errors.DataError as exc:
            raise _map_copy_error(exc, plan, table, source) from None
        except psycopg.errors.IntegrityError as exc:
            raise _map_copy_error(exc, plan, table, source) from None
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
    try:
        _restore(conn, aside)
    except psycopg.errors.IntegrityError as exc:
        raise _map_constraint_error(exc, plan) from None
    statements = setval_statements(conn, plan)
    for statement in statements:
        conn.execute(statement)
    for table in plan.tables:
        conn.execute(f"ANALYZE {table.target.qualified}")
    verify_tables(conn, source, plan, results, checksums)
    return LoadResult(results, statements, cleared, time.perf_counter() - started)


def verify_tables(
    conn: psycopg.Connection,
    source: sqlite3.Connection,
    plan: DatabasePlan,
    results: list[TableResult],
    checksums: dict[str, Checksum],
) -> None:
    """Compare each table's target checksum with its source checksum; raise on the first miss."""
    for table, result in zip(plan.tables, results, strict=True):
        expected = checksums[table.name]
        actual = target_checksum(conn, table)
        result.target_rows = actual.rows
        result.source_checksum, result.target_checksum = expected.total, actual.total
        result.verified = expected.rows == actual.rows and expected.total == actual.total
    for table, result in zip(plan.tables, results, strict=True):
        if not result.verified:
            where = first_difference(conn, source, table) or "no single row differs"
            raise VerificationFailed(
                f"verification failed for {result.target}: source {result.copied_rows} rows, "
                f"target {result.target_rows} rows; first difference: {where}",
                results,
            )


def source_checksum(
    source: sqlite3.Connection, table: TablePlan, exclusions: Exclusions
) -> Checksum:
    """The checksum of *table*'s source rows as a load would copy them (for --verify-only)."""
    families = families_of(table)
    checksum = Checksum()
    for raw in _source_rows(source, table):
        rowid, values = raw[0], raw[1:]
        if exclusions.is_skipped(table.name, rowid):
            continue
        checksum.add(python_row(families, values))
    return checksum


def first_difference(
    conn: psycopg.Connection, source: sqlite3.Connection, table: TablePlan
) -> str | None:
    """The key of the first row that differs between the two sides, in key order."""
    families = families_of(table)
    keys = table.key_columns
    cols = ", ".join(quote_sqlite(c) for c in table.source_columns)
    key_sql = ", ".join(quote_sqlite(k) for k in keys)
    source_rows = source.execute(
        f"SELECT {key_sql}, {cols} FROM {quote_sqlite(table.source.name)} ORDER BY {key_sql}"
    )
    target_rows = target_rows_by_key(conn, table)
    for src in source_rows:
        src_key = "|".join(str(v) for v in src[: len(keys)])
        tgt = next(target_rows, None)
        if tgt is None:
            return f"{table.source.name} row {src_key} is missing from {table.target.display}"
        if tgt[0] != src_key:
            return f"{table.source.name} row {src_key} (target has {tgt[0]} in its place)"
        if tgt[1] != python_row(families, src[len(keys) :]):
            return f"{table.source.name} row {src_key} differs"
    extra = next(target_rows, None)
    if extra is not None:
        return f"{table.target.display} has an extra row {extra[0]}"
    return None
