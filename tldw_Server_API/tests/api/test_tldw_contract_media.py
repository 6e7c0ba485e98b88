"""tldw_server's clients against our server: media, media keywords and claims.

Each test plays requests the way tldw_server's web frontend, browser extension
and scripts send them (paths, query parameters, multipart forms, JSON bodies,
``X-API-KEY`` or ``Authorization: Bearer``) to a real server process over a
socket, on SQLite and on PostgreSQL, and checks status codes and response
shapes as those clients read them.

One server per backend serves the whole module (a server start costs seconds),
so every test makes its own items, with words no other test uses, and checks
what it made, never the totals of the database.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from typing import Any

import httpx
import pytest

from tldw_Server_API.app.core.DB_Management.backends.target import PgTarget
from tldw_Server_API.tests.api.test_cutover_end_to_end import (
    KEY,
    LiveServer,
    server_pg_env,
    server_process,
)
from tldw_Server_API.tests.pdf_files import text_pdf
from tldw_Server_API.tests.postgres_harness import fresh_database

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

PAGINATION_KEYS = {"page", "per_page", "total", "total_pages", "has_more"}
DETAIL_KEYS = {"media_id", "source", "processing", "content", "keywords", "timestamps", "versions"}


def ok(response: httpx.Response, code: int = 200) -> Any:
    assert response.status_code == code, (response.request.url, response.text)
    return response.json()


def add_text(
    client: httpx.Client,
    title: str,
    content: str,
    keywords: Sequence[str] = (),
    media_type: str = "document",
    author: str | None = None,
) -> int:
    """Upload one text file through POST /media/add, as the web frontend does; its id."""
    form = {"media_type": media_type, "title": title, "keywords": ",".join(keywords)}
    if author is not None:
        form["author"] = author
    files = [("files", (f"{title}.txt", content.encode(), "text/plain"))]
    result = ok(client.post("/api/v1/media/add", data=form, files=files))["results"][0]
    assert result["status"] == "Success", result
    return int(result["db_id"])


def word() -> str:
    """A word no other test uses (letters only, so every query language reads it as one)."""
    return "w" + "".join(c for c in uuid.uuid4().hex if c.isalpha()) + "x"


def total(client: httpx.Client, path: str = "/api/v1/media/") -> int:
    return int(ok(client.get(path))["pagination"]["total"])


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def live_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, pg_server: PgTarget
) -> Iterator[LiveServer]:
    """The module's server process on each backend (conftest's ``live_server``, module-wide)."""
    tmp = tmp_path_factory.mktemp(f"contract-{request.param}")
    if request.param == "sqlite":
        with server_process(tmp, "server.log", TLDW_WORKFLOW_WORKERS="0") as live:
            yield live
        return
    with (
        fresh_database(pg_server) as target,
        server_process(
            tmp, "server.log", TLDW_WORKFLOW_WORKERS="0", **server_pg_env(target)
        ) as live,
    ):
        yield live


@pytest.fixture
def client(live_server: LiveServer) -> httpx.Client:
    return live_server.client


# -- POST /media/add ----------------------------------------------------------------------------


def test_add_stores_uploaded_text_markdown_and_html_files(client: httpx.Client) -> None:
    files = [
        ("files", ("plain.txt", b"Plain words about comets.", "text/plain")),
        ("files", ("notes.md", b"# Notes\n\nMarkdown about comets.", "text/markdown")),
        (
            "files",
            (
                "page.html",
                b"<html><head><title>A page</title><style>p{}</style></head>"
                b"<body><p>HTML about comets.</p><script>alert(1)</script></body></html>",
                "text/html",
            ),
        ),
    ]
    form = {"media_type": "document", "keywords": "space, comets", "perform_chunking": "true"}
    results = ok(client.post("/api/v1/media/add", data=form, files=files))["results"]

    assert [r["status"] for r in results] == ["Success"] * 3
    assert [r["input_ref"] for r in results] == ["plain.txt", "notes.md", "page.html"]
    assert all(isinstance(r["db_id"], int) and r["error"] is None for r in results)
    page = ok(client.get(f"/api/v1/media/{results[2]['db_id']}"))
    assert page["source"]["title"] == "A page"
    assert page["content"]["text"] == "HTML about comets."
    assert page["keywords"] == ["comets", "space"]
    markdown = ok(client.get(f"/api/v1/media/{results[1]['db_id']}"))
    assert markdown["source"]["title"] == "notes"
    assert markdown["content"]["text"] == "# Notes\n\nMarkdown about comets."


def test_add_stores_the_text_of_an_uploaded_pdf_found_by_a_word_inside(
    client: httpx.Client,
) -> None:
    marker = word()
    pdf = text_pdf([f"First page about {marker}.", "Second page."], title="Survey")
    form = {"media_type": "pdf"}
    files = [("files", ("survey.pdf", pdf, "application/pdf"))]
    (result,) = ok(client.post("/api/v1/media/add", data=form, files=files))["results"]

    assert result["status"] == "Success"
    item = ok(client.get(f"/api/v1/media/{result['db_id']}"))
    assert item["source"]["title"] == "Survey"
    assert item["content"]["text"] == f"First page about {marker}.\n\nSecond page."
    found = ok(client.post("/api/v1/media/search", json={"query": marker}))
    assert [i["id"] for i in found["items"]] == [result["db_id"]]


def test_add_answers_207_naming_each_source_it_could_not_add(client: httpx.Client) -> None:
    before = total(client)
    form = {"media_type": "document", "urls": ["https://example.org/a.html"]}
    files = [
        ("files", ("report.pdf", b"%PDF-1.4 binary", "application/pdf")),
        ("files", ("report.docx", b"PK\x03\x04", "application/octet-stream")),
        ("files", ("fine.txt", b"readable text", "text/plain")),
    ]
    response = client.post("/api/v1/media/add", data=form, files=files)

    assert response.status_code == 207, response.text
    by_ref = {r["input_ref"]: r for r in response.json()["results"]}
    assert by_ref["https://example.org/a.html"]["status"] == "Error"
    assert "URL is not supported" in by_ref["https://example.org/a.html"]["error"]
    assert by_ref["report.pdf"]["status"] == "Error"
    assert by_ref["report.pdf"]["error"].startswith("report.pdf: not a readable PDF")
    assert by_ref["report.docx"]["error"].startswith("report.docx: only .txt")
    assert by_ref["fine.txt"]["status"] == "Success"
    assert total(client) == before + 1


def test_add_without_files_or_urls_is_400_and_stores_nothing(client: httpx.Client) -> None:
    before = total(client)
    response = client.post("/api/v1/media/add", data={"media_type": "document", "urls": [""]})

    assert response.status_code == 400
    assert "No valid media sources supplied" in response.json()["detail"]
    assert total(client) == before


# -- GET /media ---------------------------------------------------------------------------------


def test_list_pages_by_page_and_results_per_page_newest_first(client: httpx.Client) -> None:
    ids = [add_text(client, f"Item {n}", f"text {n}") for n in range(3)]
    count = total(client)

    first = ok(client.get("/api/v1/media/", params={"page": 1, "results_per_page": 2}))
    second = ok(client.get("/api/v1/media", params={"page": 2, "results_per_page": 2}))

    assert [item["id"] for item in first["items"]] == [ids[2], ids[1]]
    assert second["items"][0]["id"] == ids[0]
    assert set(second["pagination"]) >= PAGINATION_KEYS
    assert second["pagination"]["page"] == 2
    assert second["pagination"]["per_page"] == 2
    assert second["pagination"]["total"] == count
    assert second["pagination"]["total_pages"] == (count + 1) // 2
    assert first["pagination"]["has_more"] is True
    assert all(set(item) == {"id", "title", "type", "url"} for item in second["items"])
    assert second["items"][0]["url"] == f"/api/v1/media/{ids[0]}"
    beyond = ok(client.get("/api/v1/media/", params={"page": count + 1, "results_per_page": 1}))
    assert beyond["items"] == []
    assert beyond["pagination"]["has_more"] is False


def test_list_with_include_keywords_carries_each_items_keywords(client: httpx.Client) -> None:
    media_id = add_text(client, "Tagged", "text", keywords=["beta", "alpha"])

    listing = ok(client.get("/api/v1/media/", params={"include_keywords": "true"}))

    assert listing["items"][:1] == [
        {
            "id": media_id,
            "title": "Tagged",
            "type": "document",
            "url": f"/api/v1/media/{media_id}",
            "keywords": ["alpha", "beta"],
        }
    ]
    assert listing["keywords_available"] is True


def test_bearer_header_reads_like_x_api_key(live_server: LiveServer) -> None:
    media_id = add_text(live_server.client, "Mine", "text")
    bearer = {"Authorization": f"Bearer {KEY}"}

    with httpx.Client(base_url=live_server.base_url, headers=bearer, timeout=30) as extension:
        listing = ok(extension.get("/api/v1/media/", params={"results_per_page": 1}))

    assert [item["id"] for item in listing["items"]] == [media_id]


# -- GET / PUT /media/{id} ----------------------------------------------------------------------


def test_get_item_has_the_detail_shape(client: httpx.Client) -> None:
    media_id = add_text(client, "Detail", "four words of text", keywords=["k"])

    detail = ok(client.get(f"/api/v1/media/{media_id}"))

    assert set(detail) >= DETAIL_KEYS
    assert detail["media_id"] == media_id
    assert detail["source"] == {
        "url": None,
        "title": "Detail",
        "duration": None,
        "type": "document",
    }
    assert detail["content"]["text"] == "four words of text"
    assert detail["content"]["word_count"] == 4
    assert detail["keywords"] == ["k"]
    assert [v["version_number"] for v in detail["versions"]] == [1]
    assert detail["versions"][0]["content"] is None  # include_version_content=false
    without = ok(client.get(f"/api/v1/media/{media_id}", params={"include_content": "false"}))
    assert without["content"]["text"] == ""


def test_put_changes_fields_and_new_content_makes_a_version_with_prompt_and_analysis(
    client: httpx.Client,
) -> None:
    media_id = add_text(client, "Draft", "first text")

    updated = ok(
        client.put(
            f"/api/v1/media/{media_id}",
            json={
                "title": "Final",
                "author": "Ada",
                "type": "article",
                "content": "second text",
                "prompt": "Summarize",
                "analysis": "It is short.",
            },
        )
    )

    assert updated["source"]["title"] == "Final"
    assert updated["source"]["type"] == "article"
    assert updated["content"]["text"] == "second text"
    assert updated["content"]["metadata"]["author"] == "Ada"
    assert updated["processing"]["prompt"] == "Summarize"
    assert updated["processing"]["analysis"] == "It is short."
    assert [v["version_number"] for v in updated["versions"]] == [1, 2]
    renamed = ok(client.put(f"/api/v1/media/{media_id}", json={"title": "Renamed"}))
    assert renamed["source"]["title"] == "Renamed"
    assert len(renamed["versions"]) == 2  # no new content, no new version


def test_put_and_get_of_a_missing_item_are_404(client: httpx.Client) -> None:
    assert client.get("/api/v1/media/999999").status_code == 404
    assert client.put("/api/v1/media/999999", json={"title": "x"}).status_code == 404


# -- trash ------------------------------------------------------------------------------


def trash_ids(client: httpx.Client) -> list[int]:
    params = {"results_per_page": 1000}
    return [item["id"] for item in ok(client.get("/api/v1/media/trash", params=params))["items"]]


def test_delete_moves_to_trash_and_restore_brings_back(client: httpx.Client) -> None:
    media_id = add_text(client, "Doomed", "text")

    deleted = client.delete(f"/api/v1/media/{media_id}")

    assert deleted.status_code == 204
    assert deleted.content == b""
    assert client.get(f"/api/v1/media/{media_id}").status_code == 404
    listed = ok(client.get("/api/v1/media/", params={"results_per_page": 1000}))["items"]
    assert media_id not in [item["id"] for item in listed]
    trash = ok(client.get("/api/v1/media/trash", params={"page": 1, "results_per_page": 1}))
    assert [item["id"] for item in trash["items"]] == [media_id]  # most recently trashed first
    assert trash["items"][0]["deleted_at"].endswith("Z")
    assert set(trash["pagination"]) >= PAGINATION_KEYS
    restored = ok(client.post(f"/api/v1/media/{media_id}/restore"))
    assert restored["media_id"] == media_id
    assert media_id not in trash_ids(client)
    assert ok(client.get(f"/api/v1/media/{media_id}"))["source"]["title"] == "Doomed"


def test_permanent_delete_needs_the_trash_then_removes_for_good(client: httpx.Client) -> None:
    media_id = add_text(client, "Gone", "text")

    live = client.delete(f"/api/v1/media/{media_id}/permanent")
    assert live.status_code == 409
    assert "not in the trash" in live.json()["detail"]

    assert client.delete(f"/api/v1/media/{media_id}").status_code == 204
    purged = client.delete(f"/api/v1/media/{media_id}/permanent")

    assert purged.status_code == 204
    assert media_id not in trash_ids(client)
    assert client.post(f"/api/v1/media/{media_id}/restore").status_code == 404
    assert client.delete(f"/api/v1/media/{media_id}/permanent").status_code == 404


# -- POST /media/search -------------------------------------------------------------------------


def test_search_takes_a_json_body_and_pages_by_query_parameters(client: httpx.Client) -> None:
    comet = word()
    for n in range(3):
        add_text(client, f"Comet {n}", f"a bright {comet} tail")
    add_text(client, "Unrelated", "gardening")

    found = ok(
        client.post(
            "/api/v1/media/search",
            params={"page": 2, "results_per_page": 2},
            json={"query": comet, "fields": ["title", "content"], "sort_by": "relevance"},
        )
    )

    assert found["pagination"]["total"] == 3
    assert found["pagination"]["total_pages"] == 2
    assert found["pagination"]["has_more"] is False
    assert len(found["items"]) == 1
    assert found["results"] == found["items"]
    assert set(found["items"][0]) == {"id", "title", "type", "url"}


def test_search_filters_by_media_types_and_keywords(client: httpx.Client) -> None:
    orbit, space = word(), word()
    notes = f"{orbit} notes"
    wanted = add_text(client, "Wanted", notes, keywords=[space.upper()], media_type="article")
    add_text(client, "Wrong type", notes, keywords=[space], media_type="video")
    add_text(client, "Excluded", notes, keywords=[space, "draft"], media_type="article")

    def found(body: dict[str, Any]) -> list[int]:
        items = ok(client.post("/api/v1/media/search", json=body))["items"]
        return [item["id"] for item in items]

    filters = {"media_types": ["Article"], "must_have": [space], "must_not_have": ["DRAFT"]}
    assert found({"query": orbit, **filters}) == [wanted]
    assert found(filters) == [wanted]  # no query: the filtered list


def test_search_keeps_our_query_language(client: httpx.Client) -> None:
    planet, moons, windy = word(), word(), word()
    red = add_text(client, "Mars", f"the red {planet} has two {moons}")
    blue = add_text(client, "Neptune", f"the blue {planet} is {windy}")

    def ids(body: dict[str, Any]) -> list[int]:
        return sorted(i["id"] for i in ok(client.post("/api/v1/media/search", json=body))["items"])

    assert ids({"query": f'"red {planet}"'}) == [red]
    assert ids({"exact_phrase": f"blue {planet}"}) == [blue]
    assert ids({"query": f"{planet[:-3]}*"}) == sorted([red, blue])
    assert ids({"query": f"{moons} OR {windy}"}) == sorted([red, blue])
    assert ids({"query": f"{planet} -{windy}"}) == [red]


def search_ids(client: httpx.Client, body: dict[str, Any]) -> list[int]:
    return [i["id"] for i in ok(client.post("/api/v1/media/search", json=body))["items"]]


def test_search_fields_narrow_where_the_query_matches(client: httpx.Client) -> None:
    one, two = word(), word()
    titled = add_text(client, f"About {one}", f"text of {two}")
    bodied = add_text(client, f"About {two}", f"text of {one}")
    authored = add_text(client, "Plain", "nothing here", author=f"Ann {one.upper()}")
    typed = add_text(client, "Typed", "nothing here", media_type=f"k{one}")

    def ids(query: str, fields: list[str]) -> list[int]:
        return sorted(search_ids(client, {"query": query, "fields": fields}))

    assert ids(one, ["title"]) == [titled]
    assert ids(one, ["content"]) == [bodied]
    assert ids(one, ["title", "content"]) == sorted([titled, bodied])
    assert ids(one, []) == sorted([titled, bodied])  # none named: title and content
    assert ids(one, ["author"]) == [authored]
    assert ids(one, ["title", "author"]) == sorted([titled, authored])
    assert ids(f"{one[:-2]}*", ["content"]) == [bodied]
    # An exclusion applies to the fields searched: titled has `one` only in its title.
    assert ids(f"{two} -{one}", ["content"]) == [titled]
    assert ids(f"{two} -{one}", ["title", "content"]) == []
    assert ids(one, ["type"]) == [typed]


def test_search_date_range_bounds_the_ingestion_date(client: httpx.Client) -> None:
    comet = word()
    made = add_text(client, "Dated", f"{comet} text")

    def ids(dates: dict[str, str]) -> list[int]:
        return search_ids(client, {"query": comet, "date_range": dates})

    assert ids({"start_date": "2000-01-01T00:00:00Z"}) == [made]
    assert ids({"start_date": "2000-01-01", "end_date": "2999-12-31T23:59:59+02:00"}) == [made]
    assert ids({"end_date": "2000-01-01T00:00:00Z"}) == []
    assert ids({"start_date": "2999-01-01"}) == []
    assert ids({"other": "2999-01-01"}) == [made]  # keys other than start/end_date: ignored


def test_search_boost_fields_and_sort_by_are_taken(client: httpx.Client) -> None:
    star = word()
    late = add_text(client, "Aaa", f"{star} {star} {star}")
    early = add_text(client, f"Zzz {star}", "text")
    boosted = {"query": star, "boost_fields": {"content": 50, "title": 0.01, "other": 3}}

    assert search_ids(client, boosted) == [early, late]  # title matches still come first
    assert search_ids(client, {"query": star, "sort_by": "title_asc"}) == [late, early]
    assert search_ids(client, {"query": star, "sort_by": "title_desc"}) == [early, late]
    assert search_ids(client, {"query": star, "sort_by": "last_modified_desc"}) == [early, late]
    assert search_ids(client, {"query": star, "sort_by": "last_modified_asc"}) == [late, early]
    assert search_ids(client, {"query": star, "sort_by": None}) == [early, late]


def test_search_drops_unknown_field_names(client: httpx.Client) -> None:
    one = word()
    titled = add_text(client, f"About {one}", "text")
    authored = add_text(client, "Plain", "text", author=f"Ann {one}")

    assert search_ids(client, {"query": one, "fields": ["author", "owner"]}) == [authored]
    # None left: the query looks where it looks by default, title and content.
    assert search_ids(client, {"query": one, "fields": ["owner"]}) == [titled]


def test_search_unknown_sort_by_sorts_by_last_change_newest_first(client: httpx.Client) -> None:
    star = word()
    first = add_text(client, f"Zzz {star}", "text")
    second = add_text(client, "Aaa", f"{star} text")

    assert search_ids(client, {"query": star, "sort_by": "size"}) == [second, first]
    assert search_ids(client, {"query": star, "sort_by": "last_modified_asc"}) == [first, second]


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"fields": [1]}, "body.fields.0"),
        ({"fields": "title"}, "body.fields"),
        ({"sort_by": 5}, "body.sort_by"),
        ({"date_range": {"start_date": "yesterday"}}, "body.date_range.start_date"),
        ({"date_range": ["2025-01-01"]}, "body.date_range"),
        ({"boost_fields": {"title": "high"}}, "body.boost_fields.title"),
        ({"boost_fields": 2}, "body.boost_fields"),
        ({"owner": 1}, "body.owner"),
    ],
)
def test_search_bad_values_are_422_naming_the_field(
    client: httpx.Client, body: dict[str, Any], named: str
) -> None:
    response = client.post("/api/v1/media/search", json={"query": "x", **body})

    assert response.status_code == 422, response.text
    assert response.json()["detail"].startswith(named + ":"), response.json()["detail"]


# -- keywords -------------------------------------------------------------------------------------


def test_keywords_lists_suggestions_matching_query_up_to_limit(client: httpx.Client) -> None:
    stem = word()
    add_text(client, "One", "text", keywords=[f"{stem}Physics", f"{stem}astrophysics", "biology"])

    everything = ok(client.get("/api/v1/media/keywords", params={"limit": 1000}))["keywords"]
    assert {f"{stem}Physics", f"{stem}astrophysics", "biology"} <= set(everything)
    matching = ok(client.get("/api/v1/media/keywords", params={"query": stem.upper()}))
    assert matching == {"keywords": [f"{stem}astrophysics", f"{stem}Physics"]}
    limited = ok(client.get("/api/v1/media/keywords", params={"query": stem, "limit": 1}))
    assert limited == {"keywords": [f"{stem}astrophysics"]}


def test_patch_keywords_adds_removes_and_sets(client: httpx.Client) -> None:
    media_id = add_text(client, "Tags", "text", keywords=["one"])
    path = f"/api/v1/media/{media_id}/keywords"

    added = ok(client.patch(path, json={"keywords": ["two", "ONE"], "mode": "add"}))
    assert added == {"media_id": media_id, "keywords": ["one", "two"]}
    assert ok(client.patch(path, json={"keywords": ["three"]}))["keywords"] == [
        "one",
        "three",
        "two",
    ]  # add is the default mode
    removed = ok(client.patch(path, json={"keywords": ["One", "two"], "mode": "remove"}))
    assert removed["keywords"] == ["three"]
    replaced = ok(client.patch(path, json={"keywords": ["x", "y"], "mode": "set"}))
    assert replaced["keywords"] == ["x", "y"]
    assert ok(client.get(f"/api/v1/media/{media_id}"))["keywords"] == ["x", "y"]


# -- versions ------------------------------------------------------------------------------


def test_versions_are_a_paged_list_and_one_version_has_its_content(client: httpx.Client) -> None:
    media_id = add_text(client, "Versioned", "v1 text")
    for n in (2, 3):
        client.put(f"/api/v1/media/{media_id}", json={"content": f"v{n} text"})

    versions = ok(client.get(f"/api/v1/media/{media_id}/versions", params={"page": 1, "limit": 2}))

    assert isinstance(versions, list)
    assert [v["version_number"] for v in versions] == [1, 2]
    assert all("content" not in v for v in versions)
    last = ok(client.get(f"/api/v1/media/{media_id}/versions", params={"page": 2, "limit": 2}))
    assert [v["version_number"] for v in last] == [3]
    one = ok(client.get(f"/api/v1/media/{media_id}/versions/2"))
    assert one["content"] == "v2 text"
    assert one["media_id"] == media_id
    assert client.get(f"/api/v1/media/{media_id}/versions/9").status_code == 404


# -- claims ------------------------------------------------------------------------------


def add_claims(client: httpx.Client, media_id: int, texts: Sequence[str]) -> None:
    body = {"claims": [{"claim_text": t, "chunk_index": 0} for t in texts]}
    ok(client.post(f"/api/v1/media/{media_id}/claims", json=body), 201)


def test_claims_of_an_item_are_a_list_paged_by_limit_and_offset(client: httpx.Client) -> None:
    media_id = add_text(client, "Claims", "The moon orbits the earth.")
    add_claims(client, media_id, ["first claim", "second claim", "third claim"])

    page = ok(client.get(f"/api/v1/claims/{media_id}", params={"limit": 2, "offset": 1}))

    assert [c["claim_text"] for c in page] == ["second claim", "third claim"]
    assert all(c["media_id"] == media_id for c in page)
    envelope = ok(client.get(f"/api/v1/claims/{media_id}", params={"limit": 2, "envelope": True}))
    assert envelope["total"] == 3
    assert envelope["next_offset"] == 2
    assert [c["claim_text"] for c in envelope["items"]] == ["first claim", "second claim"]


def test_claims_search_pages_matches_by_limit_and_offset(client: httpx.Client) -> None:
    gravity = word()
    media_id = add_text(client, "Claims", "text")
    add_claims(client, media_id, [f"{gravity} bends light", f"{gravity} holds moons", "rain"])

    found = ok(client.get("/api/v1/claims/search", params={"q": gravity, "limit": 1}))

    assert found["query"] == gravity
    assert found["total"] == 2
    assert found["has_more"] is True
    assert found["next_offset"] == 1
    assert found["pagination"] == {
        "mode": "offset",
        "limit": 1,
        "offset": 0,
        "total": 2,
        "has_more": True,
        "next_offset": 1,
    }
    hit = found["results"][0]
    assert {"id", "media_id", "chunk_index", "claim_text", "relevance_score"} <= set(hit)
    rest = ok(client.get("/api/v1/claims/search", params={"q": gravity, "offset": 1}))
    assert len(rest["results"]) == 1
    assert rest["has_more"] is False
