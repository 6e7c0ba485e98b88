"""``POST /api/v1/rag/search/stream`` over a real socket, on both backends.

One multi-user server subprocess per backend serves the module: alice and bob each add
media (and alice a note), the server's own background indexer embeds them, and every
stream is read line by line with httpx as a client reads it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest

from tldw_Server_API.app.core.DB_Management.backends.target import PgTarget
from tldw_Server_API.tests.api.test_cutover_end_to_end import (
    LiveServer,
    ok,
    server_pg_env,
    server_process,
)
from tldw_Server_API.tests.postgres_harness import fresh_database
from tldw_Server_API.tests.RAG.test_rag_api import MEDIA, generating_client

pytestmark = [pytest.mark.timeout(180)]

ALICE = {"X-API-KEY": "alice-stream-key-aaaaaaaaaaaa"}
BOB = {"X-API-KEY": "bob-stream-key-bbbbbbbbbbbbbb"}
BODIES: list[dict[str, Any]] = [
    {"query": "cats"},
    {"query": "kitten feline", "search_mode": "vector", "top_k": 3},
    {"query": "cats OR lava", "search_mode": "fts"},
    {"query": "pets", "fts_level": "chunk", "hybrid_alpha": 0.4, "keyword_filter": ["pets"]},
    {"query": "kitten", "sources": ["media_db", "notes", "chats"]},
    {"query": "nothing-matches-this", "search_mode": "fts"},
]


def add_media(client: httpx.Client, headers: dict[str, str], title: str, content: str) -> int:
    form = {"media_type": "document", "title": title, "keywords": "pets"}
    files = [("files", ("item.txt", content.encode(), "text/plain"))]
    answer = ok(client.post("/api/v1/media/add", data=form, files=files, headers=headers))
    return int(answer["results"][0]["db_id"])


def wait_until_indexed(client: httpx.Client, headers: dict[str, str]) -> None:
    """Until the server's background indexer has embedded the user's items (bounded)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        status = ok(client.get("/api/v1/rag/index", headers=headers))
        if status["pending_items"] == 0 and status["embedded_chunks"] > 0:
            return
        time.sleep(0.1)
    raise AssertionError(f"the background indexer did not finish: {status}")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, pg_server: PgTarget
) -> Iterator[LiveServer]:
    tmp_path: Path = tmp_path_factory.mktemp(f"rag-stream-{request.param}")
    keys = tmp_path / "api_keys.json"
    keys.write_text(
        json.dumps({ALICE["X-API-KEY"]: "alice", BOB["X-API-KEY"]: "bob"}), encoding="utf-8"
    )
    env = {"TLDW_AUTH_MODE": "multi_user", "TLDW_API_KEYS_FILE": str(keys)}
    with ExitStack() as stack:
        if request.param == "postgresql":
            env |= server_pg_env(stack.enter_context(fresh_database(pg_server)))
        server = stack.enter_context(server_process(tmp_path, "server.log", **env))
        client = server.client
        for title, content, _ in MEDIA:
            add_media(client, ALICE, title, content)
        note = {"title": "Vet visit", "content": "The kitten needs a vaccine."}
        ok(client.post("/api/v1/notes/", json=note, headers=ALICE), 201)
        add_media(client, BOB, "Bob's engines", "Bob writes about engines and pistons.")
        wait_until_indexed(client, ALICE)
        wait_until_indexed(client, BOB)
        yield server


def stream(live: LiveServer, body: dict[str, Any], headers: dict[str, str]) -> list[Any]:
    """Every line of the stream, parsed as it arrives."""
    with live.client.stream(
        "POST", "/api/v1/rag/search/stream", json=body, headers=headers
    ) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("application/x-ndjson")
        return [json.loads(line) for line in response.iter_lines() if line]


