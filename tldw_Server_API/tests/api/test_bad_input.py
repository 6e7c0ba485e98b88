"""Bad input is a clear 4xx, never a 500, and hostile strings change nothing (both backends)."""

from __future__ import annotations

import json

import pytest
from httpx import Response

from tldw_Server_API.tests.api.conftest import TestClient, create_media

MB = 1024 * 1024

#: What the API promises for an unreadable body and a request that fails validation.
NOT_JSON = "the request body is not valid JSON"
EXTRA = "Extra inputs are not permitted"
REQUIRED = "Field required"
NOT_INT = "Input should be a valid integer, unable to parse string as an integer"
NO_NUL = "must not contain NUL (\\u0000) characters"
NO_SURROGATE = "must be valid Unicode (no unpaired surrogates)"
MAX_ID = "Input should be less than or equal to 9223372036854775807"
TEXT_ID = "String should match pattern '^[A-Za-z0-9_.:-]+$'"
MEDIA = {"title": "t", "content": "c", "type": "d"}

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
        f"body.conversation_id: {TEXT_ID}",
    ),
    (
        "note dangling ref",
        "POST",
        "/api/v1/notes",
        {"title": "t", "content": "c", "conversation_id": "nope"},
        404,
        "conversations 'nope' not found",
    ),
    (
        "message no sender",
        "POST",
        "/api/v1/chats/nope/messages",
        {"content": "c"},
        422,
        f"body.sender: {REQUIRED}",
    ),
    (
        "chat bad rating",
        "POST",
        "/api/v1/chats",
        {"rating": 0},
        422,
        "body.rating: Input should be greater than or equal to 1",
    ),
    (
        "chat missing character",
        "POST",
        "/api/v1/chats",
        {"character_id": 999},
        404,
        "character_cards 999 not found",
    ),
    (
        "claims empty",
        "POST",
        "/api/v1/media/1/claims",
        {"claims": []},
        422,
        "body.claims: List should have at least 1 item after validation, not 0",
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
        "body.claims.0.confidence: Input should be less than or equal to 1",
    ),
    (
        "keywords null",
        "PUT",
        "/api/v1/media/1/keywords",
        {"keywords": None},
        422,
        "body.keywords: Input should be a valid list",
    ),
    ("id not a number", "GET", "/api/v1/media/abc", None, 422, f"path.media_id: {NOT_INT}"),
    (
        "id zero",
        "GET",
        "/api/v1/media/0",
        None,
        422,
        "path.media_id: Input should be greater than or equal to 1",
    ),
    (
        "id negative",
        "GET",
        "/api/v1/media/-5",
        None,
        422,
        "path.media_id: Input should be greater than or equal to 1",
    ),
    (
        "id overflow",
        "GET",
        "/api/v1/media/99999999999999999999999",
        None,
        422,
        f"path.media_id: {MAX_ID}",
    ),
    # "../.." holds a "/": no route has a note id there (as for any unknown path).
    ("text id with slash-dot", "GET", "/api/v1/notes/..%2F..", None, 404, "Not Found"),
    (
        "text id with NUL",
        "GET",
        "/api/v1/notes/abc%00",
        None,
        422,
        f"path.note_id: {TEXT_ID}",
    ),
    (
        "text id too long",
        "GET",
        "/api/v1/notes/" + "a" * 300,
        None,
        422,
        "path.note_id: String should have at most 200 characters",
    ),
    (
        "limit zero",
        "GET",
        "/api/v1/media?limit=0",
        None,
        422,
        "query.limit: Input should be greater than or equal to 1",
    ),
    (
        "limit too big",
        "GET",
        "/api/v1/media?limit=1001",
        None,
        422,
        "query.limit: Input should be less than or equal to 1000",
    ),
    (
        "limit absurd",
        "GET",
        "/api/v1/media?limit=" + "9" * 40,
        None,
        422,
        "query.limit: Input should be less than or equal to 1000",
    ),
    ("limit float", "GET", "/api/v1/media?limit=1.5", None, 422, f"query.limit: {NOT_INT}"),
    (
        "offset negative",
        "GET",
        "/api/v1/notes?offset=-1",
        None,
        422,
        "query.offset: Input should be greater than or equal to 0",
    ),
    (
        "offset absurd",
        "GET",
        "/api/v1/media?offset=" + "9" * 40,
        None,
        422,
        "query.offset: Input should be less than or equal to 1000000000",
    ),
    ("offset text", "GET", "/api/v1/chats?offset=ten", None, 422, f"query.offset: {NOT_INT}"),
    (
        "sort injection",
        "GET",
        "/api/v1/media?sort=title;DROP TABLE media",
        None,
        422,
        "query.sort: Input should be 'id', '-id', 'title'",
    ),
    (
        "sort unknown column",
        "GET",
        "/api/v1/media?sort=content_hash",
        None,
        422,
        "query.sort: Input should be 'id', '-id', 'title'",
    ),
    (
        "sort subquery",
        "GET",
        "/api/v1/notes?sort=(select 1)",
        None,
        422,
        "query.sort: Input should be 'title', '-title', 'created_at'",
    ),
    (
        "search empty",
        "GET",
        "/api/v1/media/search?q=",
        None,
        422,
        "query.q: String should have at least 1 character",
    ),
    ("search missing", "GET", "/api/v1/media/search", None, 422, f"query.q: {REQUIRED}"),
    (
        "search too long",
        "GET",
        "/api/v1/media/search?q=" + "a" * 1001,
        None,
        422,
        "query.q: String should have at most 1000 characters",
    ),
    (
        "search NUL",
        "GET",
        "/api/v1/notes/search?q=a%00b",
        None,
        422,
        f"query.q: Value error, {NO_NUL}",
    ),
    (
        "search media_id",
        "GET",
        "/api/v1/claims/search?q=a&media_id=x",
        None,
        422,
        f"query.media_id: {NOT_INT}",
    ),
    (
        "since not a date",
        "GET",
        "/api/v1/analytics/summary?since=yesterday",
        None,
        422,
        "query.since: Input should be a valid datetime or date",
    ),
    (
        "delete version text",
        "DELETE",
        "/api/v1/media/1?version=x",
        None,
        422,
        f"query.version: {NOT_INT}",
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
    ("note search limit", "GET", "/api/v1/notes/search?query=a&limit=101", None, 422, "limit"),
    ("search empty", "GET", "/api/v1/claims/search?q=", None, 422, "q"),
    ("search missing", "GET", "/api/v1/claims/search", None, 422, "q"),
    ("search too long", "GET", "/api/v1/claims/search?q=" + "a" * 1001, None, 422, "q"),
    ("search NUL", "GET", "/api/v1/notes/search?query=a%00b", None, 422, "NUL"),
    ("since not a date", "GET", "/api/v1/analytics/summary?since=yesterday", None, 422, "since"),
    (
        "bad image",
        "POST",
        "/api/v1/characters",
        {"name": "x", "image_base64": "%%"},
        422,
        "body.image_base64: String should match pattern",
    ),
    (
        "workflow id overflow",
        "GET",
        "/api/v1/workflows/99999999999999999999999",
        None,
        422,
        f"path.workflow_id: {MAX_ID}",
    ),
    (
        "workflow offset overflow",
        "GET",
        "/api/v1/workflows/runs?offset=" + "9" * 30,
        None,
        422,
        "query.offset: Input should be less than or equal to 1000000000",
    ),
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
        f"body.safe_metadata.source: Value error, note: {NO_NUL}",
    ),
    (
        "lone surrogate in a character extension",
        "POST",
        "/api/v1/characters",
        b'{"name": "x", "extensions": {"k": ["\\ud800"]}}',
        422,
        f"k: Value error, 0: {NO_SURROGATE}",
    ),
    ("unknown route", "GET", "/api/v1/nothing", None, 404, "Not Found"),
    ("wrong method", "PATCH", "/api/v1/media/1", {}, 405, "Method Not Allowed"),
]
#: Expected, not yet answered: a run id is looked up as it is (404 repeating it) where
#: every other text id is refused with a 422 naming the parameter.
NOT_YET = [
    pytest.param(
        "GET",
        "/api/v1/workflows/runs/abc%00",
        None,
        422,
        "path.run_id",
        id="workflow run id NUL",
        marks=pytest.mark.xfail(strict=True, reason="run ids are not validated yet"),
    )
]


