"""A database that cannot be reached or opened: one clear line, wherever it happens.

The server at start-up, ``init_db``, ``tldw-embed`` and the migration tool run as subprocesses
against the test PostgreSQL server (a database that does not exist, a port
nothing listens on, a role that does not exist) or an unusable SQLite data
directory. Each prints one line naming host, port, database and user and what
to do, with no traceback (``TLDW_DEBUG=1`` adds it) and no password.
"""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tldw_Server_API.app.core.DB_Management.backends.target import PgTarget
from tldw_Server_API.app.core.DB_Management.sample_data import generate
from tldw_Server_API.tests.api.test_cutover_end_to_end import clean_env, free_port

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

PASSWORD = "pw-never-in-output-7Hq"
MISSING_DATABASE = "tldw_no_such_database_x1"
SERVER = [sys.executable, "-m", "tldw_Server_API.app.main"]
INIT_DB = [sys.executable, "-m", "tldw_Server_API.app.core.DB_Management.init_db"]
MIGRATE = [sys.executable, "-m", "tldw_Server_API.app.core.DB_Management.migration_tools"]
EMBED = [sys.executable, "-m", "tldw_Server_API.app.core.RAG.embed_existing", "--user-id", "1"]


def pg_env(target: PgTarget, **changes: str) -> dict[str, str]:
    return {
        "TLDW_CONTENT_DB_BACKEND": "postgresql",
        "TLDW_PG_HOST": target.host,
        "TLDW_PG_PORT": str(target.port),
        "TLDW_PG_DATABASE": target.database,
        "TLDW_PG_USER": target.user,
        "TLDW_PG_PASSWORD": PASSWORD,
    } | changes


def run(tmp_path: Path, command: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    """*command* to its end (a server that cannot start ends by itself), output merged."""
    return subprocess.run(
        command,
        cwd=tmp_path,
        env=clean_env(tmp_path, **env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=90,
    )


def failure_lines(output: str) -> list[str]:
    return [
        line for line in output.splitlines() if "cannot connect" in line or "cannot open" in line
    ]


def assert_one_clear_line(output: str, *expected: str) -> str:
    lines = failure_lines(output)
    assert len(lines) == 1, output
    for part in expected:
        assert part in lines[0], output
    assert "Traceback" not in output
    assert PASSWORD not in output
    return lines[0]


def createdb_hint(target: PgTarget) -> str:
    return f"createdb -h {target.host} -p {target.port} -U {target.user} {MISSING_DATABASE}"


def unused_port() -> int:
    port = free_port()
    with socket.socket() as probe:  # nothing listens there once the probe closed
        assert probe.connect_ex(("127.0.0.1", port)) != 0
    return port


def test_server_on_a_missing_database_says_how_to_create_it(
    tmp_path: Path, pg_server: PgTarget
) -> None:
    env = pg_env(pg_server, TLDW_PG_DATABASE=MISSING_DATABASE)
    result = run(tmp_path, [*SERVER, "--port", str(free_port())], **env)
    assert result.returncode == 3, result.stdout
    line = assert_one_clear_line(
        result.stdout,
        f"PostgreSQL at {pg_server.host}:{pg_server.port}",
        f"database '{MISSING_DATABASE}'",
        f"user '{pg_server.user}'",
        createdb_hint(pg_server),
    )
    assert "does not exist" in line
    assert len(result.stdout.splitlines()) <= 5, result.stdout


def test_server_shows_the_traceback_when_debugging(tmp_path: Path, pg_server: PgTarget) -> None:
    env = pg_env(pg_server, TLDW_PG_DATABASE=MISSING_DATABASE, TLDW_DEBUG="1")
    result = run(tmp_path, [*SERVER, "--port", str(free_port())], **env)
    assert result.returncode == 3, result.stdout
    assert "Traceback" in result.stdout
    assert createdb_hint(pg_server) in result.stdout
    assert PASSWORD not in result.stdout


def test_server_on_an_unusable_sqlite_directory_names_it(tmp_path: Path) -> None:
    not_a_directory = tmp_path / "a-file"
    not_a_directory.write_text("")
    result = run(
        tmp_path,
        [*SERVER, "--port", str(free_port())],
        TLDW_DATA_DIR=str(not_a_directory / "Databases"),
    )
    assert result.returncode == 3, result.stdout
    assert_one_clear_line(result.stdout, str(not_a_directory), "TLDW_DATA_DIR")


def test_init_db_on_a_missing_database_says_how_to_create_it(
    tmp_path: Path, pg_server: PgTarget
) -> None:
    result = run(tmp_path, INIT_DB, **pg_env(pg_server, TLDW_PG_DATABASE=MISSING_DATABASE))
    assert result.returncode == 3, result.stdout
    assert_one_clear_line(result.stdout, createdb_hint(pg_server))
    assert len(result.stdout.splitlines()) == 1, result.stdout


def test_init_db_on_a_port_nothing_listens_on_says_what_to_check(
    tmp_path: Path, pg_server: PgTarget
) -> None:
    port = unused_port()
    result = run(tmp_path, INIT_DB, **pg_env(pg_server, TLDW_PG_PORT=str(port)))
    assert result.returncode == 3, result.stdout
    assert_one_clear_line(
        result.stdout, f"{pg_server.host}:{port}", "is PostgreSQL running", "TLDW_PG_PORT"
    )


def test_embed_on_a_missing_database_says_how_to_create_it(
    tmp_path: Path, pg_server: PgTarget
) -> None:
    result = run(tmp_path, EMBED, **pg_env(pg_server, TLDW_PG_DATABASE=MISSING_DATABASE))
    assert result.returncode == 3, result.stdout
    assert_one_clear_line(result.stdout, createdb_hint(pg_server))


def test_embed_shows_the_traceback_when_debugging(tmp_path: Path, pg_server: PgTarget) -> None:
    env = pg_env(pg_server, TLDW_PG_DATABASE=MISSING_DATABASE, TLDW_DEBUG="1")
    result = run(tmp_path, EMBED, **env)
    assert result.returncode == 3, result.stdout
    assert "Traceback" in result.stdout
    assert createdb_hint(pg_server) in result.stdout
    assert PASSWORD not in result.stdout


def test_init_db_with_an_unknown_role_says_how_to_create_it(
    tmp_path: Path, pg_server: PgTarget
) -> None:
    result = run(tmp_path, INIT_DB, **pg_env(pg_server, TLDW_PG_USER="tldw_no_such_role"))
    assert result.returncode == 3, result.stdout
    assert_one_clear_line(result.stdout, "role 'tldw_no_such_role' does not exist", "createuser")


def test_migration_tool_on_a_missing_database_says_how_to_create_it(
    tmp_path: Path, pg_server: PgTarget
) -> None:
    source = tmp_path / "workflows.db"
    generate("workflows", source, size=3)
    flags = [
        "--workflows-sqlite",
        str(source),
        "--pg-host",
        pg_server.host,
        "--pg-port",
        str(pg_server.port),
        "--pg-user",
        pg_server.user,
        "--pg-database",
        MISSING_DATABASE,
    ]
    result = run(tmp_path, [*MIGRATE, *flags], PGPASSWORD=PASSWORD)
    assert result.returncode == 3, result.stdout
    assert_one_clear_line(result.stdout, createdb_hint(pg_server))
