"""Decide what goes where: source tables to target tables, columns, casts and order.

Source tables match target tables by name, case-insensitively (``Media`` lands
in ``media``), or through a schema's legacy names (``workflow_step_runs`` lands
in ``workflow_steps``). Our version record (``tldw_schema``) is never copied
over the target's own; our users' own records (``schema_version``,
``db_schema_version``) are their data and copied like any table. Tables and
columns the target lacks have been carried (:mod:`.carry`) before the plan is
made, so a source table or column with no place here is a defect of ours: it
stops the plan rather than being dropped.
"""

from __future__ import annotations

import graphlib
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..backends.pg_triggers import SEARCH_COLUMN
from ..backends.sqlite import quote_sqlite
from ..schemas.spec import SearchIndex
from .casts import Cast, Policies, cast_for
from .errors import TargetNotReady, UsageError
from .names import is_shortened, pg_identifier
from .source import SourceCatalog, SourceTable
from .target import TargetColumn, TargetTable

VERSION_TABLES = {"tldw_schema"}


@dataclass
class TablePlan:
    """One table's copy: which source columns feed which target columns, through which casts."""

    source: SourceTable
    target: TargetTable
    source_columns: list[str]
    target_columns: list[TargetColumn]
    casts: list[Cast]

    @property
    def name(self) -> str:
        return self.target.name

    @property
    def order_by(self) -> str:
        """The stable read order: the rowid, else the primary key."""
        if self.source.has_rowid:
            return "rowid"
        return ", ".join(quote_sqlite(c) for c in self.source.primary_key)

    @property
    def key_columns(self) -> list[str]:
        """Source columns naming a row in messages (the primary key, else all columns)."""
        return self.source.primary_key or self.source_columns


@dataclass
class DatabasePlan:
    """Everything one source file contributes to one target schema."""

    label: str
    source: SourceCatalog
    namespace: str
    tables: list[TablePlan]
    skipped: dict[str, str] = field(default_factory=dict)
    search: dict[str, SearchIndex] = field(default_factory=dict)
    """Target tables whose search vectors the load writes with their rows, by table name."""

    def search_index(self, table: TablePlan) -> SearchIndex | None:
        """The search index whose vectors the load writes with *table*'s rows, if any."""
        index = self.search.get(table.name)
        column = table.target.column(SEARCH_COLUMN)
        if index is None or column is None or column.generated:
            return None
        return index

    def shortened_names(self) -> list[dict[str, str]]:
        """Source names over PostgreSQL's 63 bytes and the names they got (:mod:`.names`)."""
        shortened = []
        for plan in self.tables:
            if is_shortened(plan.source.name):
                shortened.append({"source": plan.source.name, "target": plan.target.name})
            for source, target in zip(plan.source_columns, plan.target_columns, strict=True):
                if is_shortened(source):
                    shortened.append(
                        {"source": f"{plan.source.name}.{source}", "target": target.name}
                    )
        return shortened

    def table(self, target_name: str) -> TablePlan | None:
        for plan in self.tables:
            if plan.target.name == target_name:
                return plan
        return None


def target_name(source: str, renames: dict[str, str]) -> str:
    """The target table a source table lands in: an older name mapped, else its own name
    as PostgreSQL holds it (lower case, at most 63 bytes)."""
    return renames.get(source.lower(), pg_identifier(source))


def plan_database(
    label: str,
    source: SourceCatalog,
    namespace: str,
    targets: dict[str, TargetTable],
    *,
    renames: dict[str, str],
    skip: set[str],
    policies: Policies,
    search: Sequence[SearchIndex] = (),
) -> DatabasePlan:
    """Match *source* to *targets*; raise with every mismatch at once."""
    plans: list[TablePlan] = []
    skipped = dict(source.skipped)
    missing: list[str] = []
    for table in source.tables.values():
        landing = target_name(table.name, renames)
        if table.name.lower() in skip or landing in skip:
            skipped[table.name] = "--skip-table"
        elif landing in VERSION_TABLES:
            skipped[table.name] = "our schema version record: the target keeps its own"
        elif landing not in targets:
            missing.append(table.name)
        else:
            plans.append(_plan_table(table, targets[landing], policies))
    if missing:
        raise TargetNotReady(
            f"{source.path}: table(s) {', '.join(sorted(missing))} have no counterpart in "
            f"PostgreSQL schema {namespace}; nothing was migrated"
        )
    planned = {p.name for p in plans}
    indexes = {i.table: i for i in search if i.table in planned}
    return DatabasePlan(label, source, namespace, _dependency_order(plans), skipped, indexes)


def _plan_table(source: SourceTable, target: TargetTable, policies: Policies) -> TablePlan:
    by_name = {c.name: c for c in target.writable_columns}
    generated = {c.name for c in target.columns if c.generated}
    source_cols: list[str] = []
    target_cols: list[TargetColumn] = []
    lost: list[str] = []
    for column in source.columns:
        target_col = by_name.get(pg_identifier(column.name)) or by_name.get(column.name)
        if target_col is None:
            if pg_identifier(column.name) in generated:
                continue  # derived on the target (search vectors)
            lost.append(column.name)
            continue
        source_cols.append(column.name)
        target_cols.append(target_col)
    if lost:
        raise UsageError(
            f"{source.name}: column(s) {', '.join(lost)} have no counterpart in "
            f"{target.display}; nothing was migrated"
        )
    covered = {c.name for c in target_cols}
    unfilled = [
        c.name
        for c in target.writable_columns
        if c.name not in covered and c.not_null and not c.has_default
    ]
    if unfilled and source.row_count:
        raise UsageError(
            f"{target.display}: column(s) {', '.join(unfilled)} are NOT NULL without a default "
            f"and {source.name} does not provide them"
        )
    casts = [cast_for(c.data_type, policies, target.name, fast=True) for c in target_cols]
    return TablePlan(source, target, source_cols, target_cols, casts)


def _dependency_order(plans: list[TablePlan]) -> list[TablePlan]:
    """Parents before children; reference cycles (conversations ↔ messages) broken.

    The load drops foreign keys while copying and re-validates them afterwards,
    so the order only makes progress output and messages read naturally.
    """
    by_name = {p.name: p for p in plans}
    graph: dict[str, set[str]] = {name: set() for name in by_name}
    for plan in plans:
        for fk in plan.target.foreign_keys:
            if fk.parent in by_name and fk.parent != plan.name:
                graph[plan.name].add(fk.parent)
    ordered: list[str] = []
    while graph:
        try:
            ordered += list(graphlib.TopologicalSorter(graph).static_order())
            break
        except graphlib.CycleError as cycle:
            # Drop one edge of the cycle and try again.
            nodes = cycle.args[1]
            graph[nodes[0]].discard(nodes[1])
    return [by_name[name] for name in ordered]
