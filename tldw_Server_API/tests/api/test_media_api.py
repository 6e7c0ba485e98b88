"""Media routes on both backends: CRUD, versions, keywords, claims, search, analytics."""

from __future__ import annotations

from tldw_Server_API.tests.api.conftest import TestClient, create_media


def test_media_lifecycle(client: TestClient) -> None:
    created = create_media(
        client,
        title="Cats at home",
        content="Cats sleep most of the day.\n\nDogs do not.",
        author="Ann",
        url="https://example.org/cats",
        keywords=["pets", "Cats", "pets"],
    )
    assert created["id"] == 1 and created["version"] == 1
    assert len(created["uuid"]) == 36
    assert created["keywords"] == ["Cats", "pets"]
    assert created["last_modified"].endswith("Z")

    got = client.get(f"/api/v1/media/{created['id']}").json()
    assert got == created

    # A stale version is refused with the current one.
    updated = client.put("/api/v1/media/1", json={"version": 1, "title": "Cats, at home"})
    assert updated.status_code == 200, updated.text
    assert updated.json()["version"] == 2 and updated.json()["title"] == "Cats, at home"
    stale = client.put("/api/v1/media/1", json={"version": 1, "title": "lost update"})
    assert stale.status_code == 409
    assert stale.json()["current_version"] == 2 and stale.json()["expected_version"] == 1
    assert client.get("/api/v1/media/1").json()["title"] == "Cats, at home"

    # Soft delete, then restore.
    deleted = client.delete("/api/v1/media/1", params={"version": 2})
    assert deleted.status_code == 200 and deleted.json() == {"id": 1, "deleted": True, "version": 3}
    assert client.get("/api/v1/media/1").status_code == 404
    assert client.get("/api/v1/media").json()["total"] == 0
    assert client.delete("/api/v1/media/1").status_code == 404
    restored = client.post("/api/v1/media/1/restore")
    assert restored.status_code == 200 and restored.json()["version"] == 4
    assert client.get("/api/v1/media").json()["total"] == 1


def test_create_sets_location_and_missing_is_404(client: TestClient) -> None:
    response = client.post("/api/v1/media", json={"title": "t", "content": "c", "type": "note"})
    assert response.headers["location"] == f"/api/v1/media/{response.json()['id']}"
    for method, path in [
        ("GET", "/api/v1/media/99"),
        ("PUT", "/api/v1/media/99"),
        ("DELETE", "/api/v1/media/99"),
        ("POST", "/api/v1/media/99/restore"),
        ("GET", "/api/v1/media/99/keywords"),
        ("GET", "/api/v1/media/99/claims"),
        ("GET", "/api/v1/media/99/versions"),
    ]:
        body = {"version": 1, "title": "x"} if method == "PUT" else None
        answer = client.request(method, path, json=body)
        assert answer.status_code == 404, (method, path, answer.text)
        assert "not found" in answer.json()["detail"]


def test_list_sorts_and_pages(client: TestClient) -> None:
    for title in ["banana", "apple", "cherry"]:
        create_media(client, title=title, content=f"about {title}")
    by_title = client.get("/api/v1/media", params={"sort": "title"}).json()
    assert [i["title"] for i in by_title["items"]] == ["apple", "banana", "cherry"]
    assert by_title["total"] == 3 and "content" not in by_title["items"][0]
    newest = client.get("/api/v1/media", params={"sort": "-id", "limit": 2, "offset": 1}).json()
    assert [i["id"] for i in newest["items"]] == [2, 1]
    assert newest["limit"] == 2 and newest["offset"] == 1
    beyond = client.get("/api/v1/media", params={"offset": 100}).json()
    assert beyond["items"] == [] and beyond["total"] == 3


