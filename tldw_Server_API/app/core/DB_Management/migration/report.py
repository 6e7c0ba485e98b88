"""Show a migration's outcome: the summary table, the JSON report, progress bars."""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any, TextIO

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from .results import DatabaseResult, MigrationResult, UnitResult

REPORT_VERSION = 1


_DONE = {
    "migrated": "success: every table copied and verified",
    "checked": "success: every check passed (--dry-run, nothing written)",
    "verified": "success: the target equals the source (--verify-only)",
}


def outcome(result: MigrationResult) -> str:
    """One line saying how the run ended: success, or the first failure's first line."""
    for db in result.databases:
        if db.exit_code and db.error:
            return f"{db.label}: {db.error.splitlines()[0]}"
    statuses = {db.status for db in result.databases}
    return _DONE.get(statuses.pop(), "success") if len(statuses) == 1 else "success"


def report_dict(result: MigrationResult) -> dict[str, Any]:
    """The machine-readable report (``--report out.json``); documented in docs/migration.md."""
    return {
        "report_version": REPORT_VERSION,
        "target": result.target,
        "exit_code": result.exit_code,
        "reason": outcome(result),
        "databases": [_database_dict(d) for d in result.databases],
        **_units_dict(result),
    }


def _units_dict(result: MigrationResult) -> dict[str, Any]:
    """``--all-users``: each unit's status and schemas (nothing for other runs)."""
    if not result.units:
        return {}
    return {
        "units": [
            {
                "unit": u.name,
                "status": u.status,
                "exit_code": u.exit_code,
                "schemas": [d.namespace for d in u.databases],
                "seconds": round(u.seconds, 3),
            }
            for u in result.units
        ]
    }


def failed_units_line(result: MigrationResult) -> str | None:
    """The last line of an ``--all-users`` run with failures: every failed unit, by name."""
    failed = result.failed_units
    if not failed:
        return None
    names = ", ".join(u.name for u in failed)
    return (
        f"error: {len(failed)} of {len(result.units)} failed, each left as it was: {names} "
        "(run the same command again to redo only these)"
    )


def stop_report_dict(target: str | None, exit_code: int, reason: str) -> dict[str, Any]:
    """The report of a run that stopped before any database had a result of its own
    (a usage error, a lost connection, an interruption, a crash)."""
    return {
        "report_version": REPORT_VERSION,
        "target": target,
        "exit_code": exit_code,
        "reason": reason.strip().splitlines()[0] if reason.strip() else "",
        "databases": [],
    }


def _database_dict(db: DatabaseResult) -> dict[str, Any]:
    return {
        "database": db.label,
        "source_file": db.source_file,
        "schema": db.namespace,
        "status": db.status,
        "error": db.error,
        "exit_code": db.exit_code,
        "seconds": round(db.seconds, 3),
        "tables": [
            {
                "source": t.source,
                "target": t.target,
                "source_rows": t.source_rows,
                "target_rows": t.target_rows,
                "verified": t.verified,
                "policy_changes": t.policy_changes,
                "carried": t.carried,
                "carried_columns": t.carried_columns,
                "seconds": round(t.seconds, 3),
            }
            for t in db.tables
        ],
        "skipped_tables": db.skipped,
        "renamed_identifiers": db.renamed,
        "defaults_dropped": db.defaults_dropped,
        "cleared_outside_plan": db.cleared_outside_plan,
        "carried": db.carried,
        "not_null_dropped": db.relaxed,
        "widened": db.widened,
        "problems": [asdict(p) for p in db.problems],
        "setval": db.setval,
    }


def write_report(result: MigrationResult | dict[str, Any], path: Path) -> None:
    """Write *result* (or an already built report) as JSON to *path*."""
    data = result if isinstance(result, dict) else report_dict(result)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def _console(stream: TextIO | None) -> Console:
    out = stream or sys.stdout
    return Console(file=out, highlight=False, width=None if out.isatty() else 160)


def print_units_summary(result: MigrationResult, stream: TextIO | None = None) -> None:
    """``--all-users``: one row per unit, then the per-table summary of the units that failed."""
    console = _console(stream)
    console.print(f"Target: {escape(result.target)}")
    table = Table(title=f"{len(result.units)} units, each in a transaction of its own")
    for heading in ("unit", "databases", "tables", "rows", "status", "seconds"):
        table.add_column(heading, justify="left" if heading in ("unit", "status") else "right")
    for unit in result.units:
        tables = [t for db in unit.databases for t in db.tables]
        cells = (
            unit.name,
            str(len(unit.databases)),
            str(len(tables)),
            str(sum(t.source_rows for t in tables)),
            unit.status,
            f"{unit.seconds:.2f}",
        )
        table.add_row(*(escape(c) for c in cells))
    console.print(table)
    counts: dict[str, int] = {}
    for unit in result.units:
        counts[unit.status] = counts.get(unit.status, 0) + 1
    console.print(", ".join(f"{n} {status}" for status, n in sorted(counts.items())))
    _print_databases(console, [db for u in result.failed_units for db in u.databases])


