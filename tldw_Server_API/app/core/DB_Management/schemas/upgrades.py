"""Upgrade steps: what changes between two versions of a schema, for both dialects.

Steps run inside the transaction that opens the database, through Alembic's
operations (``ctx.ops``) so one step serves SQLite and PostgreSQL; whatever
cannot be said portably (search artefacts, triggers) is delegated to the
dialect through ``ctx.dialect``.

Version 1 of every database is the layout our users' SQLite files have
(content-schema.md). Version 2 is ours: the search artefacts rendered with our
tokenisation, the version and sync-log rules, and indexes on foreign keys.
Version 3 adds what current installations hold (Media schema 23 of our users'
server, the full Analytics layout): :func:`reconcile_layout`, which also brings
any older file (whatever its own version) up to our declared tables and columns.

Our upgrades own only our tables and columns: a table or column of a user's
file that we do not declare is never altered or dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from sqlalchemy import Column, Connection, Index, Table, inspect

from .spec import Upgrade

if TYPE_CHECKING:
    from alembic.operations import Operations

    from ..backends.base import DialectOps
    from .spec import DatabaseSchema

Step = Callable[["UpgradeContext"], None]


@dataclass
class UpgradeContext:
    """Everything an upgrade step may touch: one connection inside one transaction."""

    conn: Connection
    ops: Operations
    dialect: DialectOps
    schema: DatabaseSchema
    namespace: str | None
    rules_installed: bool = False
    """Whether this upgrade has already (re)installed the rules and rebuilt the search index."""

    def table_names(self) -> set[str]:
        return {name.lower() for name in inspect(self.conn).get_table_names(self.namespace)}

    def column_names(self, table: str) -> set[str]:
        columns = inspect(self.conn).get_columns(table, schema=self.namespace)
        return {str(column["name"]).lower() for column in columns}

    def index_names(self, table: str) -> set[str]:
        return {
            str(ix["name"]) for ix in inspect(self.conn).get_indexes(table, schema=self.namespace)
        }


def create_indexes(ctx: UpgradeContext, indexes: Iterable[Index]) -> None:
    for index in indexes:
        assert index.table is not None
        if index.name not in ctx.index_names(index.table.name):
            ctx.ops.create_index(
                str(index.name),
                index.table.name,
                [c.name for c in index.columns],
                unique=bool(index.unique),
                schema=ctx.namespace,
                **index.dialect_kwargs,  # a partial index's WHERE, per dialect
            )


def drop_indexes(ctx: UpgradeContext, indexes: Iterable[Index]) -> None:
    for index in indexes:
        assert index.table is not None
        if index.name in ctx.index_names(index.table.name):
            ctx.ops.drop_index(str(index.name), table_name=index.table.name, schema=ctx.namespace)


def install_rules(ctx: UpgradeContext) -> None:
    """Search artefacts, version rule and sync log, as this version renders them.

    Whatever an older layout had in their place goes first: its FTS tables use
    another tokenizer, and its triggers would index every new row a second time.
    """
    ctx.dialect.drop_artefacts(ctx.conn, ctx.schema, ctx.namespace)
    ctx.dialect.normalize_legacy_values(ctx.conn, ctx.schema, ctx.namespace)
    ctx.dialect.install_artefacts(ctx.conn, ctx.schema, ctx.namespace, rebuild=True)
    ctx.rules_installed = True


def drop_rules(ctx: UpgradeContext) -> None:
    ctx.dialect.drop_artefacts(ctx.conn, ctx.schema, ctx.namespace)


def rename_legacy_tables(ctx: UpgradeContext) -> None:
    """Give tables our name where a file still uses an older one (``workflow_step_runs``)."""
    tables = ctx.table_names()
    for old, new in ctx.schema.legacy_table_names.items():
        if old in tables and new not in tables:
            ctx.ops.rename_table(old, new, schema=ctx.namespace)


def _addable(column: Column) -> Column:
    """A copy of *column* that ``ALTER TABLE ... ADD COLUMN`` accepts on a table with rows.

    A NOT NULL column without a default could not be added to rows that exist,
    so it is added nullable; uniqueness and keys are never added this way.
    """
    copy = column._copy()
    copy.unique = False
    copy.index = False
    copy.primary_key = False
    if not copy.nullable and copy.server_default is None and copy.identity is None:
        copy.nullable = True  # (an identity column numbers the rows it is added to)
    return copy


def reconcile_layout(ctx: UpgradeContext) -> None:
    """Create the tables and columns we declare that the place lacks; leave the rest alone.

    This is what makes a file of any version of our users' server ours: an early
    one that predates Claims gets the table, a current one keeps the tables we
    do not know, and columns a user added stay where they are.
    """
    existing = ctx.table_names()
    for table in ctx.schema.metadata.sorted_tables:
        if table.name not in existing:
            table.create(ctx.conn)
            continue
        present = ctx.column_names(table.name)
        for column in table.columns:
            if column.name.lower() not in present:
                added = ctx.dialect.addable_column(_addable(column))
                ctx.ops.add_column(table.name, added, schema=ctx.namespace)


def layout_upgrade(
    version: int,
    description: str,
    *,
    tables: Iterable[Table] = (),
    columns: Iterable[Column] = (),
    indexes: Iterable[Index] = (),
) -> Upgrade:
    """A step that adds *tables*, *columns* and *indexes* (declared in the schema).

    Up, the layout is reconciled with the declaration (so the step also serves a
    file that predates several of our versions); back, exactly these go.
    """
    tables, columns, indexes = tuple(tables), tuple(columns), tuple(indexes)

    def up(ctx: UpgradeContext) -> None:
        reconcile_layout(ctx)
        create_indexes(ctx, indexes)
        # Rules for the new synced tables, and the search index as this version builds it
        # (words with emoji and symbols inside, PostgreSQL's word-length limit): once per
        # upgrade, however many steps it takes.
        if not ctx.rules_installed:
            install_rules(ctx)

    def down(ctx: UpgradeContext) -> None:
        ctx.dialect.drop_artefacts(ctx.conn, ctx.schema, ctx.namespace)
        drop_indexes(ctx, (i for i in indexes if i.table not in tables))
        for table in reversed(tables):
            table.drop(ctx.conn, checkfirst=True)
        for column in columns:
            assert isinstance(column.table, Table)
            ctx.ops.drop_column(column.table.name, column.name, schema=ctx.namespace)
        dropped = {t.name for t in tables}
        before = replace(
            ctx.schema,
            synced=tuple(s for s in ctx.schema.synced if s.table not in dropped),
            search=tuple(s for s in ctx.schema.search if s.table not in dropped),
        )
        ctx.dialect.install_artefacts(ctx.conn, before, ctx.namespace, rebuild=True)

    return Upgrade(version, description, upgrade=up, downgrade=down)


def sequence(*steps: Step) -> Step:
    """One step made of several, run in order."""

    def run(ctx: UpgradeContext) -> None:
        for step in steps:
            step(ctx)

    return run


def foreign_key_index_upgrade(
    version: int,
    indexes: Iterable[Index],
    *,
    before: Step | None = None,
    after_downgrade: Step | None = None,
) -> Upgrade:
    """The step to version 2 shared by our databases: rules plus foreign-key indexes.

    *before* runs first on the way up (renames, new columns); *after_downgrade*
    undoes it last on the way down.
    """
    indexes = tuple(indexes)
    up: list[Step] = [before] if before else []
    up += [lambda ctx: create_indexes(ctx, indexes), install_rules]
    down: list[Step] = [drop_rules, lambda ctx: drop_indexes(ctx, indexes)]
    down += [after_downgrade] if after_downgrade else []
    return Upgrade(
        to_version=version,
        description="search artefacts, version and sync-log rules, foreign-key indexes",
        upgrade=sequence(*up),
        downgrade=sequence(*down),
    )
