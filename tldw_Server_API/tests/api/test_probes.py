"""``/health`` and ``/ready`` when the database goes away, over a real socket.

A server runs on PostgreSQL; its database is then made unreachable for real
(its connections ended and the database renamed, so no new one can open): both
probes answer 503 until the database is back, then 200 again. (A SQLite file
cannot become unreachable to the process that holds it open.)
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest

from tldw_Server_API.app.core.DB_Management.backends.target import PgTarget
from tldw_Server_API.tests.api.test_cutover_end_to_end import server_pg_env, server_process
from tldw_Server_API.tests.postgres_harness import fresh_database

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]


@contextmanager
def database_away(server: PgTarget, name: str) -> Iterator[None]:
    """*name* renamed (its sessions ended first) for the duration; back afterwards."""
    away = f"{name}_away"
    with psycopg.connect(server.conninfo(), autocommit=True) as conn:
        for _attempt in range(50):  # a pool may reconnect between the two statements
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                (name,),
            )
            try:
                conn.execute(f'ALTER DATABASE "{name}" RENAME TO "{away}"')
                break
            except psycopg.errors.ObjectInUse:
                time.sleep(0.1)
        else:
            raise AssertionError(f"{name} stayed in use")
        try:
            yield
        finally:
            conn.execute(f'ALTER DATABASE "{away}" RENAME TO "{name}"')


def test_probes_say_unhealthy_while_the_database_is_unreachable(
    tmp_path: Path, pg_server: PgTarget
) -> None:
    with (
        fresh_database(pg_server) as target,
        server_process(
            tmp_path, "server.log", TLDW_WORKFLOW_WORKERS="0", **server_pg_env(target)
        ) as live,
    ):
        assert live.client.get("/health").json() == {"status": "healthy"}
        with database_away(pg_server, target.database):
            health = live.client.get("/health")
            assert health.status_code == 503 and health.json() == {"status": "unhealthy"}
            ready = live.client.get("/ready")
            assert ready.status_code == 503 and ready.json() == {"status": "not_ready"}
        health = live.client.get("/health")
        assert health.status_code == 200 and health.json() == {"status": "healthy"}
