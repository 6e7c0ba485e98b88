"""Notes, characters and chats on both backends."""

from __future__ import annotations

import base64

from tldw_Server_API.tests.api.conftest import TestClient


def test_notes_crud_search_and_keywords(client: TestClient) -> None:
    made = client.post(
        "/api/v1/notes",
        json={"title": "Shopping", "content": "milk and bread", "keywords": ["home"]},
    )
    assert made.status_code == 201, made.text
    note = made.json()
    assert note["version"] == 1 and note["keywords"] == ["home"]
    assert made.headers["location"] == f"/api/v1/notes/{note['id']}"
    note_id = note["id"]
    client.post("/api/v1/notes", json={"title": "Work", "content": "write the report"})

    assert client.get(f"/api/v1/notes/{note_id}").json() == note
    listed = client.get("/api/v1/notes", params={"sort": "title"}).json()
    assert [n["title"] for n in listed["items"]] == ["Shopping", "Work"] and listed["total"] == 2

    updated = client.put(f"/api/v1/notes/{note_id}", json={"version": 1, "content": "milk, eggs"})
    assert updated.status_code == 200 and updated.json()["version"] == 2
    stale = client.put(f"/api/v1/notes/{note_id}", json={"version": 1, "title": "x"})
    assert stale.status_code == 409 and stale.json()["current_version"] == 2

    hits = client.get("/api/v1/notes/search", params={"q": "eggs"}).json()["results"]
    assert [h["id"] for h in hits] == [note_id]
    assert client.get("/api/v1/notes/search", params={"q": "milk OR report"}).json()["results"]

    kw = client.put(f"/api/v1/notes/{note_id}/keywords", json={"keywords": ["errands", "home"]})
    assert kw.json() == {"note_id": note_id, "keywords": ["errands", "home"]}
    assert client.get(f"/api/v1/notes/{note_id}/keywords").json()["keywords"] == [
        "errands",
        "home",
    ]
    assert client.get("/api/v1/notes/keywords").json()["keywords"] == ["errands", "home"]

    assert client.delete(f"/api/v1/notes/{note_id}").json()["version"] == 3
    assert client.get(f"/api/v1/notes/{note_id}").status_code == 404
    assert client.get("/api/v1/notes/search", params={"q": "eggs"}).json()["results"] == []
    assert client.post(f"/api/v1/notes/{note_id}/restore").json()["version"] == 4
    assert client.get("/api/v1/notes/missing-id").status_code == 404


def test_characters(client: TestClient) -> None:
    image = base64.b64encode(b"\x89PNG fake").decode()
    made = client.post(
        "/api/v1/characters",
        json={
            "name": "Ada",
            "description": "a mathematician",
            "tags": ["math", "history"],
            "image_base64": image,
        },
    )
    assert made.status_code == 201, made.text
    card = made.json()
    assert card["fields"]["tags"] == '["math", "history"]' and card["image_base64"] == image
    # The name is taken: a conflict.
    assert client.post("/api/v1/characters", json={"name": "Ada"}).status_code == 409
    bad_image = client.post("/api/v1/characters", json={"name": "B", "image_base64": "!!"})
    assert bad_image.status_code == 422

    changed = client.put(f"/api/v1/characters/{card['id']}", json={"version": 1, "scenario": "x"})
    assert changed.status_code == 200 and changed.json()["fields"]["scenario"] == "x"
    assert [c["name"] for c in client.get("/api/v1/characters").json()["items"]] == ["Ada"]
    assert client.delete(f"/api/v1/characters/{card['id']}").status_code == 200
    assert client.get(f"/api/v1/characters/{card['id']}").status_code == 404
    assert client.post(f"/api/v1/characters/{card['id']}/restore").status_code == 200


def test_chats_and_messages(client: TestClient) -> None:
    character = client.post("/api/v1/characters", json={"name": "Guide"}).json()
    made = client.post(
        "/api/v1/chats", json={"title": "Trip", "character_id": character["id"], "rating": 4}
    )
    assert made.status_code == 201, made.text
    chat = made.json()
    assert chat["root_id"] == chat["id"] and chat["character_id"] == character["id"]
    chat_id = chat["id"]

    first = client.post(
        f"/api/v1/chats/{chat_id}/messages", json={"sender": "user", "content": "Where to go?"}
    )
    assert first.status_code == 201, first.text
    second = client.post(
        f"/api/v1/chats/{chat_id}/messages",
        json={
            "sender": "Guide",
            "content": "Try the mountains.",
            "parent_message_id": first.json()["id"],
        },
    )
    assert second.status_code == 201
    listed = client.get(f"/api/v1/chats/{chat_id}/messages").json()["items"]
    assert {m["content"] for m in listed} == {"Where to go?", "Try the mountains."}

    found = client.get("/api/v1/chats/messages/search", params={"q": "mountains"}).json()
    assert [h["id"] for h in found["results"]] == [second.json()["id"]]
    scoped = client.get(
        "/api/v1/chats/messages/search", params={"q": "mountains", "conversation_id": "other"}
    )
    assert scoped.json()["results"] == []

    message_id = second.json()["id"]
    edited = client.put(
        f"/api/v1/chats/{chat_id}/messages/{message_id}", json={"version": 1, "content": "Sea."}
    )
    assert edited.status_code == 200 and edited.json()["content"] == "Sea."

    other = client.post("/api/v1/chats", json={"title": "Other"}).json()
    # A message is only reachable through its own conversation.
    assert client.get(f"/api/v1/chats/{other['id']}/messages/{message_id}").status_code == 404
    orphan = client.post(
        f"/api/v1/chats/{other['id']}/messages",
        json={"sender": "u", "content": "x", "parent_message_id": message_id},
    )
    assert orphan.status_code == 404

    renamed = client.put(f"/api/v1/chats/{chat_id}", json={"version": 1, "title": "Holiday"})
    assert renamed.status_code == 200 and renamed.json()["title"] == "Holiday"
    assert (
        client.put(f"/api/v1/chats/{chat_id}", json={"version": 2, "rating": 9}).status_code == 422
    )
    assert [c["id"] for c in client.get("/api/v1/chats").json()["items"]] == [chat_id, other["id"]]

    assert client.delete(f"/api/v1/chats/{chat_id}/messages/{message_id}").status_code == 200
    assert client.delete(f"/api/v1/chats/{chat_id}").status_code == 200
    assert client.get(f"/api/v1/chats/{chat_id}").status_code == 404
    assert client.get(f"/api/v1/chats/{chat_id}/messages").status_code == 404
    assert (
        client.get("/api/v1/chats/messages/search", params={"q": "where"}).json()["results"] == []
    )