def test_update_content_records_a_document_version(client: TestClient) -> None:
    create_media(client, content="first text")
    changed = client.put("/api/v1/media/1", json={"version": 1, "content": "second text"})
    assert changed.status_code == 200
    versions = client.get("/api/v1/media/1/versions").json()["versions"]
    assert [(v["version_number"], v["content"]) for v in versions] == [
        (1, "first text"),
        (2, "second text"),
    ]
    added = client.post(
        "/api/v1/media/1/versions",
        json={"content": "third", "prompt": "summarise", "safe_metadata": {"doi": "10.1/x"}},
    )
    assert added.status_code == 201 and added.json()["version_number"] == 3
    one = client.get("/api/v1/media/1/versions/3").json()
    assert one["safe_metadata"] == {"doi": "10.1/x"} and one["prompt"] == "summarise"
    assert client.get("/api/v1/media/1/versions/9").status_code == 404

    # An update must change something, and title cannot be cleared; author can.
    assert client.put("/api/v1/media/1", json={"version": 2}).status_code == 422
    assert client.put("/api/v1/media/1", json={"version": 2, "title": None}).status_code == 422
    cleared = client.put("/api/v1/media/1", json={"version": 2, "author": None})
    assert cleared.status_code == 200 and cleared.json()["author"] is None


def test_keywords(client: TestClient) -> None:
    create_media(client, keywords=["alpha"])
    create_media(client, title="second", keywords=["beta"])
    assert client.get("/api/v1/media/1/keywords").json() == {"media_id": 1, "keywords": ["alpha"]}
    put = client.put("/api/v1/media/1/keywords", json={"keywords": ["Gamma", "alpha", "ALPHA"]})
    assert put.status_code == 200 and put.json()["keywords"] == ["alpha", "Gamma"]
    all_words = client.get("/api/v1/keywords").json()
    assert all_words["keywords"] == ["alpha", "beta", "Gamma"] and all_words["total"] == 3
    assert client.get("/api/v1/keywords", params={"limit": 1, "offset": 1}).json()["keywords"] == [
        "beta"
    ]


def test_claims_and_claim_search(client: TestClient) -> None:
    create_media(client, content="The moon orbits the earth.\n\nWater boils at 100 C.")
    made = client.post(
        "/api/v1/media/1/claims",
        json={
            "claims": [
                {"claim_text": "The moon orbits the earth", "confidence": 0.9},
                {"claim_text": "Water boils at 100 degrees", "chunk_index": 1},
            ]
        },
    )
    assert made.status_code == 201, made.text
    claims = client.get("/api/v1/media/1/claims").json()["claims"]
    assert [c["claim_text"] for c in claims] == [
        "The moon orbits the earth",
        "Water boils at 100 degrees",
    ]
    found = client.get("/api/v1/claims/search", params={"q": "moon"}).json()
    assert [hit["media_id"] for hit in found["results"]] == [1]
    assert found["results"][0]["claim_text"] == "The moon orbits the earth"
    assert (
        client.get("/api/v1/claims/search", params={"q": "moon", "media_id": 2}).json()["results"]
        == []
    )


def test_search_ranks_titles_first_and_is_recorded(client: TestClient) -> None:
    create_media(client, title="Gardening", content="Tomatoes need sun and water.")
    create_media(client, title="Tomatoes", content="A red fruit.")
    create_media(client, title="Deleted tomatoes", content="tomatoes")
    client.delete("/api/v1/media/3")

    found = client.get("/api/v1/media/search", params={"q": "tomatoes"}).json()
    assert [r["id"] for r in found["results"]] == [2, 1]
    assert found["results"][0]["title_hit"] is True
    assert client.get("/api/v1/media/search", params={"q": "tomat*"}).json()["results"]
    assert [
        r["id"]
        for r in client.get("/api/v1/media/search", params={"q": "tomatoes -sun"}).json()["results"]
    ] == [2]
    phrase = client.get("/api/v1/media/search", params={"q": '"need sun"'}).json()
    assert [r["id"] for r in phrase["results"]] == [1]
    assert client.get("/api/v1/media/search", params={"q": "zucchini"}).json()["results"] == []

    summary = client.get("/api/v1/analytics/summary").json()
    assert summary["searches"] == 5 and summary["errors"] == 0
    assert summary["top_search_types"] == [{"search_type": "media", "count": 5}]
    later = client.get("/api/v1/analytics/summary", params={"since": "2999-01-01T00:00:00Z"})
    assert later.json()["searches"] == 0
