"""Notes, characters and chats on both backends: the rules behind the routes.

The shapes our users' clients rely on are checked over a socket in
test_tldw_contract_notes_chats.py; these tests check what the data does.
"""

from __future__ import annotations

import pytest

from tldw_Server_API.tests.api.conftest import TestClient

V1 = {"expected-version": "1"}


def make(client: TestClient, path: str, body: dict) -> dict:
    response = client.post(path, json=body)
    assert response.status_code == 201, response.text
    return response.json()


def test_a_deleted_note_leaves_search_and_comes_back_on_restore(client: TestClient) -> None:
    note = make(client, "/api/v1/notes/", {"title": "Shopping", "content": "milk and eggs"})
    client.delete(f"/api/v1/notes/{note['id']}", headers=V1)
    assert client.get("/api/v1/notes/search", params={"query": "eggs"}).json() == []
    client.post(f"/api/v1/notes/{note['id']}/restore", params={"expected_version": 2})
    found = client.get("/api/v1/notes/search", params={"query": "eggs"}).json()
    assert [n["id"] for n in found] == [note["id"]]


def test_note_keywords_are_one_per_word_whatever_the_case(client: TestClient) -> None:
    make(client, "/api/v1/notes/", {"title": "a", "content": "x", "keywords": ["Home"]})
    make(client, "/api/v1/notes/", {"title": "b", "content": "y", "keywords": ["home"]})
    assert [k["keyword"] for k in client.get("/api/v1/notes/keywords").json()] == ["Home"]


def test_the_notes_total_counts_live_notes_only(client: TestClient) -> None:
    kept = make(client, "/api/v1/notes/", {"title": "kept", "content": "x"})
    gone = make(client, "/api/v1/notes/", {"title": "gone", "content": "y"})
    client.delete(f"/api/v1/notes/{gone['id']}", headers=V1)
    listed = client.get("/api/v1/notes/").json()
    assert listed["total"] == 1 and [n["id"] for n in listed["items"]] == [kept["id"]]


def test_a_note_update_refuses_null_for_a_field(client: TestClient) -> None:
    note = make(client, "/api/v1/notes/", {"title": "t", "content": "c"})
    response = client.put(f"/api/v1/notes/{note['id']}", json={"title": None}, headers=V1)
    assert response.status_code == 422 and "title" in response.json()["detail"]


#: For each family of PUT routes: where to create a row, a field ``null`` may not clear, one it
#: may, and how the update names the version it expects.
UPDATES = {
    "notes": ("/api/v1/notes/", {"title": "t", "content": "c"}, "title", "conversation_id", V1),
    "characters": ("/api/v1/characters/", {"name": "Nul"}, "name", "description", None),
    "chats": ("/api/v1/chats/", {"title": "t"}, "state", "title", None),
}


@pytest.mark.parametrize("family", UPDATES)
def test_an_update_refuses_null_for_a_required_field_and_an_empty_body(
    client: TestClient, family: str
) -> None:
    path, body, required, nullable, headers = UPDATES[family]
    made = make(client, path, body)
    url = f"{path}{made['id']}"
    version = {"expected_version": made["version"]}

    def put(changes: dict) -> tuple[int, object]:
        response = client.put(url, json=changes, params=version, headers=headers)
        return response.status_code, response.json()

    assert put({required: None}) == (422, {"detail": f"{required} cannot be null"})
    assert put({}) == (400, {"detail": "No valid fields provided for update."})
    assert client.get(url).json()["version"] == made["version"]
    status, cleared = put({nullable: None})
    assert status == 200 and isinstance(cleared, dict) and cleared[nullable] is None


def test_a_character_name_is_taken_once(client: TestClient) -> None:
    make(client, "/api/v1/characters/", {"name": "Ada"})
    assert client.post("/api/v1/characters/", json={"name": "Ada"}).status_code == 409


def test_a_character_image_must_be_base64(client: TestClient) -> None:
    response = client.post("/api/v1/characters/", json={"name": "B", "image_base64": "!!"})
    assert response.status_code == 422


def test_characters_are_listed_by_name(client: TestClient) -> None:
    for name in ("Zed", "Ada"):
        make(client, "/api/v1/characters/", {"name": name})
    assert [c["name"] for c in client.get("/api/v1/characters/").json()] == ["Ada", "Zed"]


def test_a_chat_is_the_root_of_its_own_tree(client: TestClient) -> None:
    chat = make(client, "/api/v1/chats/", {"title": "Trip"})
    assert chat["root_id"] == chat["id"] and chat["parent_conversation_id"] is None


def test_a_chat_rating_is_from_1_to_5(client: TestClient) -> None:
    chat = make(client, "/api/v1/chats/", {"title": "Trip"})
    response = client.put(
        f"/api/v1/chats/{chat['id']}", json={"rating": 9}, params={"expected_version": 1}
    )
    assert response.status_code == 422


def test_a_reply_must_answer_a_message_of_the_same_chat(client: TestClient) -> None:
    chat = make(client, "/api/v1/chats/", {"title": "one"})
    other = make(client, "/api/v1/chats/", {"title": "two"})
    first = make(client, f"/api/v1/chats/{chat['id']}/messages", {"role": "user", "content": "hi"})
    orphan = client.post(
        f"/api/v1/chats/{other['id']}/messages",
        json={"role": "user", "content": "x", "parent_message_id": first["id"]},
    )
    assert orphan.status_code == 404


def test_messages_are_listed_oldest_first(client: TestClient) -> None:
    chat = make(client, "/api/v1/chats/", {"title": "order"})
    for text in ("first", "second", "third"):
        make(client, f"/api/v1/chats/{chat['id']}/messages", {"role": "user", "content": text})
    listed = client.get(f"/api/v1/chats/{chat['id']}/messages").json()["messages"]
    assert [m["content"] for m in listed] == ["first", "second", "third"]


def test_the_messages_of_every_chat_are_searched_together(client: TestClient) -> None:
    for title in ("one", "two"):
        chat = make(client, "/api/v1/chats/", {"title": title})
        make(client, f"/api/v1/chats/{chat['id']}/messages", {"role": "user", "content": "moon"})
    found = client.get("/api/v1/chats/messages/search", params={"q": "moon"}).json()
    assert len(found["results"]) == 2


def test_a_deleted_chat_hides_its_messages(client: TestClient) -> None:
    chat = make(client, "/api/v1/chats/", {"title": "gone"})
    make(client, f"/api/v1/chats/{chat['id']}/messages", {"role": "user", "content": "where"})
    assert client.delete(f"/api/v1/chats/{chat['id']}").status_code == 204
    assert client.get(f"/api/v1/chats/{chat['id']}/messages").status_code == 404
    assert (
        client.get("/api/v1/chats/messages/search", params={"q": "where"}).json()["results"] == []
    )
