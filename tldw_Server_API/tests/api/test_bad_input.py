"""Bad input is a clear 4xx, never a 500, and hostile strings change nothing (both backends)."""

from __future__ import annotations

import json

import pytest

from tldw_Server_API.tests.api.conftest import TestClient, create_media

MB = 1024 * 1024

# (name, method, path, raw JSON body or a value to encode, expected status, text in the detail)
BAD = [
    ("malformed json", "POST", "/api/v1/media/search", b'{"query": "x",', 400, "not valid JSON"),
    ("json array", "POST", "/api/v1/media/search", [], 422, "valid dictionary"),
    ("json string", "POST", "/api/v1/media/search", b'"hello"', 422, "valid dictionary"),
    ("empty body", "POST", "/api/v1/media/search", b"", 422, "body"),
    ("unknown field", "PUT", "/api/v1/media/1", {"title": "t", "owner": 1}, 422, "owner"),
    ("missing field", "PATCH", "/api/v1/media/1/keywords", {"mode": "add"}, 422, "keywords"),
    ("wrong type", "PUT", "/api/v1/media/1", {"title": 5}, 422, "title"),
    ("keywords not a list", "PUT", "/api/v1/media/1", {"keywords": "a,b"}, 422, "keywords"),
    ("empty title", "PUT", "/api/v1/media/1", {"title": ""}, 422, "title"),
    ("NUL in content", "PUT", "/api/v1/media/1", {"content": "a\u0000b"}, 422, "NUL"),
    ("lone surrogate", "PUT", "/api/v1/media/1", b'{"title": "\\ud800"}', 422, "surrogate"),
    ("huge title", "PUT", "/api/v1/media/1", {"title": "t" * 5000}, 422, "title"),
    ("nested bomb", "POST", "/api/v1/media/search", b"[" * 100_000 + b"]" * 100_000, 4, ""),
    ("unknown update field", "PUT", "/api/v1/media/1", {"deleted": False}, 422, "deleted"),
    ("add without media_type", "POST", "/api/v1/media/add", {}, 422, "media_type"),
    ("search query too long", "POST", "/api/v1/media/search", {"query": "a" * 1001}, 422, "query"),
    ("search NUL query", "POST", "/api/v1/media/search", {"query": "a\u0000b"}, 422, "NUL"),
    ("search unknown field", "POST", "/api/v1/media/search", {"fields": ["author"]}, 422, "fields"),
    ("search unknown sort", "POST", "/api/v1/media/search", {"sort_by": "size"}, 422, "sort_by"),
    ("search unknown option", "POST", "/api/v1/media/search", {"owner": 1}, 422, "owner"),
    (
        "search page zero",
        "POST",
        "/api/v1/media/search?page=0",
        {"query": "x"},
        422,
        "page",
    ),
    (
        "note unknown field",
        "POST",
        "/api/v1/notes",
        {"title": "t", "content": "c", "id": "x"},
        422,
        "id",
    ),
    (
        "note bad ref",
        "POST",
        "/api/v1/notes",
        {"title": "t", "content": "c", "conversation_id": "../x"},
        422,
        "conversation_id",
    ),
    (
        "note dangling ref",
        "POST",
        "/api/v1/notes",
        {"title": "t", "content": "c", "conversation_id": "nope"},
        404,
        "not found",
    ),
    ("message no sender", "POST", "/api/v1/chats/nope/messages", {"content": "c"}, 422, "sender"),
    ("chat bad rating", "POST", "/api/v1/chats", {"rating": 0}, 422, "rating"),
    ("chat missing character", "POST", "/api/v1/chats", {"character_id": 999}, 404, "not found"),
    ("claims empty", "POST", "/api/v1/media/1/claims", {"claims": []}, 422, "claims"),
    (
        "claim confidence",
        "POST",
        "/api/v1/media/1/claims",
        {"claims": [{"claim_text": "x", "confidence": 7}]},
        422,
        "confidence",
    ),
    ("keywords null", "PATCH", "/api/v1/media/1/keywords", {"keywords": None}, 422, "keywords"),
    (
        "keywords mode unknown",
        "PATCH",
        "/api/v1/media/1/keywords",
        {"keywords": ["a"], "mode": "toggle"},
        422,
        "mode",
    ),
    ("id not a number", "GET", "/api/v1/media/abc", None, 422, "media_id"),
    ("id zero", "GET", "/api/v1/media/0", None, 422, "media_id"),
    ("id negative", "GET", "/api/v1/media/-5", None, 422, "media_id"),
    ("id overflow", "GET", "/api/v1/media/99999999999999999999999", None, 422, "media_id"),
    ("text id with slash-dot", "GET", "/api/v1/notes/..%2F..", None, 4, ""),
    ("text id too long", "GET", "/api/v1/notes/" + "a" * 300, None, 422, "note_id"),
    ("page size zero", "GET", "/api/v1/media/?results_per_page=0", None, 422, "results_per_page"),
    ("page size too big", "GET", "/api/v1/media/?results_per_page=1001", None, 422, "per_page"),
    ("page size absurd", "GET", "/api/v1/media/?results_per_page=" + "9" * 40, None, 422, "page"),
    ("page size float", "GET", "/api/v1/media/trash?results_per_page=1.5", None, 422, "page"),
    ("page zero", "GET", "/api/v1/media/?page=0", None, 422, "page"),
    ("page absurd", "GET", "/api/v1/media/?page=" + "9" * 40, None, 422, "page"),
    ("limit zero", "GET", "/api/v1/claims/1?limit=0", None, 422, "limit"),
    ("limit too big", "GET", "/api/v1/media/keywords?limit=1001", None, 422, "limit"),
    ("offset negative", "GET", "/api/v1/notes?offset=-1", None, 422, "offset"),
    ("offset absurd", "GET", "/api/v1/claims/1?offset=" + "9" * 40, None, 422, "offset"),
    ("offset text", "GET", "/api/v1/chats?offset=ten", None, 422, "offset"),
    ("sort subquery", "GET", "/api/v1/notes?sort=(select 1)", None, 422, "sort"),
    ("search empty", "GET", "/api/v1/claims/search?q=", None, 422, "q"),
    ("search missing", "GET", "/api/v1/claims/search", None, 422, "q"),
    ("search too long", "GET", "/api/v1/claims/search?q=" + "a" * 1001, None, 422, "q"),
    ("search NUL", "GET", "/api/v1/notes/search?q=a%00b", None, 422, "NUL"),
    ("since not a date", "GET", "/api/v1/analytics/summary?since=yesterday", None, 422, "since"),
    (
        "bad image",
        "POST",
        "/api/v1/characters",
        {"name": "x", "image_base64": "%%"},
        422,
        "image_base64",
    ),
    (
        "workflow id overflow",
        "GET",
        "/api/v1/workflows/99999999999999999999999",
        None,
        422,
        "less than or equal to 9223372036854775807",
    ),
    ("workflow offset overflow", "GET", "/api/v1/workflows/runs?offset=" + "9" * 30, None, 4, ""),
    ("workflow run id NUL", "GET", "/api/v1/workflows/runs/abc%00", None, 4, ""),
    (
        "NUL in version metadata",
        "POST",
        "/api/v1/media/1/versions",
        {
            "content": "c",
            "prompt": "p",
            "analysis_content": "a",
            "safe_metadata": {"source": {"note": "a\u0000b"}},
        },
        422,
        "safe_metadata.source: Value error, note: must not contain NUL",
    ),
    (
        "lone surrogate in a character extension",
        "POST",
        "/api/v1/characters",
        b'{"name": "x", "extensions": {"k": ["\\ud800"]}}',
        422,
        "surrogates",
    ),
    ("unknown route", "GET", "/api/v1/nothing", None, 404, "Not Found"),
    ("wrong method", "PATCH", "/api/v1/media/1", {}, 405, "Method Not Allowed"),
]


