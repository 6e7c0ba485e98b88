"""Prove the copy: compare each table's checksum (:mod:`.checksum`) on both sides.

After a load, :func:`verify_tables` compares the checksum the feed computed of
the source rows with PostgreSQL's of what it stored, and fails the run on any
difference; ``--verify-only`` (:func:`verify_only`) recomputes both sides of an
earlier migration and :func:`require_verified` fails it on any difference.
When the two differ, :func:`first_difference` walks both sides in key order to
name the first row that differs.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Generator, Iterable, Iterator
from decimal import Decimal
from itertools import islice
from typing import Any

import psycopg

from ..backends.pg_sql import quote_ident
from ..backends.sqlite import quote_sqlite
from .casts import family_of
from .check import Exclusions
from .checksum import (
    SEPARATOR,
    Checksum,
    batch_canonicalizer,
    families_of,
    row_canonicalizer,
    sql_row,
    target_checksum,
    target_checksums,
)
from .errors import VerificationFailed
from .feed import BATCH_ROWS
from .plan import DatabasePlan, TablePlan
from .results import TableResult
from .rows import copied_rows
from .session import parallel_workers


def loaded_checksum(conn: psycopg.Connection, table: TablePlan) -> Checksum:
    """PostgreSQL's checksum of a table this transaction loaded, with parallel workers."""
    with parallel_workers(conn):
        return target_checksum(conn, table)


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
    they are; the others are computed now, all in one query.
    """
    computed = dict(computed or {})
    missing = [table for table in plan.tables if table.name not in computed]
    computed |= {t.name: c for t, c in zip(missing, target_checksums(conn, missing), strict=True)}
    for table, result in zip(plan.tables, results, strict=True):
        expected = checksums[table.name]
        actual = computed[table.name]
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


def verify_only(
    conn: psycopg.Connection,
    source: sqlite3.Connection,
    plan: DatabasePlan,
    exclusions: Exclusions,
) -> list[TableResult]:
    """Recompute both sides of an earlier migration of *plan*, table by table."""
    results = []
    for table in plan.tables:
        expected = source_checksum(source, table, exclusions)
        actual = target_checksum(conn, table)
        results.append(
            TableResult(
                source=table.source.name,
                target=table.target.display,
                source_rows=table.source.row_count,
                target_rows=actual.rows,
                copied_rows=expected.rows,
                verified=expected.rows == actual.rows and expected.total == actual.total,
                source_checksum=expected.total,
                target_checksum=actual.total,
            )
        )
    return results


def require_verified(
    conn: psycopg.Connection,
    source: sqlite3.Connection,
    plan: DatabasePlan,
    results: list[TableResult],
    exclusions: Exclusions,
    what: str,
) -> None:
    """Raise :class:`VerificationFailed` naming, for every table of *what* that differs
    (:func:`verify_only`'s *results*), its first differing row."""
    failed = [(t, r) for t, r in zip(plan.tables, results, strict=True) if not r.verified]
    if failed:
        details = "; ".join(
            f"{r.target} (source {r.copied_rows} rows, target {r.target_rows} rows; "
            "first difference: "
            f"{first_difference(conn, source, t, exclusions) or 'none found'})"
            for t, r in failed
        )
        raise VerificationFailed(f"{what} in {details}", results)


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


def target_rows_by_key(
    conn: psycopg.Connection, plan: TablePlan
) -> Generator[tuple[tuple[Any, ...], str], None, None]:
    """(key values, canonical row) from PostgreSQL in key order, for locating a difference."""
    key_targets = [plan.target_columns[plan.source_columns.index(k)] for k in plan.key_columns]
    row = sql_row(families_of(plan), [c.name for c in plan.target_columns])
    keys = ", ".join(f"t.{quote_ident(k.name)} AS key_{i}" for i, k in enumerate(key_targets))
    # Text keys in byte order, as SQLite's BINARY collation sorts the source side.
    order = ", ".join(
        f't.{quote_ident(k.name)} COLLATE "C"'
        if family_of(k.data_type) == "text"
        else f"t.{quote_ident(k.name)}"
        for k in key_targets
    )
    with conn.cursor(name=f"verify_{plan.name}") as cursor:
        cursor.execute(f"SELECT {keys}, {row} FROM {plan.target.qualified} t ORDER BY {order}")
        for record in cursor:
            yield tuple(record[:-1]), record[-1]


def key_order(values: Iterable[Any]) -> tuple[tuple[int, Any], ...]:
    """A sort key ordering key values as both sides sort them (numbers, then text bytewise)."""
    ordered: list[tuple[int, object]] = []
    for value in values:
        if value is None:
            ordered.append((0, 0))
        elif isinstance(value, bool):
            ordered.append((1, int(value)))
        elif isinstance(value, int | float | Decimal):
            ordered.append((1, value))
        elif isinstance(value, str):
            ordered.append((2, value.encode("utf-8", "surrogatepass")))
        elif isinstance(value, bytes | bytearray | memoryview):
            ordered.append((3, bytes(value)))
        else:
            ordered.append((4, str(value).encode("utf-8", "surrogatepass")))
    return tuple(ordered)


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
        shown = _shown(keys, key_values)
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
