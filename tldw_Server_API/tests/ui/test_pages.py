"""The WebUI at a phone's width and with the keyboard; the API docs offline."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import UiServer, expect, sign_in

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]


def test_the_status_page_fits_a_phone_screen(browser: Any, server: UiServer) -> None:
    context = browser.new_context(viewport={"width": 375, "height": 740})
    try:
        page = context.new_page()
        sign_in(page, server)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375
    finally:
        context.close()


def test_signing_in_and_out_works_with_the_keyboard_alone(page: Any, server: UiServer) -> None:
    page.goto(f"{server.base_url}/signin")
    expect(page.locator("#api_key")).to_be_focused()  # the key field has the focus
    page.keyboard.type(server.key)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{server.base_url}/status")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == "Sign out":
            break
    page.keyboard.press("Enter")
    page.wait_for_url(f"{server.base_url}/signin")


@pytest.mark.parametrize(("path", "rendered"), [("/docs", ".swagger-ui .info"), ("/redoc", "h1")])
def test_the_api_docs_load_nothing_from_another_host(
    page: Any, sqlite_server: UiServer, path: str, rendered: str
) -> None:
    fetched: list[str] = []
    failed: list[tuple[str, str]] = []
    page.on("requestfinished", lambda request: fetched.append(request.url))
    page.on("requestfailed", lambda request: failed.append((request.url, request.failure)))
    page.goto(sqlite_server.base_url + path)
    # ReDoc renders the whole OpenAPI document before its heading: give a loaded machine time.
    expect(page.locator(rendered).first).to_contain_text("tldw_server", timeout=60_000)
    local = (sqlite_server.base_url, f"blob:{sqlite_server.base_url}", "data:")
    assert fetched and [url for url in fetched if not url.startswith(local)] == []
    # What a bundle would fetch from elsewhere (ReDoc's logo) the page's policy blocks
    # (Chromium names that failure "net::ERR_BLOCKED_BY_CSP" or, in newer builds, "csp").
    assert [f for f in failed if "csp" not in (f[1] or "").lower()] == []
