"""Upgrade steps: what changes between two versions of a schema, for both dialects.

Steps run inside the transaction that opens the database, through Alembic's
operations (``ctx.ops``) so one step serves SQLite and PostgreSQL; whatever
cannot be said portably (search artefacts, triggers) is delegated to the
dialect through ``ctx.dialect``.

Version 1 of every database is the layout our users' SQLite files have
(content-schema.md). Version 2 is ours: the search artefacts rendered with our
tokenisation, the version and sync-log rules, and indexes on foreign keys.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Index, inspect

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

    def table_names(self) -> set[str]:
        return {name.lower() for name in inspect(self.conn).get_table_names(self.namespace)}

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


def drop_rules(ctx: UpgradeContext) -> None:
    ctx.dialect.drop_artefacts(ctx.conn, ctx.schema, ctx.namespace)


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
