"""What PostgreSQL (or a cast) refused during a run, named as the source row, column and value.

A refusal inside the load becomes a :class:`.errors.SourceDefect` that points at
the source file, table, key, column and value, so the user can fix or choose a
policy; one no step mapped (:func:`server_failure`) becomes the failure its
SQLSTATE means: a lost connection, a refused value, or a target not ready.
"""

from __future__ import annotations

import re
import sqlite3
from typing import Any

import psycopg

from ...redaction import redact_secrets
from ..backends.sqlite import quote_sqlite
from ..backends.target import PgTarget
from .casts import Policies
from .check import Exclusions, scan_values
from .errors import (
    ConnectionFailed,
    MigrationError,
    SourceDefect,
    TargetNotReady,
    UsageError,
    ValueProblem,
    first_line,
    short_repr,
)
from .plan import DatabasePlan, TablePlan
from .rows import copied_rows

#: A defect lists this many problems at most (its total counts them all).
_MOST_PROBLEMS = 200
_COPY_CONTEXT = re.compile(
    r"COPY (?P<table>[^,]+), line (?P<line>\d+)(?:, column (?P<column>[^:]+))?"
)
#: SQLSTATEs of a server that ended the session (shutdown, crash, pg_terminate_backend).
_SESSION_ENDED = {"57P01", "57P02", "57P03"}


def _problem(
    plan: DatabasePlan, table: str, key: str, column: str, value: str, why: str
) -> SourceDefect:
    return SourceDefect([ValueProblem(str(plan.source.path), table, key, column, value, why)])


def cast_defect(
    plan: DatabasePlan,
    table: TablePlan,
    source: sqlite3.Connection,
    rowid: Any,
    exc: Exception,
    policies: Policies,
) -> SourceDefect:
    """Every bad value of *table* (not only the first), as the policies in force see them."""
    problems = list(scan_values(source, plan, table, policies))
    if not problems:
        return _problem(plan, table.source.name, f"rowid={rowid}", "?", "?", str(exc))
    return SourceDefect(problems[:_MOST_PROBLEMS], total=len(problems))


def copy_defect(
    conn: psycopg.Connection,
    exc: psycopg.Error,
    plan: DatabasePlan,
    table: TablePlan,
    source: sqlite3.Connection,
    exclusions: Exclusions,
    policies: Policies,
) -> SourceDefect:
    """Turn PostgreSQL's refusal of a COPY row into the source row, column and value."""
    diag = exc.diag
    context = (diag.context or "") if diag else ""
    match = _COPY_CONTEXT.search(context)
    message = (diag.message_primary if diag else None) or str(exc).splitlines()[0]
    problems = list(scan_values(source, plan, table, policies))
    if problems:
        return SourceDefect(problems[:_MOST_PROBLEMS], total=len(problems))
    column = (match["column"] if match else None) or _constraint_column(exc, table) or "?"
    key, value = "?", "?"
    if match:
        key, value, column = _row_at(
            source, table, exclusions, int(match["line"]), column, _server_codec(conn)
        )
    return _problem(
        plan, table.source.name, key, column, value, f"PostgreSQL refused it: {message}"
    )


def rebuild_defect(
    exc: psycopg.Error, plan: DatabasePlan, table: TablePlan, source: sqlite3.Connection
) -> SourceDefect:
    """A key or index PostgreSQL could not rebuild over the loaded rows, as a source defect.

    A value too long for a B-tree index (about 2,700 bytes) is named: the longest
    value of the table's indexed columns.
    """
    if isinstance(exc, psycopg.errors.ProgramLimitExceeded):
        found = _longest_indexed_value(source, table)
        if found is not None:
            key, column, value = found
            message = (exc.diag.message_primary if exc.diag else None) or first_line(exc)
            problem = f"PostgreSQL refused it: {message} (too long to be indexed)"
            return _problem(plan, table.source.name, key, column, value, problem)
    return constraint_defect(exc, plan)


def constraint_defect(exc: psycopg.Error, plan: DatabasePlan) -> SourceDefect:
    """A constraint PostgreSQL could not restore, with the key and column its error names."""
    diag = exc.diag
    return _problem(
        plan,
        table=(diag.table_name or "?") if diag else "?",
        key=(diag.message_detail or "?") if diag else "?",
        column=(diag.column_name or diag.constraint_name or "?") if diag else "?",
        value="see key",
        why=f"PostgreSQL refused it: {(diag.message_primary if diag else None) or exc}",
    )


