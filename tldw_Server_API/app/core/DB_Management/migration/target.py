"""The PostgreSQL side: describe a target schema from the catalogs.

The load and the checks need to know, per target table, its columns and types
(generated columns are never written), its keys, the unique sets a source
might violate, the foreign keys, the indexes and constraints that the load
drops and rebuilds, and the sequences to resync.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import psycopg

from ..backends.pg_sql import qualified as qualified_name


@dataclass(frozen=True)
class TargetColumn:
    name: str
    data_type: str  # format_type(), e.g. 'bigint', 'timestamp(3) with time zone', 'jsonb'
    not_null: bool
    has_default: bool
    generated: bool
    sequence: str | None  # the owned sequence (serial or identity), schema-qualified


@dataclass(frozen=True)
class TargetConstraint:
    name: str
    kind: str  # 'p' primary, 'u' unique, 'f' foreign, 'c' check
    definition: str  # pg_get_constraintdef
    columns: tuple[str, ...]
    parent: str | None = None  # for 'f': the referenced table (unqualified)
    parent_columns: tuple[str, ...] = ()


@dataclass(frozen=True)
class TargetIndex:
    name: str
    definition: str  # pg_get_indexdef
    unique: bool
    expression: bool
    columns: tuple[str, ...]


@dataclass
class TargetTable:
    namespace: str
    name: str
    columns: list[TargetColumn]
    constraints: list[TargetConstraint] = field(default_factory=list)
    indexes: list[TargetIndex] = field(default_factory=list)
    user_triggers: list[str] = field(default_factory=list)

    @property
    def qualified(self) -> str:
        return qualified_name(self.namespace, self.name)

    @property
    def display(self) -> str:
        return f"{self.namespace}.{self.name}"

    @property
    def writable_columns(self) -> list[TargetColumn]:
        return [c for c in self.columns if not c.generated]

    def column(self, name: str) -> TargetColumn | None:
        for c in self.columns:
            if c.name == name.lower() or c.name == name:
                return c
        return None

    @property
    def primary_key(self) -> tuple[str, ...]:
        for c in self.constraints:
            if c.kind == "p":
                return c.columns
        return ()

    @property
    def foreign_keys(self) -> list[TargetConstraint]:
        return [c for c in self.constraints if c.kind == "f"]

    @property
    def unique_sets(self) -> list[tuple[str, tuple[str, ...], bool]]:
        """(name, columns, ascii_nocase) for every uniqueness rule a source row might break."""
        sets = [(c.name, c.columns, False) for c in self.constraints if c.kind in "pu"]
        for index in self.indexes:
            if index.unique and index.expression and "translate(" in index.definition:
                sets.append((index.name, index.columns, True))
            elif index.unique and not index.expression and not self._backs_constraint(index):
                sets.append((index.name, index.columns, False))
        return sets

    def _backs_constraint(self, index: TargetIndex) -> bool:
        return any(c.name == index.name for c in self.constraints if c.kind in "pu")

    @property
    def secondary_indexes(self) -> list[TargetIndex]:
        """Indexes not backing a primary-key or unique constraint."""
        return [i for i in self.indexes if not self._backs_constraint(i)]


def schema_exists(conn: psycopg.Connection, namespace: str) -> bool:
    row = conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (namespace,)).fetchone()
    return row is not None


def read_target(conn: psycopg.Connection, namespace: str) -> dict[str, TargetTable]:
    """Every ordinary table of *namespace*, keyed by name: one query per catalog, whatever
    the number of tables."""
    rows = conn.execute(
        "SELECT c.oid, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relkind IN ('r', 'p') ORDER BY c.relname",
        (namespace,),
    ).fetchall()
    if not rows:
        return {}
    oids = [oid for oid, _ in rows]
    columns, constraints = _columns(conn, oids), _constraints(conn, oids)
    indexes, triggers = _indexes(conn, oids), _triggers(conn, oids)
    return {
        name: TargetTable(
            namespace=namespace,
            name=name,
            columns=columns.get(oid, []),
            constraints=constraints.get(oid, []),
            indexes=indexes.get(oid, []),
            user_triggers=triggers.get(oid, []),
        )
        for oid, name in rows
    }


def _columns(conn: psycopg.Connection, oids: list[int]) -> dict[int, list[TargetColumn]]:
    rows = conn.execute(
        """
        SELECT a.attrelid, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
               a.atthasdef OR a.attidentity <> '', a.attgenerated <> '',
               pg_get_serial_sequence(a.attrelid::regclass::text, a.attname)
        FROM pg_attribute a
        WHERE a.attrelid = ANY(%s::oid[]) AND a.attnum > 0 AND NOT a.attisdropped
        ORDER BY a.attrelid, a.attnum
        """,
        (oids,),
    ).fetchall()
    found: dict[int, list[TargetColumn]] = {}
    for r in rows:
        found.setdefault(r[0], []).append(TargetColumn(r[1], r[2], r[3], r[4], r[5], r[6]))
    return found


def _constraints(conn: psycopg.Connection, oids: list[int]) -> dict[int, list[TargetConstraint]]:
    rows = conn.execute(
        """
        SELECT con.conrelid, con.conname, con.contype, pg_get_constraintdef(con.oid),
               ARRAY(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY k(n, i)
                     JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n
                     ORDER BY k.i),
               pc.relname,
               ARRAY(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY k(n, i)
                     JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n
                     ORDER BY k.i)
        FROM pg_constraint con
        LEFT JOIN pg_class pc ON pc.oid = con.confrelid
        WHERE con.conrelid = ANY(%s::oid[]) AND con.contype IN ('p', 'u', 'f', 'c')
        ORDER BY con.conrelid, con.conname
        """,
        (oids,),
    ).fetchall()
    found: dict[int, list[TargetConstraint]] = {}
    for r in rows:
        found.setdefault(r[0], []).append(
            TargetConstraint(r[1], r[2], r[3], tuple(r[4] or ()), r[5], tuple(r[6] or ()))
        )
    return found


def _indexes(conn: psycopg.Connection, oids: list[int]) -> dict[int, list[TargetIndex]]:
    rows = conn.execute(
        """
        SELECT i.indrelid, ic.relname, pg_get_indexdef(i.indexrelid), i.indisunique,
               i.indexprs IS NOT NULL,
               ARRAY(SELECT a.attname FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(n, o)
                     JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.n
                     ORDER BY k.o),
               pg_get_expr(i.indexprs, i.indrelid)
        FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
        WHERE i.indrelid = ANY(%s::oid[])
        ORDER BY i.indrelid, ic.relname
        """,
        (oids,),
    ).fetchall()
    found: dict[int, list[TargetIndex]] = {}
    for table, name, definition, unique, expression, columns, expr_text in rows:
        cols = tuple(columns or ())
        if expression and not cols and expr_text:
            # translate(col, 'A..Z', 'a..z'): the NOCASE rule on one column.
            inner = expr_text.split("(", 1)[1].split(",", 1)[0].split("::", 1)[0].strip('" ')
            cols = (inner,)
        found.setdefault(table, []).append(TargetIndex(name, definition, unique, expression, cols))
    return found


def _triggers(conn: psycopg.Connection, oids: list[int]) -> dict[int, list[str]]:
    rows = conn.execute(
        "SELECT tgrelid, tgname FROM pg_trigger "
        "WHERE tgrelid = ANY(%s::oid[]) AND NOT tgisinternal ORDER BY tgrelid, tgname",
        (oids,),
    ).fetchall()
    found: dict[int, list[str]] = {}
    for table, name in rows:
        found.setdefault(table, []).append(name)
    return found
