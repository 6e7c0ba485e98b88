"""The Migrations page in a real browser: the list, one report, and who may see them."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import BOB_KEY, UiServer, screenshot, sign_in

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]


def test_a_recorded_migration_report_opens_as_a_table_and_a_chart(
    page: Any, server: UiServer
) -> None:
    sign_in(page, server)
    page.click("nav >> text=Migrations")
    page.wait_for_url(f"{server.base_url}/migrations")
    if server.backend == "sqlite":
        assert "runs on SQLite" in page.inner_text("#no-migrations")
        return
    screenshot(page, server, "migrations")
    page.click("#migrations >> text=#1")
    page.wait_for_url(f"{server.base_url}/migrations/1")
    assert page.inner_text("h1") == "Migration #1"
    assert page.inner_text("#outcome").startswith("success")
    report = page.locator("table.report")
    rows = report.locator("tbody tr")
    by_table = {
        row.locator("th").inner_text(): row.locator("td").all_inner_texts() for row in rows.all()
    }
    cells = by_table["Media"]
    assert cells[0] == "media"
    assert cells[1:4] == ["8", "8", "yes"]  # source rows, target rows, verified
    assert report.locator("tfoot").inner_text().startswith(f"Total ({rows.count()} tables)")
    assert page.locator("figure.bars rect").count() == rows.count()
    screenshot(page, server, "migration-report")


def test_an_unknown_migration_is_a_plain_not_found_page(page: Any, server: UiServer) -> None:
    sign_in(page, server)
    response = page.goto(f"{server.base_url}/migrations/999")
    assert response.status == 404
    assert page.inner_text("h1") == "Migration not found"


def test_only_an_admin_sees_the_migrations(page: Any, multi_user_server: UiServer) -> None:
    sign_in(page, multi_user_server, BOB_KEY)
    assert page.inner_text("#user-id") == "bob"
    assert page.locator("nav >> text=Migrations").count() == 0
    response = page.goto(f"{multi_user_server.base_url}/migrations")
    assert response.status == 403
    assert "admins only" in page.inner_text("main")
    assert page.goto(f"{multi_user_server.base_url}/migrations/1").status == 403
    api = page.request.get(f"{multi_user_server.base_url}/api/v1/migrations")
    assert api.status == 403


def test_an_admin_sees_the_migrations_of_a_multi_user_server(
    page: Any, multi_user_server: UiServer
) -> None:
    sign_in(page, multi_user_server)
    assert page.inner_text("#user-id") == "alice"
    page.click("nav >> text=Migrations")
    page.wait_for_url(f"{multi_user_server.base_url}/migrations")
    api = page.request.get(f"{multi_user_server.base_url}/api/v1/migrations")
    assert api.status == 200
    expected = 0 if multi_user_server.backend == "sqlite" else 1
    assert api.json()["total"] == expected
    assert page.locator("#migrations tbody tr").count() == expected
