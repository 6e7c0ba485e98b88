"""A user's installation, as their server left it, moves whole and keeps working.

The files are those of a current installation (their Media schema 23: tables and columns our
schema does not know, a user's own column and table, queued workflow runs whose snapshots lack a
name, runs using step types we do not have, runs waiting for a human). The guide's Step 2 command
runs on them verbatim with no ``--skip-table``; then the server, started on PostgreSQL, serves the
data and finishes every run that was pending. The server started on SQLite over the files
themselves (current, and late 2025) serves them without any manual step.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import psycopg
import pytest

from tldw_Server_API.app.core.DB_Management.backends.target import PgTarget
from tldw_Server_API.app.core.DB_Management.sample_data import generate_installation
from tldw_Server_API.tests.api.test_cutover_end_to_end import (
    clean_env,
    ok,
    server,
    server_pg_env,
)
from tldw_Server_API.tests.postgres_harness import fresh_database

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

GUIDE_FILES = {  # generated place -> the guide's place (relative to the directory it runs in)
    "Databases/user_databases/1/Media_DB_v2.db": "Databases/user_databases/1/Media_DB_v2.db",
    "Databases/user_databases/1/ChaChaNotes.db": "Databases/user_databases/default/ChaChaNotes.db",
    "Databases/Analytics.db": "Analytics.db",
    "Databases/workflows.db": "Databases/workflows.db",
}
FINAL = {"succeeded", "failed", "cancelled"}
# Their rows hold flags as 0/1 and, where written by hand, as 'true'/'false'.
LIVE_MEDIA = "FROM Media WHERE deleted IN (0, 'false') AND is_trash IN (0, 'false')"
WAITING = {"waiting_approval", "waiting_human", "paused"}


def _installation(root: Path, layout: str) -> Path:
    generate_installation(root / "Databases", users=("1",), media_items=24, seed=11, layout=layout)
    return root


def _sqlite(path: Path, sql: str) -> list[tuple]:
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        return conn.execute(sql).fetchall()


def _guide_step_2(root: Path, target: PgTarget) -> subprocess.CompletedProcess[str]:
    """Step 1's variables exported, then Step 2's command as the guide prints it."""
    env = clean_env(root) | {
        "PGHOST": target.host,
        "PGPORT": str(target.port),
        "PGDATABASE": target.database,
        "PGUSER": target.user,
    }
    if target.password is not None:
        env["PGPASSWORD"] = target.password.get_secret_value()
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "tldw_Server_API.app.core.DB_Management.migration_tools",
            "--content-sqlite",
            "Databases/user_databases/1/Media_DB_v2.db",
            "--chacha-sqlite",
            "Databases/user_databases/default/ChaChaNotes.db",
            "--analytics-sqlite",
            "Analytics.db",
            "--workflows-sqlite",
            "Databases/workflows.db",
            "--pg-host",
            env["PGHOST"],
            "--pg-port",
            env["PGPORT"],
            "--pg-database",
            env["PGDATABASE"],
            "--pg-user",
            env["PGUSER"],
            "--batch-size",
            "500",
            "--report",
            "report.json",
        ],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )


def _prepare_schema(root: Path, target: PgTarget) -> None:
    """The guide's prerequisite: the server's schema exists on PostgreSQL."""
    init = subprocess.run(
        [sys.executable, "-m", "tldw_Server_API.app.core.DB_Management.init_db"],
        cwd=root,
        env=clean_env(root) | server_pg_env(target),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert init.returncode == 0, init.stdout + init.stderr


def _pending_runs(workflows_db: Path) -> dict[str, str]:
    return dict(
        _sqlite(
            workflows_db,
            "SELECT run_id, status FROM workflow_runs WHERE status IN ('queued', 'running')",
        )
    )


def _wait_until_settled(
    target: PgTarget, run_ids: list[str], settled: set[str], patience: float = 90.0
) -> dict[str, tuple[str, str | None, str]]:
    """Status, error and owner of *run_ids* once every status is in *settled* (or patience
    runs out: the caller's assertion then names the runs still moving)."""
    deadline = time.monotonic() + patience
    while True:
        with psycopg.connect(target.conninfo()) as conn:
            rows = conn.execute(
                "SELECT run_id, status, error, user_id FROM workflows.workflow_runs "
                "WHERE run_id = ANY(%s)",
                (run_ids,),
            ).fetchall()
        states = {run_id: (status, error, user) for run_id, status, error, user in rows}
        done = all(status in settled for status, _, _ in states.values())
        if done or time.monotonic() > deadline:
            return states
        time.sleep(0.5)


def test_a_current_installation_migrates_whole_and_keeps_running(
    tmp_path: Path, pg_server: PgTarget
) -> None:
    generated = _installation(tmp_path / "generated", "current")
    root = tmp_path / "guide"
    for source, place in GUIDE_FILES.items():
        (root / place).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(generated / source, root / place)
    media_db = root / "Databases/user_databases/1/Media_DB_v2.db"
    workflows_db = root / "Databases/workflows.db"
    pending = _pending_runs(workflows_db)
    assert pending, "the installation should hold queued and running runs"
    live_media = _sqlite(media_db, f"SELECT count(*) {LIVE_MEDIA}")
    title = _sqlite(media_db, f"SELECT title {LIVE_MEDIA} ORDER BY id")[0][0]

    with fresh_database(pg_server) as target:
        _prepare_schema(root, target)
        migration = _guide_step_2(root, target)
        assert migration.returncode == 0, migration.stdout + migration.stderr

        report = json.loads((root / "report.json").read_text())
        assert report["exit_code"] == 0
        tables = [t for db in report["databases"] for t in db["tables"]]
        unverified = [t["target"] for t in tables if not t["verified"]]
        assert unverified == []
        carried = {line for db in report["databases"] for line in db["carried"]}
        for name in ("tts_history", "data_tables", "email_messages", "content_items"):
            assert f"table user_1_media.{name}" in carried
        assert "column user_1_media.media.my_rating" in carried
        assert "carried" in migration.stdout

        with server(tmp_path, "postgres.log", **server_pg_env(target)) as (client, _log):
            media = ok(client.get("/api/v1/media/", params={"results_per_page": 1000}))
            assert media["pagination"]["total"] == live_media[0][0]
            found = ok(client.post("/api/v1/media/search", json={"query": f'"{title}"'}))
            assert found["items"], title
            assert ok(client.get("/api/v1/notes/"))["items"]

            # Every pending run runs: to its end, or to a step that waits for a person.
            states = _wait_until_settled(target, list(pending), FINAL | WAITING)
            moving = {r: s for r, s in states.items() if s[0] not in FINAL | WAITING}
            assert moving == {}
            for status, error, _ in states.values():
                if status == "failed":
                    assert "step type" in (error or ""), error
            status = ok(client.get("/api/v1/workflows/status"))
            assert (status["queue"]["queued"], status["queue"]["running"]) == (0, 0)
            unavailable = [e for st, e, _ in states.values() if st == "failed" and e]
            assert status["recent"]["failed_unavailable_step_type"] == len(unavailable)

            # ... and a person can take the waiting ones the rest of the way.
            waiting = [r for r, (status, _, user) in states.items() if status in WAITING]
            mine = [r for r in waiting if states[r][2] == "1"]
            for run_id in mine:
                ok(client.post(f"/api/v1/workflows/runs/{run_id}/approve", json={}))
            approved = _wait_until_settled(target, mine, FINAL)
            assert {r: s[0] for r, s in approved.items() if s[0] not in FINAL} == {}


@pytest.mark.parametrize("layout", ["current", "late-2025", "early"])
def test_the_server_on_sqlite_opens_an_installation_as_it_is(tmp_path: Path, layout: str) -> None:
    root = _installation(tmp_path, layout)
    media_db = root / "Databases/user_databases/1/Media_DB_v2.db"
    live = _sqlite(media_db, f"SELECT count(*) {LIVE_MEDIA}")
    title = _sqlite(media_db, f"SELECT title {LIVE_MEDIA} ORDER BY id")[0][0]
    notes = _sqlite(
        root / "Databases/user_databases/1/ChaChaNotes.db",
        "SELECT count(*) FROM notes WHERE deleted IN (0, 'false')",
    )

    with server(tmp_path, f"sqlite-{layout}.log") as (client, _log):
        listed = ok(client.get("/api/v1/media/", params={"results_per_page": 1000}))
        assert listed["pagination"]["total"] == live[0][0]
        found = ok(client.post("/api/v1/media/search", json={"query": f'"{title}"'}))["items"]
        assert found
        assert ok(client.get("/api/v1/notes/", params={"limit": 1000}))["total"] == notes[0][0]
        form = {"media_type": "document", "title": "Written after opening"}
        files = [("files", ("new.txt", b"new", "text/plain"))]
        new = ok(client.post("/api/v1/media/add", data=form, files=files))["results"][0]
        detail = ok(client.get(f"/api/v1/media/{new['db_id']}"))
        assert detail["source"]["title"] == "Written after opening"

    copies = list(media_db.parent.glob("Media_DB_v2.db.before-tldw-v*.bak"))
    assert len(copies) == 1
