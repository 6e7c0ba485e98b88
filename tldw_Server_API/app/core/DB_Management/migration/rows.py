"""The source rows a load copies: every row of a table, after the orphan policy.

The load, the checksum of ``--verify-only`` and the search for a first
difference all read the source through :func:`copied_rows`, so they see the same
rows.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

from ..backends.sqlite import quote_sqlite
from .check import Exclusions
from .plan import TablePlan


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
    ``--on-orphan=null`` cleared are ``None``.
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
