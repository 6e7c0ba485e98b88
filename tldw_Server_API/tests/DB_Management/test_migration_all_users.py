"""``--all-users``: each user in a transaction of its own, a failing user reported and left as
it was, and a re-run that redoes only what failed (or everything, with ``--redo-all``)."""

from __future__ import annotations

import io
import json
import sqlite3
from contextlib import closing
from pathlib import Path

import psycopg
import pytest

from tldw_Server_API.app.core.DB_Management.backends.target import PgTarget
from tldw_Server_API.app.core.DB_Management.migration.report import ProgressReporter
from tldw_Server_API.app.core.DB_Management.migration.results import DatabaseResult, UnitResult
from tldw_Server_API.app.core.DB_Management.migration_tools import run_cli
from tldw_Server_API.app.core.DB_Management.sample_data import generate, generate_installation
from tldw_Server_API.tests.DB_Management.conftest import media_row, pg_flags
from tldw_Server_API.tests.DB_Management.test_migration_users import pg_counts, schema_state

USERS = ["a", "b", "c"]
BAD_VALUE = "before\x00after"  # PostgreSQL cannot store a NUL byte in text: exit 2


def all_users(
    capsys: pytest.CaptureFixture[str], target: PgTarget, data_dir: Path, *extra: str
) -> tuple[int, dict, str]:
    """Run ``--all-users``; its exit code, its JSON report and its standard error."""
    report = data_dir.parent / "report.json"
    argv = ["--all-users", "--data-dir", str(data_dir), "--create-schema", "--quiet"]
    code = run_cli([*argv, *pg_flags(target), "--report", str(report), *extra], env={})
    _, err = capsys.readouterr()
    return code, json.loads(report.read_text()), err


def statuses(report: dict) -> dict[str, str]:
    return {unit["unit"]: unit["status"] for unit in report["units"]}


def user_schemas(target: PgTarget, user: str) -> list[str]:
    with psycopg.connect(target.conninfo()) as conn:
        rows = conn.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname = ANY(%s) ORDER BY 1",
            ([f"user_{user}_media", f"user_{user}_chacha"],),
        ).fetchall()
    return [r[0] for r in rows]


def media_path(data_dir: Path, user: str) -> Path:
    return data_dir / "user_databases" / user / "Media_DB_v2.db"


@pytest.fixture(scope="module")
def installation(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three tiny users and the server databases; b holds a value PostgreSQL refuses, c's
    Media file is not a database at all."""
    data_dir = tmp_path_factory.mktemp("all-users") / "Databases"
    generate_installation(data_dir, users=USERS, media_items=3)
    with closing(sqlite3.connect(media_path(data_dir, "b"))) as conn, conn:
        media_row(conn, 900, content=BAD_VALUE)
    media_path(data_dir, "c").write_bytes(b"this is not a SQLite database" * 40)
    return data_dir


def test_a_failing_user_is_left_as_it_was_and_a_rerun_redoes_only_it(
    installation: Path, pg_database: PgTarget, capsys: pytest.CaptureFixture[str]
) -> None:
    # b's schemas already hold an earlier migration of other files: they must stay as they are.
    earlier = installation.parent / "earlier"
    generate("media", earlier / "Media_DB_v2.db", size=2, seed=7)
    generate("chacha", earlier / "ChaChaNotes.db", size=2, seed=7)
    code = run_cli(
        [
            *("--content-sqlite", str(earlier / "Media_DB_v2.db")),
            *("--chacha-sqlite", str(earlier / "ChaChaNotes.db")),
            *("--user-id", "b", "--create-schema", "--quiet", *pg_flags(pg_database)),
        ],
        env={},
    )
    assert code == 0, capsys.readouterr()
    before = {s: schema_state(pg_database, s) for s in user_schemas(pg_database, "b")}

    code, report, err = all_users(capsys, pg_database, installation)

    assert code == 2
    assert statuses(report) == {
        "server databases": "migrated",
        "user a": "migrated",
        "user b": "failed",
        "user c": "failed",
    }
    last = err.strip().splitlines()[-1]
    assert last.startswith("error: 2 of 4 failed") and "user b, user c" in last, err
    for user in ("a",):
        mine = [db for db in report["databases"] if db["database"].endswith(f"(user {user})")]
        tables = [t for db in mine for t in db["tables"]]
        assert tables and all(t["verified"] for t in tables)
        assert pg_counts(pg_database, f"user_{user}_media", ["media"])["media"] == 3
    after = {s: schema_state(pg_database, s) for s in user_schemas(pg_database, "b")}
    assert after == before and len(before) == 2
    assert user_schemas(pg_database, "c") == []  # created by the run, gone with its failure

    # Fix both files; the re-run migrates those two only.
    with closing(sqlite3.connect(media_path(installation, "b"))) as conn, conn:
        conn.execute("DELETE FROM Media WHERE id = 900")
    media_path(installation, "c").unlink()
    generate("media", media_path(installation, "c"), size=3, seed=4)

    code, report, err = all_users(capsys, pg_database, installation)

    assert code == 0, err
    assert statuses(report) == {
        "server databases": "skipped",
        "user a": "skipped",
        "user b": "migrated",
        "user c": "migrated",
    }
    assert pg_counts(pg_database, "user_b_media", ["media"])["media"] == 3

    code, report, err = all_users(capsys, pg_database, installation, "--redo-all")

    assert code == 0, err
    assert set(statuses(report).values()) == {"migrated"}


def test_redo_all_needs_all_users(
    pg_database: PgTarget, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    generate("media", tmp_path / "m.db", size=1, seed=1)
    code = run_cli(
        ["--content-sqlite", str(tmp_path / "m.db"), "--redo-all", *pg_flags(pg_database)]
    )
    assert code == 2
    assert "--redo-all goes with --all-users" in capsys.readouterr().err


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_progress_bars_follow_units_on_a_terminal() -> None:
    screen = Terminal()
    reporter = ProgressReporter(screen, units=True)
    done = DatabaseResult("Media (user a)", "a.db", "user_a_media", status="migrated")
    with reporter.running():
        for n, user in enumerate(("a", "b"), 1):
            reporter("media", 1, 2)  # a table of this user's, its bar shown while it copies
            reporter.unit_done(UnitResult(f"user {user}", [done]), n, 2)
    last_frame = screen.getvalue().rsplit("\x1b[2K", 1)[-1]
    assert "units" in last_frame and "2/2" in last_frame and "migrated" in last_frame
