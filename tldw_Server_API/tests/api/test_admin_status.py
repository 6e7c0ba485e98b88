"""``/api/v1/workflows/status`` in multi-user mode: where the server runs is for admins only.

``TLDW_ADMIN_USERS`` lists the admins; every other user sees the queue, the
runtime's health and anonymous workers, not the database's location nor the
workers' hosts and process ids.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tldw_Server_API.app.core.config import ConfigError, Settings, load_settings
from tldw_Server_API.tests.api.conftest import multi_user_clients


@pytest.fixture
def admin_and_user(settings: Settings, tmp_path: Path) -> Iterator[tuple[TestClient, TestClient]]:
    """(alice, bob) with one workflow worker thread; alice is the admin."""
    with multi_user_clients(
        settings,
        tmp_path,
        admin_users=("alice",),
        workflow_workers=1,
        workflow_worker_mode="thread",
    ) as clients:
        yield clients


def status_with_a_worker(client: TestClient) -> dict[str, Any]:
    """The status once the worker has sent its first heartbeat (at most ~30 s)."""
    for _ in range(300):
        status = client.get("/api/v1/workflows/status")
        assert status.status_code == 200, status.text
        if status.json()["workers"]:
            return status.json()
        time.sleep(0.1)
    raise AssertionError("no workflow worker registered")


def test_an_admin_sees_where_the_database_and_workers_are(
    admin_and_user: tuple[TestClient, TestClient],
) -> None:
    alice, _ = admin_and_user
    status = status_with_a_worker(alice)

    assert status["database"]
    assert {"hostname", "pid"} <= set(status["workers"][0])


def test_a_user_who_is_not_an_admin_sees_no_database_location_nor_worker_hosts(
    admin_and_user: tuple[TestClient, TestClient],
) -> None:
    alice, bob = admin_and_user
    database = status_with_a_worker(alice)["database"]
    response = bob.get("/api/v1/workflows/status")

    status = response.json()
    assert "database" not in status
    assert status["workers"] and not {"hostname", "pid"} & set(status["workers"][0])
    assert database not in response.text
    assert status["queue"] is not None


def test_admin_users_must_be_user_ids(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="TLDW_ADMIN_USERS"):
        load_settings(env={"TLDW_ADMIN_USERS": "alice,../root"}, config_file=tmp_path / "none")
