"""The migration history: each committed run's report, recorded in the target database.

:func:`record_run` is called by :func:`.run.migrate` with the run's result. A run that
migrated (exit code 0, not ``--dry-run`` nor ``--verify-only``) is recorded right after its
transaction committed, on a connection of its own: a failed run changes nothing in the
target (the all-or-nothing promise includes this table), a check writes nothing at all. An
``--all-users`` run commits unit by unit (:mod:`.units`): it is recorded when any unit
committed, with the exit code and reason of its failed units, if any. A
record that cannot be written (a role without ``CREATE`` on the database, say) is a warning
on stderr, never a failed migration: the data arrived and was verified either way.

:class:`MigrationHistory` reads the records back for ``GET /api/v1/migrations``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, create_engine, func, insert, inspect, select
from sqlalchemy.pool import NullPool
from sqlalchemy.schema import CreateSchema

from ...commands import software_version
from ...redaction import describe_db_error
from ..backends.base import Backend
from ..instants import utc_now
from ..schemas.migrations import NAMESPACE, metadata, migration_runs

if TYPE_CHECKING:
    from ..registry import DatabaseRegistry
    from .run import MigrationOptions, MigrationResult

TRANSLATE = {"schema_translate_map": {None: NAMESPACE}}


def should_record(options: MigrationOptions, result: MigrationResult) -> bool:
    """Only a run that committed data is recorded (checks write nothing, failures undo all;
    an ``--all-users`` run committed the units that did not fail, and says which failed)."""
    if options.dry_run or options.verify_only:
        return False
    return result.exit_code == 0 or any(d.status == "migrated" for d in result.databases)


def summary_values(report: dict[str, Any]) -> dict[str, Any]:
    """The columns that sum a report up (the list shows them without reading every report)."""
    databases = report["databases"]
    tables = [table for db in databases for table in db["tables"]]
    return {
        "target": report["target"] or "",
        "exit_code": report["exit_code"],
        "reason": report["reason"],
        "databases": len(databases),
        "tables": len(tables),
        "source_rows": sum(table["source_rows"] for table in tables),
        "seconds": round(sum(db["seconds"] for db in databases), 3),
    }


def create_history(conn: Connection) -> Connection:
    """Create the history's schema and tables if missing; *conn* pointed at that schema."""
    conn.execute(CreateSchema(NAMESPACE, if_not_exists=True))
    conn = conn.execution_options(**TRANSLATE)
    metadata.create_all(conn)
    return conn


def record_run(options: MigrationOptions, result: MigrationResult) -> MigrationResult:
    """Record *result* in the target's history when it committed; return it unchanged."""
    if not should_record(options, result):
        return result
    from .report import report_dict  # report imports run, which calls this

    report = report_dict(result)
    engine = create_engine(options.target.sqlalchemy_url(), poolclass=NullPool)
    try:
        with engine.begin() as conn:
            conn = create_history(conn)
            conn.execute(
                insert(migration_runs).values(
                    recorded_at=utc_now(),
                    tool_version=software_version(),
                    report=report,
                    **summary_values(report),
                )
            )
    except Exception as exc:
        print(
            f"warning: the migration committed, but its report could not be recorded in "
            f"{options.target.describe()} (schema {NAMESPACE}): {describe_db_error(exc)}",
            file=sys.stderr,
        )
    finally:
        engine.dispose()
    return result


@dataclass(frozen=True)
class RecordedRun:
    """One recorded run: its summary, and its whole report when asked for one."""

    id: int
    recorded_at: datetime
    tool_version: str
    target: str
    exit_code: int
    reason: str
    databases: int
    tables: int
    source_rows: int
    seconds: float
    report: dict[str, Any] | None = None


SUMMARY_COLUMNS = [c for c in migration_runs.c if c.name != "report"]


class MigrationHistory:
    """The recorded runs of the database a :class:`Backend` serves."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    @contextmanager
    def _reading(self) -> Iterator[Connection | None]:
        """A read transaction in the history's schema; None while no run was ever recorded."""
        with self.backend.begin(None, write=False) as conn:
            if not inspect(conn).has_table(migration_runs.name, schema=NAMESPACE):
                yield None
                return
            yield conn.execution_options(**TRANSLATE)

    def count(self) -> int:
        with self._reading() as conn:
            if conn is None:
                return 0
            return int(conn.execute(select(func.count()).select_from(migration_runs)).scalar_one())

    def list(self, *, limit: int, offset: int) -> list[RecordedRun]:
        """The newest runs first."""
        with self._reading() as conn:
            if conn is None:
                return []
            rows = conn.execute(
                select(*SUMMARY_COLUMNS)
                .order_by(migration_runs.c.id.desc())
                .limit(limit)
                .offset(offset)
            ).all()
        return [RecordedRun(**row._asdict()) for row in rows]

    def get(self, run_id: int) -> RecordedRun | None:
        with self._reading() as conn:
            if conn is None:
                return None
            row = conn.execute(select(migration_runs).where(migration_runs.c.id == run_id)).first()
        return RecordedRun(**row._asdict()) if row is not None else None


def history_of(registry: DatabaseRegistry) -> MigrationHistory | None:
    """The history of the server's database; None on SQLite, which no migration targets."""
    if not registry.settings.uses_postgres:
        return None
    return MigrationHistory(registry.analytics().backend)


__all__ = [
    "MigrationHistory",
    "RecordedRun",
    "create_history",
    "history_of",
    "record_run",
    "should_record",
]
