"""The PostgreSQL pool pings a connection at checkout only when it sat idle."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from sqlalchemy import text

from tldw_Server_API.app.core.DB_Management.backends.postgres import PostgresBackend
from tldw_Server_API.app.core.DB_Management.backends.target import PgTarget


def _backend(target: PgTarget, ping_after_idle: float) -> Iterator[PostgresBackend]:
    backend = PostgresBackend(target, pool_size=1, max_overflow=0, ping_after_idle=ping_after_idle)
    try:
        yield backend
    finally:
        backend.dispose()


@pytest.fixture
def pings(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the pings of every PostgreSQL dialect (they still reach the server)."""
    from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg

    counted: list[int] = []
    original = PGDialect_psycopg.do_ping

    def counting(self: Any, dbapi_connection: Any) -> bool:
        counted.append(1)
        return bool(original(self, dbapi_connection))

    monkeypatch.setattr(PGDialect_psycopg, "do_ping", counting)
    return counted


def _server_pid(backend: PostgresBackend) -> int:
    with backend.begin(None, write=False) as conn:
        return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _terminate(target: PgTarget, pid: int) -> None:
    with psycopg.connect(target.conninfo(), autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))


def test_a_connection_used_a_moment_ago_is_not_pinged(
    pg_target: PgTarget, pings: list[int]
) -> None:
    for backend in _backend(pg_target, ping_after_idle=60.0):
        first = _server_pid(backend)
        second = _server_pid(backend)

        assert first == second  # the same pooled connection, handed out twice
        assert pings == []


def test_an_idle_connection_the_server_dropped_is_replaced_at_checkout(
    pg_target: PgTarget, pings: list[int]
) -> None:
    for backend in _backend(pg_target, ping_after_idle=0.0):
        dropped = _server_pid(backend)
        _terminate(pg_target, dropped)

        replacement = _server_pid(backend)

        assert replacement != dropped
        assert pings  # found out by the ping, not by the query
