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
MIN_1 = "Input should be greater than or equal to 1"
MAX_1000 = "Input should be less than or equal to 1000"
MIN_CHAR = "String should have at least 1 character"
NOT_NUMBER = "Value error, must be a number, not"
FRACTION = "Input should be a valid integer, got a number with a fractional part"
MAX_JSON = "Input should be less than or equal to 9007199254740991"
NOT_A_FORM = "POST /api/v1/media/add takes a multipart/form-data form (media_type, files, urls...)"
PER_PAGE = "query.results_per_page"
CLAIM = "body.claims.0"

#: (method, path) of the media routes most rows send bodies to (item 1 is the seeded one).
SEARCH = ("POST", "/api/v1/media/search")
PUT = ("PUT", "/api/v1/media/1")
KEYWORDS = ("PATCH", "/api/v1/media/1/keywords")
ADD = ("POST", "/api/v1/media/add")
CLAIMS = ("POST", "/api/v1/media/1/claims")


def claim(**fields: object) -> dict[str, object]:
    """A claims body holding one claim with *fields*."""
    return {"claims": [{"claim_text": "x", **fields}]}


# (name, method, path, raw JSON body or a value to encode, expected status, text in the detail)
BAD = [
    ("malformed json", *SEARCH, b'{"query": "x",', 400, f"{NOT_JSON} (error at character 14)"),
    ("body not UTF-8", *SEARCH, b'{"query": "\xff"}', 400, f"{NOT_JSON} (not UTF-8 text)"),
    (
        "nested bomb",
        *SEARCH,
        b"[" * 100_000 + b"]" * 100_000,
        400,
        f"{NOT_JSON} (nested too deeply)",
    ),
    ("json array", *SEARCH, [], 422, "body: Input should be a valid dictionary"),
    ("json string", *SEARCH, b'"hello"', 422, "body: Input should be a valid dictionary"),
    ("empty body", *SEARCH, b"", 422, f"body: {REQUIRED}"),
    ("unknown field", *PUT, {"title": "t", "owner": 1}, 422, f"body.owner: {EXTRA}"),
    ("missing field", *KEYWORDS, {"mode": "add"}, 422, f"body.keywords: {REQUIRED}"),
    ("wrong type", *PUT, {"title": 5}, 422, "body.title: Input should be a valid string"),
    (
        "keywords not a list",
        *PUT,
        {"keywords": "a,b"},
        422,
        "body.keywords: Input should be a valid list",
    ),
    (
        "empty title",
        *PUT,
        {"title": ""},
        422,
        "body.title: String should have at least 1 character",
    ),
    ("NUL in content", *PUT, {"content": "a\u0000b"}, 422, f"body.content: Value error, {NO_NUL}"),
    (
        "lone surrogate",
        *PUT,
        b'{"title": "\\ud800"}',
        422,
        f"body.title: Value error, {NO_SURROGATE}",
    ),
    (
        "huge title",
        *PUT,
        {"title": "t" * 5000},
        422,
        "body.title: String should have at most 1000 characters",
    ),
    ("null title", *PUT, {"title": None}, 422, "media: title cannot be null"),
    ("unknown update field", *PUT, {"deleted": False}, 422, f"body.deleted: {EXTRA}"),
    (
        "add as JSON",
        *ADD,
        {"media_type": "document", "urls": ["x"]},
        415,
        f"{NOT_A_FORM}, not application/json",
    ),
    (
        "search query too long",
        *SEARCH,
        {"query": "a" * 1001},
        422,
        "body.query: String should have at most 1000 characters",
    ),
    ("search NUL query", *SEARCH, {"query": "a\u0000b"}, 422, f"body.query: Value error, {NO_NUL}"),
    ("search unknown option", *SEARCH, {"owner": 1}, 422, f"body.owner: {EXTRA}"),
    (
        "search date range",
        *SEARCH,
        {"date_range": {"start_date": 1.5}},
        422,
        "body.date_range.start_date: Value error, must be an ISO-8601 instant such as "
        "2025-10-08T12:34:56Z",
    ),
    (
        "search page zero",
        "POST",
        "/api/v1/media/search?page=0",
        {"query": "x"},
        422,
        "query.page: Input should be greater than or equal to 1",
    ),
    (
        "note bad title length",
        "POST",
        "/api/v1/notes/",
        {"content": "c", "auto_title": True, "title_max_len": 0},
        422,
        "body.title_max_len: Input should be greater than or equal to 1",
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
    (
        "message no role",
        "POST",
        "/api/v1/chats/nope/messages",
        {"content": "c"},
        422,
        f"body.role: {REQUIRED}",
    ),
    (
        "message unknown role",
        "POST",
        "/api/v1/chats/nope/messages",
        {"role": "bot", "content": "c"},
        422,
        "body.role: Input should be 'user', 'assistant' or 'system'",
    ),
    (
        "note update without expected-version",
        "PUT",
        "/api/v1/notes/x",
        {"title": "t"},
        422,
        f"header.expected-version: {REQUIRED}",
    ),
    (
        "note delete without expected-version",
        "DELETE",
        "/api/v1/notes/x",
        None,
        422,
        f"header.expected-version: {REQUIRED}",
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
        "claim number as text",
        *CLAIMS,
        claim(chunk_index="1"),
        422,
        f"{CLAIM}.chunk_index: {NOT_NUMBER} text",
    ),
    (
        "claim boolean number",
        *CLAIMS,
        claim(confidence=True),
        422,
        f"{CLAIM}.confidence: {NOT_NUMBER} a boolean",
    ),
    ("claim fractional", *CLAIMS, claim(chunk_index=1.5), 422, f"{CLAIM}.chunk_index: {FRACTION}"),
    (
        "claim number huge",
        *CLAIMS,
        claim(span_start=10**30),
        422,
        f"{CLAIM}.span_start: {MAX_JSON}",
    ),
    (
        "keywords null",
        *KEYWORDS,
        {"keywords": None},
        422,
        "body.keywords: Input should be a valid list",
    ),
    (
        "keywords mode unknown",
        *KEYWORDS,
        {"keywords": ["a"], "mode": "toggle"},
        422,
        "body.mode: Input should be 'add', 'remove' or 'set'",
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
    ("limit zero", "GET", "/api/v1/claims/1?limit=0", None, 422, f"query.limit: {MIN_1}"),
    (
        "limit too big",
        "GET",
        "/api/v1/media/keywords?limit=1001",
        None,
        422,
        f"query.limit: {MAX_1000}",
    ),
    (
        "limit absurd",
        "GET",
        "/api/v1/claims/search?q=a&limit=" + "9" * 40,
        None,
        422,
        f"query.limit: {MAX_1000}",
    ),
    (
        "limit float",
        "GET",
        "/api/v1/media/1/versions?limit=1.5",
        None,
        422,
        f"query.limit: {NOT_INT}",
    ),
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
        "/api/v1/claims/1?offset=" + "9" * 40,
        None,
        422,
        "query.offset: Input should be less than or equal to 1000000000",
    ),
    ("offset text", "GET", "/api/v1/chats?offset=ten", None, 422, f"query.offset: {NOT_INT}"),
    ("search empty", "GET", "/api/v1/claims/search?q=", None, 422, f"query.q: {MIN_CHAR}"),
    ("search missing", "GET", "/api/v1/claims/search", None, 422, f"query.q: {REQUIRED}"),
    (
        "search too long",
        "GET",
        "/api/v1/claims/search?q=" + "a" * 1001,
        None,
        422,
        "query.q: String should have at most 1000 characters",
    ),
    # GET was the old media search: the path is POST's now, not an item id.
    ("search by GET", "GET", "/api/v1/media/search?q=x", None, 405, "Method Not Allowed"),
    (
        "search NUL",
        "GET",
        "/api/v1/notes/search?query=a%00b",
        None,
        422,
        f"query.query: Value error, {NO_NUL}",
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
        "version number text",
        "GET",
        "/api/v1/media/1/versions/x",
        None,
        422,
        f"path.version_number: {NOT_INT}",
    ),
    (
        "page size zero",
        "GET",
        "/api/v1/media/?results_per_page=0",
        None,
        422,
        f"{PER_PAGE}: {MIN_1}",
    ),
    (
        "page size too big",
        "GET",
        "/api/v1/media/?results_per_page=1001",
        None,
        422,
        f"{PER_PAGE}: {MAX_1000}",
    ),
    (
        "page size absurd",
        "GET",
        "/api/v1/media/?results_per_page=" + "9" * 40,
        None,
        422,
        f"{PER_PAGE}: {MAX_1000}",
    ),
    (
        "page size float",
        "GET",
        "/api/v1/media/trash?results_per_page=1.5",
        None,
        422,
        f"{PER_PAGE}: {NOT_INT}",
    ),
    ("page zero", "GET", "/api/v1/media/?page=0", None, 422, f"query.page: {MIN_1}"),
    (
        "page absurd",
        "GET",
        "/api/v1/media/?page=" + "9" * 40,
        None,
        422,
        "query.page: Input should be less than or equal to 1000000",
    ),
    (
        "note search limit",
        "GET",
        "/api/v1/notes/search?query=a&limit=101",
        None,
        422,
        "query.limit: Input should be less than or equal to 100",
    ),
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
    (
        "workflow run id NUL",
        "GET",
        "/api/v1/workflows/runs/abc%00",
        None,
        422,
        f"path.run_id: {TEXT_ID}",
    ),
    (
        "workflow run id too long",
        "POST",
        "/api/v1/workflows/runs/" + "a" * 300 + "/cancel",
        None,
        422,
        "path.run_id: String should have at most 200 characters",
    ),
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
    [pytest.param(*case[1:], id=case[0]) for case in BAD],
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
    [b'{"query": "x",', b'{"query": "\xff"}', b"[" * 100_000 + b"]" * 100_000],
    ids=["malformed", "not UTF-8", "nested too deeply"],
)
def test_every_unreadable_body_is_answered_in_one_format(seeded: TestClient, body: bytes) -> None:
    response = send(seeded, *SEARCH, body)
    assert response.status_code == 400
    answer = response.json()
    assert set(answer) == {"detail", "errors"}
    assert answer["detail"].startswith(NOT_JSON)
    assert [error["type"] for error in answer["errors"]] == ["json_invalid"]
    assert answer["errors"][0]["loc"][0] == "body"


def test_validation_errors_list_every_field_in_one_format(seeded: TestClient) -> None:
    response = send(seeded, "POST", "/api/v1/media/1/versions", {"content": 5, "owner": 1})
    assert response.status_code == 422
    answer = response.json()
    assert set(answer) == {"detail", "errors"}
    assert {tuple(error["loc"]) for error in answer["errors"]} == {
        ("body", "content"),
        ("body", "prompt"),
        ("body", "analysis_content"),
        ("body", "owner"),
    }
    assert all(set(error) == {"loc", "msg", "type"} for error in answer["errors"])
    assert answer["detail"] == "; ".join(
        f"{'.'.join(map(str, error['loc']))}: {error['msg']}" for error in answer["errors"]
    )


@pytest.mark.parametrize(
    "method, path, allowed",
    [
        ("GET", "/api/v1/media/search", "POST"),
        ("GET", "/api/v1/media/add", "POST"),
        ("PUT", "/api/v1/media/trash", "GET"),
        ("DELETE", "/api/v1/media/keywords", "GET"),
    ],
)
def test_a_static_media_path_names_its_method_to_any_other(
    seeded: TestClient, method: str, path: str, allowed: str
) -> None:
    response = seeded.request(method, path)
    assert response.status_code == 405
    assert response.json() == {"detail": "Method Not Allowed"}
    assert response.headers["allow"] == allowed


def media_total(client: TestClient) -> int:
    total: int = client.get("/api/v1/media/").json()["pagination"]["total"]
    return total


def test_an_add_form_without_media_type_names_the_field_and_adds_nothing(
    seeded: TestClient,
) -> None:
    before = media_total(seeded)
    files = [("files", ("item.txt", b"text", "text/plain"))]
    response = seeded.post("/api/v1/media/add", data={"title": "t"}, files=files)
    assert response.status_code == 422
    assert response.json()["detail"] == f"body.media_type: {REQUIRED}"
    assert media_total(seeded) == before


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
