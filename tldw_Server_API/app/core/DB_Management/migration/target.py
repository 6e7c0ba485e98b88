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
    """Every ordinary table of *namespace*, keyed by name."""
    tables: dict[str, TargetTable] = {}
    for oid, name in conn.execute(
        "SELECT c.oid, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relkind IN ('r', 'p') ORDER BY c.relname",
        (namespace,),
    ).fetchall():
        tables[name] = TargetTable(
            namespace=namespace,
            name=name,
            columns=_columns(conn, oid),
            constraints=_constraints(conn, oid),
            indexes=_indexes(conn, oid),
            user_triggers=_triggers(conn, oid),
        )
    return tables


def _columns(conn: psycopg.Connection, oid: int) -> list[TargetColumn]:
    rows = conn.execute(
        """
        SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
               a.atthasdef OR a.attidentity <> '', a.attgenerated <> '',
               pg_get_serial_sequence(%s::regclass::text, a.attname)
        FROM pg_attribute a
        WHERE a.attrelid = %s AND a.attnum > 0 AND NOT a.attisdropped
        ORDER BY a.attnum
        """,
        (oid, oid),
    ).fetchall()
    return [TargetColumn(r[0], r[1], r[2], r[3], r[4], r[5]) for r in rows]


def _constraints(conn: psycopg.Connection, oid: int) -> list[TargetConstraint]:
    rows = conn.execute(
        """
        SELECT con.conname, con.contype, pg_get_constraintdef(con.oid),
               ARRAY(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY k(n, i)
                     JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n
                     ORDER BY k.i),
               pc.relname,
               ARRAY(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY k(n, i)
                     JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n
                     ORDER BY k.i)
        FROM pg_constraint con
        LEFT JOIN pg_class pc ON pc.oid = con.confrelid
        WHERE con.conrelid = %s AND con.contype IN ('p', 'u', 'f', 'c')
        ORDER BY con.conname
        """,
        (oid,),
    ).fetchall()
    return [
        TargetConstraint(r[0], r[1], r[2], tuple(r[3] or ()), r[4], tuple(r[5] or ())) for r in rows
    ]


def _indexes(conn: psycopg.Connection, oid: int) -> list[TargetIndex]:
    rows = conn.execute(
        """
        SELECT ic.relname, pg_get_indexdef(i.indexrelid), i.indisunique,
               i.indexprs IS NOT NULL,
               ARRAY(SELECT a.attname FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(n, o)
                     JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.n
                     ORDER BY k.o),
               pg_get_expr(i.indexprs, i.indrelid)
        FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
        WHERE i.indrelid = %s
        ORDER BY ic.relname
        """,
        (oid,),
    ).fetchall()
    indexes = []
    for name, definition, unique, expression, columns, expr_text in rows:
        cols = tuple(columns or ())
        if expression and not cols and expr_text:
            # translate(col, 'A..Z', 'a..z'): the NOCASE rule on one column.
            inner = expr_text.split("(", 1)[1].split(",", 1)[0].split("::", 1)[0].strip('" ')
            cols = (inner,)
        indexes.append(TargetIndex(name, definition, unique, expression, cols))
    return indexes


def _triggers(conn: psycopg.Connection, oid: int) -> list[str]:
    rows = conn.execute(
        "SELECT tgname FROM pg_trigger WHERE tgrelid = %s AND NOT tgisinternal ORDER BY tgname",
        (oid,),
    ).fetchall()
    return [r[0] for r in rows]
