"""All or nothing: a migration killed or failing at any point leaves the target as it was.

The whole run is one PostgreSQL transaction (sequences included: they are restarted by the
transaction's TRUNCATE, so even their ``setval`` is undone), so a SIGKILL in the middle of a COPY
or a bad value on the last row of a table changes nothing, and the next run succeeds.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import psycopg
import pytest

from tldw_Server_API.app.core.DB_Management.backends.target import PgTarget
from tldw_Server_API.app.core.DB_Management.migration.options import MigrationOptions, SourceFile
from tldw_Server_API.app.core.DB_Management.migration.run import migrate
from tldw_Server_API.app.core.DB_Management.sample_data import generate
from tldw_Server_API.tests.DB_Management.conftest import snapshot

MODULE = "tldw_Server_API.app.core.DB_Management.migration_tools"
REPO_ROOT = Path(__file__).resolve().parents[3]


def structure_snapshot(target: PgTarget) -> dict[str, object]:
    """:func:`snapshot`, and how many constraints and indexes the users' schemas hold."""
    state = snapshot(target)
    with psycopg.connect(target.conninfo(), autocommit=True) as conn:
        state["constraints"] = conn.execute(
            "SELECT count(*) FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace "
            "WHERE n.nspname LIKE 'user_%'"
        ).fetchone()
        state["indexes"] = conn.execute(
            "SELECT count(*) FROM pg_indexes WHERE schemaname LIKE 'user_%'"
        ).fetchone()
    return state


@pytest.fixture(scope="module")
def prepared(pg_target: PgTarget, tmp_path_factory: pytest.TempPathFactory) -> PgTarget:
    """A target holding an earlier migration of a small file, so 'as before' is not 'empty'."""
    small = tmp_path_factory.mktemp("small") / "Media_DB_v2.db"
    generate("media", small, size=4, seed=5)
    result = migrate(
        MigrationOptions(
            sources=[SourceFile("media", small, "1")], target=pg_target, create_schema=True
        )
    )
    assert result.exit_code == 0
    return pg_target


def cli_args(target: PgTarget, path: Path) -> list[str]:
    return [
        sys.executable, "-m", MODULE, "--content-sqlite", str(path),
        "--pg-host", target.host, "--pg-port", str(target.port),
        "--pg-database", target.database, "--pg-user", target.user,
    ]  # fmt: skip


def wait_for_copy(target: PgTarget, process: subprocess.Popen[str], timeout: float = 60) -> str:
    """Poll pg_stat_activity until the migration's connection is running a COPY."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(target.conninfo(), autocommit=True) as conn:
        while time.monotonic() < deadline:
            assert process.poll() is None, "the migration ended before its COPY was seen"
            row = conn.execute(
                "SELECT query FROM pg_stat_activity WHERE datname = %s AND state = 'active' "
                "AND query LIKE 'COPY %%' AND pid <> pg_backend_pid()",
                (target.database,),
            ).fetchone()
            if row:
                return str(row[0])
            time.sleep(0.01)
    raise AssertionError("no COPY seen in pg_stat_activity")


def wait_until_gone(target: PgTarget, timeout: float = 30) -> None:
    """The killed client's backend notices the closed socket and rolls back; wait for that."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(target.conninfo(), autocommit=True) as conn:
        while time.monotonic() < deadline:
            left = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s "
                "AND application_name = 'tldw_server' AND pid <> pg_backend_pid()",
                (target.database,),
            ).fetchone()
            if left == (0,):
                return
            time.sleep(0.02)
    raise AssertionError("the killed migration's session is still there")


def test_sigkill_during_copy_leaves_the_target_as_before(
    prepared: PgTarget, tmp_path: Path
) -> None:
    big = tmp_path / "big" / "Media_DB_v2.db"
    generate("media", big, size=700, seed=1)
    before = structure_snapshot(prepared)
    process = subprocess.Popen(
        cli_args(prepared, big),
        env=os.environ | {"PYTHONPATH": str(REPO_ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        query = wait_for_copy(prepared, process)
        os.kill(process.pid, signal.SIGKILL)
        assert process.wait(timeout=30) == -signal.SIGKILL
    finally:
        if process.poll() is None:
            process.kill()
    assert query.startswith('COPY "user_1_media".')
    wait_until_gone(prepared)
    assert structure_snapshot(prepared) == before
    again = subprocess.run(
        cli_args(prepared, big),
        env=os.environ | {"PYTHONPATH": str(REPO_ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert again.returncode == 0, again.stdout + again.stderr
    with psycopg.connect(prepared.conninfo()) as conn:
        assert conn.execute("SELECT count(*) FROM user_1_media.media").fetchone() == (700,)


def last_row_defect(path: Path, table: str, column: str, value: object) -> int:
    with closing(sqlite3.connect(path)) as conn:
        last = conn.execute(f'SELECT max(id) FROM "{table}"').fetchone()[0]
        conn.execute(f'UPDATE "{table}" SET "{column}" = ? WHERE id = ?', (value, last))
        conn.commit()
    return int(last)


@pytest.mark.parametrize(
    ("table", "column", "value", "problem"),
    [
        # refused by PostgreSQL inside the COPY stream
        ("MediaChunks", "chunk_text", "late\x00value", "NUL byte"),
        # refused by the migration's own cast while the COPY is under way
        ("Claims", "created_at", "not a time", "unparseable timestamp"),
    ],
)
def test_failure_on_the_last_row_leaves_the_target_as_before(
    prepared: PgTarget, tmp_path: Path, table: str, column: str, value: str, problem: str
) -> None:
    path = tmp_path / "late" / "Media_DB_v2.db"
    generate("media", path, size=60, seed=2)
    last = last_row_defect(path, table, column, value)
    before = structure_snapshot(prepared)
    result = migrate(MigrationOptions(sources=[SourceFile("media", path, "1")], target=prepared))
    assert result.exit_code == 2
    (db,) = result.databases
    assert db.status == "failed"
    assert [(p.table, p.key, p.column) for p in db.problems] == [(table, f"id={last}", column)]
    assert problem in db.problems[0].problem
    assert structure_snapshot(prepared) == before


def test_a_failing_database_rolls_back_the_ones_loaded_before_it(
    prepared: PgTarget, tmp_path: Path
) -> None:
    good = tmp_path / "good" / "workflows.db"
    generate("workflows", good, size=5)
    bad = tmp_path / "bad" / "Media_DB_v2.db"
    generate("media", bad, size=10, seed=3)
    last_row_defect(bad, "Media", "ingestion_date", "never")
    migrate(
        MigrationOptions(
            sources=[SourceFile("workflows", good)], target=prepared, create_schema=True
        )
    )
    with closing(sqlite3.connect(good)) as conn:
        # New rows and a higher id: this run would move the sequence, were it kept.
        conn.execute("DELETE FROM workflow_events")
        conn.execute(
            "INSERT INTO workflows (id, tenant_id, name, version, owner_id, definition_json, "
            "created_at, updated_at) VALUES (1000, 't', 'late', 1, 'o', '{}', ?, ?)",
            ("2025-10-08T12:00:00Z", "2025-10-08T12:00:00Z"),
        )
        conn.commit()
    before = structure_snapshot(prepared)
    result = migrate(
        MigrationOptions(
            sources=[SourceFile("workflows", good), SourceFile("media", bad, "1")],
            target=prepared,
        )
    )
    assert result.exit_code == 2
    workflows, media = result.databases
    assert media.status == "failed"
    assert workflows.status == "rolled back"
    assert "another database failed" in (workflows.error or "")
    assert structure_snapshot(prepared) == before
