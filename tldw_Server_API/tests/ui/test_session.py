"""Signing in and out in a real browser; the session cookie; the Status page, live."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from .conftest import UiServer, expect, screenshot, sign_in

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]


def test_signing_in_with_the_key_opens_the_status_page(page: Any, server: UiServer) -> None:
    page.goto(server.base_url + "/")
    page.wait_for_url(f"{server.base_url}/signin")
    screenshot(page, server, "signin")
    sign_in(page, server)
    assert page.inner_text("h1") == "Status"
    rows = page.locator("#databases tbody tr")
    assert rows.count() == 4
    backend = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}[server.backend]
    assert set(page.locator("#databases tbody td:nth-child(2)").all_inner_texts()) == {backend}


def test_a_wrong_key_is_refused_with_a_message(page: Any, server: UiServer) -> None:
    page.goto(f"{server.base_url}/signin")
    page.fill("#api_key", "not-the-key")
    page.press("#api_key", "Enter")
    page.wait_for_selector("#signin-error")
    assert page.inner_text("#signin-error") == "That API key is not valid."
    assert all(c["name"] != "tldw_session" for c in page.context.cookies())


def test_the_status_heartbeat_moves(page: Any, server: UiServer) -> None:
    sign_in(page, server)
    heartbeat = page.locator("#heartbeat-at")
    expect(heartbeat).to_have_text(re.compile(r"Z$"), timeout=30_000)  # an instant, UTC
    first = heartbeat.inner_text()
    expect(heartbeat).not_to_have_text(first, timeout=30_000)
    assert page.inner_text("#heartbeat-at") > first
    assert int(page.inner_text("#live-workers")) >= 1
    assert page.locator("#chart-heartbeat polyline").get_attribute("points")
    assert page.inner_text("#health-status").startswith("ok")
    screenshot(page, server, "status")


def test_the_session_cookie_is_http_only_and_same_site_strict(page: Any, server: UiServer) -> None:
    sign_in(page, server)
    [cookie] = [c for c in page.context.cookies() if c["name"] == "tldw_session"]
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Strict"
    assert "tldw_session" not in page.evaluate("document.cookie")
    stored = page.evaluate("JSON.stringify(localStorage) + JSON.stringify(sessionStorage)")
    assert server.key not in stored and server.key not in page.content()


def test_signing_out_ends_the_session_on_the_server(page: Any, server: UiServer) -> None:
    sign_in(page, server)
    [cookie] = [c for c in page.context.cookies() if c["name"] == "tldw_session"]
    page.click("text=Sign out")
    page.wait_for_url(f"{server.base_url}/signin")
    assert [c for c in page.context.cookies() if c["name"] == "tldw_session"] == []
    page.goto(f"{server.base_url}/status")
    page.wait_for_url(f"{server.base_url}/signin?next=/status")
    # The old cookie, replayed, opens nothing any more.
    replay = httpx.get(
        f"{server.base_url}/api/v1/workflows/status",
        cookies={"tldw_session": cookie["value"]},
    )
    assert replay.status_code == 401


def test_the_session_cookie_alone_cannot_write_through_the_api(page: Any, server: UiServer) -> None:
    sign_in(page, server)
    [cookie] = [c for c in page.context.cookies() if c["name"] == "tldw_session"]
    session = {"tldw_session": cookie["value"]}
    body = {"title": "t", "content": "c"}
    read = httpx.get(f"{server.base_url}/api/v1/workflows/status", cookies=session)
    write = httpx.post(f"{server.base_url}/api/v1/notes/", json=body, cookies=session)
    assert read.status_code == 200
    assert write.status_code == 401