def test_lines_are_metadata_documents_then_final(live: LiveServer) -> None:
    lines = stream(live, {"query": "cats", "top_k": 3}, ALICE)
    assert [line["type"] for line in lines] == [
        "metadata",
        "document",
        "document",
        "document",
        "final",
    ]
    assert lines[0]["query"] == "cats"
    assert lines[0]["metadata"]["search_mode"] == "hybrid"
    assert [line["rank"] for line in lines[1:-1]] == [1, 2, 3]
    assert lines[-1]["total_results"] == 3
    assert lines[-1]["timings"]["total_ms"] >= 0
    assert "generated_answer" not in lines[-1]


@pytest.mark.parametrize("body", BODIES, ids=[json.dumps(b) for b in BODIES])
def test_documents_equal_the_search_answer_for_the_same_body(
    live: LiveServer, body: dict[str, Any]
) -> None:
    answer = ok(live.client.post("/api/v1/rag/search", json=body, headers=ALICE))
    lines = stream(live, body, ALICE)
    assert [line["document"] for line in lines if line["type"] == "document"] == answer["documents"]
    assert lines[0]["metadata"] == answer["metadata"]
    assert lines[-1]["total_results"] == len(answer["documents"])


def test_generation_is_reported_in_the_final_line(live: LiveServer) -> None:
    lines = stream(live, {"query": "cats", "enable_generation": True}, ALICE)
    final = lines[-1]
    assert final["type"] == "final"
    assert final["generated_answer"] is None and final["citations"] == []
    assert "no chat endpoint is configured" in final["generation"]
    assert "delta" not in [line["type"] for line in lines]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"query": "x", "top_k": 101}, "top_k"),
        ({"query": "x", "search_mode": "semantic"}, "search_mode"),
        ({"query": ""}, "query"),
        ({"query": "x", "unknown": 1}, "unknown"),
        ({"sources": ["media_db"]}, "query"),
    ],
)
def test_a_bad_body_is_refused_before_any_line(
    live: LiveServer, body: dict[str, Any], field: str
) -> None:
    response = live.client.post("/api/v1/rag/search/stream", json=body, headers=ALICE)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/json")
    assert field in response.text


def test_a_request_without_a_key_is_refused(live: LiveServer) -> None:
    response = httpx.post(f"{live.base_url}/api/v1/rag/search/stream", json={"query": "cats"})
    assert response.status_code == 401


def test_each_user_streams_only_their_own_items(live: LiveServer) -> None:
    for mode in ("fts", "vector", "hybrid"):
        body = {"query": "kitten OR engines", "search_mode": mode, "sources": ["media_db", "notes"]}
        bob = [line["document"] for line in stream(live, body, BOB) if line["type"] == "document"]
        assert bob and {d["metadata"]["title"] for d in bob} == {"Bob's engines"}
        alice = [
            line["document"] for line in stream(live, body, ALICE) if line["type"] == "document"
        ]
        assert alice and all("Bob" not in d["content"] for d in alice)


def test_a_generated_answer_follows_the_documents_as_a_delta(tmp_path: Path) -> None:
    """With a chat endpoint configured: the documents, then the answer, then the citations."""
    body = {"query": "purr", "search_mode": "fts", "enable_generation": True}
    with (
        generating_client(tmp_path) as (client, received),
        client.stream("POST", "/api/v1/rag/search/stream", json=body) as response,
    ):
        assert response.status_code == 200
        lines = [json.loads(line) for line in response.iter_lines() if line]
    assert [line["type"] for line in lines] == ["metadata", "document", "delta", "final"]
    assert lines[1]["document"]["id"] == "media_db:1"
    assert lines[2]["text"] == "Cats purr [1]."
    final = lines[-1]
    assert final["generated_answer"] == "Cats purr [1]." and final["generation"] == "done"
    assert final["citations"] == [{"number": 1, "document_id": "media_db:1", "source": "media_db"}]
    assert "[1] Cats purr when content." in received[-1]["body"]["messages"][1]["content"]
