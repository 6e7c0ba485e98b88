"""``/docs`` and ``/redoc`` work without internet: every asset they name is served here."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

ASSET = re.compile(r"""(?:src|href|spec-url)=["']([^"']+)["']|url: *["']([^"']+)["']""")


def referenced(html: str) -> list[str]:
    return [a or b for a, b in ASSET.findall(html)]


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
@pytest.mark.parametrize("backend_kind", ["sqlite"])
def test_the_docs_page_names_only_local_urls(anonymous: TestClient, page: str) -> None:
    response = anonymous.get(page)
    assert response.status_code == 200
    urls = referenced(response.text)
    assert "/openapi.json" in urls
    assert [u for u in urls if not u.startswith("/")] == []
    assert re.findall(r"https?://", response.text) == []


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
@pytest.mark.parametrize("backend_kind", ["sqlite"])
def test_every_asset_of_the_docs_page_answers(anonymous: TestClient, page: str) -> None:
    for url in referenced(anonymous.get(page).text):
        answer = anonymous.get(url)
        assert answer.status_code == 200, url
        assert answer.content, url


@pytest.mark.parametrize("backend_kind", ["sqlite"])
def test_the_docs_pages_may_load_from_this_server_only(anonymous: TestClient) -> None:
    policy = anonymous.get("/redoc").headers["content-security-policy"]
    assert "default-src 'self'" in policy
    assert "img-src 'self' data: blob:" in policy
