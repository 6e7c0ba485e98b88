"""Carry what our schema does not know: a user's tables and columns arrive as they are.

A user's file may hold tables and columns that none of our schemas declares: a
newer version of their server, a feature we do not have, a column they added
by hand. Everything in it is theirs, so nothing is refused and nothing dropped:
such a table is created in the target schema from the file's own layout (the
type mapping of ``--sqlite``, :mod:`.generic`), such a column is added to our
table, and from then on both go through the same load, checks and verification
as every other table. Our schema upgrades never touch them.

The statements run in the migration's own transaction, so a failed or
interrupted migration leaves no carried table behind, and ``--dry-run`` (whose
transaction is always rolled back) shows what would be carried.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

import psycopg

from ..backends.pg_triggers import SEARCH_COLUMN
from ..backends.sqlite import quote_sqlite
from ..schemas.spec import DatabaseSchema
from .casts import family_of
from .ddl import run_script
from .generic import (
    ColumnDecision,
    decide_column,
    fits,
    foreign_key_ddl,
    table_ddl,
    translate_default,
    type_from_values,
)
from .names import pg_identifier
from .plan import target_name
from .source import SourceCatalog, SourceColumn, SourceTable
from .target import TargetTable, read_target

_SKIPPED_BY_US = "tldw_schema"  # our own version record: the target keeps its own


@dataclass
class Carried:
    """What one database carries: tables created from the source, columns added to ours."""

    tables: dict[str, list[ColumnDecision]] = field(default_factory=dict)
    """Source table -> the type chosen for each of its columns."""
    columns: dict[str, list[ColumnDecision]] = field(default_factory=dict)
    """Source table (one we know) -> the columns added to it."""
    relaxed: list[str] = field(default_factory=list)
    """Target columns whose NOT NULL was dropped because the source does not fill them."""
    widened: list[str] = field(default_factory=list)
    """Target columns given a wider type because the source holds values the old one cannot."""
    target: dict[str, TargetTable] | None = None
    """The target as read before carrying, when carrying changed nothing in it (else None)."""


def unknown_tables(
    catalog: SourceCatalog, targets: dict[str, TargetTable], renames: dict[str, str], skip: set[str]
) -> list[SourceTable]:
    """Source tables with no counterpart in the target (and not left out by the user)."""
    return [
        table
        for table in catalog.tables.values()
        if (name := target_name(table.name, renames)) not in targets
        and name != _SKIPPED_BY_US
        and table.name.lower() not in skip
        and name not in skip
    ]


def unknown_columns(
    catalog: SourceCatalog, targets: dict[str, TargetTable], renames: dict[str, str], skip: set[str]
) -> dict[str, list[SourceColumn]]:
    """Per source table with a counterpart, its columns the counterpart lacks."""
    found: dict[str, list[SourceColumn]] = {}
    for table in catalog.tables.values():
        name = target_name(table.name, renames)
        target = targets.get(name)
        if target is None or table.name.lower() in skip or name in skip:
            continue
        missing = [c for c in table.columns if target.column(c.name) is None]
        if missing:
            found[table.name] = missing
    return found


def _add_column_sql(target: TargetTable, decision: ColumnDecision, column: SourceColumn) -> str:
    name = pg_identifier(column.name)
    sql = f'ALTER TABLE {target.qualified} ADD COLUMN "{name}" {decision.pg_type}'
    default = translate_default(column.default, decision.pg_type)
    return sql + (f" DEFAULT {default}" if default is not None else "")


def _relax_unfilled(
    catalog: SourceCatalog,
    targets: dict[str, TargetTable],
    renames: dict[str, str],
    schema: DatabaseSchema,
) -> list[tuple[str, str]]:
    """Drop NOT NULL from target columns that are not ours and that the source leaves empty.

    Such a column came from somewhere else (an older release of ours, a hand-made
    change): it is stricter than the data, which would otherwise not load at all.
    Our own columns keep their rules; the plan reports them if unfilled. Returns each
    such column's name and the statement relaxing it.
    """
    relaxed = []
    for table in catalog.tables.values():
        target = targets.get(target_name(table.name, renames))
        if target is None or not table.row_count:
            continue
        ours = schema.metadata.tables.get(target.name)
        provided = {c.name.lower() for c in table.columns}
        for column in target.writable_columns:
            declared = ours is not None and column.name in ours.c
            if declared or not column.not_null or column.has_default:
                continue
            if column.name not in provided:
                relaxed.append(
                    (
                        f"{target.display}.{column.name}",
                        f'ALTER TABLE {target.qualified} ALTER COLUMN "{column.name}" '
                        "DROP NOT NULL",
                    )
                )
    return relaxed


_NUMERIC_FAMILIES = {"smallint", "integer", "bigint", "float"}


def _suspect_columns(
    sqlite_conn: sqlite3.Connection, table: SourceTable, target: TargetTable
) -> list[tuple[SourceColumn, str]]:
    """Numeric target columns whose source values are not all integers or all numbers.

    One pass over the table, reading only each value's storage class (SQLite
    answers ``typeof`` from the record header, without loading large values).
    """
    candidates = []
    for column in table.columns:
        target_column = target.column(column.name)
        if target_column is None or column.pk_position:
            continue
        family = family_of(target_column.data_type)
        if family in _NUMERIC_FAMILIES:
            allowed = "('integer', 'null')" if family != "float" else "('integer', 'real', 'null')"
            candidates.append((column, target_column.data_type, allowed))
    if not candidates or not table.row_count:
        return []
    probes = ", ".join(
        f"max(typeof({quote_sqlite(c.name)}) NOT IN {allowed})" for c, _, allowed in candidates
    )
    flags = sqlite_conn.execute(f"SELECT {probes} FROM {quote_sqlite(table.name)}").fetchone()
    return [
        (c, data_type) for (c, data_type, _), flag in zip(candidates, flags, strict=True) if flag
    ]


def _widen_narrow_columns(
    conn: psycopg.Connection,
    sqlite_conn: sqlite3.Connection,
    catalog: SourceCatalog,
    targets: dict[str, TargetTable],
    renames: dict[str, str],
) -> list[str]:
    """Give a numeric target column the type its source values need (a real in an INTEGER
    column, text in a REAL one: SQLite keeps whatever it is given). Nothing is rounded away."""
    widened = []
    for table in catalog.tables.values():
        target = targets.get(target_name(table.name, renames))
        if target is None:
            continue
        for column, data_type in _suspect_columns(sqlite_conn, table, target):
            if fits(sqlite_conn, table.name, column.name, data_type):
                continue  # text such as '12' that the cast reads as a number
            wider = type_from_values(sqlite_conn, table.name, column.name)
            name = target.column(column.name).name  # type: ignore[union-attr]
            try:
                with conn.transaction():
                    conn.execute(
                        f'ALTER TABLE {target.qualified} ALTER COLUMN "{name}" TYPE {wider} '
                        f'USING "{name}"::{wider}'
                    )
            except psycopg.Error:
                # A key others refer to cannot change type; its values are then reported
                # one by one by the load, as any value the target refuses.
                continue
            widened.append(f"{target.display}.{name}: {data_type} -> {wider}")
    return widened


def carry_unknown(
    conn: psycopg.Connection,
    sqlite_conn: sqlite3.Connection,
    catalog: SourceCatalog,
    namespace: str,
    schema: DatabaseSchema,
    skip: set[str],
) -> Carried:
    """Create in *namespace* what *catalog* holds beyond the target; say what was done.

    Runs inside the caller's transaction. Foreign keys of carried tables come
    last, so that they may point at each other and at our tables.
    """
    renames = schema.legacy_table_names
    targets = read_target(conn, namespace)
    carried = Carried()
    tables = unknown_tables(catalog, targets, renames, skip)
    statements: list[str] = []  # sent together, in one round trip
    foreign_keys: list[str] = []
    for table in tables:
        created, decisions = table_ddl(sqlite_conn, table, namespace)
        statements += created
        carried.tables[table.name] = decisions
        foreign_keys += foreign_key_ddl(table, catalog, namespace)
    for table_name, columns in unknown_columns(catalog, targets, renames, skip).items():
        target = targets[target_name(table_name, renames)]
        decisions = [decide_column(sqlite_conn, table_name, c) for c in columns]
        statements += [
            _add_column_sql(target, decision, column)
            for column, decision in zip(columns, decisions, strict=True)
        ]
        carried.columns[table_name] = decisions
    relaxing = _relax_unfilled(catalog, targets, renames, schema)
    run_script(conn, statements + foreign_keys + [sql for _, sql in relaxing])
    carried.relaxed = [name for name, _ in relaxing]
    carried.widened = _widen_narrow_columns(conn, sqlite_conn, catalog, targets, renames)
    if not (tables or carried.columns or foreign_keys or carried.relaxed or carried.widened):
        carried.target = targets
    return carried


def carried_names(schema: DatabaseSchema, target: TargetTable) -> tuple[bool, list[str]]:
    """Whether *target* is a carried table, and which of its columns are carried."""
    ours = schema.metadata.tables.get(target.name)
    columns = [c.name for c in target.writable_columns if c.name != SEARCH_COLUMN]
    if ours is None:
        return True, columns
    return False, [name for name in columns if name not in ours.c]


__all__ = ["Carried", "carried_names", "carry_unknown", "unknown_columns", "unknown_tables"]
