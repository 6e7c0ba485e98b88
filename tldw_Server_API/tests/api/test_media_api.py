"""Media routes on both backends, in process: the rules behind the tldw_server contract.

(The contract itself, route by route over a socket, is test_tldw_contract_media.py.)
"""

from __future__ import annotations

from tldw_Server_API.app.core.DB_Management.stores import MediaStore
from tldw_Server_API.tests.api.conftest import TestClient, create_media


def test_every_item_route_answers_404_for_a_missing_item(client: TestClient) -> None:
    for method, path, body in [
        ("GET", "/api/v1/media/99", None),
        ("PUT", "/api/v1/media/99", {"title": "x"}),
        ("DELETE", "/api/v1/media/99", None),
        ("POST", "/api/v1/media/99/restore", None),
        ("DELETE", "/api/v1/media/99/permanent", None),
        ("PATCH", "/api/v1/media/99/keywords", {"keywords": ["x"]}),
        ("GET", "/api/v1/media/99/versions", None),
        (
            "POST",
            "/api/v1/media/99/versions",
            {"content": "c", "prompt": "", "analysis_content": ""},
        ),
        ("GET", "/api/v1/claims/99", None),
        ("POST", "/api/v1/media/99/claims", {"claims": [{"claim_text": "c"}]}),
    ]:
        answer = client.request(method, path, json=body)
        assert answer.status_code == 404, (method, path, answer.text)
        assert "not found" in answer.json()["detail"]


def test_a_trashed_item_is_out_of_reach_of_item_routes(client: TestClient) -> None:
    media_id = create_media(client)["media_id"]
    assert client.delete(f"/api/v1/media/{media_id}").status_code == 204

    for method, path, body in [
        ("GET", f"/api/v1/media/{media_id}", None),
        ("PUT", f"/api/v1/media/{media_id}", {"title": "x"}),
        ("PATCH", f"/api/v1/media/{media_id}/keywords", {"keywords": ["x"]}),
        ("GET", f"/api/v1/media/{media_id}/versions", None),
    ]:
        answer = client.request(method, path, json=body)
        assert answer.status_code == 404, (method, path, answer.text)
        assert "in the trash" in answer.json()["detail"]
    assert client.delete(f"/api/v1/media/{media_id}").status_code == 204  # trashing twice: same


def test_restore_brings_back_an_item_deleted_by_the_earlier_api(client: TestClient) -> None:
    media_id = create_media(client, title="Old delete")["media_id"]
    store = MediaStore(client.app.state.registry.media())  # type: ignore[attr-defined]
    store.soft_delete(media_id)  # what DELETE did before it moved items to the trash
    assert client.get(f"/api/v1/media/{media_id}").status_code == 404

    restored = client.post(f"/api/v1/media/{media_id}/restore")

    assert restored.status_code == 200, restored.text
    assert restored.json()["source"]["title"] == "Old delete"
    assert client.get(f"/api/v1/media/{media_id}").status_code == 200


def test_purging_removes_claims_and_versions_with_the_item(client: TestClient) -> None:
    media_id = create_media(client, content="Comets have tails.")["media_id"]
    claim = {"claims": [{"claim_text": "Comets have icy tails"}]}
    assert client.post(f"/api/v1/media/{media_id}/claims", json=claim).status_code == 201
    client.delete(f"/api/v1/media/{media_id}")

    assert client.delete(f"/api/v1/media/{media_id}/permanent").status_code == 204

    assert client.get("/api/v1/claims/search", params={"q": "icy"}).json()["total"] == 0
    assert client.get(f"/api/v1/claims/{media_id}").status_code == 404
    assert client.get(f"/api/v1/media/{media_id}/versions").status_code == 404


def test_claims_of_trashed_items_are_not_searched(client: TestClient) -> None:
    media_id = create_media(client)["media_id"]
    client.post(f"/api/v1/media/{media_id}/claims", json={"claims": [{"claim_text": "hidden"}]})
    assert client.get("/api/v1/claims/search", params={"q": "hidden"}).json()["total"] == 1

    client.delete(f"/api/v1/media/{media_id}")

    assert client.get("/api/v1/claims/search", params={"q": "hidden"}).json()["total"] == 0


def test_put_refuses_null_for_required_fields_and_clears_author(client: TestClient) -> None:
    media_id = create_media(client, author="Ann")["media_id"]
    path = f"/api/v1/media/{media_id}"

    for field in ("title", "type", "content", "keywords"):
        refused = client.put(path, json={field: None})
        assert refused.status_code == 422, field
        assert field in refused.json()["detail"]
    unchanged = client.put(path, json={})
    assert unchanged.status_code == 200
    assert unchanged.json()["content"]["metadata"] == {"author": "Ann"}
    cleared = client.put(path, json={"author": None})
    assert cleared.json()["content"]["metadata"] == {}


