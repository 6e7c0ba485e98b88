"""The Library, Notes and Chats pages in a real browser, on both backends."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from tldw_Server_API.tests.pdf_files import text_pdf

from .conftest import UiServer, add_text_media, api, expect, screenshot, sign_in

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

SCRIPT_TITLE = "<script>alert(1)</script>"
#: The page of a media item, of a note (their ids: integers, uuids).
MEDIA_PAGE = re.compile(r"/media/[0-9]+$")
NOTE_PAGE = re.compile(r"/notes/[0-9a-f-]{36}$")


def search(page: Any, server: UiServer, query: str) -> list[str]:
    """Search the Library through its form; the titles found."""
    page.goto(f"{server.base_url}/media")
    page.fill("#q", query)
    page.press("#q", "Enter")
    page.wait_for_url(re.compile(r"/media\?q="))
    return list(page.locator("#media-results .title").all_inner_texts())


def test_searching_the_library_and_opening_an_item(page: Any, server: UiServer) -> None:
    first = add_text_media(
        server, "zebrafish.md", "Zebrafish regrow fins.\n\nThe larvae are transparent.", "biology"
    )
    claim = {"claim_text": "Zebrafish regrow fins.", "confidence": 0.9}
    api(server, "POST", f"/api/v1/media/{first}/claims", json={"claims": [claim]})
    add_text_media(server, "zebrawood.txt", "Zebrawood is a striped timber.", "wood")
    add_text_media(server, "zebra-crossing.txt", "A zebra crossing is a road marking.")
    sign_in(page, server)
    page.click("nav >> text=Library")
    page.wait_for_url(f"{server.base_url}/media")
    # The API's query language: prefix*, -exclusion, OR, "a phrase".
    assert sorted(search(page, server, "zebra* -crossing")) == ["zebrafish", "zebrawood"]
    assert sorted(search(page, server, '"striped timber" OR larvae')) == ["zebrafish", "zebrawood"]
    assert search(page, server, '"timber striped"') == []
    # The keyword filter narrows the search.
    page.fill("#q", "zebra*")
    page.fill("#keyword", "biology")
    page.click("form.search button")
    page.wait_for_url(re.compile("keyword=biology"))
    assert page.locator("#media-results .title").all_inner_texts() == ["zebrafish"]
    screenshot(page, server, "library")
    page.click("#media-results >> text=zebrafish")
    page.wait_for_url(f"{server.base_url}/media/{first}")
    assert page.inner_text("#item-title") == "zebrafish"
    assert "The larvae are transparent." in page.inner_text("#item-content")
    assert page.locator("#item-keywords li").all_inner_texts() == ["biology"]
    assert page.locator("details.chunk").count() >= 1
    assert page.locator("#item-versions tbody tr").count() == 1
    assert page.inner_text("#item-claims").startswith("Zebrafish regrow fins. (chunk 1")
    screenshot(page, server, "media-item")


def test_an_uploaded_file_is_found_by_a_word_inside_then_trashed_and_restored(
    page: Any, server: UiServer, tmp_path: Path
) -> None:
    upload = tmp_path / "field-notes.md"
    upload.write_text("# Field notes\n\nWe saw a quetzal in the cloud forest.\n", encoding="utf-8")
    sign_in(page, server)
    page.goto(f"{server.base_url}/media/add")
    page.fill("#keywords", "birds, travel")
    page.set_input_files("#file", str(upload))
    screenshot(page, server, "media-add")
    page.click("form.stack button[type=submit]")
    page.wait_for_url(MEDIA_PAGE)
    item_url = page.url
    assert page.inner_text("#item-title") == "field-notes"
    assert page.locator("#item-keywords li").all_inner_texts() == ["birds", "travel"]
    assert search(page, server, "quetzal") == ["field-notes"]
    # A PDF gives the text of its pages, found by a word inside at once.
    page.goto(f"{server.base_url}/media/add")
    pdf = tmp_path / "survey.pdf"
    pdf.write_bytes(text_pdf(["A resplendent trogon at dawn."], title="Bird survey"))
    page.set_input_files("#file", str(pdf))
    page.click("form.stack button[type=submit]")
    page.wait_for_url(MEDIA_PAGE)
    assert page.inner_text("#item-title") == "Bird survey"
    assert search(page, server, "trogon") == ["Bird survey"]
    # A file this server cannot read is refused with the reason, and nothing is added.
    page.goto(f"{server.base_url}/media/add")
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(b"%PDF-1.4")
    page.set_input_files("#file", str(scan))
    page.click("form.stack button[type=submit]")
    expect(page.locator("#form-error")).to_contain_text("scan.pdf: not a readable PDF")
    # To the trash: gone from the search, listed in the trash, and back with Restore.
    page.goto(item_url)
    page.click("text=Move to trash")
    page.wait_for_url(f"{server.base_url}/media/trash")
    assert "field-notes" in page.locator("#trash tbody th").all_inner_texts()
    assert page.goto(item_url).status == 404
    assert search(page, server, "quetzal") == []
    page.goto(f"{server.base_url}/media/trash")
    screenshot(page, server, "media-trash")
    page.click("button[aria-label='Restore field-notes']")
    page.wait_for_url(item_url)
    assert search(page, server, "quetzal") == ["field-notes"]


def test_a_trashed_item_is_deleted_for_good_after_a_confirmation(
    page: Any, server: UiServer
) -> None:
    media_id = add_text_media(server, "shredded.txt", "Paper to shred for good.")
    key = {"X-API-KEY": server.key}
    trashed = httpx.delete(f"{server.base_url}/api/v1/media/{media_id}", headers=key)
    assert trashed.status_code == 204
    sign_in(page, server)
    page.goto(f"{server.base_url}/media/trash")
    page.click("a[aria-label='Delete shredded for good']")
    page.wait_for_url(f"{server.base_url}/media/{media_id}/permanent")
    assert "cannot be undone" in page.inner_text("#confirm-what")
    screenshot(page, server, "media-purge")
    # Cancel keeps it; confirming deletes it, as the API's DELETE .../permanent does.
    page.click("#confirm-cancel")
    page.wait_for_url(f"{server.base_url}/media/trash")
    assert "shredded" in page.locator("#trash tbody th").all_inner_texts()
    page.click("a[aria-label='Delete shredded for good']")
    page.click("#confirm")
    page.wait_for_url(f"{server.base_url}/media/trash")
    assert "shredded" not in page.locator("#trash tbody th").all_inner_texts()
    gone = httpx.get(f"{server.base_url}/api/v1/media/{media_id}", headers=key)
    assert gone.status_code == 404


def test_a_note_is_deleted_after_a_confirmation(page: Any, server: UiServer) -> None:
    note = api(server, "POST", "/api/v1/notes/", json={"title": "Old errand", "content": "x"})
    sign_in(page, server)
    page.goto(f"{server.base_url}/notes/{note['id']}")
    page.click("#note-delete")
    page.wait_for_url(f"{server.base_url}/notes/{note['id']}/delete")
    assert "Old errand" in page.inner_text("#confirm-what")
    page.click("#confirm")
    page.wait_for_url(f"{server.base_url}/notes")
    assert "Old errand" not in page.locator("#notes .title").all_inner_texts()
    assert page.goto(f"{server.base_url}/notes/{note['id']}").status == 404


def test_a_stale_media_edit_is_refused(browser: Any, server: UiServer) -> None:
    media_id = add_text_media(server, "stale.txt", "The first text.")
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    try:
        first, second = context.new_page(), context.new_page()
        sign_in(first, server)
        for tab in (first, second):
            tab.goto(f"{server.base_url}/media/{media_id}/edit")
        first.fill("#content", "The second text.")
        first.click("form.stack button[type=submit]")
        first.wait_for_url(f"{server.base_url}/media/{media_id}")
        assert first.inner_text("#item-content") == "The second text."
        assert first.locator("#item-versions tbody tr").count() == 2
        second.fill("#title", "A title from the stale tab")
        second.click("form.stack button[type=submit]")
        expect(second.locator("#form-error")).to_contain_text("changed since you opened it")
        first.reload()
        assert first.inner_text("#item-title") == "stale"
    finally:
        context.close()


def test_notes_are_created_searched_and_a_stale_edit_is_refused(
    browser: Any, server: UiServer
) -> None:
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    try:
        page, other = context.new_page(), context.new_page()
        sign_in(page, server)
        page.click("nav >> text=Notes")
        page.click("text=New note")
        page.fill("#title", "Shopping list")
        page.fill("#keywords", "errands, home")
        page.fill("#content", "Buy kohlrabi and rye bread.")
        page.click("form.stack button[type=submit]")
        page.wait_for_url(NOTE_PAGE)
        note_url = page.url
        assert page.inner_text("#note-title") == "Shopping list"
        assert page.locator("#note-keywords li").all_inner_texts() == ["errands", "home"]
        # Edit in two tabs: the first save wins, the second is refused in plain words.
        for tab in (page, other):
            tab.goto(f"{note_url}/edit")
        page.fill("#content", "Buy kohlrabi, rye bread and figs.")
        page.click("form.stack button[type=submit]")
        page.wait_for_url(note_url)
        assert page.inner_text("#note-version") == "2"
        other.fill("#content", "Buy nothing.")
        other.click("form.stack button[type=submit]")
        error = other.locator("#form-error")
        expect(error).to_contain_text("This note was changed since you opened it")
        assert other.input_value("#content") == "Buy nothing."  # the text is not lost
        screenshot(other, server, "note-stale")
        page.reload()
        assert page.inner_text("#note-content") == "Buy kohlrabi, rye bread and figs."
        # Search in the API's language, and the keyword filter.
        page.goto(f"{server.base_url}/notes?q=kohlrab*")
        assert page.locator("#notes .title").all_inner_texts() == ["Shopping list"]
        page.goto(f"{server.base_url}/notes?q=kohlrabi+-figs")
        assert page.locator("#notes .title").count() == 0
        # A form posted without its token (as another site would) changes nothing.
        forged = page.request.post(
            f"{server.base_url}/notes/new", form={"title": "Forged", "content": "x"}
        )
        assert forged.status == 403
        page.goto(f"{server.base_url}/notes")
        assert "Forged" not in page.locator("#notes .title").all_inner_texts()
        page.click("#note-keywords >> text=errands")
        page.wait_for_url(re.compile("keyword=errands"))
        assert page.locator("#notes .title").all_inner_texts() == ["Shopping list"]
        screenshot(page, server, "notes")
    finally:
        context.close()


def test_a_script_in_a_title_is_shown_as_text(page: Any, server: UiServer) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    sign_in(page, server)
    page.goto(f"{server.base_url}/media/add")
    page.fill("#title", SCRIPT_TITLE)
    page.fill("#text", "escaping check <b>bold?</b>")
    page.click("form.stack button[type=submit]")
    page.wait_for_url(MEDIA_PAGE)
    assert page.inner_text("#item-title") == SCRIPT_TITLE
    assert page.inner_text("#item-content") == "escaping check <b>bold?</b>"
    assert page.locator("main script").count() == 0
    page.goto(f"{server.base_url}/media?q=escaping")
    assert page.locator("#media-results .title").all_inner_texts() == [SCRIPT_TITLE]
    page.goto(f"{server.base_url}/notes/new")
    page.fill("#title", SCRIPT_TITLE)
    page.click("form.stack button[type=submit]")
    page.wait_for_url(NOTE_PAGE)
    assert page.inner_text("#note-title") == SCRIPT_TITLE
    assert page.title() == f"{SCRIPT_TITLE} · tldw_server"
    assert dialogs == []


def test_characters_conversations_and_messages_are_listed(page: Any, server: UiServer) -> None:
    card = api(
        server,
        "POST",
        "/api/v1/characters/",
        json={"name": "Ada", "description": "A patient mathematics tutor."},
    )
    chat = api(
        server,
        "POST",
        "/api/v1/chats/",
        json={"title": "Bernoulli numbers", "character_id": card["id"]},
    )
    for role, text in (
        ("user", "How are they defined?"),
        ("assistant", "By a generating function."),
    ):
        api(
            server,
            "POST",
            f"/api/v1/chats/{chat['id']}/messages",
            json={"role": role, "content": text},
        )
    sign_in(page, server)
    page.click("nav >> text=Chats")
    page.wait_for_url(f"{server.base_url}/chats")
    assert "Ada" in page.locator("#characters .title").all_inner_texts()
    screenshot(page, server, "chats")
    page.click("#characters >> text=Ada")
    page.wait_for_url(f"{server.base_url}/chats?character={card['id']}")
    assert page.locator("#conversations tbody th").all_inner_texts() == ["Bernoulli numbers"]
    page.click("#conversations >> text=Bernoulli numbers")
    page.wait_for_url(f"{server.base_url}/chats/{chat['id']}")
    assert page.locator("#messages .content").all_inner_texts() == [
        "How are they defined?",
        "By a generating function.",
    ]
    screenshot(page, server, "conversation")


def test_a_single_user_server_signs_in_with_its_key_only(page: Any, server: UiServer) -> None:
    page.goto(f"{server.base_url}/signin")
    assert page.locator("#api_key").count() == 1
    assert page.locator("#username, #password").count() == 0


def test_the_library_fits_a_phone_screen(browser: Any, server: UiServer) -> None:
    media_id = add_text_media(server, "phone.txt", "A line of text. " * 200, "small-screen")
    context = browser.new_context(viewport={"width": 375, "height": 740})
    try:
        page = context.new_page()
        sign_in(page, server)
        item = f"/media/{media_id}"
        for path in (
            "/media",
            "/media/add",
            item,
            f"{item}/edit",
            "/media/trash",
            "/notes",
            "/chats",
        ):
            page.goto(server.base_url + path)
            assert page.evaluate("document.documentElement.scrollWidth") <= 375, path
    finally:
        context.close()
