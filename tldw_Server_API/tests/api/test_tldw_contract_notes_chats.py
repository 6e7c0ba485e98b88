"""Notes, characters and chats answer tldw_server's clients as tldw_server does.

Each test plays one call the way tldw_server's web frontend, browser extension
or a user's script makes it (path with its trailing slash, parameters, headers,
body) against a real server over a socket, on SQLite and on PostgreSQL, and
checks the status and the shape of the answer.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tldw_Server_API.app.core.DB_Management.backends.target import PgTarget
from tldw_Server_API.tests.api.test_cutover_end_to_end import server_pg_env, server_process
from tldw_Server_API.tests.postgres_harness import fresh_database

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

NOTE_FIELDS = {
    "id",
    "title",
    "content",
    "conversation_id",
    "message_id",
    "created_at",
    "last_modified",
    "version",
    "client_id",
    "deleted",
    "keywords",
}
KEYWORD_FIELDS = {"id", "keyword", "created_at", "last_modified", "version", "client_id", "deleted"}
PAGINATION_FIELDS = {"mode", "limit", "offset", "total", "has_more", "next_offset"}
MESSAGE_FIELDS = {
    "id",
    "conversation_id",
    "parent_message_id",
    "sender",
    "content",
    "timestamp",
    "ranking",
    "has_image",
    "pinned",
    "version",
}
PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 16).decode()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def api(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, pg_server: PgTarget
) -> Iterator[httpx.Client]:
    """A client of one server subprocess per backend, shared by the module's tests."""
    tmp_path: Path = tmp_path_factory.mktemp(f"contract-{request.param}")
    if request.param == "sqlite":
        with server_process(tmp_path, "server.log", TLDW_WORKFLOW_WORKERS="0") as live:
            yield live.client
        return
    with (
        fresh_database(pg_server) as target,
        server_process(
            tmp_path, "server.log", TLDW_WORKFLOW_WORKERS="0", **server_pg_env(target)
        ) as live,
    ):
        yield live.client


def unique(word: str) -> str:
    """*word* with a suffix no other test uses (the server is shared by the module)."""
    return f"{word}{uuid.uuid4().hex[:8]}"


def created(response: httpx.Response) -> dict:
    assert response.status_code == 201, response.text
    return response.json()


def new_note(api: httpx.Client, **fields: object) -> dict:
    body = {"title": unique("note"), "content": "some content"} | fields
    return created(api.post("/api/v1/notes/", json=body))


def new_chat(api: httpx.Client, **fields: object) -> dict:
    return created(api.post("/api/v1/chats/", json={"title": unique("chat")} | fields))


def new_message(api: httpx.Client, chat_id: str, content: str, role: str = "user") -> dict:
    return created(
        api.post(f"/api/v1/chats/{chat_id}/messages", json={"role": role, "content": content})
    )


# -- notes ------------------------------------------------------------------------------------


def test_creating_a_note_answers_201_with_the_note_and_keyword_objects(api: httpx.Client) -> None:
    note = new_note(api, keywords=["Home", "errands"])
    assert set(note) == NOTE_FIELDS
    assert note["version"] == 1 and note["deleted"] is False
    assert sorted(k["keyword"] for k in note["keywords"]) == ["Home", "errands"]
    assert all(set(k) == KEYWORD_FIELDS for k in note["keywords"])


def test_note_keywords_may_be_one_comma_separated_string(api: httpx.Client) -> None:
    note = new_note(api, keywords="alpha, beta")
    assert sorted(k["keyword"] for k in note["keywords"]) == ["alpha", "beta"]


def test_a_post_without_the_trailing_slash_creates_without_a_redirect(api: httpx.Client) -> None:
    response = api.post("/api/v1/notes", json={"title": "no slash", "content": "x"})
    assert response.status_code == 201, response.text


def test_a_client_may_choose_the_note_id(api: httpx.Client) -> None:
    chosen = str(uuid.uuid4())
    assert new_note(api, id=chosen)["id"] == chosen


