"""The migration guide, followed as a user would: the CLI as a subprocess against a real PostgreSQL.

postgres-migration-guide.md is the contract: its example command (PG* variables exported, the
``--pg-host "$PGHOST"`` style flags, ``--batch-size 500``) must work as written, and its checks
(``SELECT COUNT(*) FROM media`` in psql) must hold on a fresh connection.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from tldw_Server_API.app.core.DB_Management.backends.target import PgTarget
from tldw_Server_API.app.core.DB_Management.legacy_layout import create_legacy_database
from tldw_Server_API.app.core.DB_Management.migration import run as run_module
from tldw_Server_API.app.core.DB_Management.migration_tools import run_cli
from tldw_Server_API.app.core.DB_Management.registry import DatabaseRegistry
from tldw_Server_API.app.core.DB_Management.sample_data import generate, row_counts
from tldw_Server_API.app.core.DB_Management.schemas.migrations import NAMESPACE as HISTORY
from tldw_Server_API.app.core.DB_Management.stores.media import MediaStore
from tldw_Server_API.tests.conftest import settings_for
from tldw_Server_API.tests.DB_Management.conftest import pg_flags, snapshot
from tldw_Server_API.tests.postgres_harness import fresh_database

MODULE = "tldw_Server_API.app.core.DB_Management.migration_tools"
REPO_ROOT = Path(__file__).resolve().parents[3]
PASSWORD = "pw-Zq8#never-shown"

# The guide's layout, relative to the directory the user runs the command in.
MEDIA = "Databases/user_databases/1/Media_DB_v2.db"
CHACHA = "Databases/user_databases/default/ChaChaNotes.db"
ANALYTICS = "Analytics.db"
WORKFLOWS = "Databases/workflows.db"
FILES = {"media": MEDIA, "chacha": CHACHA, "analytics": ANALYTICS, "workflows": WORKFLOWS}


def environment(target: PgTarget, **extra: str) -> dict[str, str]:
    """The user's shell: PG* exported as in Step 1, nothing of the test runner's TLDW_* or PG*."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "TLDW_", "POSTGRES"))}
    env |= {
        "PGHOST": target.host,
        "PGPORT": str(target.port),
        "PGDATABASE": target.database,
        "PGUSER": target.user,
        "PGPASSWORD": PASSWORD,
        "PYTHONPATH": str(REPO_ROOT),
    }
    return env | extra


def cli(
    cwd: Path, target: PgTarget, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", MODULE, *args],
        cwd=cwd,
        env=env or environment(target),
        capture_output=True,
        text=True,
        timeout=120,
    )


def guide_command(target: PgTarget) -> list[str]:
    return [
        "--content-sqlite",
        MEDIA,
        "--chacha-sqlite",
        CHACHA,
        "--analytics-sqlite",
        ANALYTICS,
        "--workflows-sqlite",
        WORKFLOWS,
        *pg_flags(target),
        "--pg-password",
        PASSWORD,
        "--batch-size",
        "500",
    ]


def write_installation(root: Path, seed: int = 0) -> dict[str, dict[str, int]]:
    """The guide's four files under *root*, small."""
    sizes = {"media": 6, "chacha": 4, "analytics": 20, "workflows": 6}
    return {
        kind: generate(kind, root / rel, size=sizes[kind], seed=seed) for kind, rel in FILES.items()
    }


def sqlite_count(path: Path, table: str) -> int:
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        return int(conn.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0])


def pg_count(target: PgTarget, table: str) -> int:
    """``SELECT COUNT(*) FROM <table>`` on a fresh connection, unqualified, as psql runs it."""
    if shutil.which("psql"):
        out = subprocess.run(
            ["psql", "-X", "-A", "-t", "-c", f"SELECT COUNT(*) FROM {table};"],
            env=environment(target),
            capture_output=True,
            text=True,
            check=True,
        )
        return int(out.stdout.strip())
    with psycopg.connect(target.conninfo()) as conn:
        return int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])


def state(target: PgTarget) -> dict[str, object]:
    """:func:`snapshot`, and the names of every schema."""
    with psycopg.connect(target.conninfo(), autocommit=True) as conn:
        schemas = conn.execute(
            "SELECT array_agg(nspname ORDER BY nspname) FROM pg_namespace"
        ).fetchone()
    return snapshot(target) | {"schemas": schemas}


