"""``/api/v1/analytics/summary`` per user: each user counts their own searches and events.

Rows without a user (migrated from users' ``Analytics.db``) count for admins only.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tldw_Server_API.app.core.config import Settings
from tldw_Server_API.app.core.DB_Management.stores import AnalyticsStore
from tldw_Server_API.tests.api.conftest import multi_user_clients


@pytest.fixture
def alice_admin_and_bob(
    settings: Settings, tmp_path: Path
) -> Iterator[tuple[TestClient, TestClient]]:
    with multi_user_clients(settings, tmp_path, admin_users=("alice",)) as clients:
        yield clients


def summary(client: TestClient) -> dict:
    response = client.get("/api/v1/analytics/summary")
    assert response.status_code == 200, response.text
    return response.json()


def record_unowned_search(client: TestClient) -> None:
    """A row as migrated from a user's file: no user."""
    registry = client.app.state.registry  # type: ignore[attr-defined]
    AnalyticsStore(registry.analytics()).record_search("old", "legacy", 1, 1.0, 1.0, 5.0)


def test_one_users_searches_never_appear_in_another_users_summary(
    multi_user: tuple[TestClient, TestClient],
) -> None:
    alice, bob = multi_user
    for query in ("apples", "pears", "plums"):
        assert alice.post("/api/v1/media/search", json={"query": query}).status_code == 200
    assert bob.get("/api/v1/notes/search", params={"query": "figs"}).status_code == 200

    assert summary(alice)["searches"] == 3
    assert summary(alice)["top_search_types"] == [{"search_type": "media", "count": 3}]
    assert summary(bob)["searches"] == 1
    assert summary(bob)["top_search_types"] == [{"search_type": "notes", "count": 1}]


def test_a_new_user_sees_an_empty_summary(multi_user: tuple[TestClient, TestClient]) -> None:
    alice, bob = multi_user
    alice.post("/api/v1/media/search", json={"query": "apples"})

    assert summary(bob)["searches"] == 0 and summary(bob)["top_search_types"] == []


def test_rows_without_a_user_count_for_an_admin_only(
    alice_admin_and_bob: tuple[TestClient, TestClient],
) -> None:
    alice, bob = alice_admin_and_bob
    record_unowned_search(alice)

    assert summary(alice)["top_search_types"] == [{"search_type": "legacy", "count": 1}]
    assert summary(bob)["searches"] == 0


def test_an_admin_does_not_see_other_users_searches(
    alice_admin_and_bob: tuple[TestClient, TestClient],
) -> None:
    alice, bob = alice_admin_and_bob
    bob.post("/api/v1/media/search", json={"query": "secret"})

    assert summary(alice)["searches"] == 0


def test_the_single_user_sees_rows_without_a_user(client: TestClient) -> None:
    record_unowned_search(client)
    client.post("/api/v1/media/search", json={"query": "apples"})

    assert summary(client)["searches"] == 2
