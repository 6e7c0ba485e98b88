"""Shared fixtures: a real PostgreSQL (see postgres_harness) and fresh databases on it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tldw_Server_API.app.core.DB_Management.backends.target import PgTarget
from tldw_Server_API.tests.postgres_harness import choose_test_server, fresh_database


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgTarget]:
    """The maintenance database of the test PostgreSQL server."""
    with choose_test_server() as (target, source):
        print(f"\n[tests] PostgreSQL from {source}: {target.describe()}")
        yield target


@pytest.fixture(scope="module")
def pg_target(pg_server: PgTarget) -> Iterator[PgTarget]:
    """A fresh, empty database for one test module."""
    with fresh_database(pg_server) as target:
        yield target


@pytest.fixture
def pg_database(pg_server: PgTarget) -> Iterator[PgTarget]:
    """A fresh, empty database for one test."""
    with fresh_database(pg_server) as target:
        yield target
