"""Set aside what PostgreSQL would maintain row by row during the copy, and rebuild it after.

Foreign keys and user triggers (sync log, version rule), and the primary-key and
unique constraints and secondary indexes (the GIN search indexes among them) of
large tables, are removed before the COPY and restored set-wise after it: one
sorted build per index, one validation query per foreign key. All of it inside
the load's transaction, so a failure leaves every constraint where it was.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import psycopg

from ..backends.pg_sql import quote_ident
from .ddl import run_script
from .plan import DatabasePlan
from .target import TargetTable

#: Tables of fewer source rows keep their keys and indexes during the copy; their foreign
#: keys, triggers and checksums are done together at the end, a round trip for all. Larger
#: ones have everything rebuilt right after their copy, while the feed converts the next
#: table (and their checksum computed with parallel workers).
SMALL_TABLE_ROWS = 10_000


@dataclass
class SetAside:
    """Constraints, indexes and triggers removed for the copy, to be restored after it."""

    foreign_keys: list[tuple[str, str, str]] = field(default_factory=list)  # table, name, def
    keys: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # table: (name, def)
    indexes: dict[str, list[str]] = field(default_factory=dict)  # table: definitions
    triggers: list[str] = field(default_factory=list)  # qualified tables

    def clear(self) -> None:
        """Everything was restored."""
        self.foreign_keys.clear()
        self.keys.clear()
        self.indexes.clear()
        self.triggers.clear()


def set_aside(
    conn: psycopg.Connection, plan: DatabasePlan, namespace_tables: dict[str, TargetTable]
) -> SetAside:
    """Drop the planned tables' keys, indexes and foreign keys; disable their user triggers.

    Foreign keys of tables outside the plan that point into it go too: the
    planned tables are truncated and refilled. Only large tables (:data:`SMALL_TABLE_ROWS`
    source rows or more) lose their keys and indexes: rebuilding them costs a small
    table more than keeping them up to date during its copy. A planned table the source
    leaves empty keeps its triggers too (they would fire for no row), and its foreign
    keys into tables that keep their keys. Every statement goes in one round trip.
    """
    planned = {t.name for t in plan.tables}
    empty = {t.name for t in plan.tables if not t.source.row_count}
    large = {t.name for t in plan.tables if t.source.row_count >= SMALL_TABLE_ROWS}
    aside = SetAside()
    for table in namespace_tables.values():
        for fk in table.foreign_keys:
            # Kept: an empty table's reference to a table whose key stays in place.
            kept = table.name in empty and fk.parent not in large
            if (table.name in planned or fk.parent in planned) and not kept:
                aside.foreign_keys.append((table.qualified, fk.name, fk.definition))
    statements = [
        f"ALTER TABLE {qualified} DROP CONSTRAINT {quote_ident(name)}"
        for qualified, name, _ in aside.foreign_keys
    ]
    for table_plan in plan.tables:
        if table_plan.name in empty:
            continue
        table = table_plan.target
        if table_plan.name in large:
            statements += _keys_and_indexes_aside(aside, table)
        if table.user_triggers:
            aside.triggers.append(table.qualified)
            statements.append(f"ALTER TABLE {table.qualified} DISABLE TRIGGER USER")
    run_script(conn, statements)
    return aside


def _keys_and_indexes_aside(aside: SetAside, table: TargetTable) -> list[str]:
    """Note *table*'s keys and secondary indexes in *aside*; the statements dropping them."""
    statements = []
    indexes = aside.indexes.setdefault(table.qualified, [])
    for index in table.secondary_indexes:
        indexes.append(index.definition)
        statements.append(f"DROP INDEX {quote_ident(table.namespace)}.{quote_ident(index.name)}")
    keys = aside.keys.setdefault(table.qualified, [])
    for constraint in table.constraints:
        if constraint.kind in "pu":
            keys.append((constraint.name, constraint.definition))
            statements.append(
                f"ALTER TABLE {table.qualified} DROP CONSTRAINT {quote_ident(constraint.name)}"
            )
    return statements


def _table_statements(aside: SetAside, qualified: str) -> list[str]:
    keys = [
        f"ALTER TABLE {qualified} ADD CONSTRAINT {quote_ident(name)} {definition}"
        for name, definition in aside.keys.get(qualified, [])
    ]
    return keys + list(aside.indexes.get(qualified, []))


def restore_table(conn: psycopg.Connection, aside: SetAside, qualified: str) -> None:
    """Rebuild one loaded table's keys and indexes (sorted builds, once, set-wise).

    Done as soon as a large table is loaded: while PostgreSQL builds, the feed keeps
    converting the next tables' rows.
    """
    run_script(conn, _table_statements(aside, qualified))
    aside.keys.pop(qualified, None)
    aside.indexes.pop(qualified, None)


def restore_statements(aside: SetAside) -> list[str]:
    """Every statement :func:`restore` would run, in its order (nothing is marked done)."""
    tables = list(aside.keys) + [q for q in aside.indexes if q not in aside.keys]
    statements = [s for qualified in tables for s in _table_statements(aside, qualified)]
    statements += [
        f"ALTER TABLE {qualified} ADD CONSTRAINT {quote_ident(name)} {definition}"
        for qualified, name, definition in aside.foreign_keys
    ]
    return statements + [f"ALTER TABLE {q} ENABLE TRIGGER USER" for q in aside.triggers]


def restore(conn: psycopg.Connection, aside: SetAside) -> None:
    """Restore what is still set aside: foreign keys last, as they need every table loaded."""
    for qualified in list(aside.keys) + [q for q in aside.indexes if q not in aside.keys]:
        restore_table(conn, aside, qualified)
    run_script(conn, restore_statements(aside))
    aside.clear()
