"""Authentication (single- and multi-user) and the isolation of users' data, on both backends."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tldw_Server_API.app.api.auth import build_auth
from tldw_Server_API.app.core.config import ConfigError, Settings
from tldw_Server_API.app.factory import create_app
from tldw_Server_API.tests.api.conftest import API_KEY, TestClient, create_media

PROTECTED = [
    ("GET", "/api/v1/media/"),
    ("POST", "/api/v1/media/add"),
    ("GET", "/api/v1/media/1"),
    ("POST", "/api/v1/media/search"),
    ("GET", "/api/v1/media/keywords"),
    ("GET", "/api/v1/notes/"),
    ("GET", "/api/v1/characters/"),
    ("GET", "/api/v1/chats/"),
    ("GET", "/api/v1/chats/messages/search?q=x"),
    ("GET", "/api/v1/analytics/summary"),
    ("GET", "/api/v1/workflows/status"),
]


def test_only_a_valid_key_is_let_in(anonymous: TestClient) -> None:
    bad_headers = [
        {},
        {"X-API-KEY": ""},
        {"X-API-KEY": "wrong"},
        {"X-API-KEY": API_KEY + "x"},
        {"X-API-KEY": "x" * 10_000},
        {"Authorization": f"Basic {API_KEY}"},
        {"Authorization": "Bearer nope"},
        {"Authorization": "Bearer"},
    ]
    for method, path in PROTECTED:
        for headers in bad_headers:
            response = anonymous.request(method, path, headers=headers, json={})
            assert response.status_code == 401, (method, path, headers, response.text)
            assert response.headers["www-authenticate"] == "Bearer"
            assert API_KEY not in response.text

    # The right key, as either header, and health without one.
    assert anonymous.get("/api/v1/media", headers={"X-API-KEY": API_KEY}).status_code == 200
    bearer = anonymous.get("/api/v1/media", headers={"Authorization": f"Bearer {API_KEY}"})
    assert bearer.status_code == 200
    assert anonymous.get("/api/v1/health").status_code == 200


def test_generated_key_is_printed_once_and_works(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    app = create_app(settings.model_copy(update={"workflow_workers": 0}))
    with TestClient(app) as client:
        printed = capsys.readouterr().err
        key = app.state.auth.generated_key
        assert key and printed.count(key) == 1
        assert client.get("/api/v1/media", headers={"X-API-KEY": key}).status_code == 200
        assert client.get("/api/v1/media", headers={"X-API-KEY": "guess"}).status_code == 401


def test_multi_user_data_is_isolated(
    multi_user: tuple[TestClient, TestClient], settings: Settings
) -> None:
    alice, bob = multi_user
    registry = alice.app.state.registry  # type: ignore[attr-defined]
    a, b = registry.media("alice"), registry.media("bob")
    if settings.uses_postgres:
        assert (a.namespace, b.namespace) == ("user_alice_media", "user_bob_media")
    else:
        assert "/user_databases/alice/" in a.describe()
        assert "/user_databases/bob/" in b.describe()
    a_media = create_media(alice, title="Alice secret", content="alpha plans", keywords=["mine"])
    b_media = create_media(bob, title="Bob public", content="bravo plans")
    assert a_media["media_id"] == b_media["media_id"] == 1  # each user's ids are their own
    a_note = alice.post("/api/v1/notes/", json={"title": "diary", "content": "alpha"}).json()
    a_chat = alice.post("/api/v1/chats/", json={"title": "private chat"}).json()
    a_msg = alice.post(
        f"/api/v1/chats/{a_chat['id']}/messages", json={"role": "user", "content": "alpha words"}
    ).json()
    a_chat = alice.get(f"/api/v1/chats/{a_chat['id']}").json()  # its message_count is now 1

    # Bob's reads see only Bob's data.
    assert bob.get("/api/v1/media/1").json()["source"]["title"] == "Bob public"
    assert [m["title"] for m in bob.get("/api/v1/media/").json()["items"]] == ["Bob public"]
    assert bob.post("/api/v1/media/search", json={"query": "alpha"}).json()["items"] == []
    assert bob.get("/api/v1/media/keywords").json()["keywords"] == []
    assert bob.get(f"/api/v1/notes/{a_note['id']}").status_code == 404
    assert bob.get("/api/v1/notes/").json()["items"] == []
    assert bob.get("/api/v1/notes/search", params={"query": "alpha"}).json() == []
    assert bob.get(f"/api/v1/chats/{a_chat['id']}").status_code == 404
    assert bob.get(f"/api/v1/chats/{a_chat['id']}/messages").status_code == 404
    assert bob.get("/api/v1/chats/").json()["chats"] == []
    assert bob.get(f"/api/v1/messages/{a_msg['id']}").status_code == 404
    assert bob.get("/api/v1/chats/messages/search", params={"q": "alpha"}).json()["results"] == []

    # Bob's writes cannot reach Alice's rows.
    version = {"expected-version": "1"}
    assert (
        bob.put(f"/api/v1/notes/{a_note['id']}", json={"title": "x"}, headers=version).status_code
        == 404
    )
    assert bob.delete(f"/api/v1/notes/{a_note['id']}", headers=version).status_code == 404
    assert bob.delete(f"/api/v1/chats/{a_chat['id']}").status_code == 404
    assert (
        bob.post(
            f"/api/v1/chats/{a_chat['id']}/messages", json={"role": "user", "content": "hi"}
        ).status_code
        == 404
    )
    assert (
        bob.delete(f"/api/v1/messages/{a_msg['id']}", params={"expected_version": 1}).status_code
        == 404
    )
    bob.put("/api/v1/media/1", json={"title": "Bob renamed"})
    bob.patch("/api/v1/media/1/keywords", json={"keywords": ["bob"], "mode": "set"})
    bob.delete("/api/v1/media/1")
    bob.delete("/api/v1/media/1/permanent")

    # ... so Alice's data is exactly as she left it.
    assert alice.get("/api/v1/media/1").json() == a_media
    assert alice.get(f"/api/v1/notes/{a_note['id']}").json() == a_note
    assert alice.get(f"/api/v1/chats/{a_chat['id']}").json() == a_chat
    found = alice.post("/api/v1/media/search", json={"query": "plans"}).json()["items"]
    assert [h["id"] for h in found] == [1]
    assert alice.get("/api/v1/media/keywords").json()["keywords"] == ["mine"]


def _keys(tmp_path: Path, content: str) -> Path:
    path = tmp_path / "keys.json"
    path.write_text(content, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "TLDW_API_KEYS_FILE is not set"),
        ("missing", "no such file"),
        ("{not json", "not valid JSON"),
        ("[]", "non-empty JSON object"),
        ("{}", "non-empty JSON object"),
        ('{"super-secret-key": "../etc"}', "user id"),
        ('{"": "alice"}', "empty or over-long key"),
        ('{"k": null}', "must be a string"),
    ],
)
def test_multi_user_configuration_errors(tmp_path: Path, content: str | None, message: str) -> None:
    keys: Path | None = None
    if content == "missing":
        keys = tmp_path / "absent.json"
    elif content is not None:
        keys = _keys(tmp_path, content)
    settings = Settings(auth_mode="multi_user", api_keys_file=keys, data_dir=tmp_path)
    with pytest.raises(ConfigError) as caught:
        build_auth(settings)
    assert message in str(caught.value)
    if keys is not None:
        assert "TLDW_API_KEYS_FILE" in str(caught.value)
    assert "super-secret-key" not in str(caught.value)  # keys are never echoed


def test_multi_user_keys_map_to_users(tmp_path: Path) -> None:
    keys = _keys(tmp_path, json.dumps({"key-one": "u1", "key-two": 2}))
    auth = build_auth(Settings(auth_mode="multi_user", api_keys_file=keys))
    assert auth.user_for("key-one") == "u1" and auth.user_for("key-two") == "2"
    assert auth.user_for("key-three") is None and auth.user_for("") is None
    assert auth.user_ids == ["2", "u1"]
    assert "key-one" not in repr(auth)
