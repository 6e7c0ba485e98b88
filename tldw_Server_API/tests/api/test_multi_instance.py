"""Two ``tldw-server`` processes on one PostgreSQL database serve as one: data, API keys and
WebUI sessions written through one are honoured by the other, sign-out included.

Each process has a data directory of its own; they share only the PostgreSQL database and
the multi-user keys file, as instances behind a reverse proxy do (docs/scaling.md).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass

import httpx
import psycopg
import pytest

from tldw_Server_API.app.core.DB_Management.backends.target import PgTarget
from tldw_Server_API.tests.api.test_cutover_end_to_end import server_pg_env, server_process
from tldw_Server_API.tests.postgres_harness import fresh_database

KEYS = {"alice-key-for-two-instances-0001": "alice", "bob-key-for-two-instances-00002": "bob"}
ALICE = "alice-key-for-two-instances-0001"
BOB = "bob-key-for-two-instances-00002"


@dataclass(frozen=True)
class Instances:
    one: str
    two: str
    target: PgTarget


@pytest.fixture(scope="module")
def instances(pg_server: PgTarget, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Instances]:
    keys_file = tmp_path_factory.mktemp("keys") / "api_keys.json"
    keys_file.write_text(json.dumps(KEYS), encoding="utf-8")
    with fresh_database(pg_server) as target, ExitStack() as stack:
        env = server_pg_env(target) | {
            "TLDW_AUTH_MODE": "multi_user",
            "TLDW_API_KEYS_FILE": str(keys_file),
            "TLDW_WORKFLOW_WORKERS": "0",
        }
        urls = [
            stack.enter_context(
                server_process(tmp_path_factory.mktemp(f"instance-{n}"), "server.log", **env)
            ).base_url
            for n in (1, 2)
        ]
        yield Instances(urls[0], urls[1], target)


def form_token(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match is not None, html[:500]
    return match.group(1)


def sign_in(base_url: str, key: str) -> httpx.Client:
    """A browser-like client signed in to the WebUI at *base_url* with *key*."""
    client = httpx.Client(base_url=base_url, timeout=30)
    token = form_token(client.get("/signin").text)
    answer = client.post("/signin", data={"csrf": token, "api_key": key, "next": "/status"})
    assert answer.status_code == 303, answer.text
    assert client.cookies.get("tldw_session")
    return client


def with_cookie_of(browser: httpx.Client, base_url: str) -> httpx.Client:
    """A client at *base_url* presenting *browser*'s session cookie, as a proxy would route it."""
    cookie = browser.cookies.get("tldw_session")
    assert cookie is not None
    return httpx.Client(base_url=base_url, cookies={"tldw_session": cookie}, timeout=30)


def test_a_write_through_one_is_read_through_the_other(instances: Instances) -> None:
    body = {"title": "written on one", "content": "read on two"}
    created = httpx.post(
        f"{instances.one}/api/v1/notes/", json=body, headers={"X-API-KEY": ALICE}, timeout=30
    )
    assert created.status_code == 201, created.text
    note_id = created.json()["id"]
    read = httpx.get(
        f"{instances.two}/api/v1/notes/{note_id}", headers={"X-API-KEY": ALICE}, timeout=30
    )
    assert read.status_code == 200, read.text
    assert read.json()["title"] == "written on one"
    # Another user's key reaches only that user's data, on either instance.
    other = httpx.get(
        f"{instances.two}/api/v1/notes/{note_id}", headers={"X-API-KEY": BOB}, timeout=30
    )
    assert other.status_code == 404


def test_a_session_of_one_works_on_the_other_until_signed_out(instances: Instances) -> None:
    browser = sign_in(instances.one, ALICE)
    csrf = form_token(browser.get("/status").text)
    elsewhere = with_cookie_of(browser, instances.two)
    page = elsewhere.get("/status")
    assert page.status_code == 200 and form_token(page.text) == csrf
    created = elsewhere.post(
        "/api/v1/notes/", json={"title": "via two", "content": "x"}, headers={"X-CSRF-Token": csrf}
    )
    assert created.status_code == 201, created.text
    assert browser.get(f"/api/v1/notes/{created.json()['id']}").status_code == 200

    signed_out = browser.post("/signout", data={"csrf": csrf})
    assert signed_out.status_code == 303

    refused = elsewhere.get("/api/v1/notes/")
    assert refused.status_code == 401
    assert elsewhere.get("/status").headers["location"].startswith("/signin")


def test_only_a_digest_of_the_session_token_is_stored(instances: Instances) -> None:
    browser = sign_in(instances.two, BOB)
    token = browser.cookies.get("tldw_session")
    assert token is not None
    with psycopg.connect(instances.target.conninfo()) as conn:
        rows = conn.execute("SELECT token_hash, user_id FROM users.web_sessions").fetchall()
    assert rows and all(token not in hashed for hashed, _ in rows)
    assert "bob" in {user for _, user in rows}


def test_an_idle_session_ends_on_every_instance(instances: Instances) -> None:
    browser = sign_in(instances.two, ALICE)
    elsewhere = with_cookie_of(browser, instances.one)
    assert elsewhere.get("/api/v1/notes/").status_code == 200
    with psycopg.connect(instances.target.conninfo()) as conn:
        conn.execute(  # idle for longer than a session may be (IDLE_SECONDS, 12 hours)
            "UPDATE users.web_sessions SET last_seen = now() - interval '13 hours' "
            "WHERE user_id = 'alice'"
        )
    assert browser.get("/api/v1/notes/").status_code == 401
    assert elsewhere.get("/api/v1/notes/").status_code == 401
