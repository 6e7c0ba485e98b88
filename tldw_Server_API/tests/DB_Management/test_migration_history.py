"""The migration history: a committed run's report is recorded in the target database.

Checks (``--dry-run``, ``--verify-only``) write nothing and failed runs change nothing,
so neither leaves a record; the history is read back as the server reads it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from tldw_Server_API.app.core.DB_Management.backends.postgres import PostgresBackend
from tldw_Server_API.app.core.DB_Management.backends.target import PgTarget
from tldw_Server_API.app.core.DB_Management.migration.history import MigrationHistory
from tldw_Server_API.app.core.DB_Management.migration.run import (
    MigrationOptions,
    SourceFile,
    migrate,
)
from tldw_Server_API.app.core.DB_Management.sample_data import generate


@pytest.fixture
def media_file(tmp_path: Path) -> Path:
    path = tmp_path / "Media_DB_v2.db"
    generate("media", path, size=6, seed=3)
    return path


@pytest.fixture
def history(pg_database: PgTarget) -> MigrationHistory:
    backend = PostgresBackend(pg_database, pool_size=1, max_overflow=0)
    yield MigrationHistory(backend)
    backend.dispose()


def run(target: PgTarget, path: Path, **options: object) -> int:
    result = migrate(
        MigrationOptions(
            sources=[SourceFile("media", path, "1")], target=target, create_schema=True, **options
        )
    )
    return result.exit_code


def test_a_committed_run_is_recorded_with_a_row_per_table(
    pg_database: PgTarget, media_file: Path, history: MigrationHistory
) -> None:
    assert run(pg_database, media_file) == 0
    [summary] = history.list(limit=10, offset=0)
    recorded = history.get(summary.id)
    assert recorded is not None and recorded.report is not None
    [database] = recorded.report["databases"]
    tables = {t["target"].split(".")[-1]: t for t in database["tables"]}
    assert tables["media"]["source_rows"] == tables["media"]["target_rows"] == 6
    assert all(t["verified"] for t in tables.values())
    assert summary.exit_code == 0
    assert summary.tables == len(tables)
    assert summary.source_rows == sum(t["source_rows"] for t in tables.values())
    assert summary.target == pg_database.describe()


def test_runs_are_listed_newest_first(
    pg_database: PgTarget, media_file: Path, history: MigrationHistory
) -> None:
    assert run(pg_database, media_file) == 0
    assert run(pg_database, media_file) == 0
    first, second = history.list(limit=10, offset=0)
    assert first.id > second.id
    assert history.count() == 2


def test_a_dry_run_and_a_verification_leave_no_record(
    pg_database: PgTarget, media_file: Path, history: MigrationHistory
) -> None:
    assert run(pg_database, media_file) == 0
    assert run(pg_database, media_file, dry_run=True) == 0
    assert run(pg_database, media_file, verify_only=True) == 0
    assert history.count() == 1


def test_a_failed_run_leaves_no_record(
    pg_database: PgTarget, tmp_path: Path, history: MigrationHistory
) -> None:
    assert run(pg_database, tmp_path / "missing" / "Media_DB_v2.db") != 0
    assert history.count() == 0
    assert history.get(1) is None


def test_a_record_that_cannot_be_written_warns_and_keeps_the_run_a_success(
    pg_database: PgTarget, media_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = create_engine(pg_database.sqlalchemy_url(), poolclass=NullPool)
    with engine.begin() as conn:  # a table of another shape where the history would be
        conn.exec_driver_sql("CREATE SCHEMA migrations")
        conn.exec_driver_sql("CREATE TABLE migrations.migration_runs (id int)")
    engine.dispose()
    assert run(pg_database, media_file) == 0
    warning = capsys.readouterr().err
    assert "the migration committed, but its report could not be recorded" in warning
    assert "UndefinedColumn" in warning