def test_put_keywords_replaces_them_first_spelling_wins(client: TestClient) -> None:
    media_id = create_media(client, keywords=["alpha"])["media_id"]

    put = client.put(f"/api/v1/media/{media_id}", json={"keywords": ["Gamma", "alpha", "ALPHA"]})

    assert put.json()["keywords"] == ["alpha", "Gamma"]


def test_patch_keywords_refuses_an_unknown_mode(client: TestClient) -> None:
    media_id = create_media(client, keywords=["alpha"])["media_id"]

    refused = client.patch(
        f"/api/v1/media/{media_id}/keywords", json={"keywords": ["x"], "mode": "toggle"}
    )

    assert refused.status_code == 422
    assert "mode" in refused.json()["detail"]
    assert client.get(f"/api/v1/media/{media_id}").json()["keywords"] == ["alpha"]


def test_new_version_route_records_prompt_analysis_and_metadata(client: TestClient) -> None:
    media_id = create_media(client, content="first text")["media_id"]

    added = client.post(
        f"/api/v1/media/{media_id}/versions",
        json={
            "content": "second",
            "prompt": "summarise",
            "analysis_content": "short",
            "safe_metadata": {"doi": "10.1/x"},
        },
    )

    assert added.status_code == 201, added.text
    assert [v["version_number"] for v in added.json()["versions"]] == [1, 2]
    assert added.json()["content"]["text"] == "first text"  # the item's own text stays
    one = client.get(f"/api/v1/media/{media_id}/versions/2").json()
    assert one["safe_metadata"] == {"doi": "10.1/x"}
    assert (one["prompt"], one["analysis_content"], one["content"]) == (
        "summarise",
        "short",
        "second",
    )


def test_search_ranks_title_matches_first_and_is_recorded(client: TestClient) -> None:
    garden = create_media(client, title="Gardening", content="Tomatoes need sun and water.")
    fruit = create_media(client, title="Tomatoes", content="A red fruit.")
    gone = create_media(client, title="Trashed tomatoes", content="tomatoes")
    client.delete(f"/api/v1/media/{gone['media_id']}")

    def ids(query: str) -> list[int]:
        found = client.post("/api/v1/media/search", json={"query": query}).json()
        return [item["id"] for item in found["items"]]

    assert ids("tomatoes") == [fruit["media_id"], garden["media_id"]]
    assert ids("zucchini") == []
    summary = client.get("/api/v1/analytics/summary").json()
    assert summary["searches"] == 2 and summary["errors"] == 0
    assert summary["top_search_types"] == [{"search_type": "media", "count": 2}]


def test_search_sorts_by_title_when_asked(client: TestClient) -> None:
    for title in ("banana", "apple", "cherry"):
        create_media(client, title=title, content="fruit")

    def titles(sort_by: str) -> list[str]:
        body = {"query": "fruit", "sort_by": sort_by}
        return [i["title"] for i in client.post("/api/v1/media/search", json=body).json()["items"]]

    assert titles("title_asc") == ["apple", "banana", "cherry"]
    assert titles("title_desc") == ["cherry", "banana", "apple"]


def test_a_sort_by_written_as_sql_sorts_by_default_and_changes_nothing(client: TestClient) -> None:
    for title in ("banana", "apple"):
        create_media(client, title=title, content="fruit")
    body = {"query": "fruit", "sort_by": "title;DROP TABLE media"}

    answer = client.post("/api/v1/media/search", json=body)

    assert answer.status_code == 200
    assert [i["title"] for i in answer.json()["items"]] == ["apple", "banana"]
    listed = client.get("/api/v1/media/", params={"results_per_page": 10}).json()
    assert {i["title"] for i in listed["items"]} >= {"apple", "banana"}


def test_add_takes_title_author_and_keywords_from_the_form(client: TestClient) -> None:
    detail = create_media(
        client, title="Named", content="body", author="Ada", keywords=["x", " y ", ""]
    )

    assert detail["source"]["title"] == "Named"
    assert detail["content"]["metadata"] == {"author": "Ada"}
    assert detail["keywords"] == ["x", "y"]


def test_add_refuses_a_file_that_is_not_utf8(client: TestClient) -> None:
    files = [("files", ("latin.txt", "café".encode("latin-1"), "text/plain"))]

    response = client.post("/api/v1/media/add", data={"media_type": "document"}, files=files)

    assert response.status_code == 207
    assert response.json()["results"][0]["error"] == "latin.txt: not UTF-8 text"
    assert client.get("/api/v1/media/").json()["pagination"]["total"] == 0