@pytest.fixture(scope="module")
def seeded(shared_client: TestClient) -> TestClient:
    if shared_client.get("/api/v1/media/1").status_code == 404:
        create_media(shared_client, title="Seed", content="seed text")
    return shared_client


@pytest.mark.parametrize(
    "method, path, body, expected, detail", [case[1:] for case in BAD], ids=[c[0] for c in BAD]
)
def test_bad_input_is_a_clear_4xx(
    seeded: TestClient, method: str, path: str, body: object, expected: int, detail: str
) -> None:
    content = body if isinstance(body, bytes) else None if body is None else json.dumps(body)
    response = seeded.request(
        method, path, content=content, headers={"Content-Type": "application/json"}
    )
    if expected < 10:  # any 4xx
        assert 400 <= response.status_code < 500, response.text
    else:
        assert response.status_code == expected, response.text
    assert detail in json.dumps(response.json())
    assert len(response.content) < 100_000  # the input is not echoed back


HOSTILE_QUERIES = [
    '"',
    "*",
    "OR",
    "NOT",
    "-",
    "a AND",
    "(((",
    ")",
    "NEAR(a b)",
    "NEAR/2",
    "title:seed",
    "{title content}: seed",
    "^seed",
    "seed + text",
    '"unterminated',
    "*seed",
    "s*d",
    "seed NOT",
    "NOT seed",
    "-seed",
    "seed -text",
    "seed OR",
    "OR OR OR",
    "()",
    ":",
    "%",
    "_",
    "\\",
    "$$",
    "&|!",
    ":*",
    "seed:*",
    "seed & text",
    "seed | text",
    "!seed",
    "<->",
    "seed <-> text",
    "'; DROP TABLE media; --",
    "seed' OR '1'='1",
    "media_fts MATCH 'x'",
    "rowid",
    '""',
    '" "',
    "猫",
    "שלום",
    "e\u0301",
    "🙂",
    "🙂*",
    "\u200b",
    "\t",
    "a\nb",
    "x" * 1000,
    " ".join(["seed OR"] * 120) + " text",
]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/media/search",
        "/api/v1/notes/search",
        "/api/v1/claims/search",
        "/api/v1/chats/messages/search",
    ],
)
def test_hostile_search_strings_are_harmless(seeded: TestClient, path: str) -> None:
    before = seeded.get("/api/v1/media/1").json()
    for query in HOSTILE_QUERIES:
        if path == "/api/v1/media/search":  # the media search takes a JSON body
            response = seeded.post(path, json={"query": query})
        else:
            response = seeded.get(path, params={"q": query})
        assert response.status_code == 200, (query, response.text)
        assert isinstance(response.json()["results"], list)
    assert seeded.get("/api/v1/media/1").json() == before
    assert seeded.get("/api/v1/health").status_code == 200


def test_oversize_bodies_are_413_before_reading(seeded: TestClient) -> None:
    limit = seeded.app.state.settings.max_request_bytes  # type: ignore[attr-defined]
    assert limit == 20 * MB

    # Declared too large: refused on the header alone (the body sent is tiny).
    declared = seeded.post(
        "/api/v1/media/search",
        content=b"{}",
        headers={"Content-Type": "application/json", "Content-Length": str(limit + 1)},
    )
    assert declared.status_code == 413 and "TLDW_MAX_REQUEST_BYTES" in declared.json()["detail"]

    # Streamed without a length: refused once the count passes the limit.
    def chunks():
        yield b'{"query": "'
        for _ in range(limit // MB + 1):
            yield b"x" * MB
        yield b'"}'

    streamed = seeded.post(
        "/api/v1/media/search", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert streamed.status_code == 413

    bogus = seeded.post(
        "/api/v1/media/search",
        content=b"{}",
        headers={"Content-Type": "application/json", "Content-Length": "lots"},
    )
    assert bogus.status_code == 400


def test_a_large_body_under_the_limit_is_accepted(seeded: TestClient) -> None:
    text = "word " * (2 * MB // 5)
    made = create_media(seeded, title="big", content=text)
    assert made["content"]["text"] == text
