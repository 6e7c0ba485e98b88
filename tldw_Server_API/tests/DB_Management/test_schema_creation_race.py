"""Server processes starting together on an empty PostgreSQL create each schema once."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from tldw_Server_API.app.core.DB_Management.backends.base import Database
from tldw_Server_API.app.core.DB_Management.backends.postgres import PostgresBackend
from tldw_Server_API.app.core.DB_Management.backends.target import PgTarget
from tldw_Server_API.app.core.DB_Management.schemas.chacha import SCHEMA
from tldw_Server_API.app.core.DB_Management.schemas.manager import SchemaState, ensure_schema

OPENERS = 6


@pytest.fixture
def backends(pg_database: PgTarget) -> Iterator[list[PostgresBackend]]:
    """One backend (engine and pool) per opener, as separate server processes have."""
    made = [PostgresBackend(pg_database, pool_size=1, max_overflow=0) for _ in range(OPENERS)]
    yield made
    for backend in made:
        backend.dispose()


def test_openers_racing_on_a_new_schema_all_succeed_and_one_creates_it(
    backends: list[PostgresBackend],
) -> None:
    start = threading.Barrier(OPENERS)
    states: list[SchemaState] = []
    errors: list[BaseException] = []

    def open_at_once(backend: PostgresBackend) -> None:
        database = Database(backend=backend, schema=SCHEMA, namespace="user_race_chacha")
        start.wait()
        try:
            states.append(ensure_schema(database))
        except BaseException as exc:  # reported below, with every other opener's outcome
            errors.append(exc)

    threads = [threading.Thread(target=open_at_once, args=(b,)) for b in backends]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    assert sorted(state.outcome for state in states) == ["created"] + ["current"] * (OPENERS - 1)
