"""``GET /api/v1/migrations``: the runs the migration tool recorded in the server's database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tldw_Server_API.app.core.config import Settings
from tldw_Server_API.app.core.DB_Management.backends.target import PgTarget
from tldw_Server_API.app.core.DB_Management.migration.run import (
    MigrationOptions,
    SourceFile,
    migrate,
)
from tldw_Server_API.app.core.DB_Management.sample_data import generate
from tldw_Server_API.app.main import create_app
from tldw_Server_API.tests.api.conftest import AUTH, multi_user_clients, with_key
from tldw_Server_API.tests.conftest import settings_for
from tldw_Server_API.tests.postgres_harness import fresh_database


@pytest.fixture
def migrated(pg_server: PgTarget, tmp_path: Path) -> Iterator[Settings]:
    """Settings of a server on a PostgreSQL database one migration filled."""
    source = tmp_path / "Media_DB_v2.db"
    generate("media", source, size=5, seed=2)
    with fresh_database(pg_server) as target:
        result = migrate(
            MigrationOptions(
                sources=[SourceFile("media", source, "1")], target=target, create_schema=True
            )
        )
        assert result.exit_code == 0
        yield settings_for("postgresql", tmp_path / "Databases", target)


def test_a_recorded_migration_is_listed_and_readable(migrated: Settings) -> None:
    with TestClient(create_app(with_key(migrated)), headers=AUTH) as client:
        listing = client.get("/api/v1/migrations").json()
        assert listing["total"] == 1
        [summary] = listing["migrations"]
        assert summary["exit_code"] == 0
        assert summary["reason"].startswith("success")
        one = client.get(f"/api/v1/migrations/{summary['id']}").json()
    [database] = one["report"]
    assert database["namespace"] == "user_1_media"
    media = next(t for t in database["tables"] if t["target"].endswith(".media"))
    assert (media["source_rows"], media["target_rows"], media["verified"]) == (5, 5, True)
    assert summary["tables"] == len(database["tables"])


def test_an_unknown_migration_is_404(migrated: Settings) -> None:
    with TestClient(create_app(with_key(migrated)), headers=AUTH) as client:
        response = client.get("/api/v1/migrations/42")
    assert response.status_code == 404
    assert response.json()["detail"] == "no migration 42"


@pytest.mark.parametrize("backend_kind", ["sqlite"])
def test_a_server_on_sqlite_lists_no_migration(client: TestClient) -> None:
    listing = client.get("/api/v1/migrations").json()
    assert (listing["total"], listing["migrations"]) == (0, [])
    assert client.get("/api/v1/migrations/1").status_code == 404


def test_only_admins_read_migrations_in_multi_user_mode(migrated: Settings, tmp_path: Path) -> None:
    with multi_user_clients(migrated, tmp_path, admin_users=("alice",)) as (alice, bob):
        assert alice.get("/api/v1/migrations").json()["total"] == 1
        refused = bob.get("/api/v1/migrations")
        assert refused.status_code == 403
        assert "admin" in refused.json()["detail"]
        assert bob.get("/api/v1/migrations/1").status_code == 403
