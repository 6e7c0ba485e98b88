"""What a migration reports: per table, per database and for the whole run.

:mod:`.report` renders these as the summary and the JSON ``--report``; the exit
code of a run is the first failing database's (:mod:`.errors`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from .errors import ValueProblem

Progress = Callable[[str, int, int], None]
"""Told, as a table is copied, its name, the rows copied so far and the rows it holds."""

UnitProgress = Callable[["UnitResult", int, int], None]
"""Told, as each unit of an ``--all-users`` run ends, its result, how many ended and of how many."""


@dataclass
class TableResult:
    source: str
    target: str
    source_rows: int
    target_rows: int = 0
    copied_rows: int = 0
    verified: bool = False
    seconds: float = 0.0
    policy_changes: dict[str, int] = field(default_factory=dict)
    source_checksum: int | None = None
    target_checksum: int | None = None
    carried: bool = False
    """The table is not in our schema: created from the source's own layout."""
    carried_columns: list[str] = field(default_factory=list)
    """Columns not in our schema, created from the source's own layout."""


@dataclass
class DatabaseResult:
    label: str
    source_file: str
    namespace: str
    status: str = "pending"  # migrated, verified, checked, failed
    tables: list[TableResult] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    setval: list[str] = field(default_factory=list)
    cleared_outside_plan: list[str] = field(default_factory=list)
    relaxed: list[str] = field(default_factory=list)
    """Target columns (not ours) whose NOT NULL was dropped: the source leaves them empty."""
    widened: list[str] = field(default_factory=list)
    """Target columns given a wider type: the source holds values the old one cannot."""

    @property
    def carried(self) -> list[str]:
        """Tables and columns not in our schema, created on the target from the source's layout."""
        lines = [f"table {t.target}" for t in self.tables if t.carried]
        lines += [
            f"column {t.target}.{column}"
            for t in self.tables
            if not t.carried
            for column in t.carried_columns
        ]
        return lines

    problems: list[ValueProblem] = field(default_factory=list)
    renamed: list[dict[str, str]] = field(default_factory=list)
    defaults_dropped: list[str] = field(default_factory=list)
    error: str | None = None
    exit_code: int = 0
    seconds: float = 0.0


@dataclass
class UnitResult:
    """One unit of an ``--all-users`` run (a user's databases, or the server's): its outcome."""

    name: str
    databases: list[DatabaseResult]

    @property
    def exit_code(self) -> int:
        codes = [d.exit_code for d in self.databases if d.exit_code]
        return codes[0] if codes else 0

    @property
    def status(self) -> str:
        """``failed`` if any database failed, else the status its databases share."""
        if self.exit_code:
            return "failed"
        statuses = {d.status for d in self.databases}
        return statuses.pop() if len(statuses) == 1 else "mixed"

    @property
    def seconds(self) -> float:
        return sum(d.seconds for d in self.databases)


@dataclass
class MigrationResult:
    target: str
    databases: list[DatabaseResult]
    units: list[UnitResult] = field(default_factory=list)
    """The units of an ``--all-users`` run, each committed apart (empty otherwise)."""

    @property
    def failed_units(self) -> list[UnitResult]:
        return [u for u in self.units if u.exit_code]

    @property
    def exit_code(self) -> int:
        codes = [d.exit_code for d in self.databases if d.exit_code]
        return codes[0] if codes else 0
