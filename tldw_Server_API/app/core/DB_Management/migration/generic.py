"""Any SQLite file: create a PostgreSQL schema from the source's own layout.

Used by ``--create-schema`` for tables the target does not know (a SQLite file
that is not one of our four databases, or extra tables in one of them). Each
column gets the PostgreSQL type that holds every value present:

==========================================  =================================
declared type (SQLite affinity rules)       PostgreSQL type
==========================================  =================================
contains ``BOOL``                           boolean
``DATETIME``, ``TIMESTAMP``                 timestamp with time zone
``DATE``                                    date
``TIME``                                    text (SQLite's 'HH:MM:SS')
``JSON``                                    jsonb
contains ``INT``                            bigint
contains ``CHAR``, ``CLOB``, ``TEXT``       text
contains ``REAL``, ``FLOA``, ``DOUB``       double precision
``NUMERIC``, ``DECIMAL`` and the rest       numeric
contains ``BLOB``                           bytea
no type                                     from the values (below)
==========================================  =================================

When the values do not fit the declared type (SQLite stores any value in any
column), or the declared type says nothing, the storage classes present
decide: integers only → bigint; integers and reals → double precision (numeric
when an integer is too large to be exact); reals → double precision; blobs
only → bytea; anything with text → text; nothing → text.

Primary keys (an INTEGER PRIMARY KEY becomes an identity column), unique
constraints and indexes (``COLLATE NOCASE`` ones as ASCII-folded expression
indexes), foreign keys with their ``ON DELETE`` actions, ``NOT NULL`` and
defaults (every form: :mod:`.defaults`) are carried over. Names longer than
PostgreSQL's 63 bytes are shortened distinctly (:mod:`.names`).
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass, replace

from ..backends.pg_sql import quote_ident
from ..schemas.nocase import ASCII_LOWER, ASCII_UPPER
from .casts import CastProblem, Policies, cast_for
from .defaults import translate
from .names import pg_identifier
from .source import SourceCatalog, SourceColumn, SourceTable, quote_sqlite


def _q(name: str) -> str:
    """*name* as PostgreSQL names it (lower case, at most 63 bytes: :mod:`.names`), quoted."""
    return quote_ident(pg_identifier(name))


@dataclass(frozen=True)
class ColumnDecision:
    name: str
    pg_type: str
    reason: str
    default_dropped: str | None = None
    """Why the column's SQLite default was left out (no faithful PostgreSQL default)."""


def declared_family(declared: str) -> str | None:
    """The PostgreSQL type a declared SQLite type asks for, or None when it says nothing."""
    t = declared.upper()
    if not t:
        return None
    if "BOOL" in t:
        return "boolean"
    if "DATETIME" in t or "TIMESTAMP" in t:
        return "timestamp with time zone"
    if t == "DATE" or (t.startswith("DATE") and "TIME" not in t):
        return "date"
    if t.startswith("TIME"):
        return "text"
    if "JSON" in t:
        return "jsonb"
    if "INT" in t:
        return "bigint"
    if any(k in t for k in ("CHAR", "CLOB", "TEXT")):
        return "text"
    if any(k in t for k in ("REAL", "FLOA", "DOUB")):
        return "double precision"
    if "BLOB" in t:
        return "bytea"
    return "numeric"


def _census(conn: sqlite3.Connection, table: str, column: str) -> dict[str, int]:
    rows = conn.execute(
        f"SELECT typeof({quote_sqlite(column)}), count(*) FROM {quote_sqlite(table)} GROUP BY 1"
    )
    return {kind: int(n) for kind, n in rows if kind != "null"}


def fits(conn: sqlite3.Connection, table: str, column: str, pg_type: str) -> bool:
    """Whether every value of *column* converts to *pg_type* (the migration's own casts)."""
    cast = cast_for(pg_type, Policies(on_nul="strip"), table)
    col = quote_sqlite(column)
    sql = f"SELECT {col} FROM {quote_sqlite(table)} WHERE {col} IS NOT NULL"
    try:
        for (value,) in conn.execute(sql):
            if type(value) not in cast.identity_types:
                cast.convert(value)
    except (CastProblem, sqlite3.OperationalError):
        return False
    return True


def type_from_values(conn: sqlite3.Connection, table: str, column: str) -> str:
    """The PostgreSQL type that holds every value present in *column*, whatever is declared."""
    return _from_values(conn, table, column, _census(conn, table, column))


def _from_values(conn: sqlite3.Connection, table: str, column: str, census: dict[str, int]) -> str:
    kinds = set(census)
    if not kinds:
        return "text"
    if kinds == {"integer"}:
        return "bigint"
    if kinds <= {"integer", "real"}:
        exact = conn.execute(
            f"SELECT count(*) FROM {quote_sqlite(table)} WHERE typeof({quote_sqlite(column)}) = "
            f"'integer' AND abs({quote_sqlite(column)}) > 9007199254740992"
        ).fetchone()[0]
        return "double precision" if not exact else "numeric"
    if kinds == {"blob"}:
        return "bytea"
    if "blob" in kinds:
        return "bytea"
    return "text"