@pytest.fixture(scope="module")
def seeded(shared_client: TestClient) -> TestClient:
    if shared_client.get("/api/v1/media/1").status_code == 404:
        create_media(shared_client, title="Seed", content="seed text")
    return shared_client


def send(client: TestClient, method: str, path: str, body: object) -> Response:
    """*body* as given (bytes) or encoded as JSON, with a JSON content type."""
    content = body if isinstance(body, bytes) else None if body is None else json.dumps(body)
    return client.request(
        method, path, content=content, headers={"Content-Type": "application/json"}
    )


@pytest.mark.parametrize(
    "method, path, body, expected, detail",
    [pytest.param(*case[1:], id=case[0]) for case in BAD] + NOT_YET,
)
def test_bad_input_is_a_specific_4xx(
    seeded: TestClient, method: str, path: str, body: object, expected: int, detail: str
) -> None:
    response = send(seeded, method, path, body)
    assert response.status_code == expected, response.text
    answer = response.json()
    assert isinstance(answer["detail"], str)
    assert detail in answer["detail"]
    assert len(response.content) < 100_000  # the input is not echoed back


@pytest.mark.parametrize(
    "body",
    [b'{"title": "x",', b'{"title": "\xff"}', b"[" * 100_000 + b"]" * 100_000],
    ids=["malformed", "not UTF-8", "nested too deeply"],
)
def test_every_unreadable_body_is_answered_in_one_format(seeded: TestClient, body: bytes) -> None:
    response = send(seeded, "POST", "/api/v1/media", body)
    assert response.status_code == 400
    answer = response.json()
    assert set(answer) == {"detail", "errors"}
    assert answer["detail"].startswith(NOT_JSON)
    assert [error["type"] for error in answer["errors"]] == ["json_invalid"]
    assert answer["errors"][0]["loc"][0] == "body"


def test_validation_errors_list_every_field_in_one_format(seeded: TestClient) -> None:
    response = send(seeded, "POST", "/api/v1/media", {"title": 5, "owner": 1})
    assert response.status_code == 422
    answer = response.json()
    assert set(answer) == {"detail", "errors"}
    assert {tuple(error["loc"]) for error in answer["errors"]} == {
        ("body", "title"),
        ("body", "content"),
        ("body", "type"),
        ("body", "owner"),
    }
    assert all(set(error) == {"loc", "msg", "type"} for error in answer["errors"])
    assert answer["detail"] == "; ".join(
        f"{'.'.join(map(str, error['loc']))}: {error['msg']}" for error in answer["errors"]
    )


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
        if path == "/api/v1/media/search":  # the media search takes a JSON body
            response = seeded.post(path, json={"query": query})
        else:
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
