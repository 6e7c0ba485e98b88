"""``GET /api/v1/migrations``: the migration runs recorded in this server's database.

Each run of ``tldw-migrate`` that committed records its report in the target database
(``migration/history.py``); a server on that database lists them here, newest first, and
shows one with a row per table (source rows, target rows, verified, carried, policy changes,
seconds). On SQLite, which no migration targets, the list is empty.

Reports name source files and the target server: in multi-user mode only the users of
``TLDW_ADMIN_USERS`` may read them (403 for the others).
"""

from fastapi import APIRouter, HTTPException, Request, status
from pydantic import BaseModel, Field

from ...core.config import Settings
from ...core.DB_Management.migration.history import RecordedRun, history_of
from ..auth import UserId
from ..deps import Instant, IntId, Limit, Offset

router = APIRouter(prefix="/api/v1/migrations", tags=["migrations"])


class MigrationSummary(BaseModel):
    """One recorded run, summed up."""

    id: int
    recorded_at: Instant
    tool_version: str
    target: str = Field(description="where the run wrote, e.g. PostgreSQL at host:5432/db")
    exit_code: int
    reason: str
    databases: int
    tables: int
    source_rows: int
    seconds: float


class TableReport(BaseModel):
    source: str
    target: str
    source_rows: int
    target_rows: int
    verified: bool
    carried: bool
    carried_columns: list[str]
    policy_changes: dict[str, int]
    seconds: float


class DatabaseReport(BaseModel):
    database: str
    source_file: str
    namespace: str = Field(description="the PostgreSQL schema it was migrated into")
    status: str
    seconds: float
    tables: list[TableReport]
    skipped_tables: dict[str, str]
    not_null_dropped: list[str]
    widened: list[str]


class MigrationReport(MigrationSummary):
    """One recorded run with its report: a row per table of every database."""

    report: list[DatabaseReport] = Field(description="a report per database migrated")


class MigrationList(BaseModel):
    migrations: list[MigrationSummary]
    total: int
    limit: int
    offset: int


def admin_only(request: Request, user_id: str) -> None:
    """403 unless *user_id* may see server internals (always, in single-user mode)."""
    settings: Settings = request.app.state.settings
    if not settings.is_admin(user_id):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "only an admin (TLDW_ADMIN_USERS) may read migrations"
        )


def summary_of(run: RecordedRun) -> MigrationSummary:
    return MigrationSummary.model_validate(run, from_attributes=True)


@router.get("", response_model=MigrationList)
def list_migrations(
    request: Request, user_id: UserId, limit: Limit = 50, offset: Offset = 0
) -> MigrationList:
    """The recorded runs, newest first."""
    admin_only(request, user_id)
    history = history_of(request.app.state.registry)
    runs = history.list(limit=limit, offset=offset) if history is not None else []
    total = history.count() if history is not None else 0
    return MigrationList(
        migrations=[summary_of(run) for run in runs], total=total, limit=limit, offset=offset
    )


@router.get("/{migration_id}", response_model=MigrationReport)
def get_migration(request: Request, user_id: UserId, migration_id: IntId) -> MigrationReport:
    """One recorded run and its report; 404 if there is none with this id."""
    admin_only(request, user_id)
    history = history_of(request.app.state.registry)
    run = history.get(migration_id) if history is not None else None
    if run is None or run.report is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no migration {migration_id}")
    summary = summary_of(run).model_dump()
    databases = [
        DatabaseReport.model_validate(db | {"namespace": db["schema"]})
        for db in run.report["databases"]
    ]
    return MigrationReport(**summary, report=databases)