def test_auto_title_makes_a_title_from_the_first_line(api: httpx.Client) -> None:
    body = {"content": "\n# Shopping   list for Monday\nmilk", "auto_title": True}
    note = created(api.post("/api/v1/notes/", json=body))
    assert note["title"] == "Shopping list for Monday"
    short = {"content": "one two three four five six", "auto_title": True, "title_max_len": 12}
    assert created(api.post("/api/v1/notes/", json=short))["title"] == "one two"
    options = {"title_strategy": "llm", "language": "en"}
    assert created(api.post("/api/v1/notes/", json=body | options))["title"] == note["title"]
    assert new_note(api, title="Given", auto_title=True)["title"] == "Given"


def test_a_note_without_title_or_auto_title_is_a_400(api: httpx.Client) -> None:
    response = api.post("/api/v1/notes/", json={"content": "text"})
    assert response.status_code == 400
    assert response.json()["detail"] == "Title is required unless auto_title=true"


def test_note_fields_tldw_server_ignores_are_ignored(api: httpx.Client) -> None:
    note = new_note(api, attachments=[{"file_name": "a.png"}], folder="x")
    assert "attachments" not in note and "folder" not in note
    assert api.get(f"/api/v1/notes/{note['id']}").json() == note


def test_note_keywords_are_stripped_deduplicated_and_blank_ones_dropped(api: httpx.Client) -> None:
    note = new_note(api, keywords=[" Home ", "home", "", "Work"])
    assert sorted(k["keyword"] for k in note["keywords"]) == ["Home", "Work"]
    listed = new_note(api, keywords="a,, b ,A")["keywords"]
    assert sorted(k["keyword"] for k in listed) == ["a", "b"]


