"""The WebUI's sign-in, sign-out and session cookie over HTTP (no browser needed)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from tldw_Server_API.tests.api.conftest import API_KEY

pytestmark = pytest.mark.parametrize("backend_kind", ["sqlite"])


def form_token(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match is not None
    return match.group(1)


def signed_in(client: TestClient) -> str:
    """Sign *client* in; the CSRF token of its session."""
    token = form_token(client.get("/signin").text)
    answer = client.post(
        "/signin",
        data={"csrf": token, "api_key": API_KEY, "next": "/status"},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    return form_token(client.get("/status").text)


def test_a_sign_in_without_the_form_token_is_refused(anonymous: TestClient) -> None:
    answer = anonymous.post("/signin", data={"api_key": API_KEY})
    assert answer.status_code == 403
    assert "tldw_session" not in answer.cookies


def test_a_sign_in_goes_back_to_a_page_of_this_server_only(anonymous: TestClient) -> None:
    token = form_token(anonymous.get("/signin").text)
    answer = anonymous.post(
        "/signin",
        data={"csrf": token, "api_key": API_KEY, "next": "//evil.example/"},
        follow_redirects=False,
    )
    assert answer.headers["location"] == "/status"


def test_the_session_cookie_is_http_only_and_strict(anonymous: TestClient) -> None:
    token = form_token(anonymous.get("/signin").text)
    answer = anonymous.post(
        "/signin", data={"csrf": token, "api_key": API_KEY}, follow_redirects=False
    )
    cookie = answer.headers["set-cookie"].lower()
    assert "tldw_session=" in cookie and "httponly" in cookie and "samesite=strict" in cookie


def test_sign_out_needs_the_session_token(anonymous: TestClient) -> None:
    signed_in(anonymous)
    refused = anonymous.post("/signout", data={"csrf": "forged"})
    assert refused.status_code == 403
    assert anonymous.get("/api/v1/workflows/status").status_code == 200


def test_an_api_write_with_the_session_needs_its_csrf_header(anonymous: TestClient) -> None:
    csrf = signed_in(anonymous)
    body = {"title": "From the page", "content": "text"}
    assert anonymous.post("/api/v1/notes/", json=body).status_code == 401
    created = anonymous.post("/api/v1/notes/", json=body, headers={"X-CSRF-Token": csrf})
    assert created.status_code == 201


def test_pages_forbid_inline_and_foreign_scripts(anonymous: TestClient) -> None:
    signed_in(anonymous)
    policy = anonymous.get("/status").headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
