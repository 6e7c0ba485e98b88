"""Resync sequences after a load: past the highest id, and past SQLite's high-water mark.

A table's owned sequence (serial or identity) is set past the highest value
loaded and past SQLite's ``AUTOINCREMENT`` counter, so ids deleted in the
source are never handed out again. The statements are also printed by
``--print-setval`` for whoever loads the data some other way.
"""

from __future__ import annotations

import psycopg

from ..backends.pg_sql import quote_ident
from .plan import DatabasePlan


def setval_statements(conn: psycopg.Connection, plan: DatabasePlan) -> list[str]:
    """``SELECT setval(...)`` for every sequence of the planned tables, past the highest id.

    The highest ids of all the tables are read in one query.
    """
    owned = [
        (table, column)
        for table in plan.tables
        for column in table.target.columns
        if column.sequence
    ]
    if not owned:
        return []
    highest = ", ".join(
        f"(SELECT max({quote_ident(column.name)}) FROM {table.target.qualified})"
        for table, column in owned
    )
    row = conn.execute(f"SELECT {highest}").fetchone()
    statements = []
    for (table, column), high in zip(owned, row or [None] * len(owned), strict=True):
        top = max(int(high or 0), table.source.autoincrement_seq or 0)
        is_called = "true" if top > 0 else "false"
        statements.append(f"SELECT setval('{column.sequence}', {max(top, 1)}, {is_called});")
    return statements