def test_an_update_links_and_unlinks_the_note_to_a_chat(api: httpx.Client) -> None:
    chat = new_chat(api)
    note = new_note(api)
    url = f"/api/v1/notes/{note['id']}"
    linked = api.patch(url, json={"conversation_id": chat["id"]}).json()
    assert linked["conversation_id"] == chat["id"] and linked["version"] == 2
    assert api.patch(url, json={"conversation_id": None}).json()["conversation_id"] is None
    assert api.patch(url, json={"conversation_id": "nope"}).status_code == 404


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"content": "c", "auto_title": "maybe"}, "body.auto_title"),
        ({"content": "c", "auto_title": True, "title_max_len": 501}, "body.title_max_len"),
        ({"content": "c", "title": "t", "title_strategy": "magic"}, "body.title_strategy"),
        ({"content": "c", "title": "t", "keywords": ["k" * 101]}, "body.keywords.0"),
        ({"content": "c", "title": "t", "keywords": 5}, "body.keywords"),
    ],
)
def test_bad_note_values_are_422_naming_the_field(
    api: httpx.Client, body: dict[str, object], named: str
) -> None:
    response = api.post("/api/v1/notes/", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["detail"].startswith(named + ":"), response.json()["detail"]


def test_listing_notes_answers_items_with_older_aliases_and_pagination(api: httpx.Client) -> None:
    new_note(api)
    listed = api.get("/api/v1/notes/").json()
    assert listed["limit"] == 100 and listed["offset"] == 0
    assert listed["items"] == listed["notes"] == listed["results"]
    assert listed["count"] == len(listed["items"]) and listed["total"] >= listed["count"] >= 1
    assert set(listed["pagination"]) == PAGINATION_FIELDS
    assert listed["pagination"]["total"] == listed["total"]


def test_listing_notes_pages_with_limit_and_offset(api: httpx.Client) -> None:
    for _ in range(3):
        new_note(api)
    page = api.get("/api/v1/notes/", params={"limit": 2, "offset": 1}).json()
    assert page["count"] == 2 and page["limit"] == 2 and page["offset"] == 1
    assert page["has_more"] is (page["total"] > 3)
    assert page["next_offset"] == (3 if page["has_more"] else None)


def test_notes_are_listed_without_keywords_unless_asked(api: httpx.Client) -> None:
    new_note(api, keywords=["listed"])
    assert api.get("/api/v1/notes/").json()["items"][0]["keywords"] is None
    with_keywords = api.get("/api/v1/notes/", params={"include_keywords": "true"}).json()
    assert all(isinstance(n["keywords"], list) for n in with_keywords["items"])


def test_one_note_is_read_by_its_id_with_its_keywords(api: httpx.Client) -> None:
    note = new_note(api, keywords=["read"])
    assert api.get(f"/api/v1/notes/{note['id']}").json() == note


def test_an_unknown_note_is_404(api: httpx.Client) -> None:
    assert api.get("/api/v1/notes/no-such-note").status_code == 404


def test_put_without_the_expected_version_header_is_refused(api: httpx.Client) -> None:
    note = new_note(api)
    response = api.put(f"/api/v1/notes/{note['id']}", json={"title": "changed"})
    assert response.status_code == 422
    assert "expected-version" in response.json()["detail"]


def test_put_with_the_expected_version_header_changes_the_note(api: httpx.Client) -> None:
    note = new_note(api, keywords=["old"])
    response = api.put(
        f"/api/v1/notes/{note['id']}",
        json={"content": "new content", "keywords": ["new"]},
        headers={"expected-version": "1"},
    )
    assert response.status_code == 200, response.text
    changed = response.json()
    assert changed["content"] == "new content" and changed["version"] == 2
    assert [k["keyword"] for k in changed["keywords"]] == ["new"]


def test_a_stale_expected_version_is_a_409_conflict(api: httpx.Client) -> None:
    note = new_note(api)
    url = f"/api/v1/notes/{note['id']}"
    api.put(url, json={"title": "first"}, headers={"expected-version": "1"})
    stale = api.put(url, json={"title": "second"}, headers={"expected-version": "1"})
    assert stale.status_code == 409
    assert api.get(url).json()["title"] == "first"


def test_patch_changes_a_note_without_the_header(api: httpx.Client) -> None:
    note = new_note(api)
    response = api.patch(f"/api/v1/notes/{note['id']}", json={"title": "patched"})
    assert response.status_code == 200 and response.json()["title"] == "patched"


def test_an_update_with_no_field_is_a_400(api: httpx.Client) -> None:
    note = new_note(api)
    response = api.put(f"/api/v1/notes/{note['id']}", json={}, headers={"expected-version": "1"})
    assert response.status_code == 400


def test_delete_needs_the_header_and_answers_204(api: httpx.Client) -> None:
    note = new_note(api)
    url = f"/api/v1/notes/{note['id']}"
    assert api.delete(url).status_code == 422
    response = api.delete(url, headers={"expected-version": "1"})
    assert response.status_code == 204 and response.content == b""
    assert api.get(url).status_code == 404


def test_restore_takes_the_expected_version_as_a_query_parameter(api: httpx.Client) -> None:
    note = new_note(api)
    api.delete(f"/api/v1/notes/{note['id']}", headers={"expected-version": "1"})
    url = f"/api/v1/notes/{note['id']}/restore"
    assert api.post(url, params={"expected_version": 1}).status_code == 409
    restored = api.post(url, params={"expected_version": 2})
    assert restored.status_code == 200 and restored.json()["version"] == 3
    assert restored.json()["deleted"] is False


def test_search_answers_a_list_of_notes(api: httpx.Client) -> None:
    word = unique("quokka")
    note = new_note(api, content=f"we saw a {word} today")
    response = api.get("/api/v1/notes/search", params={"query": word, "limit": 5, "offset": 0})
    assert response.status_code == 200
    found = response.json()
    assert isinstance(found, list) and [n["id"] for n in found] == [note["id"]]
    assert set(found[0]) == NOTE_FIELDS


def test_note_keywords_are_listed_as_keyword_objects(api: httpx.Client) -> None:
    new_note(api, keywords=[unique("kw")])
    response = api.get("/api/v1/notes/keywords", params={"limit": 1000, "offset": 0})
    assert response.status_code == 200
    keywords = response.json()
    assert isinstance(keywords, list) and keywords
    assert all(set(k) == KEYWORD_FIELDS for k in keywords)


def test_a_keyword_is_linked_to_and_unlinked_from_a_note(api: httpx.Client) -> None:
    note = new_note(api)
    keyword = created(api.post("/api/v1/notes/keywords/", json={"keyword": unique("tag")}))
    link = f"/api/v1/notes/{note['id']}/keywords/{keyword['id']}"
    assert api.post(link).json()["success"] is True
    of_note = api.get(f"/api/v1/notes/{note['id']}/keywords/").json()
    assert of_note["note_id"] == note["id"]
    assert [k["id"] for k in of_note["keywords"]] == [keyword["id"]]
    assert api.delete(link).json()["success"] is True
    assert api.get(f"/api/v1/notes/{note['id']}/keywords/").json()["keywords"] == []


def test_linking_an_unknown_keyword_is_404(api: httpx.Client) -> None:
    note = new_note(api)
    assert api.post(f"/api/v1/notes/{note['id']}/keywords/987654321").status_code == 404


# -- characters ---------------------------------------------------------------------------------


def new_character(api: httpx.Client, **fields: object) -> dict:
    return created(api.post("/api/v1/characters/", json={"name": unique("Ada")} | fields))


def test_creating_a_character_answers_201_with_its_fields(api: httpx.Client) -> None:
    image = base64.b64encode(b"\x89PNG not really").decode()
    card = new_character(
        api, description="a mathematician", tags=["math"], extensions={"x": 1}, image_base64=image
    )
    assert card["description"] == "a mathematician" and card["version"] == 1
    assert card["tags"] == ["math"] and card["extensions"] == {"x": 1}
    assert card["image_present"] is True and card["image_base64"] == image


def test_listing_characters_answers_a_list(api: httpx.Client) -> None:
    new_character(api)
    response = api.get("/api/v1/characters/", params={"limit": 100, "offset": 0})
    assert response.status_code == 200
    assert isinstance(response.json(), list) and response.json()


def test_querying_characters_answers_a_page(api: httpx.Client) -> None:
    for _ in range(2):
        new_character(api)
    page = api.get("/api/v1/characters/query", params={"page": 1, "page_size": 1}).json()
    assert {"items", "total", "page", "page_size", "has_more"} <= set(page)
    assert len(page["items"]) == 1 and page["page"] == 1 and page["page_size"] == 1
    assert page["total"] >= 2 and page["has_more"] is True


def test_a_character_update_takes_the_expected_version_query(api: httpx.Client) -> None:
    card = new_character(api)
    url = f"/api/v1/characters/{card['id']}"
    assert api.put(url, json={"personality": "curious"}).status_code == 422
    changed = api.put(url, json={"personality": "curious"}, params={"expected_version": 1})
    assert changed.status_code == 200 and changed.json()["version"] == 2
    stale = api.put(url, json={"personality": "bold"}, params={"expected_version": 1})
    assert stale.status_code == 409


def test_a_character_is_deleted_and_restored(api: httpx.Client) -> None:
    card = new_character(api)
    url = f"/api/v1/characters/{card['id']}"
    deleted = api.delete(url, params={"expected_version": 1})
    assert deleted.status_code == 200
    assert deleted.json()["character_id"] == card["id"] and deleted.json()["message"]
    assert api.get(url).status_code == 404
    restored = api.post(f"{url}/restore", params={"expected_version": 2})
    assert restored.status_code == 200 and restored.json()["version"] == 3


# -- chats and messages ---------------------------------------------------------------------------


def test_creating_a_chat_answers_201_with_the_chat(api: httpx.Client) -> None:
    card = new_character(api)
    chat = new_chat(api, character_id=card["id"])
    assert chat["character_id"] == card["id"] and chat["message_count"] == 0
    assert chat["version"] == 1


def test_listing_chats_answers_chats_with_pagination(api: httpx.Client) -> None:
    new_chat(api)
    listed = api.get("/api/v1/chats/", params={"limit": 1, "offset": 0}).json()
    assert {"chats", "total", "limit", "offset", "has_more", "next_offset"} <= set(listed)
    assert len(listed["chats"]) == 1 and listed["limit"] == 1
    assert listed["has_more"] is (listed["total"] > 1)


def test_a_chat_update_takes_the_expected_version_query(api: httpx.Client) -> None:
    chat = new_chat(api)
    url = f"/api/v1/chats/{chat['id']}"
    changed = api.put(url, json={"title": "renamed", "rating": 5}, params={"expected_version": 1})
    assert changed.status_code == 200
    assert changed.json()["title"] == "renamed" and changed.json()["version"] == 2
    assert api.get(url).json()["rating"] == 5


def test_a_chat_carries_its_state_and_labels(api: httpx.Client) -> None:
    plain = new_chat(api, folder="ignored")
    assert plain["state"] == "in-progress" and plain["topic_label"] is None
    labels = {"topic_label": "billing", "cluster_id": "c1", "source": "email", "external_ref": "#7"}
    chat = new_chat(api, state=" Backlog ", **labels)
    assert chat["state"] == "backlog" and {k: chat[k] for k in labels} == labels
    url = f"/api/v1/chats/{chat['id']}"
    changed = api.put(
        url, json={"state": "resolved", "source": None}, params={"expected_version": 1}
    )
    assert changed.status_code == 200, changed.text
    assert api.get(url).json() | {"version": 0} == changed.json() | {"version": 0}
    assert changed.json()["state"] == "resolved" and changed.json()["source"] is None
    assert changed.json()["topic_label"] == "billing"
    listed = api.get("/api/v1/chats/", params={"limit": 1000}).json()["chats"]
    assert next(c for c in listed if c["id"] == chat["id"])["state"] == "resolved"


@pytest.mark.parametrize(
    ("method", "body", "named"),
    [
        ("POST", {"state": "done"}, "body.state"),
        ("POST", {"state": 3}, "body.state"),
        ("POST", {"topic_label": ["x"]}, "body.topic_label"),
        ("PUT", {"state": "paused"}, "body.state"),
        ("PUT", {"state": None}, "state"),
    ],
)
def test_bad_chat_labels_are_422_naming_the_field(
    api: httpx.Client, method: str, body: dict[str, object], named: str
) -> None:
    chat = new_chat(api)
    if method == "POST":
        response = api.post("/api/v1/chats/", json=body)
    else:
        response = api.put(f"/api/v1/chats/{chat['id']}", json=body, params={"expected_version": 1})
    assert response.status_code == 422, response.text
    assert response.json()["detail"].startswith(named), response.json()["detail"]
    assert api.get(f"/api/v1/chats/{chat['id']}").json()["version"] == 1


def test_a_chat_may_be_created_as_a_fork(api: httpx.Client) -> None:
    chat = new_chat(api)
    message = new_message(api, chat["id"], "branch here")
    fork = new_chat(api, forked_from_message_id=message["id"])
    assert fork["parent_conversation_id"] == chat["id"] and fork["root_id"] == chat["root_id"]
    assert fork["forked_from_message_id"] == message["id"] and fork["message_count"] == 0
    child = new_chat(api, parent_conversation_id=fork["id"])
    assert child["root_id"] == chat["root_id"] and child["forked_from_message_id"] is None
    other = new_chat(api)
    crossed = {"parent_conversation_id": other["id"], "forked_from_message_id": message["id"]}
    assert api.post("/api/v1/chats/", json=crossed).status_code == 404
    assert api.post("/api/v1/chats/", json={"parent_conversation_id": "nope"}).status_code == 404
    bad = api.post("/api/v1/chats/", json={"forked_from_message_id": "../x"})
    assert bad.status_code == 422 and bad.json()["detail"].startswith("body.forked_from_message_id")


def test_deleting_a_chat_answers_204(api: httpx.Client) -> None:
    chat = new_chat(api)
    url = f"/api/v1/chats/{chat['id']}"
    assert api.delete(url, params={"expected_version": 1}).status_code == 204
    assert api.get(url).status_code == 404


def test_posting_a_message_with_a_role_answers_201(api: httpx.Client) -> None:
    chat = new_chat(api)
    message = new_message(api, chat["id"], "Hello there!", role="assistant")
    assert set(message) == MESSAGE_FIELDS
    assert message["sender"] == "assistant" and message["conversation_id"] == chat["id"]
    assert api.get(f"/api/v1/chats/{chat['id']}").json()["message_count"] == 1


def test_a_message_may_carry_an_image_with_or_without_text(api: httpx.Client) -> None:
    chat = new_chat(api)
    url = f"/api/v1/chats/{chat['id']}/messages"
    only = created(api.post(url, json={"role": "user", "image_base64": PNG}))
    assert only["has_image"] is True and only["content"] is None
    both = created(api.post(url, json={"role": "user", "content": "see", "image_base64": PNG}))
    assert both["has_image"] is True and both["content"] == "see"
    assert api.get(f"/api/v1/messages/{only['id']}").json()["has_image"] is True


def test_a_message_is_pinned_and_unpinned(api: httpx.Client) -> None:
    chat = new_chat(api)
    message = new_message(api, chat["id"], "keep this")
    assert message["pinned"] is False
    url = f"/api/v1/messages/{message['id']}"
    pinned = api.put(url, json={"pinned": True}, params={"expected_version": 1}).json()
    assert pinned["pinned"] is True and pinned["content"] == "keep this"
    assert api.get(url).json()["pinned"] is True
    both = api.put(url, json={"pinned": False, "content": "edited"}, params={"expected_version": 2})
    assert both.json()["pinned"] is False and both.json()["content"] == "edited"


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"role": "user"}, "body: Value error, Provide either non-empty content or image_base64."),
        ({"role": "user", "content": "   "}, "body: Value error, Provide either"),
        ({"role": "user", "image_base64": "not base64!"}, "body.image_base64"),
        ({"role": "user", "content": "x", "image_base64": 5}, "body.image_base64"),
    ],
)
def test_bad_new_messages_are_422_naming_the_field(
    api: httpx.Client, body: dict[str, object], named: str
) -> None:
    chat = new_chat(api)
    response = api.post(f"/api/v1/chats/{chat['id']}/messages", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["detail"].startswith(named), response.json()["detail"]


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({}, "body: Value error, Provide either non-empty content or pinned."),
        ({"pinned": "yes please"}, "body.pinned"),
        ({"content": ""}, "body.content"),
    ],
)
def test_bad_message_updates_are_422_naming_the_field(
    api: httpx.Client, body: dict[str, object], named: str
) -> None:
    message = new_message(api, new_chat(api)["id"], "text")
    url = f"/api/v1/messages/{message['id']}"
    response = api.put(url, json=body, params={"expected_version": 1})
    assert response.status_code == 422, response.text
    assert response.json()["detail"].startswith(named), response.json()["detail"]


