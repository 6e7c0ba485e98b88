"""PostgreSQL keys: unique rules replaced in place, serial sequences moved past explicit ids."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Column, Connection, Table, UniqueConstraint, text

from ..schemas.spec import DatabaseSchema
from .base import unique_rules
from .pg_sql import qualified, quote_ident, run_sql


def replace_unique(
    conn: Connection, table: Table, old_columns: Sequence[str], namespace: str | None
) -> None:
    old = frozenset(c.lower() for c in old_columns)
    target = qualified(namespace, table.name)
    kept: set[frozenset[str]] = set()
    for rule in unique_rules(conn, table.name, namespace):
        if rule.columns != old:
            kept.add(rule.columns)
        elif rule.kind == "constraint":
            run_sql(conn, f"ALTER TABLE {target} DROP CONSTRAINT {quote_ident(str(rule.name))}")
        else:
            run_sql(conn, f"DROP INDEX {qualified(namespace, str(rule.name))}")
    for constraint in table.constraints:
        if not isinstance(constraint, UniqueConstraint):
            continue
        columns = [c.name for c in constraint.columns]
        if frozenset(c.lower() for c in columns) in kept:
            continue
        listed = ", ".join(quote_ident(c) for c in columns)
        name = quote_ident(str(constraint.name))
        run_sql(conn, f"ALTER TABLE {target} ADD CONSTRAINT {name} UNIQUE ({listed})")


def sync_sequences(conn: Connection, schema: DatabaseSchema, namespace: str | None) -> None:
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
            sync_identity(conn, column, namespace)


def sync_identity(conn: Connection, column: Column[Any], namespace: str | None) -> None:
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
