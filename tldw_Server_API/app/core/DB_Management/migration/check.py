"""Find, in the source, what the target would refuse: orphans, duplicates, bad values.

Set-wise checks (orphaned foreign keys, duplicates under the target's unique
rules, NULLs in NOT NULL columns) run as SQL inside the source's read
transaction before anything is written. The value scan (:func:`scan_values`)
converts every value with the strict casts; ``--dry-run`` runs it over the
whole source, and a load runs it over a table when PostgreSQL refused one of
its rows, to name every bad value rather than the first.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

from ...text import strip_nul
from ..backends.sqlite import quote_sqlite
from .casts import CastProblem, InvalidUtf8, Policies, cast_for
from .errors import ValueProblem, short_repr
from .plan import DatabasePlan, TablePlan
from .source import tolerant_text

OrphanPolicy = Literal["error", "skip", "null"]
MAX_LISTED = 200


@dataclass
class Exclusions:
    """Rows the orphan policy removed (skip) or whose reference it cleared (null), by rowid."""

    skipped: dict[str, set[int]] = field(default_factory=dict)
    nulled: dict[str, dict[int, set[str]]] = field(default_factory=dict)

    def is_skipped(self, table: str, rowid: int) -> bool:
        rows = self.skipped.get(table)
        return rows is not None and rowid in rows

    def count(self, table: str) -> dict[str, int]:
        counts = {}
        if self.skipped.get(table):
            counts["orphan_rows_skipped"] = len(self.skipped[table])
        if self.nulled.get(table):
            counts["orphan_references_nulled"] = sum(len(v) for v in self.nulled[table].values())
        return counts


def _key_text(plan: TablePlan, row: tuple) -> str:
    keys = plan.key_columns
    return ", ".join(f"{k}={v!r}" for k, v in zip(keys, row, strict=False))


def _fk_pairs(
    plan: DatabasePlan, child: TablePlan
) -> Iterator[tuple[TablePlan | str, list[str], list[str], str]]:
    """(parent, child source columns, parent columns, constraint) per target FK.

    The parent is its plan, or, for a table the user left out with ``--skip-table``,
    its name: every reference into it is then an orphan, since none of its rows arrive.
    """
    left_out = {name.lower(): name for name, why in plan.skipped.items() if why == "--skip-table"}
    for fk in child.target.foreign_keys:
        child_cols = [_source_name(child, c) for c in fk.columns]
        if None in child_cols:
            continue
        parent = plan.table(fk.parent or "")
        if parent is None:
            if (fk.parent or "") in left_out:
                yield left_out[fk.parent or ""], child_cols, list(fk.parent_columns), fk.name  # type: ignore[misc]
            continue
        parent_cols = [_source_name(parent, c) for c in fk.parent_columns]
        if None in parent_cols:
            continue
        yield parent, child_cols, parent_cols, fk.name  # type: ignore[misc]


def _source_name(plan: TablePlan, target_column: str) -> str | None:
    for source, target in zip(plan.source_columns, plan.target_columns, strict=True):
        if target.name == target_column:
            return source
    return None


def find_orphans(
    conn: sqlite3.Connection,
    plan: DatabasePlan,
    policy: OrphanPolicy,
    exclusions: Exclusions,
) -> list[ValueProblem]:
    """Rows whose foreign key names no parent row; apply *policy* to them.

    With ``skip``, skipping a row can orphan its own children, so the search
    repeats until nothing new is found. ``null`` cannot clear a reference the
    target declares NOT NULL: such rows are reported, naming ``skip`` instead.
    """
    problems: list[ValueProblem] = []
    changed = True
    while changed:
        changed = False
        for child in plan.tables:
            for parent, child_cols, parent_cols, constraint in _fk_pairs(plan, child):
                required = _required(child, child_cols)
                for rowid, key, values in _orphans(
                    conn, child, parent, child_cols, parent_cols, exclusions
                ):
                    if policy == "skip":
                        if not exclusions.is_skipped(child.name, rowid):
                            exclusions.skipped.setdefault(child.name, set()).add(rowid)
                            changed = True
                        continue
                    if policy == "null" and not required:
                        nulled = exclusions.nulled.setdefault(child.name, {})
                        nulled.setdefault(rowid, set()).update(child_cols)
                        continue
                    shown = short_repr(values[0] if len(values) == 1 else values)
                    if isinstance(parent, str):
                        advice = (
                            f"--skip-table {parent} leaves out every row it refers to; "
                            f"skip {child.source.name} too, or use --on-orphan=skip or null"
                        )
                    elif policy == "null":
                        advice = (
                            f"--on-orphan=null cannot clear it: {child.target.display} declares "
                            f"{', '.join(required)} NOT NULL; use --on-orphan=skip"
                        )
                    else:
                        advice = "use --on-orphan=skip or null"
                    problems.append(
                        ValueProblem(
                            file=str(plan.source.path),
                            table=child.source.name,
                            key=_key_text(child, key),
                            column=", ".join(child_cols),
                            value=shown,
                            problem=(
                                f"orphaned reference: no {_parent_name(parent)} row has "
                                f"{', '.join(parent_cols)} = {shown} "
                                f"(constraint {constraint}; {advice})"
                            ),
                        )
                    )
                    if len(problems) >= MAX_LISTED:
                        return problems
    return problems


def _required(child: TablePlan, child_cols: list[str]) -> list[str]:
    """The columns among *child_cols* the target declares NOT NULL."""
    return [
        source
        for source, target in zip(child.source_columns, child.target_columns, strict=True)
        if source in child_cols and target.not_null
    ]


def _parent_name(parent: TablePlan | str) -> str:
    return parent if isinstance(parent, str) else parent.source.name


def _orphans(
    conn: sqlite3.Connection,
    child: TablePlan,
    parent: TablePlan | str,
    child_cols: list[str],
    parent_cols: list[str],
    exclusions: Exclusions,
) -> Iterator[tuple[int, tuple, tuple]]:
    """(rowid, key, referencing values) of every child row whose parent is missing or skipped."""
    c_tbl = quote_sqlite(child.source.name)
    not_null = " AND ".join(f"c.{quote_sqlite(col)} IS NOT NULL" for col in child_cols)
    keys = child.key_columns
    key_cols = ", ".join(f"c.{quote_sqlite(k)}" for k in keys)
    select_cols = ", ".join(f"c.{quote_sqlite(col)}" for col in child_cols)
    head = f"SELECT c.rowid, {key_cols}, {select_cols}"
    if isinstance(parent, str):  # left out by --skip-table: every reference is an orphan
        for row in conn.execute(f"{head}, NULL FROM {c_tbl} c WHERE {not_null}"):
            yield int(row[0]), tuple(row[1 : 1 + len(keys)]), tuple(row[1 + len(keys) : -1])
        return
    p_tbl = quote_sqlite(parent.source.name)
    match = " AND ".join(
        f"p.{quote_sqlite(pc)} = c.{quote_sqlite(cc)}"
        for cc, pc in zip(child_cols, parent_cols, strict=True)
    )
    sql = (
        f"{head}, NULL FROM {c_tbl} c WHERE {not_null} AND NOT EXISTS "
        f"(SELECT 1 FROM {p_tbl} p WHERE {match})"
    )
    skipped_parents = exclusions.skipped.get(parent.name, set())
    if skipped_parents:
        # Parents removed by the skip policy count as missing.
        sql = (
            f"{head}, (SELECT group_concat(p.rowid) FROM {p_tbl} p WHERE {match}) "
            f"FROM {c_tbl} c WHERE {not_null}"
        )
    for row in conn.execute(sql):
        rowid, parents = row[0], row[-1]
        key, values = tuple(row[1 : 1 + len(keys)]), tuple(row[1 + len(keys) : -1])
        if parents:
            alive = [int(r) for r in str(parents).split(",") if int(r) not in skipped_parents]
            if alive:
                continue
        yield int(rowid), key, values


def find_duplicates(conn: sqlite3.Connection, plan: DatabasePlan) -> list[ValueProblem]:
    """Rows a stricter unique rule of the target would reject (NULLs never collide)."""
    problems: list[ValueProblem] = []
    for table in plan.tables:
        for name, columns, nocase in table.target.unique_sets:
            source_cols = [_source_name(table, c) for c in columns]
            if None in source_cols or _source_enforces(table, source_cols, nocase):
                continue
            cols = [quote_sqlite(c) for c in source_cols if c]
            keyed = [f"lower({c})" if nocase else c for c in cols]
            keys = table.key_columns
            key_sql = " || ', ' || ".join(f"quote({quote_sqlite(k)})" for k in keys)
            if len(keys) > 1:
                key_sql = f"'(' || {key_sql} || ')'"
            sql = (
                f"SELECT {', '.join(cols)}, group_concat({key_sql}, ', ') "
                f"FROM {quote_sqlite(table.source.name)} "
                f"WHERE {' AND '.join(f'{c} IS NOT NULL' for c in cols)} "
                f"GROUP BY {', '.join(keyed)} HAVING count(*) > 1 LIMIT 20"
            )
            key_names = ", ".join(keys)
            key_names = key_names if len(keys) == 1 else f"({key_names})"
            for row in conn.execute(sql):
                values = tuple(row[:-1])
                problems.append(
                    ValueProblem(
                        file=str(plan.source.path),
                        table=table.source.name,
                        key=f"{key_names} in ({row[-1]})",
                        column=", ".join(c for c in source_cols if c),
                        value=short_repr(values[0] if len(values) == 1 else values),
                        problem=f"duplicate under the target's unique rule {name}",
                    )
                )
    return problems


def _source_enforces(table: TablePlan, source_cols: list[str | None], nocase: bool) -> bool:
    wanted = [c.lower() for c in source_cols if c]
    if [c.lower() for c in table.source.primary_key] == wanted:
        return True
    for index in table.source.indexes:
        if index.unique and [c.lower() for c in index.columns] == wanted:
            # SQLite's NOCASE rule equals the target's; a BINARY index is stricter than needed
            # only for the nocase target, where it could allow 'A' and 'a' both.
            return not nocase or "NOCASE" in table.source.sql.upper()
    return False


def find_nulls(conn: sqlite3.Connection, plan: DatabasePlan) -> list[ValueProblem]:
    """NULLs in columns the target declares NOT NULL."""
    problems: list[ValueProblem] = []
    for table in plan.tables:
        for source_col, target_col in zip(table.source_columns, table.target_columns, strict=True):
            if not target_col.not_null:
                continue
            if any(c.name == source_col and c.not_null for c in table.source.columns):
                continue
            key = ", ".join(quote_sqlite(k) for k in table.key_columns)
            sql = (
                f"SELECT {key} FROM {quote_sqlite(table.source.name)} "
                f"WHERE {quote_sqlite(source_col)} IS NULL LIMIT 20"
            )
            for row in conn.execute(sql):
                problems.append(
                    ValueProblem(
                        file=str(plan.source.path),
                        table=table.source.name,
                        key=_key_text(table, row),
                        column=source_col,
                        value="NULL",
                        problem=f"NULL in a column {table.target.display} declares NOT NULL",
                    )
                )
    return problems


def scan_values(
    conn: sqlite3.Connection, plan: DatabasePlan, table: TablePlan, policies: Policies
) -> Iterator[ValueProblem]:
    """Convert every value of *table* with the strict casts; yield each one that fails."""
    strict = [cast_for(c.data_type, Policies(), table.name) for c in table.target_columns]
    previous = conn.text_factory
    conn.text_factory = tolerant_text  # type: ignore[assignment]
    try:
        keys = table.key_columns
        cols = ", ".join(quote_sqlite(c) for c in table.source_columns)
        key_sql = ", ".join(quote_sqlite(k) for k in keys)
        sql = f"SELECT {key_sql}, {cols} FROM {quote_sqlite(table.source.name)}"
        for row in conn.execute(sql):
            key, values = row[: len(keys)], row[len(keys) :]
            for name, cast, value in zip(table.source_columns, strict, values, strict=True):
                problem = _strict_problem(cast, value, policies)
                if problem is not None:
                    yield ValueProblem(
                        file=str(plan.source.path),
                        table=table.source.name,
                        key=_key_text(table, key),
                        column=name,
                        value=short_repr(value),
                        problem=problem,
                    )
    finally:
        conn.text_factory = previous


def _strict_problem(cast, value, policies: Policies) -> str | None:  # type: ignore[no-untyped-def]
    if value is None:
        return None
    if isinstance(value, InvalidUtf8) and policies.on_invalid_utf8 == "replace":
        return None
    if isinstance(value, str) and "\x00" in value and policies.on_nul == "strip":
        value = strip_nul(value)
    try:
        cast.convert(value) if not isinstance(value, cast.identity_types) else value
    except CastProblem as exc:
        message = str(exc)
        if "invalid JSON" in message and policies.on_invalid_json == "string":
            return None
        return message
    return None
