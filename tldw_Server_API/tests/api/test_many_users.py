"""A real ``tldw-server`` with thousands of users in its keys file, on both backends.

Start-up opens none of their databases; a user's first request opens theirs (and
only theirs); beyond ``TLDW_USER_CACHE_SIZE`` the least recently used idle user is
closed and reopens on their next request with their data intact and apart from
everyone else's; a user whose databases cannot be opened gets a 503, not the others.
What exists is read from the files, the PostgreSQL catalogue and the server's /proc entry.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from tldw_Server_API.app.core.DB_Management.backends.target import PgTarget
from tldw_Server_API.tests.api.conftest import multi_user_clients
from tldw_Server_API.tests.api.test_cutover_end_to_end import (
    LiveServer,
    server_pg_env,
    server_process,
)
from tldw_Server_API.tests.conftest import settings_for
from tldw_Server_API.tests.DB_Management.user_storage import (
    users_with_databases,
    users_with_open_files,
)
from tldw_Server_API.tests.postgres_harness import fresh_database

USERS = 2000
CACHE_SIZE = 2


def key_of(user_id: str) -> str:
    return f"key-of-{user_id}-0123456789"


def as_user(user_id: str) -> dict[str, str]:
    return {"X-API-KEY": key_of(user_id)}


class ManyUsers:
    """A started server with :data:`USERS` users and the settings to inspect its storage."""

    def __init__(self, live: LiveServer, settings: Any) -> None:
        self.live = live
        self.settings = settings

    def get(self, path: str, user_id: str) -> Any:
        response = self.live.client.get(path, headers=as_user(user_id))
        assert response.status_code == 200, response.text
        return response.json()

    def add_note(self, user_id: str, title: str) -> None:
        response = self.live.client.post(
            "/api/v1/notes", json={"title": title, "content": "text"}, headers=as_user(user_id)
        )
        assert response.status_code == 201, response.text

    def note_titles(self, user_id: str) -> list[str]:
        return [note["title"] for note in self.get("/api/v1/notes", user_id)["items"]]

    def wait_until_embedded(self, user_id: str) -> None:
        """Until the background indexer has nothing left of the user's (bounded wait)."""
        for _ in range(600):
            if self.get("/api/v1/rag/index", user_id)["pending_items"] == 0:
                return
            time.sleep(0.1)
        raise AssertionError(f"the indexer did not finish {user_id}'s new note")

    def open_users(self) -> int:
        health = self.live.client.get("/api/v1/health")
        assert health.status_code == 200, health.text
        return int(health.json()["open_users"])


@pytest.fixture
def many(backend_kind: str, tmp_path: Path, pg_server: PgTarget) -> Iterator[ManyUsers]:
    keys_file = tmp_path / "keys.json"
    keys_file.write_text(json.dumps({key_of(f"u{n}"): f"u{n}" for n in range(USERS)}))
    env = {
        "TLDW_AUTH_MODE": "multi_user",
        "TLDW_API_KEYS_FILE": str(keys_file),
        "TLDW_USER_CACHE_SIZE": str(CACHE_SIZE),
        "TLDW_WORKFLOW_WORKERS": "0",
    }
    data_dir = tmp_path / "Databases"
    if backend_kind == "sqlite":
        with server_process(tmp_path, "server.log", **env) as live:
            yield ManyUsers(live, settings_for("sqlite", data_dir))
        return
    with (
        fresh_database(pg_server) as target,
        server_process(tmp_path, "server.log", **env, **server_pg_env(target)) as live,
    ):
        yield ManyUsers(live, settings_for("postgresql", data_dir, target))


def test_start_up_opens_no_users_databases_and_creates_none_for_the_default_user(
    many: ManyUsers,
) -> None:
    assert many.open_users() == 0
    assert users_with_databases(many.settings) == set()
    assert users_with_open_files(many.settings, many.live.process.pid) == set()


def test_a_first_request_opens_that_users_databases_only(many: ManyUsers) -> None:
    assert many.get("/api/v1/notes", "u7")["total"] == 0

    assert users_with_databases(many.settings) == {"u7"}
    assert many.open_users() == 1


def test_an_evicted_user_is_closed_and_reopens_with_their_data(many: ManyUsers) -> None:
    many.add_note("u1", "u1's note")
    # While the indexer embeds the note it holds u1 open, and the cache rightly evicts an
    # idle user instead: only once it is done is u1 the one to go.
    many.wait_until_embedded("u1")
    for user_id in ("u2", "u3"):
        many.get("/api/v1/notes", user_id)

    assert many.open_users() == CACHE_SIZE
    if not many.settings.uses_postgres:
        assert users_with_open_files(many.settings, many.live.process.pid) == {"u2", "u3"}
    assert many.note_titles("u1") == ["u1's note"]


def test_concurrent_first_requests_of_a_cold_user_all_succeed(many: ManyUsers) -> None:
    def add(number: int) -> int:
        response = httpx.post(
            f"{many.live.base_url}/api/v1/notes",
            json={"title": f"note {number}", "content": "text"},
            headers=as_user("u5"),
            timeout=30,
        )
        return response.status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(add, range(8)))

    assert statuses == [201] * 8
    assert sorted(many.note_titles("u5")) == sorted(f"note {n}" for n in range(8))
    assert users_with_databases(many.settings) == {"u5"}


def test_users_stay_apart_across_evictions_and_reopenings(many: ManyUsers) -> None:
    many.add_note("u1", "only for u1")
    for user_id in ("u2", "u3", "u1", "u4", "u2"):
        titles = many.note_titles(user_id)
        assert titles == (["only for u1"] if user_id == "u1" else [])


def test_a_user_whose_databases_cannot_be_opened_gets_503_and_others_are_served(
    tmp_path: Path,
) -> None:
    settings = settings_for("sqlite", tmp_path / "Databases")
    blocked = settings.user_dir("bob")
    blocked.parent.mkdir(parents=True)
    blocked.write_text("a file where bob's directory belongs")

    with multi_user_clients(settings, tmp_path) as (alice, bob):
        refused = bob.get("/api/v1/notes")
        assert refused.status_code == 503
        assert refused.json()["detail"] == "your databases cannot be opened now; try again later"
        assert alice.get("/api/v1/notes").status_code == 200

        blocked.unlink()
        assert bob.get("/api/v1/notes").status_code == 200