@dataclass
class GuideRun:
    root: Path
    target: PgTarget
    counts: dict[str, dict[str, int]]
    first: subprocess.CompletedProcess[str]


@pytest.fixture(scope="module")
def guide_run(pg_target: PgTarget, tmp_path_factory: pytest.TempPathFactory) -> GuideRun:
    """Step 0-2 of the guide: files in place, the server's schema created once, then the command."""
    root = tmp_path_factory.mktemp("guide")
    counts = write_installation(root)
    init = subprocess.run(
        [sys.executable, "-m", "tldw_Server_API.app.core.DB_Management.init_db"],
        cwd=root,
        env=environment(
            pg_target,
            TLDW_CONTENT_DB_BACKEND="postgresql",
            TLDW_DATA_DIR=str(root / "Databases"),
        ),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert init.returncode == 0, init.stderr
    first = cli(root, pg_target, *guide_command(pg_target))
    return GuideRun(root, pg_target, counts, first)


def summary_rows(stdout: str) -> dict[str, tuple[str, int, int, str]]:
    """SQLite table -> (PostgreSQL table, SQLite rows, PostgreSQL rows, verified)."""
    rows = {}
    for line in stdout.splitlines():
        cells = [c.strip() for c in line.strip("│ ").split("│")]
        if len(cells) == 6 and cells[2].isdigit():
            rows[f"{cells[1].split('.')[0]}:{cells[0]}"] = (
                cells[1],
                int(cells[2]),
                int(cells[3]),
                cells[4],
            )
    return rows


def test_guide_example_migrates_all_four_databases(guide_run: GuideRun) -> None:
    run = guide_run.first
    assert run.returncode == 0, run.stdout + run.stderr
    rows = summary_rows(run.stdout)
    schemas = {
        "media": "user_1_media",
        "chacha": "user_1_chacha",
        "analytics": "analytics",
        "workflows": "workflows",
    }
    for kind, counts in guide_run.counts.items():
        for table, n in counts.items():
            _, sqlite_rows, pg_rows, verified = rows[f"{schemas[kind]}:{table}"]
            assert (sqlite_rows, pg_rows, verified) == (n, n, "yes"), table
    for table in ("workflows", "workflow_runs", "workflow_events", "workflow_artifacts"):
        assert rows[f"workflows:{table}"][0] == f"workflows.{table}"
    assert rows["workflows:workflow_step_runs"][0] == "workflows.workflow_steps"


def test_guide_psql_checks_equal_sqlite_counts(guide_run: GuideRun) -> None:
    assert guide_run.first.returncode == 0
    root, target = guide_run.root, guide_run.target
    assert pg_count(target, "media") == sqlite_count(root / MEDIA, "Media") > 0
    assert pg_count(target, "claims") == sqlite_count(root / MEDIA, "Claims") > 0
    assert pg_count(target, "workflow_runs") == sqlite_count(root / WORKFLOWS, "workflow_runs") > 0
    steps = sqlite_count(root / WORKFLOWS, "workflow_step_runs")
    assert pg_count(target, "workflow_steps") == steps > 0


def test_workflow_step_runs_land_in_workflow_steps(guide_run: GuideRun) -> None:
    with psycopg.connect(guide_run.target.conninfo()) as conn:
        ids = {r[0] for r in conn.execute("SELECT step_run_id FROM workflows.workflow_steps")}
    with closing(sqlite3.connect(guide_run.root / WORKFLOWS)) as conn:
        expected = {r[0] for r in conn.execute("SELECT step_run_id FROM workflow_step_runs")}
    assert ids == expected and ids


def recorded_runs(target: PgTarget) -> int:
    with psycopg.connect(target.conninfo(), autocommit=True) as conn:
        row = conn.execute(f"SELECT count(*) FROM {HISTORY}.migration_runs").fetchone()
    assert row is not None
    return int(row[0])


def test_rerun_is_idempotent(guide_run: GuideRun) -> None:
    before = state(guide_run.target)
    runs_before = recorded_runs(guide_run.target)
    again = cli(guide_run.root, guide_run.target, *guide_command(guide_run.target))
    assert again.returncode == 0, again.stderr
    assert summary_rows(again.stdout) == summary_rows(guide_run.first.stdout)
    after = state(guide_run.target)
    assert after == before
    assert recorded_runs(guide_run.target) == runs_before + 1


def test_password_flag_warns_and_is_never_shown(guide_run: GuideRun, tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    run = cli(
        guide_run.root,
        guide_run.target,
        *guide_command(guide_run.target),
        "--report",
        str(report),
        "--print-setval",
    )
    assert run.returncode == 0
    assert "password on the command line is visible" in run.stderr
    for text in (run.stdout, run.stderr, report.read_text()):
        assert PASSWORD not in text


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    write_installation(tmp_path)
    return tmp_path


@pytest.fixture(scope="module")
def shared_db(pg_server: PgTarget) -> Iterator[PgTarget]:
    """One database for the tests whose runs replace everything they look at."""
    with fresh_database(pg_server) as target:
        yield target


def test_batch_size_one_works(workdir: Path, shared_db: PgTarget) -> None:
    run = cli(
        workdir,
        shared_db,
        "--workflows-sqlite",
        WORKFLOWS,
        *pg_flags(shared_db),
        "--create-schema",
        "--batch-size",
        "1",
    )
    assert run.returncode == 0, run.stderr
    assert pg_count(shared_db, "workflows.workflow_events") == sqlite_count(
        workdir / WORKFLOWS, "workflow_events"
    )


def test_skip_table_is_repeatable_and_leaves_tables_out(
    workdir: Path, pg_database: PgTarget
) -> None:
    run = cli(
        workdir,
        pg_database,
        "--content-sqlite",
        MEDIA,
        *pg_flags(pg_database),
        "--create-schema",
        "--skip-table",
        "sync_log",
        "--skip-table",
        "Claims",
        "--skip-table",
        "claims_review_log",
        "--skip-table",
        "claim_cluster_membership",
        "--skip-table",
        "claim_clusters",
    )
    assert run.returncode == 0, run.stderr
    assert pg_count(pg_database, "user_1_media.sync_log") == 0
    assert pg_count(pg_database, "user_1_media.claims") == 0
    assert pg_count(pg_database, "user_1_media.media") == sqlite_count(workdir / MEDIA, "Media")
    assert "skipped Claims: --skip-table" in run.stdout
    assert "skipped sync_log: --skip-table" in run.stdout


def test_skipping_a_table_others_refer_to_names_the_rows_left_orphaned(
    workdir: Path, pg_database: PgTarget
) -> None:
    args = ("--content-sqlite", MEDIA, *pg_flags(pg_database), "--create-schema")
    run = cli(workdir, pg_database, *args, "--skip-table", "Claims")
    assert run.returncode == 2, run.stdout + run.stderr
    assert "--skip-table Claims leaves out every row it refers to" in run.stderr
    assert "claim_cluster_membership" in run.stderr
    skipped = cli(workdir, pg_database, *args, "--skip-table", "Claims", "--on-orphan", "skip")
    assert skipped.returncode == 0, skipped.stdout + skipped.stderr
    assert pg_count(pg_database, "user_1_media.claim_cluster_membership") == 0


def test_skip_table_naming_no_table_is_a_usage_error(workdir: Path, shared_db: PgTarget) -> None:
    run = cli(
        workdir,
        shared_db,
        "--content-sqlite",
        MEDIA,
        *pg_flags(shared_db),
        "--create-schema",
        "--skip-table",
        "sync_logs",
    )
    assert run.returncode == 2
    assert "--skip-table sync_logs: no such table" in run.stderr


def test_missing_schema_is_a_clear_error_then_create_schema_creates_it(
    workdir: Path, pg_database: PgTarget
) -> None:
    run = cli(workdir, pg_database, "--content-sqlite", MEDIA, *pg_flags(pg_database))
    assert run.returncode == 5
    output = run.stdout + run.stderr
    assert "user_1_media does not exist" in output
    assert "--create-schema" in output and "init_db" in output
    created = cli(
        workdir, pg_database, "--content-sqlite", MEDIA, *pg_flags(pg_database), "--create-schema"
    )
    assert created.returncode == 0, created.stderr
    assert pg_count(pg_database, "user_1_media.media") == sqlite_count(workdir / MEDIA, "Media")


def test_print_setval_and_next_insert_continues_after_max_id(
    workdir: Path, shared_db: PgTarget
) -> None:
    run = cli(
        workdir,
        shared_db,
        "--content-sqlite",
        MEDIA,
        *pg_flags(shared_db),
        "--create-schema",
        "--print-setval",
    )
    assert run.returncode == 0, run.stderr
    statements = [line for line in run.stdout.splitlines() if line.startswith("SELECT setval(")]
    top = sqlite_count(workdir / MEDIA, "Media")
    assert f"SELECT setval('user_1_media.media_id_seq', {top}, true);" in statements
    registry = DatabaseRegistry(settings_for("postgresql", workdir / "Databases", shared_db))
    try:
        item = MediaStore(registry.media("1")).add_media("new", "fresh content", "document")
    finally:
        registry.close()
    with closing(sqlite3.connect(workdir / MEDIA)) as conn:
        high = conn.execute("SELECT max(id) FROM Media").fetchone()[0]
    assert item.id == high + 1


def test_report_lists_every_table_per_database(workdir: Path, shared_db: PgTarget) -> None:
    report = workdir / "out.json"
    run = cli(
        workdir,
        shared_db,
        "--content-sqlite",
        MEDIA,
        "--workflows-sqlite",
        WORKFLOWS,
        *pg_flags(shared_db),
        "--create-schema",
        "--report",
        str(report),
    )
    assert run.returncode == 0, run.stderr
    data = json.loads(report.read_text())
    assert data["exit_code"] == 0
    by_schema = {db["schema"]: db for db in data["databases"]}
    assert set(by_schema) == {"user_1_media", "workflows"}
    for schema, kind in (("user_1_media", "media"), ("workflows", "workflows")):
        db = by_schema[schema]
        assert db["status"] == "migrated"
        names = {t["source"] for t in db["tables"]}
        expected = row_counts(kind, workdir / FILES[kind])
        assert names == set(expected)  # their schema_version row included: it is their data
        for table in db["tables"]:
            assert set(table) >= {
                "source",
                "target",
                "source_rows",
                "target_rows",
                "verified",
                "policy_changes",
            }
            assert table["target"].startswith(f"{schema}.")
            assert table["source_rows"] == table["target_rows"] == expected[table["source"]]
            assert table["verified"] is True and table["policy_changes"] == {}
    steps = next(t for t in by_schema["workflows"]["tables"] if t["source"] == "workflow_step_runs")
    assert steps["target"] == "workflows.workflow_steps"


def test_dry_run_writes_nothing(workdir: Path, pg_database: PgTarget, tmp_path: Path) -> None:
    first = cli(
        workdir, pg_database, "--content-sqlite", MEDIA, *pg_flags(pg_database), "--create-schema"
    )
    assert first.returncode == 0
    other = tmp_path / "other" / "Media_DB_v2.db"
    generate("media", other, size=9, seed=7)
    before = state(pg_database)
    run = cli(
        workdir,
        pg_database,
        "--content-sqlite",
        str(other),
        "--workflows-sqlite",
        WORKFLOWS,
        *pg_flags(pg_database),
        "--create-schema",
        "--dry-run",
    )
    # The workflows schema is missing, and a dry run does not create it.
    assert run.returncode == 5
    assert "without --dry-run" in run.stdout + run.stderr
    ok = cli(
        workdir, pg_database, "--content-sqlite", str(other), *pg_flags(pg_database), "--dry-run"
    )
    assert ok.returncode == 0, ok.stderr
    assert "[checked]" in ok.stdout
    assert state(pg_database) == before


def test_verify_only_passes_then_names_the_changed_row(workdir: Path, shared_db: PgTarget) -> None:
    args = ["--content-sqlite", MEDIA, *pg_flags(shared_db)]
    assert cli(workdir, shared_db, *args, "--create-schema").returncode == 0
    ok = cli(workdir, shared_db, *args, "--verify-only")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "[verified]" in ok.stdout
    with psycopg.connect(shared_db.conninfo()) as conn:
        conn.execute("ALTER TABLE user_1_media.claims DISABLE TRIGGER USER")
        conn.execute(
            "UPDATE user_1_media.claims SET claim_text = 'tampered' "
            "WHERE id = (SELECT min(id) + 1 FROM user_1_media.claims)"
        )
        conn.execute("ALTER TABLE user_1_media.claims ENABLE TRIGGER USER")
        changed = conn.execute("SELECT min(id) + 1 FROM user_1_media.claims").fetchone()[0]
    bad = cli(workdir, shared_db, *args, "--verify-only")
    assert bad.returncode == 4
    output = " ".join((bad.stdout + bad.stderr).split())
    assert "user_1_media.claims" in output
    assert f"Claims row id={changed} differs in column(s) claim_text" in output


def test_connection_refused_exits_3_without_the_password(
    workdir: Path, shared_db: PgTarget
) -> None:
    run = cli(
        workdir,
        shared_db,
        "--content-sqlite",
        MEDIA,
        "--pg-host",
        "127.0.0.1",
        "--pg-port",
        "1",
        "--pg-password",
        PASSWORD,
    )
    assert run.returncode == 3
    assert "cannot connect to PostgreSQL at 127.0.0.1:1" in run.stderr
    assert PASSWORD not in run.stdout + run.stderr
    assert "Traceback" not in run.stderr


def test_pg_dsn_works(workdir: Path, shared_db: PgTarget) -> None:
    # key=value form: the host may be a socket directory (the embedded server), which a URI
    # cannot carry in its host part.
    dsn = make_conninfo(
        host=shared_db.host,
        port=shared_db.port,
        dbname=shared_db.database,
        user=shared_db.user,
        password=PASSWORD,
    )
    env = environment(PgTarget(host="nowhere.invalid", database="wrong"))
    run = cli(
        workdir,
        shared_db,
        "--analytics-sqlite",
        ANALYTICS,
        "--pg-dsn",
        dsn,
        "--create-schema",
        env=env,
    )
    assert run.returncode == 0, run.stderr
    assert PASSWORD not in run.stdout + run.stderr
    assert pg_count(shared_db, "analytics.search_analytics") == sqlite_count(
        workdir / ANALYTICS, "search_analytics"
    )


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    root = tmp_path / "Databases"
    for kind, name in (("media", "Media_DB_v2.db"), ("chacha", "ChaChaNotes.db")):
        generate(kind, root / "user_databases" / "1" / name, size=4)
    create_legacy_database("analytics", root / "Analytics.db")
    generate("workflows", root / "workflows.db", size=4)
    yield root


def test_rehearse_migrates_a_data_dir_into_an_embedded_server(
    data_dir: Path, pg_server: PgTarget
) -> None:
    with fresh_database(pg_server) as untouched:
        before = state(untouched)
        run = cli(data_dir.parent, untouched, "--rehearse", "--data-dir", str(data_dir), "--quiet")
        assert run.returncode == 0, run.stdout + run.stderr
        assert state(untouched) == before
    assert "rehearse: embedded PostgreSQL" in run.stderr
    rows = summary_rows(run.stdout)
    assert rows["user_1_media:Media"][1:] == (4, 4, "yes")
    assert rows["workflows:workflow_step_runs"][0] == "workflows.workflow_steps"
    assert all(verified == "yes" for _, _, _, verified in rows.values())


# -- every ending writes the report ----------------------------------------------------------


def report_of(path: Path) -> dict:
    data = json.loads(path.read_text())
    assert set(data) >= {"exit_code", "reason", "databases"}
    assert PASSWORD not in path.read_text()
    return data


def test_success_writes_a_report_saying_so(workdir: Path, shared_db: PgTarget) -> None:
    report = workdir / "ok.json"
    args = ["--workflows-sqlite", WORKFLOWS, *pg_flags(shared_db), "--create-schema"]
    run = cli(workdir, shared_db, *args, "--report", str(report))
    assert run.returncode == 0, run.stderr
    data = report_of(report)
    assert data["exit_code"] == 0 and data["reason"].startswith("success")


def test_a_usage_error_after_parsing_writes_the_report(workdir: Path, shared_db: PgTarget) -> None:
    report = workdir / "usage.json"
    args = ["--workflows-sqlite", WORKFLOWS, *pg_flags(shared_db), "--batch-size", "0"]
    run = cli(workdir, shared_db, *args, "--report", str(report))
    assert run.returncode == 2
    data = report_of(report)
    assert data["exit_code"] == 2 and "--batch-size must be at least 1" in data["reason"]


def test_a_refused_connection_writes_the_report(workdir: Path, shared_db: PgTarget) -> None:
    report = workdir / "refused.json"
    args = ["--workflows-sqlite", WORKFLOWS, "--pg-host", "127.0.0.1", "--pg-port", "1"]
    run = cli(workdir, shared_db, *args, "--pg-password", PASSWORD, "--report", str(report))
    assert run.returncode == 3
    data = report_of(report)
    assert data["exit_code"] == 3 and "cannot connect" in data["reason"]


def start_blocked_run(
    workdir: Path, target: PgTarget, report: Path
) -> tuple[subprocess.Popen[str], psycopg.Connection, int]:
    """A migration started while another session holds one of its tables: it waits for it.

    Returns the running command, the blocking session (in its transaction) and the backend
    pid of the command's own session.
    """
    args = ["--workflows-sqlite", WORKFLOWS, *pg_flags(target), "--create-schema", "--quiet"]
    assert cli(workdir, target, *args).returncode == 0
    blocker = psycopg.connect(target.conninfo())
    blocker.execute("LOCK TABLE workflows.workflow_events IN ACCESS EXCLUSIVE MODE")
    process = subprocess.Popen(
        [sys.executable, "-m", MODULE, *args, "--report", str(report)],
        cwd=workdir,
        env=environment(target),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    with psycopg.connect(target.conninfo(), autocommit=True) as watcher:
        for _ in range(600):  # bounded: at most a minute
            row = watcher.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND pid <> %s",
                (blocker.info.backend_pid,),
            ).fetchone()
            if row:
                return process, blocker, row[0]
            watcher.execute("SELECT pg_sleep(0.1)")
    process.kill()
    raise AssertionError("the migration never waited for the locked table")


def test_a_lost_connection_exits_3_and_writes_the_report(
    workdir: Path, pg_database: PgTarget
) -> None:
    report = workdir / "lost.json"
    process, blocker, pid = start_blocked_run(workdir, pg_database, report)
    try:
        with psycopg.connect(pg_database.conninfo(), autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        _, err = process.communicate(timeout=120)
    finally:
        blocker.close()
    assert process.returncode == 3, err
    assert "lost the connection" in err and "nothing was committed" in err
    data = report_of(report)
    assert data["exit_code"] == 3 and "lost the connection" in data["reason"]


def test_an_interrupt_exits_130_commits_nothing_and_writes_the_report(
    workdir: Path, pg_database: PgTarget
) -> None:
    report = workdir / "interrupted.json"
    process, blocker, _ = start_blocked_run(workdir, pg_database, report)
    try:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=120)
    finally:
        blocker.close()
    assert process.returncode == 130, err
    assert "interrupted: nothing was committed" in err
    data = report_of(report)
    assert data["exit_code"] == 130 and data["reason"].startswith("interrupted")
    assert pg_count(pg_database, "workflows.workflow_events") == sqlite_count(
        workdir / WORKFLOWS, "workflow_events"
    )


def test_a_crash_exits_1_and_writes_the_report(
    workdir: Path, shared_db: PgTarget, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No input makes the tool crash (that would be a bug), so a fault is put in its place."""

    def broken_catalog(*_: object) -> None:
        raise RuntimeError("a bug in the catalog reader")

    monkeypatch.setattr(run_module, "read_catalog", broken_catalog)
    report = workdir / "crash.json"
    args = ["--workflows-sqlite", str(workdir / WORKFLOWS), *pg_flags(shared_db)]
    code = run_cli([*args, "--create-schema", "--quiet", "--report", str(report)], env={})
    assert code == 1
    data = report_of(report)
    assert data["exit_code"] == 1
    assert data["reason"] == (
        "internal error (a bug, please report it): RuntimeError: a bug in the catalog reader"
    )
