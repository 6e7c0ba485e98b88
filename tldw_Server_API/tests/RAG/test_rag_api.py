"""``/api/v1/rag``: the request and answer shape, each search mode against our full-text
search and the vectors, filters, generation, and what each user can reach; both backends.

One app per backend serves the module; its corpus is embedded by the server's own
background indexer (the tests wait for ``/api/v1/rag/index`` to report nothing pending).
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tldw_Server_API.app.core.DB_Management.backends.target import PgTarget
from tldw_Server_API.app.main import create_app
from tldw_Server_API.tests.api.conftest import (
    AUTH,
    create_media,
    fresh_installation,
    multi_user_clients,
    with_key,
)
from tldw_Server_API.tests.conftest import settings_for
from tldw_Server_API.tests.RAG.embedding_server import chat_server

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

MEDIA = [
    (
        "Cats at home",
        "Cats are small domesticated felines. A kitten purrs and hunts mice.",
        ["pets"],
    ),
    ("Stock market news", "Equity prices fell sharply as investors sold shares.", ["finance"]),
    ("Volcanoes", "Lava and magma erupt from the crater of a volcano.", []),
    ("Dogs and cats", "Dogs bark at cats; both pets need food and walks.", ["pets"]),
    ("Baking bread", "Flour, water, yeast and salt make a simple loaf.", []),
]


def wait_until_indexed(client: TestClient) -> dict[str, Any]:
    """The index status once the background indexer has nothing left (bounded wait)."""
    for _ in range(600):
        status = client.get("/api/v1/rag/index").json()
        if status["pending_items"] == 0 and status["embedded_chunks"] > 0:
            return status
        time.sleep(0.1)
    raise AssertionError(f"the background indexer did not finish: {status}")


def search(client: TestClient, **body: Any) -> dict[str, Any]:
    response = client.post("/api/v1/rag/search", json=body)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def app_client(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, pg_server: PgTarget
) -> Iterator[TestClient]:
    data_dir = tmp_path_factory.mktemp(f"rag-{request.param}") / "Databases"
    with (
        fresh_installation(request.param, data_dir, pg_server) as settings,
        TestClient(create_app(with_key(settings))) as client,
    ):
        client.headers.update(AUTH)
        for title, content, keywords in MEDIA:
            create_media(client, title=title, content=content, keywords=keywords)
        note = client.post(
            "/api/v1/notes/",
            json={"title": "Vet visit", "content": "The kitten needs a vaccine."},
        )
        assert note.status_code == 201, note.text
        chat = client.post("/api/v1/chats/", json={"title": "Pets chat"})
        assert chat.status_code == 201, chat.text
        message = client.post(
            f"/api/v1/chats/{chat.json()['id']}/messages",
            json={"role": "user", "content": "My cat sleeps all day."},
        )
        assert message.status_code == 201, message.text
        other = client.post(
            f"/api/v1/chats/{chat.json()['id']}/messages",
            json={"role": "user", "content": "Interest rates went up again at the bank."},
        )
        assert other.status_code == 201, other.text
        wait_until_indexed(client)
        yield client


def ids(answer: dict[str, Any]) -> list[str]:
    return [d["id"] for d in answer["documents"]]


def test_answer_carries_documents_query_metadata_and_timings(app_client: TestClient) -> None:
    answer = search(app_client, query="cats")
    assert set(answer) >= {"documents", "query", "metadata", "timings"}
    assert answer["query"] == "cats"
    assert answer["metadata"]["search_mode"] == "hybrid"
    assert answer["timings"]["total_ms"] >= 0
    first = answer["documents"][0]
    assert set(first) == {"id", "content", "source", "score", "metadata"}


def test_fts_mode_returns_exactly_our_full_text_search(app_client: TestClient) -> None:
    for query in ("cats", "pets OR lava", "sold shares", "nothing-matches-this"):
        ours = app_client.post(
            "/api/v1/media/search", params={"results_per_page": 10}, json={"query": query}
        ).json()
        answer = search(app_client, query=query, search_mode="fts")
        assert ids(answer) == [f"media_db:{r['id']}" for r in ours["items"]]


def test_vector_mode_finds_the_item_that_means_the_query_without_its_words(
    app_client: TestClient,
) -> None:
    answer = search(app_client, query="kitten feline", search_mode="vector", top_k=3)
    assert answer["documents"][0]["metadata"]["title"] == "Cats at home"
    assert all(":" in d["id"].removeprefix("media_db:") for d in answer["documents"])  # chunks


def test_hybrid_ranks_by_the_alpha_weighted_sum_of_both_scores(app_client: TestClient) -> None:
    answer = search(app_client, query="cats", hybrid_alpha=0.4, top_k=5)
    for document in answer["documents"]:
        fts = document["metadata"]["fts_score"] or 0.0
        vector = max(0.0, document["metadata"]["vector_score"] or 0.0)
        assert document["score"] == pytest.approx(0.4 * vector + 0.6 * fts, abs=1e-5)
    scores = [d["score"] for d in answer["documents"]]
    assert scores == sorted(scores, reverse=True)


def test_top_k_and_min_score_bound_the_documents(app_client: TestClient) -> None:
    assert len(search(app_client, query="cats", top_k=1)["documents"]) == 1
    strict = search(app_client, query="cats", search_mode="vector", min_score=0.3)
    assert all(d["score"] >= 0.3 for d in strict["documents"])


def test_keyword_filter_and_included_ids_restrict_the_items(app_client: TestClient) -> None:
    pets = search(app_client, query="cats dogs kitten", keyword_filter=["pets"], top_k=10)
    assert {d["metadata"]["title"] for d in pets["documents"]} <= {"Cats at home", "Dogs and cats"}
    only = search(app_client, query="lava volcano", include_media_ids=[2], search_mode="vector")
    assert {d["metadata"]["media_id"] for d in only["documents"]} == {2}


def test_chunk_level_full_text_returns_chunks_that_hold_the_words(app_client: TestClient) -> None:
    answer = search(app_client, query="kitten", search_mode="fts", fts_level="chunk")
    assert answer["documents"]
    assert all("kitten" in d["content"].lower() for d in answer["documents"])
    assert all("chunk_index" in d["metadata"] for d in answer["documents"])


def test_notes_and_chats_are_searched_when_asked(app_client: TestClient) -> None:
    answer = search(app_client, query="kitten", sources=["notes"], search_mode="hybrid")
    assert [d["metadata"]["title"] for d in answer["documents"]] == ["Vet visit"]
    chats = search(app_client, query="sleeps", sources=["chats"], search_mode="fts")
    assert [d["content"] for d in chats["documents"]] == ["My cat sleeps all day."]


def test_chat_messages_are_found_by_meaning_without_their_words(app_client: TestClient) -> None:
    answer = search(app_client, query="a feline napping", sources=["chats"], search_mode="vector")
    assert answer["documents"][0]["content"] == "My cat sleeps all day."
    assert answer["documents"][0]["id"].startswith("chats:")
    assert answer["documents"][0]["id"].endswith(":0")


def test_simple_search_is_hybrid_over_media(app_client: TestClient) -> None:
    simple = app_client.get("/api/v1/rag/simple", params={"query": "volcano", "top_k": 2})
    assert simple.status_code == 200
    assert simple.json()["metadata"]["search_mode"] == "hybrid"
    assert simple.json()["documents"][0]["metadata"]["title"] == "Volcanoes"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"query": "x", "top_k": 101}, "top_k"),
        ({"query": "x", "search_mode": "semantic"}, "search_mode"),
        ({"query": "x", "sources": ["web"]}, "sources"),
        ({"query": "x", "hybrid_alpha": 1.5}, "hybrid_alpha"),
        ({"query": ""}, "query"),
        ({"query": "x", "unknown": 1}, "unknown"),
    ],
)
def test_bad_requests_are_refused_naming_the_field(
    app_client: TestClient, body: dict[str, Any], field: str
) -> None:
    response = app_client.post("/api/v1/rag/search", json=body)
    assert response.status_code == 422
    assert field in response.text


def test_generation_without_a_chat_endpoint_says_none_is_configured(
    app_client: TestClient,
) -> None:
    answer = search(app_client, query="cats", enable_generation=True)
    assert answer["generated_answer"] is None
    assert "no chat endpoint is configured" in answer["metadata"]["generation"]


def test_health_says_how_vectors_are_searched(app_client: TestClient) -> None:
    detail = app_client.get("/api/v1/health").json()["vector_search"]
    assert detail.startswith(("exact scan", "pgvector"))


def test_new_and_edited_media_are_embedded_in_the_background(app_client: TestClient) -> None:
    item = create_media(app_client, title="Glaciers", content="Ice sheets carve valleys slowly.")
    wait_until_indexed(app_client)
    found = search(app_client, query="ice sheets glacier", search_mode="vector", top_k=1)
    assert found["documents"][0]["metadata"]["media_id"] == item["media_id"]
    edited = app_client.put(
        f"/api/v1/media/{item['media_id']}", json={"content": "Deserts are hot, dry and sandy."}
    )
    assert edited.status_code == 200, edited.text
    wait_until_indexed(app_client)
    after = search(app_client, query="hot dry sand desert", search_mode="vector", top_k=1)
    assert after["documents"][0]["content"] == "Deserts are hot, dry and sandy."


@contextmanager
def generating_client(tmp_path: Path) -> Iterator[tuple[TestClient, list[dict[str, Any]]]]:
    """A SQLite app whose chat endpoint answers "Cats purr [1]." (and the requests it saw),
    holding one item about cats."""
    with chat_server("Cats purr [1].") as (url, received):
        settings = settings_for("sqlite", tmp_path / "D", chat_api_url=url, chat_model="tiny")
        with TestClient(create_app(with_key(settings))) as client:
            client.headers.update(AUTH)
            create_media(client, title="Cats", content="Cats purr when content.")
            yield client, received


def test_generation_answers_with_citations_from_a_configured_endpoint(tmp_path: Path) -> None:
    with generating_client(tmp_path) as (client, received):
        answer = search(client, query="purr", search_mode="fts", enable_generation=True)
    assert answer["generated_answer"] == "Cats purr [1]."
    assert answer["citations"] == [{"number": 1, "document_id": "media_db:1", "source": "media_db"}]
    sent = received[-1]
    assert sent["path"] == "/v1/chat/completions" and sent["body"]["model"] == "tiny"
    assert "[1] Cats purr when content." in sent["body"]["messages"][1]["content"]


def test_one_user_never_retrieves_another_users_items(
    backend_kind: str, tmp_path: Path, pg_server: PgTarget
) -> None:
    with (
        fresh_installation(backend_kind, tmp_path / "Databases", pg_server) as settings,
        multi_user_clients(settings, tmp_path) as (alice, bob),
    ):
        create_media(alice, title="Alice secret", content="Alice's private kitten diary.")
        alice.post("/api/v1/notes/", json={"title": "Alice note", "content": "kitten notes"})
        create_media(bob, title="Bob's page", content="Bob writes about engines.")
        wait_until_indexed(alice)
        wait_until_indexed(bob)
        for mode in ("fts", "vector", "hybrid"):
            seen = search(bob, query="kitten", search_mode=mode, sources=["media_db", "notes"])
            assert all("Alice" not in d["content"] for d in seen["documents"])
            assert all(d["metadata"].get("title") == "Bob's page" for d in seen["documents"])
            mine = search(alice, query="kitten", search_mode=mode, sources=["media_db"])
            assert [d["metadata"]["title"] for d in mine["documents"]] == ["Alice secret"]
