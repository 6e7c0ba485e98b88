"""Accounts move with the rest: SQLite → PostgreSQL with the migration tool's ``--all-users``.

A multi-user server on SQLite signs bob in and he writes a note; the server
stops; the migration command carries the whole data directory, the Users
database included, into a fresh PostgreSQL database; a server on PostgreSQL
then signs bob in with the same password, his refresh token from before still
refreshes, and his note is there. The stored hashes are the same bytes.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import psycopg
import pytest

from tldw_Server_API.app.core.DB_Management.backends.target import PgTarget
from tldw_Server_API.tests.api.signin_server import PASSWORDS, SignInServer, signin_server
from tldw_Server_API.tests.api.test_cutover_end_to_end import (
    clean_env,
    server_pg_env,
    server_process,
)
from tldw_Server_API.tests.DB_Management.test_migration_cli_integration import pg_flags
from tldw_Server_API.tests.postgres_harness import fresh_database

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

MIGRATE = [sys.executable, "-m", "tldw_Server_API.app.core.DB_Management.migration_tools"]


def migrate_all(tmp_path: Path, target: PgTarget) -> subprocess.CompletedProcess[str]:
    env = clean_env(tmp_path)
    if target.password is not None:
        env["PGPASSWORD"] = target.password.get_secret_value()
    return subprocess.run(
        [
            *MIGRATE,
            "--all-users",
            "--data-dir",
            str(tmp_path / "Databases"),
            *pg_flags(target),
            "--create-schema",
            "--quiet",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


def sqlite_hashes(data_dir: Path) -> dict[str, str]:
    with closing(sqlite3.connect(data_dir / "tldw_users.db")) as conn:
        return dict(conn.execute("SELECT username, password_hash FROM users").fetchall())


def postgres_hashes(target: PgTarget) -> dict[str, str]:
    with psycopg.connect(target.conninfo()) as conn:
        rows = conn.execute("SELECT username, password_hash FROM users.users").fetchall()
    return {str(name): str(digest) for name, digest in rows}


def test_accounts_sessions_and_their_data_move_to_postgresql(
    tmp_path: Path, pg_server: PgTarget
) -> None:
    with signin_server(tmp_path, {}) as on_sqlite:
        tokens = on_sqlite.tokens("bob")
        note = on_sqlite.call(
            "POST", "/api/v1/notes", tokens["access_token"], json={"title": "moved", "content": "x"}
        )
        assert note.status_code == 201, note.text
        env = on_sqlite.env
    before = sqlite_hashes(tmp_path / "Databases")
    assert set(before) == set(PASSWORDS)

    with fresh_database(pg_server) as target:
        migration = migrate_all(tmp_path, target)
        assert migration.returncode == 0, migration.stdout + migration.stderr
        assert postgres_hashes(target) == before

        pg_env = env | server_pg_env(target)
        with server_process(tmp_path, "postgres.log", **pg_env) as live:
            on_pg = SignInServer(live, tmp_path, pg_env)
            assert "Users: PostgreSQL at" in live.log_path.read_text()
            assert on_pg.login("bob", PASSWORDS["bob"]).status_code == 200
            renewed = on_pg.call(
                "POST", "/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
            )
            assert renewed.status_code == 200, renewed.text
            token = renewed.json()["access_token"]
            read = on_pg.call("GET", f"/api/v1/notes/{note.json()['id']}", token)
            assert read.status_code == 200 and read.json()["title"] == "moved"
