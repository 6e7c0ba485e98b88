"""Shared fixtures: a real PostgreSQL (see postgres_harness) and fresh databases on it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tldw_Server_API.app.core.config import Settings, load_settings
from tldw_Server_API.app.core.DB_Management.backends.target import PgTarget
from tldw_Server_API.app.core.DB_Management.registry import DatabaseRegistry
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


def settings_for(
    kind: str, data_dir: Path, target: PgTarget | None = None, **extra: object
) -> Settings:
    """Settings for *kind* ("sqlite" or "postgresql") with files under *data_dir*."""
    values: dict[str, object] = {"content_db_backend": kind, "data_dir": data_dir}
    if target is not None:
        values |= {
            "pg_host": target.host,
            "pg_port": target.port,
            "pg_database": target.database,
            "pg_user": target.user,
            "pg_password": target.password,
        }
    return load_settings(env={}, config_file=data_dir / "no-config.txt", **(values | extra))


@pytest.fixture(params=["sqlite", "postgresql"])
def backend_kind(request: pytest.FixtureRequest) -> str:
    """Run the test once per backend."""
    return str(request.param)


@pytest.fixture
def settings(backend_kind: str, tmp_path: Path, pg_server: PgTarget) -> Iterator[Settings]:
    """Settings for a fresh installation on the parametrised backend."""
    if backend_kind == "sqlite":
        yield settings_for("sqlite", tmp_path / "Databases")
        return
    with fresh_database(pg_server) as target:
        yield settings_for("postgresql", tmp_path / "Databases", target)


@pytest.fixture
def registry(settings: Settings) -> Iterator[DatabaseRegistry]:
    """Handles to a fresh installation's databases on the parametrised backend."""
    registry = DatabaseRegistry(settings)
    try:
        yield registry
    finally:
        registry.close()
