"""Secrets and user content never reach the logs.

A password in any form the settings accept (a URI in ``TLDW_PG_HOST``, key=value
pairs, a URI query) is masked or refused without echoing it; API keys and search
queries never appear in a real server's log (the access log keeps query names,
not values); database errors are logged by kind and constraint, not by the
values the driver quotes.
"""

from __future__ import annotations

import logging
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import sqlalchemy
from sqlalchemy.exc import IntegrityError

from tldw_Server_API.app.core.config import ConfigError, load_settings
from tldw_Server_API.app.core.DB_Management.backends.target import PgTarget
from tldw_Server_API.app.core.redaction import (
    RedactingFilter,
    describe_db_error,
    redact_secrets,
    without_query_values,
)
from tldw_Server_API.tests.api.test_cutover_end_to_end import (
    KEY,
    LiveServer,
    clean_env,
    free_port,
    server_process,
)

SECRET = "s3cret-Pw-9xQ"
QUERY_WORD = "confidentialdiagnosis"


# -- every form of a password is masked ------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        f"postgresql://alice:{SECRET}@db.example/tldw",
        f"postgres://alice:{SECRET}@db.example:5433",
        f"alice:{SECRET}@db.example",
        f"could not translate host name postgresql://alice:{SECRET}@db/x",
        f"host=db.example password={SECRET} dbname=tldw",
        f"host=db.example password = '{SECRET} with spaces' dbname=tldw",
        f"postgresql://db.example/tldw?user=alice&password={SECRET}&sslmode=require",
    ],
)
def test_every_password_form_is_masked(text: str) -> None:
    redacted = redact_secrets(text)
    assert SECRET not in redacted
    assert "****" in redacted


def test_known_secret_values_are_masked_wherever_they_appear() -> None:
    assert redact_secrets(f"key {SECRET} rejected", SECRET) == "key **** rejected"


def test_query_values_are_masked_and_names_kept() -> None:
    masked = without_query_values(f"/api/v1/claims/search?q={QUERY_WORD}&limit=5")
    assert masked == "/api/v1/claims/search?q=****&limit=****"
    assert without_query_values("/api/v1/health") == "/api/v1/health"


def test_the_log_filter_masks_messages_and_their_arguments(
    caplog: pytest.LogCaptureFixture,
) -> None:
    logger = logging.getLogger("tldw.test.redaction")
    caplog.handler.addFilter(RedactingFilter([SECRET]))
    with caplog.at_level(logging.INFO, logger=logger.name):
        logger.info("connecting to %s", f"postgresql://u:{SECRET}@h/db")
        logger.info("key %s", SECRET)
    assert SECRET not in caplog.text
    assert len(caplog.records) == 2


# -- settings that would echo a password are refused without it -----------------------------


@pytest.mark.parametrize(
    "variable, value",
    [
        ("TLDW_PG_HOST", f"postgresql://alice:{SECRET}@db.example/tldw"),
        ("TLDW_PG_HOST", f"alice:{SECRET}@db.example"),
        ("PGHOST", f"postgres://alice:{SECRET}@db.example"),
        ("TLDW_PG_DATABASE", f"dbname=tldw password={SECRET}"),
        ("TLDW_PG_USER", f"user=alice password={SECRET}"),
    ],
)
def test_a_connection_string_in_one_setting_is_refused_without_its_password(
    tmp_path: Path, variable: str, value: str
) -> None:
    env = {"TLDW_CONTENT_DB_BACKEND": "postgresql", variable: value}
    with pytest.raises(ConfigError) as info:
        load_settings(env=env, config_file=tmp_path / "none.txt")
    assert variable in str(info.value)
    assert SECRET not in str(info.value)


def test_server_started_with_a_uri_host_exits_2_without_the_password(tmp_path: Path) -> None:
    env = clean_env(
        tmp_path,
        TLDW_CONTENT_DB_BACKEND="postgresql",
        TLDW_PG_HOST=f"postgresql://alice:{SECRET}@127.0.0.1/tldw",
    )
    result = subprocess.run(
        [sys.executable, "-m", "tldw_Server_API.app.main", "--port", str(free_port())],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "TLDW_PG_HOST" in result.stderr
    assert SECRET not in result.stdout + result.stderr


# -- a running server's log ------------------------------------------------------------------


@pytest.fixture
def logged_server(tmp_path: Path) -> Iterator[LiveServer]:
    with server_process(tmp_path, "server.log", access_log=True) as live:
        yield live


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_server_log_holds_no_api_key_and_no_search_query(logged_server: LiveServer) -> None:
    client = logged_server.client
    assert client.get("/api/v1/claims/search", params={"q": QUERY_WORD}).status_code == 200
    assert client.post("/api/v1/media/search", json={"query": QUERY_WORD}).status_code == 200
    assert client.get("/api/v1/notes/search", params={"query": QUERY_WORD}).status_code == 200
    wrong_key = {"X-API-KEY": f"wrong-{SECRET}"}
    assert client.get("/api/v1/media/", headers=wrong_key).status_code == 401
    bearer = {"Authorization": f"Bearer {KEY}", "X-API-KEY": ""}
    assert client.get("/api/v1/media/", headers=bearer).status_code == 200
    logged_server.process.terminate()
    logged_server.process.wait(timeout=30)

    log = logged_server.log_path.read_text(errors="replace")
    assert "GET /api/v1/claims/search?q=**** " in log  # the request is logged, its query not
    assert QUERY_WORD not in log
    assert KEY not in log
    assert SECRET not in log


# -- database errors are logged without the values they quote --------------------------------


def test_a_sqlite_constraint_error_is_described_without_its_values() -> None:
    engine = sqlalchemy.create_engine("sqlite://")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (title TEXT UNIQUE)")
        conn.exec_driver_sql("INSERT INTO t VALUES (?)", (QUERY_WORD,))
    with pytest.raises(IntegrityError) as info, engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO t VALUES (?)", (QUERY_WORD,))
    assert isinstance(info.value.orig, sqlite3.IntegrityError)
    described = describe_db_error(info.value)
    assert described == "IntegrityError"
    assert QUERY_WORD not in described


def test_a_postgresql_constraint_error_is_described_without_its_values(
    pg_database: PgTarget,
) -> None:
    with psycopg.connect(pg_database.conninfo(), autocommit=True) as conn:
        conn.execute("CREATE TABLE t (title TEXT CONSTRAINT t_title_key UNIQUE)")
        conn.execute("INSERT INTO t VALUES (%s)", (QUERY_WORD,))
        with pytest.raises(psycopg.errors.UniqueViolation) as info:
            conn.execute("INSERT INTO t VALUES (%s)", (QUERY_WORD,))
    assert QUERY_WORD in str(info.value)  # the driver quotes it ...
    described = describe_db_error(info.value)
    assert QUERY_WORD not in described  # ... the log line does not
    assert described == "UniqueViolation, SQLSTATE 23505, constraint t_title_key, table t"
