"""API test fixtures: an app per test (``client``) or per module and backend (``shared_client``).

Every client runs the app's real lifespan (databases opened through the
registry, on SQLite or on a fresh database of the test PostgreSQL server) and
authenticates with a known single-user key.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from tldw_Server_API.app.core.config import Settings
from tldw_Server_API.app.core.DB_Management.backends.target import PgTarget
from tldw_Server_API.app.factory import create_app
from tldw_Server_API.tests.api.test_cutover_end_to_end import (
    LiveServer,
    server_pg_env,
    server_process,
)
from tldw_Server_API.tests.conftest import settings_for
from tldw_Server_API.tests.postgres_harness import fresh_database

with warnings.catch_warnings():
    # Starlette warns that its TestClient will move from httpx to httpx2.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

API_KEY = "test-key-0123456789abcdef"
AUTH = {"X-API-KEY": API_KEY}


def with_key(settings: Settings, **extra: object) -> Settings:
    """*settings* with the test API key and no workflow workers (unless asked)."""
    values: dict[str, object] = {
        "single_user_api_key": SecretStr(API_KEY),
        "workflow_workers": 0,
    }
    return settings.model_copy(update=values | extra)


@pytest.fixture
def api_settings(settings: Settings) -> Settings:
    return with_key(settings)


@pytest.fixture
def client(api_settings: Settings) -> Iterator[TestClient]:
    """A started app on the parametrised backend, sending the test key on every request."""
    with TestClient(create_app(api_settings)) as test_client:
        test_client.headers.update(AUTH)
        yield test_client


@pytest.fixture
def anonymous(api_settings: Settings) -> Iterator[TestClient]:
    """A started app whose requests carry no key."""
    with TestClient(create_app(api_settings)) as test_client:
        yield test_client


USERS = {"alice-key-aaaaaaaaaaaaaaaa": "alice", "bob-key-bbbbbbbbbbbbbbbbbb": "bob"}


@contextmanager
def multi_user_clients(
    settings: Settings, tmp_path: Path, **extra: object
) -> Iterator[tuple[TestClient, TestClient]]:
    """(alice, bob): two clients of one multi-user app (*extra*: more settings)."""
    keys_file = tmp_path / "api_keys.json"
    keys_file.write_text(json.dumps(USERS), encoding="utf-8")
    multi = with_key(settings, auth_mode="multi_user", api_keys_file=keys_file, **extra)
    app = create_app(multi)
    with TestClient(app) as alice:  # runs the app's lifespan once, for both clients
        bob = TestClient(app)
        alice.headers["X-API-KEY"] = "alice-key-aaaaaaaaaaaaaaaa"
        bob.headers["Authorization"] = "Bearer bob-key-bbbbbbbbbbbbbbbbbb"
        yield alice, bob


@pytest.fixture
def multi_user(settings: Settings, tmp_path: Path) -> Iterator[tuple[TestClient, TestClient]]:
    """(alice, bob): two clients of one multi-user app, each sending its own key."""
    with multi_user_clients(settings, tmp_path) as clients:
        yield clients


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def shared_client(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    pg_server: PgTarget,
) -> Iterator[TestClient]:
    """One started app per backend for a whole module (for long tables of cheap requests)."""
    data_dir = tmp_path_factory.mktemp(f"api-{request.param}") / "Databases"
    with fresh_installation(request.param, data_dir, pg_server) as settings:
        app = create_app(with_key(settings))
        with TestClient(app, raise_server_exceptions=False) as c:
            c.headers.update(AUTH)
            yield c


@contextmanager
def fresh_installation(kind: str, data_dir: Path, pg_server: PgTarget) -> Iterator[Settings]:
    """Settings of a new installation on *kind* (on PostgreSQL, a fresh database)."""
    if kind == "sqlite":
        yield settings_for("sqlite", data_dir)
        return
    with fresh_database(pg_server) as target:
        yield settings_for("postgresql", data_dir, target)


def create_media(
    client: TestClient,
    title: str = "A title",
    content: str = "Some content.",
    type: str = "document",
    author: str | None = None,
    keywords: Sequence[str] = (),
) -> dict[str, Any]:
    """Add one item as tldw_server's clients do (a text file to POST /media/add); its detail."""
    form = {"media_type": type, "title": title, "keywords": ",".join(keywords)}
    if author is not None:
        form["author"] = author
    files = [("files", ("item.txt", content.encode(), "text/plain"))]
    response = client.post("/api/v1/media/add", data=form, files=files)
    assert response.status_code == 200, response.text
    media_id = response.json()["results"][0]["db_id"]
    detail: dict[str, Any] = client.get(f"/api/v1/media/{media_id}").json()
    return detail


MakeMedia = Callable[..., dict]


@pytest.fixture
def live_server(backend_kind: str, tmp_path: Path, pg_server: PgTarget) -> Iterator[LiveServer]:
    """A server subprocess (one workflow worker process) on the parametrised backend."""
    if backend_kind == "sqlite":
        with server_process(tmp_path, "server.log") as live:
            yield live
        return
    with (
        fresh_database(pg_server) as target,
        server_process(tmp_path, "server.log", **server_pg_env(target)) as live,
    ):
        yield live