def test_listing_messages_answers_messages_with_a_total(api: httpx.Client) -> None:
    chat = new_chat(api)
    for text in ("one", "two", "three"):
        new_message(api, chat["id"], text)
    page = api.get(f"/api/v1/chats/{chat['id']}/messages", params={"limit": 2, "offset": 1}).json()
    assert [m["content"] for m in page["messages"]] == ["two", "three"]
    assert page["total"] == 3 and page["limit"] == 2 and page["offset"] == 1


def test_one_message_is_read_edited_and_deleted_by_its_id(api: httpx.Client) -> None:
    chat = new_chat(api)
    message = new_message(api, chat["id"], "first draft")
    url = f"/api/v1/messages/{message['id']}"
    assert api.get(url).json() == message
    edited = api.put(url, json={"content": "final"}, params={"expected_version": 1})
    assert edited.status_code == 200 and edited.json()["version"] == 2
    assert api.delete(url, params={"expected_version": 1}).status_code == 409
    assert api.delete(url, params={"expected_version": 2}).status_code == 204
    assert api.get(url).status_code == 404


def test_a_chats_messages_are_searched_by_query(api: httpx.Client) -> None:
    word = unique("wombat")
    chat = new_chat(api)
    other = new_chat(api)
    hit = new_message(api, chat["id"], f"a {word} walked by")
    new_message(api, other["id"], f"another {word}")
    response = api.get(f"/api/v1/chats/{chat['id']}/messages/search", params={"query": word})
    assert response.status_code == 200
    found = response.json()
    assert [m["id"] for m in found["messages"]] == [hit["id"]] and found["total"] == 1
