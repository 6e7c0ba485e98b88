"""What the pages answer when they cannot run as asked, over HTTP (no browser needed): a
user whose databases cannot be opened, bad values in an address, no session, a form without
its token, and deletions refused by the store. Each answer is a page, where the API answers
the same request with JSON."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from tldw_Server_API.app.core.config import Settings
from tldw_Server_API.app.factory import create_app
from tldw_Server_API.tests.api.conftest import API_KEY, AUTH, multi_user_clients, with_key
from tldw_Server_API.tests.conftest import settings_for

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # Starlette's notice that its TestClient will move
    from fastapi.testclient import TestClient

BOB_KEY = "bob-key-bbbbbbbbbbbbbbbbbb"


def form_token(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match is not None, html
    return match.group(1)


def sign_in(client: TestClient, key: str = API_KEY) -> None:
    """Sign *client* in through the sign-in form."""
    token = form_token(client.get("/signin").text)
    answer = client.post(
        "/signin", data={"csrf": token, "api_key": key, "next": "/notes"}, follow_redirects=False
    )
    assert answer.status_code == 303, answer.text


def heading(html: str) -> str:
    match = re.search(r"<h1>(.*?)</h1>", html, re.S)
    assert match is not None, html
    return match.group(1).strip()


def alert(html: str) -> str:
    match = re.search(r'<p class="error" role="alert">(.*?)</p>', html, re.S)
    assert match is not None, html
    return match.group(1).strip()


@pytest.fixture
def browser_client(settings: Settings) -> Iterator[TestClient]:
    """A started app on the parametrised backend, signed in as a browser is (a session)."""
    with TestClient(create_app(with_key(settings))) as client:
        sign_in(client)
        yield client


def csrf_of(client: TestClient) -> str:
    return form_token(client.get("/notes").text)


def add_note(client: TestClient, title: str) -> dict[str, object]:
    answer = client.post("/api/v1/notes/", json={"title": title, "content": "x"}, headers=AUTH)
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def test_a_user_whose_databases_cannot_be_opened_gets_a_503_page(tmp_path: Path) -> None:
    settings = settings_for("sqlite", tmp_path / "Databases")
    blocked = settings.user_dir("bob")
    blocked.parent.mkdir(parents=True)
    blocked.write_text("a file where bob's directory belongs")
    with multi_user_clients(settings, tmp_path) as (_, bob):
        sign_in(bob, BOB_KEY)
        for path in ("/media", "/notes", "/chats", "/status"):
            page = bob.get(path)
            assert page.status_code == 503, path
            assert page.headers["content-type"].startswith("text/html")
            assert heading(page.text) == "Your data cannot be opened"
        # The API answers the same user the same status, as JSON.
        api = bob.get("/api/v1/notes")
        assert api.status_code == 503
        assert api.json()["detail"] == "your databases cannot be opened now; try again later"
        blocked.unlink()
        assert bob.get("/notes").status_code == 200


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/media?page=abc", "page must be a whole number"),
        ("/notes?page=0", "page must be 1 or more"),
        ("/media/trash?page=99999999", "page must be 1000000 or less"),
        ("/chats?character=x", "character must be a whole number"),
        ("/media/12x", "media_id must be a whole number"),
    ],
)
def test_a_bad_value_in_a_page_address_gets_a_422_page_saying_which(
    browser_client: TestClient, path: str, reason: str
) -> None:
    page = browser_client.get(path)
    assert page.status_code == 422
    assert page.headers["content-type"].startswith("text/html")
    assert heading(page.text) == "This address cannot be shown"
    assert reason in alert(page.text)


def test_a_bad_page_number_links_to_the_page_without_it(browser_client: TestClient) -> None:
    page = browser_client.get("/notes?page=abc&q=x")
    assert '<a href="/notes" id="error-back">' in page.text


def test_the_api_still_answers_a_bad_value_with_json(browser_client: TestClient) -> None:
    answer = browser_client.get("/api/v1/media/?page=abc", headers=AUTH)
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["loc"] == ["query", "page"]


def test_an_unknown_run_status_gets_a_422_page(browser_client: TestClient) -> None:
    page = browser_client.get("/workflows/runs?status=finished")
    assert page.status_code == 422
    assert "status must be one of queued, running" in alert(page.text)


def test_a_page_without_a_session_sends_to_sign_in_and_back(settings: Settings) -> None:
    with TestClient(create_app(with_key(settings))) as anonymous:
        answer = anonymous.get("/notes?page=abc", follow_redirects=False)
        assert answer.status_code == 303
        assert answer.headers["location"] == "/signin?next=/notes"
        posted = anonymous.post("/notes/new", data={"title": "t"}, follow_redirects=False)
        assert posted.status_code == 303 and posted.headers["location"] == "/signin"


def test_a_form_without_its_token_gets_a_403_page(browser_client: TestClient) -> None:
    note = add_note(browser_client, "Kept")
    answer = browser_client.post(f"/notes/{note['id']}/delete", data={"version": "1"})
    assert answer.status_code == 403
    assert heading(answer.text) == "Not saved"
    assert browser_client.get(f"/api/v1/notes/{note['id']}", headers=AUTH).status_code == 200


def test_a_note_deleted_at_a_stale_version_is_kept_with_a_409_page(
    browser_client: TestClient,
) -> None:
    note = add_note(browser_client, "Changed meanwhile")
    changed = browser_client.put(
        f"/api/v1/notes/{note['id']}",
        json={"content": "new"},
        headers=AUTH | {"expected-version": "1"},
    )
    assert changed.status_code == 200, changed.text
    answer = browser_client.post(
        f"/notes/{note['id']}/delete", data={"csrf": csrf_of(browser_client), "version": "1"}
    )
    assert answer.status_code == 409
    assert "it is now at version 2), so it was not deleted" in alert(answer.text)
    assert browser_client.get(f"/api/v1/notes/{note['id']}", headers=AUTH).status_code == 200


def test_a_live_item_is_not_deleted_for_good(browser_client: TestClient) -> None:
    added = browser_client.post(
        "/api/v1/media/add",
        files=[("files", ("live.txt", b"Still in the library.", "text/plain"))],
        data={"media_type": "document"},
        headers=AUTH,
    )
    media_id = added.json()["results"][0]["db_id"]
    csrf = csrf_of(browser_client)
    assert browser_client.get(f"/media/{media_id}/permanent").status_code == 409
    answer = browser_client.post(f"/media/{media_id}/permanent", data={"csrf": csrf})
    assert answer.status_code == 409
    assert "not in the trash" in alert(answer.text)
    assert browser_client.get(f"/api/v1/media/{media_id}", headers=AUTH).status_code == 200
