"""Bad input is a clear 4xx, never a 500, and hostile strings change nothing (both backends)."""

from __future__ import annotations

import json

import pytest

from tldw_Server_API.tests.api.conftest import TestClient

MB = 1024 * 1024

# (name, method, path, raw JSON body or a value to encode, expected status, text in the detail)
BAD = [
    ("malformed json", "POST", "/api/v1/media", b'{"title": "x",', 400, "not valid JSON"),
    ("json array", "POST", "/api/v1/media", [], 422, "valid dictionary"),
    ("json string", "POST", "/api/v1/media", b'"hello"', 422, "valid dictionary"),
    ("empty body", "POST", "/api/v1/media", b"", 422, "body"),
    (
        "unknown field",
        "POST",
        "/api/v1/media",
        {"title": "t", "content": "c", "type": "d", "owner": 1},
        422,
        "owner",
    ),
    ("missing field", "POST", "/api/v1/media", {"title": "t", "type": "d"}, 422, "content"),
    (
        "wrong type",
        "POST",
        "/api/v1/media",
        {"title": 5, "content": "c", "type": "d"},
        422,
        "title",
    ),
    (
        "keywords not a list",
        "POST",
        "/api/v1/media",
        {"title": "t", "content": "c", "type": "d", "keywords": "a,b"},
        422,
        "keywords",
    ),
    (
        "empty title",
        "POST",
        "/api/v1/media",
        {"title": "", "content": "c", "type": "d"},
        422,
        "title",
    ),
    (
        "NUL in content",
        "POST",
        "/api/v1/media",
        {"title": "t", "content": "a\u0000b", "type": "d"},
        422,
        "NUL",
    ),
    (
        "lone surrogate",
        "POST",
        "/api/v1/media",
        b'{"title": "\\ud800", "content": "c", "type": "d"}',
        422,
        "surrogate",
    ),
    (
        "huge title",
        "POST",
        "/api/v1/media",
        {"title": "t" * 5000, "content": "c", "type": "d"},
        422,
        "title",
    ),
    ("nested bomb", "POST", "/api/v1/media", b"[" * 100_000 + b"]" * 100_000, 4, ""),
    ("version missing", "PUT", "/api/v1/media/1", {"title": "t"}, 422, "version"),
    ("version string", "PUT", "/api/v1/media/1", {"version": "one", "title": "t"}, 422, "version"),
    ("version huge", "PUT", "/api/v1/media/1", {"version": 10**30, "title": "t"}, 422, "version"),
    ("version bool-ish", "PUT", "/api/v1/media/1", {"version": 1.5, "title": "t"}, 422, "version"),
    (
        "unknown update field",
        "PUT",
        "/api/v1/media/1",
        {"version": 1, "deleted": False},
        422,
        "deleted",
    ),
    (
        "note unknown field",
        "POST",
        "/api/v1/notes/",
        {"title": "t", "content": "c", "deleted": True},
        422,
        "deleted",
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
    ("message no role", "POST", "/api/v1/chats/nope/messages", {"content": "c"}, 422, "role"),
    (
        "message unknown role",
        "POST",
        "/api/v1/chats/nope/messages",
        {"role": "bot", "content": "c"},
        422,
        "role",
    ),
    (
        "note update without expected-version",
        "PUT",
        "/api/v1/notes/x",
        {"title": "t"},
        422,
        "expected-version",
    ),
    (
        "note delete without expected-version",
        "DELETE",
        "/api/v1/notes/x",
        None,
        422,
        "expected-version",
    ),
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
    ("keywords null", "PUT", "/api/v1/media/1/keywords", {"keywords": None}, 422, "keywords"),
    ("id not a number", "GET", "/api/v1/media/abc", None, 422, "media_id"),
    ("id zero", "GET", "/api/v1/media/0", None, 422, "media_id"),
    ("id negative", "GET", "/api/v1/media/-5", None, 422, "media_id"),
    ("id overflow", "GET", "/api/v1/media/99999999999999999999999", None, 422, "media_id"),
    ("text id with slash-dot", "GET", "/api/v1/notes/..%2F..", None, 4, ""),
    ("text id too long", "GET", "/api/v1/notes/" + "a" * 300, None, 422, "note_id"),
    ("limit zero", "GET", "/api/v1/media?limit=0", None, 422, "limit"),
    ("limit too big", "GET", "/api/v1/media?limit=1001", None, 422, "limit"),
    ("limit absurd", "GET", "/api/v1/media?limit=" + "9" * 40, None, 422, "limit"),
    ("limit float", "GET", "/api/v1/media?limit=1.5", None, 422, "limit"),
    ("offset negative", "GET", "/api/v1/notes?offset=-1", None, 422, "offset"),
    ("offset absurd", "GET", "/api/v1/media?offset=" + "9" * 40, None, 422, "offset"),
    ("offset text", "GET", "/api/v1/chats?offset=ten", None, 422, "offset"),
    ("sort injection", "GET", "/api/v1/media?sort=title;DROP TABLE media", None, 422, "sort"),
    ("sort unknown column", "GET", "/api/v1/media?sort=content_hash", None, 422, "sort"),
    ("note search limit", "GET", "/api/v1/notes/search?query=a&limit=101", None, 422, "limit"),
    ("search empty", "GET", "/api/v1/media/search?q=", None, 422, "q"),
    ("search missing", "GET", "/api/v1/media/search", None, 422, "q"),
    ("search too long", "GET", "/api/v1/media/search?q=" + "a" * 1001, None, 422, "q"),
    ("search NUL", "GET", "/api/v1/notes/search?query=a%00b", None, 422, "NUL"),
    ("search media_id", "GET", "/api/v1/claims/search?q=a&media_id=x", None, 422, "media_id"),
    ("since not a date", "GET", "/api/v1/analytics/summary?since=yesterday", None, 422, "since"),
    ("delete version text", "DELETE", "/api/v1/media/1?version=x", None, 422, "version"),
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
        {"content": "c", "safe_metadata": {"source": {"note": "a\u0000b"}}},
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
        made = shared_client.post(
            "/api/v1/media", json={"title": "Seed", "content": "seed text", "type": "d"}
        )
        assert made.status_code == 201, made.text
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
    "path, parameter",
    [
        ("/api/v1/media/search", "q"),
        ("/api/v1/notes/search", "query"),
        ("/api/v1/claims/search", "q"),
        ("/api/v1/chats/messages/search", "q"),
    ],
)
def test_hostile_search_strings_are_harmless(seeded: TestClient, path: str, parameter: str) -> None:
    before = seeded.get("/api/v1/media/1").json()
    for query in HOSTILE_QUERIES:
        response = seeded.get(path, params={parameter: query})
        assert response.status_code == 200, (query, response.text)
        found = response.json()
        assert isinstance(found if parameter == "query" else found["results"], list)
    assert seeded.get("/api/v1/media/1").json() == before
    assert seeded.get("/api/v1/health").status_code == 200


def test_oversize_bodies_are_413_before_reading(seeded: TestClient) -> None:
    limit = seeded.app.state.settings.max_request_bytes  # type: ignore[attr-defined]
    assert limit == 20 * MB

    # Declared too large: refused on the header alone (the body sent is tiny).
    declared = seeded.post(
        "/api/v1/media",
        content=b"{}",
        headers={"Content-Type": "application/json", "Content-Length": str(limit + 1)},
    )
    assert declared.status_code == 413 and "TLDW_MAX_REQUEST_BYTES" in declared.json()["detail"]

    # Streamed without a length: refused once the count passes the limit.
    def chunks():
        yield b'{"title": "t", "type": "d", "content": "'
        for _ in range(limit // MB + 1):
            yield b"x" * MB
        yield b'"}'

    streamed = seeded.post(
        "/api/v1/media", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert streamed.status_code == 413

    bogus = seeded.post(
        "/api/v1/media",
        content=b"{}",
        headers={"Content-Type": "application/json", "Content-Length": "lots"},
    )
    assert bogus.status_code == 400


def test_a_large_body_under_the_limit_is_accepted(seeded: TestClient) -> None:
    text = "word " * (2 * MB // 5)
    made = seeded.post("/api/v1/media", json={"title": "big", "content": text, "type": "d"})
    assert made.status_code == 201, made.text[:500]
    assert seeded.get(f"/api/v1/media/{made.json()['id']}").json()["content"] == text
