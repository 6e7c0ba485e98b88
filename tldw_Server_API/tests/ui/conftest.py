"""Browser-test fixtures: Debian's chromium driven by Playwright, against a real server.

The server is ``python -m tldw_Server_API.app.main`` in a subprocess on a free port (the
``server_process`` of the API tests), with one workflow worker process, on SQLite or on a
fresh PostgreSQL database. On PostgreSQL a migration of a small generated SQLite file runs
into that database first, so that its Migrations page has a report to show.

Where chromium or Playwright is missing (``bash scripts/test.sh`` installs both, as root),
every browser test is skipped with the one message :data:`MISSING`.

``TLDW_UI_SCREENSHOTS=1`` saves the pages' screenshots under docs/images/ (docs/ui.md).
"""

from __future__ import annotations

import importlib.util
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tldw_Server_API.app.core.DB_Management.backends.target import PgTarget
from tldw_Server_API.app.core.DB_Management.migration.run import (
    MigrationOptions,
    SourceFile,
    migrate,
)
from tldw_Server_API.app.core.DB_Management.sample_data import generate
from tldw_Server_API.tests.api.signin_server import run_users
from tldw_Server_API.tests.api.test_cutover_end_to_end import (
    KEY,
    server_pg_env,
    server_process,
)
from tldw_Server_API.tests.postgres_harness import fresh_database

REPO = Path(__file__).resolve().parents[3]
SCREENSHOTS = REPO / "docs" / "images"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
MISSING = (
    "browser tests need Debian's chromium at /usr/bin/chromium and the playwright package: "
    "run `bash scripts/test.sh` as root (it installs both), or `apt-get install -y chromium` "
    "and `pip install -e '.[dev]'`"
)
ALICE_KEY = "alice-ui-key-aaaaaaaaaaaaaaaa"
BOB_KEY = "bob-ui-key-bbbbbbbbbbbbbbbbbbbb"
#: Bob's password account (multi-user servers): the same user id as his key.
BOB_PASSWORD = "bob-ui-password-0123"


@dataclass
class UiServer:
    """A running server: where it answers, its backend, and the key to sign in with."""

    base_url: str
    backend: str
    key: str


def browser_available() -> bool:
    return CHROMIUM.exists() and importlib.util.find_spec("playwright") is not None


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    """One headless chromium for the browser tests (skips them all if there is none).

    Package-scoped: Playwright's synchronous API keeps an event loop running in the main
    thread while it is open, which would break any later test that starts its own loop.
    """
    if not browser_available():
        pytest.skip(MISSING)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser context (no cookies) and a page in it, desktop-sized."""
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    context.set_default_timeout(20_000)
    yield context.new_page()
    context.close()


def migrate_sample(target: PgTarget, tmp_path: Path) -> None:
    """One committed migration of a small Media file into *target* (user 1's schema)."""
    source = tmp_path / "source" / "Media_DB_v2.db"
    generate("media", source, size=8, seed=11)
    result = migrate(
        MigrationOptions(
            sources=[SourceFile("media", source, "1")], target=target, create_schema=True
        )
    )
    assert result.exit_code == 0


@contextmanager
def running_server(
    backend: str,
    tmp_path: Path,
    pg_server: PgTarget,
    key: str,
    prepare: Callable[[dict[str, str]], None] | None = None,
    **env: str,
) -> Iterator[UiServer]:
    """A server on *backend*; *prepare* runs first with the server's variables."""
    if backend == "sqlite":
        if prepare is not None:
            prepare(env)
        with server_process(tmp_path, "server.log", **env) as live:
            yield UiServer(live.base_url, backend, key)
        return
    with fresh_database(pg_server) as target:
        migrate_sample(target, tmp_path)
        full_env = server_pg_env(target) | env
        if prepare is not None:
            prepare(full_env)
        with server_process(tmp_path, "server.log", **full_env) as live:
            yield UiServer(live.base_url, backend, key)


# Servers live for a test module: each test opens a browser context of its own (no cookies).


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, pg_server: PgTarget
) -> Iterator[UiServer]:
    """A single-user server on each backend (its key: the API tests' ``KEY``)."""
    tmp_path = tmp_path_factory.mktemp(f"ui-{request.param}")
    with running_server(str(request.param), tmp_path, pg_server, KEY) as live:
        yield live


@pytest.fixture(scope="module")
def sqlite_server(
    tmp_path_factory: pytest.TempPathFactory, pg_server: PgTarget
) -> Iterator[UiServer]:
    """A single-user server on SQLite, for what does not depend on the backend."""
    with running_server("sqlite", tmp_path_factory.mktemp("ui"), pg_server, KEY) as live:
        yield live


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def multi_user_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, pg_server: PgTarget
) -> Iterator[UiServer]:
    """A multi-user server (alice, an admin, and bob) on each backend; ``key`` is alice's.
    Bob also has a password account (``BOB_PASSWORD``)."""
    tmp_path = tmp_path_factory.mktemp(f"ui-multi-{request.param}")
    keys = tmp_path / "api_keys.json"
    keys.write_text(json.dumps({ALICE_KEY: "alice", BOB_KEY: "bob"}), encoding="utf-8")
    env = {
        "TLDW_AUTH_MODE": "multi_user",
        "TLDW_DEFAULT_USER_ID": "alice",  # two users' databases to open, not three
        "TLDW_API_KEYS_FILE": str(keys),
        "TLDW_ADMIN_USERS": "alice",
    }

    def add_bob(server_env: dict[str, str]) -> None:
        done = run_users(tmp_path, server_env, "add", "bob", password=BOB_PASSWORD)
        assert done.returncode == 0, done.stderr

    backend = str(request.param)
    with running_server(backend, tmp_path, pg_server, ALICE_KEY, add_bob, **env) as live:
        yield live


def sign_in(page: Any, server: UiServer, key: str | None = None) -> None:
    """Sign in through the form, as a person does: the key, then Enter."""
    page.goto(f"{server.base_url}/signin")
    page.fill("#api_key", key or server.key)
    page.press("#api_key", "Enter")
    page.wait_for_url(f"{server.base_url}/status")


def screenshot(page: Any, server: UiServer, name: str) -> None:
    """Save docs/images/ui-<name>.png when TLDW_UI_SCREENSHOTS=1 (from the PostgreSQL run,
    the backend whose pages have the most to show)."""
    if os.environ.get("TLDW_UI_SCREENSHOTS") != "1" or server.backend != "postgresql":
        return
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"ui-{name}.png"), full_page=True)


def expect(locator: Any) -> Any:
    """Playwright's ``expect`` (imported here: without Playwright, the tests skip first)."""
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def api(server: UiServer, method: str, path: str, key: str | None = None, **kwargs: Any) -> Any:
    """A call to the server's API with a key (the default: the server's), its answer's JSON;
    for putting test data in place as a client would."""
    response = httpx.request(
        method,
        f"{server.base_url}{path}",
        headers={"X-API-KEY": key or server.key},
        timeout=30,
        **kwargs,
    )
    assert response.status_code < 300, response.text
    return response.json()


def add_text_media(
    server: UiServer, name: str, text: str, keywords: str = "", key: str | None = None
) -> int:
    """Add *text* as the file *name* through ``POST /api/v1/media/add`` (as the user of
    *key*, default the server's); its media id."""
    answer = api(
        server,
        "POST",
        "/api/v1/media/add",
        key,
        files=[("files", (name, text.encode(), "text/plain"))],
        data={"media_type": "document", "keywords": keywords},
    )
    return int(answer["results"][0]["db_id"])