def decide_column(conn: sqlite3.Connection, table: str, column: SourceColumn) -> ColumnDecision:
    """The target type of one source column, and why."""
    wanted = declared_family(column.declared_type)
    if wanted is not None and fits(conn, table, column.name, wanted):
        return ColumnDecision(column.name, wanted, f"declared {column.declared_type}")
    census = _census(conn, table, column.name)
    chosen = _from_values(conn, table, column.name, census)
    why = "no declared type" if wanted is None else f"values do not fit {wanted}"
    return ColumnDecision(column.name, chosen, f"{why}; values present: {sorted(census)}")


def translate_default(
    default: str | None, pg_type: str, declared_type: str | None = None
) -> str | None:
    """A PostgreSQL default for a SQLite default expression, None when there is none to carry
    (see :mod:`.defaults`; :func:`.defaults.translate` also says why one was left out)."""
    return translate(default, pg_type, declared_type).sql


def table_ddl(
    conn: sqlite3.Connection, table: SourceTable, namespace: str
) -> tuple[list[str], list[ColumnDecision]]:
    """CREATE TABLE and CREATE INDEX statements for *table* (foreign keys come later)."""
    qualified = f"{quote_ident(namespace)}.{_q(table.name)}"
    decisions = [decide_column(conn, table.name, c) for c in table.columns]
    pk = table.primary_key
    identity = (
        len(pk) == 1
        and "INT" in next(c for c in table.columns if c.name == pk[0]).declared_type.upper()
    )
    lines = []
    for number, (column, decision) in enumerate(zip(table.columns, decisions, strict=True)):
        parts = [_q(column.name), decision.pg_type]
        default = translate(column.default, decision.pg_type, column.declared_type)
        if identity and column.name == pk[0]:
            parts.append("GENERATED BY DEFAULT AS IDENTITY")
            if column.default is not None:
                default = replace(default, sql=None, dropped="an identity column numbers rows")
        if default.sql is not None:
            parts.append(f"DEFAULT {default.sql}")
        if default.dropped is not None:
            decisions[number] = replace(decision, default_dropped=default.dropped)
        if column.not_null or column.name in pk:
            parts.append("NOT NULL")
        lines.append(" ".join(parts))
    if pk:
        lines.append(f"PRIMARY KEY ({', '.join(_q(c) for c in pk)})")
    statements = [f"CREATE TABLE {qualified} (\n    " + ",\n    ".join(lines) + "\n)"]
    nocase = _nocase_columns(table)
    for index in table.indexes:
        if index.origin == "pk" or not index.columns:
            continue
        label = f"uq_{'_'.join(index.columns)}" if index.origin == "u" else index.name
        name = _q(f"{table.name}_{label}")
        unique = "UNIQUE " if index.unique else ""
        cols = ", ".join(
            f"translate({_q(c)}, '{ASCII_UPPER}', '{ASCII_LOWER}')"
            if c.lower() in nocase
            else _q(c)
            for c in index.columns
        )
        statements.append(f"CREATE {unique}INDEX {name} ON {qualified} ({cols})")
    return statements, decisions


def _nocase_columns(table: SourceTable) -> set[str]:
    found = set()
    for column in table.columns:
        pattern = rf'["`\[]?{re.escape(column.name)}["`\]]?\s+[^,]*COLLATE\s+NOCASE'
        if re.search(pattern, table.sql, re.IGNORECASE):
            found.add(column.name.lower())
    return found


def foreign_key_ddl(table: SourceTable, catalog: SourceCatalog, namespace: str) -> list[str]:
    statements = []
    for number, fk in enumerate(table.foreign_keys):
        parent = catalog.find(fk.parent)
        if parent is None:
            continue
        parent_cols = fk.parent_columns or tuple(parent.primary_key)
        action = fk.on_delete.upper()
        on_delete = f" ON DELETE {action}" if action not in ("NO ACTION", "") else ""
        name = _q(f"fk_{table.name}_{number}")
        statements.append(
            f"ALTER TABLE {quote_ident(namespace)}.{_q(table.name)} ADD CONSTRAINT {name} "
            f"FOREIGN KEY ({', '.join(_q(c) for c in fk.columns)}) "
            f"REFERENCES {quote_ident(namespace)}.{_q(parent.name)} "
            f"({', '.join(_q(c) for c in parent_cols)}){on_delete}"
        )
    return statements


def schema_ddl(
    conn: sqlite3.Connection, catalog: SourceCatalog, namespace: str, only: set[str] | None = None
) -> tuple[list[str], dict[str, list[ColumnDecision]]]:
    """Every statement creating *namespace* from *catalog* (tables in *only*, when given)."""
    statements = [f"CREATE SCHEMA IF NOT EXISTS {quote_ident(namespace)}"]
    decisions: dict[str, list[ColumnDecision]] = {}
    tables = [t for t in catalog.tables.values() if only is None or t.name.lower() in only]
    for table in tables:
        ddl, decided = table_ddl(conn, table, namespace)
        statements += ddl
        decisions[table.name] = decided
    for table in tables:
        statements += foreign_key_ddl(table, catalog, namespace)
    return statements, decisions