def server_failure(
    exc: psycopg.Error, conn: psycopg.Connection, target: PgTarget
) -> MigrationError:
    """What a PostgreSQL error no database step mapped means; the transaction died with it."""
    first = redact_secrets(first_line(exc), target.password)
    state = exc.sqlstate
    if conn.broken or state is None or state.startswith("08") or state in _SESSION_ENDED:
        return ConnectionFailed(
            f"lost the connection to {target.describe()} ({first}); nothing was committed"
        )
    refused = (psycopg.errors.DataError, psycopg.errors.IntegrityError)
    if isinstance(exc, refused) or state == "54000":
        return UsageError(
            f"PostgreSQL at {target.describe()} refused a source value ({first}; "
            f"SQLSTATE {state}); nothing was committed"
        )
    return TargetNotReady(
        f"PostgreSQL at {target.describe()} refused the migration ({first}; SQLSTATE {state}); "
        "nothing was committed"
    )


def _constraint_column(exc: psycopg.Error, table: TablePlan) -> str | None:
    """The (first) target column of the constraint PostgreSQL names, e.g. a CHECK."""
    name = exc.diag.constraint_name if exc.diag else None
    for constraint in table.target.constraints:
        if constraint.name == name and constraint.columns:
            return constraint.columns[0]
    return None


def _row_at(
    source: sqlite3.Connection,
    table: TablePlan,
    exclusions: Exclusions,
    line: int,
    column: str,
    codec: str | None = None,
) -> tuple[str, str, str]:
    """The key, value and column of the *line*-th row the load copied (1-based).

    When PostgreSQL named no column (a character the database's encoding lacks is
    refused for the whole line), the column is the first text value *codec* cannot encode.
    """
    position = next((i for i, t in enumerate(table.target_columns) if t.name == column), None)
    for number, (rowid, values) in enumerate(copied_rows(source, table, exclusions), 1):
        if number < line:
            continue
        keys = table.key_columns
        if all(k in table.source_columns for k in keys):
            key_values = [values[table.source_columns.index(k)] for k in keys]
            key = ", ".join(f"{k}={v!r}" for k, v in zip(keys, key_values, strict=True))
        else:
            key = f"rowid={rowid}"
        if position is None and codec is not None:
            position = _unencodable(values, codec)
        if position is not None:
            return key, short_repr(values[position]), table.source_columns[position]
        return key, short_repr(values), column
    return "?", "?", column


def _server_codec(conn: psycopg.Connection) -> str | None:
    """The Python codec of the target database's encoding, if Python has one."""
    from psycopg._encodings import pg2pyenc  # the driver's own table of encoding names

    try:
        return pg2pyenc((conn.info.parameter_status("server_encoding") or "UTF8").encode())
    except (LookupError, psycopg.NotSupportedError):
        return None


def _unencodable(values: tuple[Any, ...], codec: str) -> int | None:
    """The position of the first text value the database's encoding cannot hold."""
    for position, value in enumerate(values):
        if isinstance(value, str):
            try:
                value.encode(codec)
            except UnicodeEncodeError:
                return position
    return None


def _longest_indexed_value(
    source: sqlite3.Connection, table: TablePlan
) -> tuple[str, str, str] | None:
    """(key, column, value) of the longest value, in bytes, of an indexed column of *table*."""
    target = table.target
    indexed = {c for index in target.indexes for c in index.columns}
    indexed |= {
        c
        for constraint in target.constraints
        if constraint.kind in "pu"
        for c in constraint.columns
    }
    keys = table.key_columns
    best: tuple[int, str, str, str] | None = None
    for source_name, target_column in zip(table.source_columns, table.target_columns, strict=True):
        if target_column.name not in indexed:
            continue
        column = quote_sqlite(source_name)
        row = source.execute(
            f"SELECT {', '.join(quote_sqlite(k) for k in keys)}, {column}, "
            f"length(CAST({column} AS BLOB)) AS size FROM {quote_sqlite(table.source.name)} "
            "ORDER BY size DESC LIMIT 1"
        ).fetchone()
        if row is not None and row[-1] is not None and (best is None or row[-1] > best[0]):
            key = ", ".join(f"{k}={v!r}" for k, v in zip(keys, row, strict=False))
            best = (int(row[-1]), key, source_name, short_repr(row[-2]))
    return best[1:] if best is not None else None
