"""Failures of a migration, each with its documented exit code.

=====  ===============================================================
code   meaning
=====  ===============================================================
0      success: every table copied and verified
1      an unexpected internal error (a bug: please report it)
2      bad input: a usage error, or a defect in the source data (a value
       the server refuses included)
3      PostgreSQL could not be reached, refused the credentials, or the
       connection was lost mid-run
4      verification failed: the target differs from the source
5      the target is not ready: its schema is missing or too new, or the
       server cannot take the data (e.g. a full disk)
130    interrupted by SIGINT (Ctrl-C): nothing was committed
143    stopped by SIGTERM (e.g. ``kill``, a service manager): nothing was
       committed
=====  ===============================================================

Either signal prints the one line :data:`INTERRUPTED` and writes ``--report``.
"""

from __future__ import annotations

from dataclasses import dataclass

EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143
INTERRUPTED = "interrupted: nothing was committed"
INTERRUPTED_UNITS = (
    "interrupted: the users finished before are kept (a re-run skips them); "
    "the one in progress was rolled back"
)
"""The line of an interrupted ``--all-users`` run, which commits user by user."""


class MigrationError(Exception):
    """Base of every failure the migration reports to its user."""

    exit_code = 1


class UsageError(MigrationError):
    exit_code = 2


@dataclass(frozen=True)
class ValueProblem:
    """One source value PostgreSQL would refuse or alter: where it is and what is wrong."""

    file: str
    table: str
    key: str
    column: str
    value: str
    problem: str

    def __str__(self) -> str:
        return (
            f"{self.file}: table {self.table}, row {self.key}, column {self.column}: "
            f"{self.problem} (value {self.value})"
        )


class SourceDefect(MigrationError):
    """The source holds values the target cannot take as they are."""

    exit_code = 2

    def __init__(self, problems: list[ValueProblem], total: int | None = None) -> None:
        self.problems = problems
        self.total = total if total is not None else len(problems)
        shown = "\n  ".join(str(p) for p in problems[:20])
        more = f"\n  ... and {self.total - 20} more" if self.total > 20 else ""
        super().__init__(
            f"{self.total} source value(s) cannot be migrated as they are:\n  {shown}{more}"
        )


class ConnectionFailed(MigrationError):
    exit_code = 3


class VerificationFailed(MigrationError):
    """The target differs from the source; ``tables`` holds the per-table results."""

    exit_code = 4

    def __init__(self, message: str, tables: list | None = None) -> None:
        super().__init__(message)
        self.tables = tables or []


class TargetNotReady(MigrationError):
    exit_code = 5


def short_repr(value: object, limit: int = 80) -> str:
    """A value as a message shows it: repr, cut to *limit* characters."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def first_line(exc: BaseException) -> str:
    """The first line of an error's message (driver messages run to several), or its type."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