def print_summary(result: MigrationResult, stream: TextIO | None = None) -> None:
    """The row-count summary per table, SQLite beside PostgreSQL, per database."""
    console = _console(stream)
    console.print(f"Target: {escape(result.target)}")
    _print_databases(console, result.databases)


def _print_databases(console: Console, databases: list[DatabaseResult]) -> None:
    for db in databases:
        table = Table(
            title=escape(f"{db.label}: {db.source_file} → schema {db.namespace} [{db.status}]")
        )
        for heading in (
            "SQLite table",
            "PostgreSQL table",
            "SQLite rows",
            "PostgreSQL rows",
            "verified",
            "policy changes",
        ):
            table.add_column(heading, justify="right" if "rows" in heading else "left")
        for t in db.tables:
            changes = ", ".join(f"{k}={v}" for k, v in t.policy_changes.items()) or "-"
            verified = "yes" if t.verified else ("-" if db.status == "checked" else "NO")
            target_rows = str(t.target_rows) if db.status != "checked" else "-"
            cells = (t.source, t.target, str(t.source_rows), target_rows, verified, changes)
            table.add_row(*(escape(c) for c in cells))
        console.print(table)
        derived = sorted(n for n, why in db.skipped.items() if "rebuilt on the target" in why)
        virtual = [n for n in derived if db.skipped[n].startswith("virtual")]
        if derived:
            shadows = len(derived) - len(virtual)
            console.print(
                escape(
                    f"  skipped {len(virtual)} full-text tables and their {shadows} shadow "
                    f"tables (rebuilt on the target): {', '.join(virtual)}"
                )
            )
        for name, why in sorted(db.skipped.items()):
            if name not in derived:
                console.print(escape(f"  skipped {name}: {why}"))
        if db.carried:
            console.print(
                escape(
                    "  carried (not in our schema; created from the file's own layout): "
                    + ", ".join(db.carried)
                )
            )
        for name in db.relaxed:
            console.print(escape(f"  NOT NULL dropped (the file leaves it empty): {name}"))
        for change in db.widened:
            console.print(escape(f"  widened (the file holds values the type cannot): {change}"))
        for names in db.renamed:
            console.print(
                escape(
                    f"  renamed {names['source']} -> {names['target']} "
                    "(PostgreSQL names are at most 63 bytes)"
                )
            )
        for note in db.defaults_dropped:
            console.print(escape(f"  default left out: {note}"))
        for name in db.cleared_outside_plan:
            console.print(escape(f"  also cleared (references migrated tables): {name}"))
        if db.error:
            # The problems themselves are listed once, after the summary.
            shown = db.error.splitlines()[0] if db.problems else db.error
            label = "error" if db.exit_code else "note"
            console.print(f"[bold red]{label}[/]: {escape(shown)}")


class ProgressReporter:
    """A progress bar per table (rows/s, ETA) on a terminal; one line per table otherwise."""

    def __init__(
        self, stream: TextIO | None = None, *, quiet: bool = False, units: bool = False
    ) -> None:
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.units = units
        """An ``--all-users`` run: one line (or one overall bar) per unit, not per table."""
        self.interactive = self.stream.isatty() and not quiet
        self._progress: Progress | None = None
        self._tasks: dict[str, TaskID] = {}
        self._done: set[str] = set()
        self._overall: TaskID | None = None

    @contextmanager
    def running(self) -> Any:
        if not self.interactive:
            yield self
            return
        self._progress = Progress(
            TextColumn("{task.description:<28}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]:>12}"),
            TimeRemainingColumn(),
            console=Console(file=self.stream),
        )
        with self._progress:
            yield self
        self._progress = None

    def __call__(self, table: str, done: int, total: int) -> None:
        if self.quiet:
            return
        if self._progress is not None:
            if table not in self._tasks:
                self._tasks[table] = self._progress.add_task(table, total=total or 1, rate="")
            task = self._tasks[table]
            # By id, not position: the bars of finished units are removed (unit_done).
            elapsed = next(t.elapsed for t in self._progress.tasks if t.id == task) or 0
            rate = f"{done / elapsed:,.0f} rows/s" if elapsed else ""
            self._progress.update(task, completed=done, rate=rate)
            return
        if done >= total and table not in self._done and not self.units:
            self._done.add(table)
            print(f"copied {table}: {done} rows", file=self.stream)

    def unit_done(self, unit: UnitResult, done: int, total: int) -> None:
        """One unit ended: the overall bar moves on, its tables' bars go."""
        if self.quiet:
            return
        if self._progress is None:
            print(f"[{done}/{total}] {unit.name}: {unit.status}", file=self.stream)
            return
        if self._overall is None:
            self._overall = self._progress.add_task("units", total=total, rate="")
        for task in self._tasks.values():
            self._progress.remove_task(task)
        self._tasks.clear()
        self._progress.update(self._overall, completed=done, rate=unit.status)
