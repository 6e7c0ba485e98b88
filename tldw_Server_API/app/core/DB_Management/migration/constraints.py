"""Set aside what PostgreSQL would maintain row by row during the copy, and rebuild it after.

Foreign keys, primary-key and unique constraints, secondary indexes (the GIN
search indexes among them) and user triggers (sync log, version rule) are
removed before the COPY and restored set-wise after it: one sorted build per
index, one validation query per foreign key. All of it inside the load's
transaction, so a failure leaves every constraint where it was.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import psycopg

from ..backends.pg_sql import quote_ident
from .plan import DatabasePlan
from .target import TargetTable


@dataclass
class SetAside:
    """Constraints, indexes and triggers removed for the copy, to be restored after it."""

    foreign_keys: list[tuple[str, str, str]] = field(default_factory=list)  # table, name, def
    keys: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # table: (name, def)
    indexes: dict[str, list[str]] = field(default_factory=dict)  # table: definitions
    triggers: list[str] = field(default_factory=list)  # qualified tables


def set_aside(
    conn: psycopg.Connection, plan: DatabasePlan, namespace_tables: dict[str, TargetTable]
) -> SetAside:
    """Drop the planned tables' keys, indexes and foreign keys; disable their user triggers.

    Foreign keys of tables outside the plan that point into it go too: the
    planned tables are truncated and refilled.
    """
    planned = {t.name for t in plan.tables}
    aside = SetAside()
    for table in namespace_tables.values():
        for fk in table.foreign_keys:
            if table.name in planned or fk.parent in planned:
                aside.foreign_keys.append((table.qualified, fk.name, fk.definition))
    for qualified, name, _ in aside.foreign_keys:
        conn.execute(f"ALTER TABLE {qualified} DROP CONSTRAINT {quote_ident(name)}")
    for table_plan in plan.tables:
        table = table_plan.target
        indexes = aside.indexes.setdefault(table.qualified, [])
        for index in table.secondary_indexes:
            indexes.append(index.definition)
            conn.execute(f"DROP INDEX {quote_ident(table.namespace)}.{quote_ident(index.name)}")
        keys = aside.keys.setdefault(table.qualified, [])
        for constraint in table.constraints:
            if constraint.kind in "pu":
                keys.append((constraint.name, constraint.definition))
                conn.execute(
                    f"ALTER TABLE {table.qualified} DROP CONSTRAINT {quote_ident(constraint.name)}"
                )
        if table.user_triggers:
            aside.triggers.append(table.qualified)
            conn.execute(f"ALTER TABLE {table.qualified} DISABLE TRIGGER USER")
    return aside


def restore_table(conn: psycopg.Connection, aside: SetAside, qualified: str) -> None:
    """Rebuild one loaded table's keys and indexes (sorted builds, once, set-wise).

    Done as soon as the table is loaded: while PostgreSQL builds, the feed keeps
    converting the next tables' rows.
    """
    for name, definition in aside.keys.pop(qualified, []):
        conn.execute(f"ALTER TABLE {qualified} ADD CONSTRAINT {quote_ident(name)} {definition}")
    for definition in aside.indexes.pop(qualified, []):
        conn.execute(definition)


def restore(conn: psycopg.Connection, aside: SetAside) -> None:
    """Restore what is still set aside: foreign keys last, as they need every table loaded."""
    for qualified in list(aside.keys) + [q for q in aside.indexes if q not in aside.keys]:
        restore_table(conn, aside, qualified)
    for qualified, name, definition in aside.foreign_keys:
        conn.execute(f"ALTER TABLE {qualified} ADD CONSTRAINT {quote_ident(name)} {definition}")
    for qualified in aside.triggers:
        conn.execute(f"ALTER TABLE {qualified} ENABLE TRIGGER USER")
