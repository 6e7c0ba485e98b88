"""Multi-user mode in a real browser: password sign-in, and each user sees only their own
media and notes (another user's item is a plain 404 page)."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import (
    ALICE_KEY,
    BOB_KEY,
    BOB_PASSWORD,
    UiServer,
    add_text_media,
    api,
    expect,
    screenshot,
    sign_in,
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]


def sign_in_with_password(page: Any, server: UiServer, username: str, password: str) -> None:
    page.goto(f"{server.base_url}/signin")
    page.fill("#username", username)
    page.fill("#password", password)
    page.press("#password", "Enter")


def test_a_password_signs_in_and_a_wrong_one_is_refused(
    page: Any, multi_user_server: UiServer
) -> None:
    sign_in_with_password(page, multi_user_server, "bob", "not-his-password")
    expect(page.locator("#signin-error")).to_have_text("Incorrect username or password.")
    assert all(c["name"] != "tldw_session" for c in page.context.cookies())
    screenshot(page, multi_user_server, "signin-password")
    sign_in_with_password(page, multi_user_server, "bob", BOB_PASSWORD)
    page.wait_for_url(f"{multi_user_server.base_url}/status")
    assert page.inner_text("#user-id") == "bob"


def test_each_user_sees_only_their_own_media_and_notes(
    page: Any, multi_user_server: UiServer
) -> None:
    server = multi_user_server
    media_id = add_text_media(server, "alice-ledger.txt", "Alice's private ledger of okapis.")
    note = api(server, "POST", "/api/v1/notes/", json={"title": "Alice's plan", "content": "x"})
    # Bob, signed in with his password, finds none of Alice's.
    sign_in_with_password(page, server, "bob", BOB_PASSWORD)
    page.wait_for_url(f"{server.base_url}/status")
    page.goto(f"{server.base_url}/media?q=okapis")
    assert page.locator("#media-results li").count() == 0
    page.goto(f"{server.base_url}/notes")
    assert "Alice's plan" not in page.inner_text("main")
    for path, heading in (
        (f"/media/{media_id}", "Media not found"),
        (f"/notes/{note['id']}", "Note not found"),
    ):
        response = page.goto(server.base_url + path)
        assert response.status == 404, path
        assert page.inner_text("h1") == heading
    assert page.goto(f"{server.base_url}/media/{media_id}/edit").status == 404
    # What Bob adds is his, and Alice does not see it.
    add_text_media(server, "bob-ledger.txt", "Bob's ledger of okapis.", key=BOB_KEY)
    page.goto(f"{server.base_url}/media?q=okapis")
    assert page.locator("#media-results .title").all_inner_texts() == ["bob-ledger"]
    page.context.clear_cookies()
    sign_in(page, server, ALICE_KEY)
    page.goto(f"{server.base_url}/media?q=okapis")
    assert page.locator("#media-results .title").all_inner_texts() == ["alice-ledger"]
    page.goto(f"{server.base_url}/notes")
    assert "Alice's plan" in page.locator("#notes .title").all_inner_texts()
