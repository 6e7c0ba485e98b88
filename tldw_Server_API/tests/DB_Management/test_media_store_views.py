"""The store operations behind the tldw_server-compatible media routes, on both backends:
the trash (list, count, purge), filtered search with totals, keyword modes, version notes,
claims search with totals."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tldw_Server_API.app.core.DB_Management.stores import MediaStore, NotFound
from tldw_Server_API.app.core.DB_Management.stores.claims_search import search_claims_page
from tldw_Server_API.app.core.DB_Management.stores.errors import Conflict
from tldw_Server_API.app.core.DB_Management.stores.media_keyword_modes import (
    edit_keywords,
    find_keywords,
)
from tldw_Server_API.app.core.DB_Management.stores.media_search import MediaQuery, search_page
from tldw_Server_API.app.core.DB_Management.stores.media_trash import (
    count_trash,
    list_trash,
    purge,
)
from tldw_Server_API.app.core.DB_Management.stores.media_version_analysis import (
    annotate_version,
)
from tldw_Server_API.tests.DB_Management import test_media_store as media_store_tests

# The same fresh store per test as test_media_store.py (its fixtures, both backends).
settings = media_store_tests.settings
store = media_store_tests.store


def test_trash_lists_most_recently_trashed_first_and_counts(store: MediaStore) -> None:
    first, second, live = (store.add_media(t, "text", "document") for t in ("a", "b", "c"))
    store.trash(first.id)
    store.trash(second.id)

    assert [i.id for i in list_trash(store)] == [second.id, first.id]
    assert [i.id for i in list_trash(store, limit=1, offset=1)] == [first.id]
    assert count_trash(store) == 2
    assert store.count_media() == 1 and live.id not in [i.id for i in list_trash(store)]


def test_purge_deletes_a_trashed_item_with_its_children(store: MediaStore) -> None:
    item = store.add_media("t", "one.\n\ntwo.", "document", keywords=["k"])
    store.claims.add(item.id, ["a claim"])
    store.trash(item.id)

    purge(store, item.id)

    with pytest.raises(NotFound):
        store.get_media(item.id, include_deleted=True)
    with store.database.begin(write=False) as conn:
        for table in (store.t.claims, store.t.versions, store.t.chunks, store.t.links):
            left = conn.execute(
                select(func.count()).select_from(table).where(table.c.media_id == item.id)
            ).scalar_one()
            assert left == 0, table.name
    assert store.list_keywords() == ["k"]  # the keyword itself stays for other items


def test_purge_refuses_a_live_item_and_a_missing_one(store: MediaStore) -> None:
    item = store.add_media("t", "text", "document")

    with pytest.raises(Conflict, match="not in the trash"):
        purge(store, item.id)
    with pytest.raises(NotFound):
        purge(store, 999)
    assert store.get_media(item.id).title == "t"


def test_search_page_counts_every_match_and_filters(store: MediaStore) -> None:
    for n in range(5):
        store.add_media(f"orbit {n}", "text", "article" if n % 2 else "video", keywords=["x"])
    tagged = store.add_media("orbit tagged", "text", "article", keywords=["x", "skip"])

    hits, total = search_page(store, MediaQuery(text="orbit"), limit=2, offset=0)
    assert (len(hits), total) == (2, 6)
    articles = MediaQuery(text="orbit", media_types=["ARTICLE"], must_not_have=["SKIP"])
    hits, total = search_page(store, articles, limit=10, offset=0)
    assert total == 2 and all(h.type == "article" for h in hits)
    only_tagged = MediaQuery(must_have=["skip"])
    assert [h.id for h in search_page(store, only_tagged, limit=10, offset=0)[0]] == [tagged.id]


def test_search_page_sorts_by_title_and_skips_trashed_items(store: MediaStore) -> None:
    for title in ("beta", "alpha", "gamma"):
        store.add_media(title, "fruit", "document")
    trashed = store.add_media("aardvark", "fruit", "document")
    store.trash(trashed.id)

    hits, total = search_page(
        store, MediaQuery(text="fruit", sort_by="title_asc"), limit=10, offset=0
    )

    assert [h.title for h in hits] == ["alpha", "beta", "gamma"] and total == 3


def test_search_page_with_a_query_that_cannot_match_is_empty(store: MediaStore) -> None:
    store.add_media("t", "text", "document")

    assert search_page(store, MediaQuery(text='""'), limit=10, offset=0) == ([], 0)


def test_keyword_modes_add_remove_and_set_without_case(store: MediaStore) -> None:
    item = store.add_media("t", "text", "document", keywords=["One"])

    assert edit_keywords(store, item.id, ["two", "one"], "add") == ["One", "two"]
    assert edit_keywords(store, item.id, ["ONE"], "remove") == ["two"]
    assert edit_keywords(store, item.id, ["z", "a"], "set") == ["a", "z"]
    with pytest.raises(ValueError, match="mode"):
        edit_keywords(store, item.id, ["x"], "toggle")


def test_find_keywords_filters_by_part_in_any_case_and_limits(store: MediaStore) -> None:
    store.add_media("t", "text", "document", keywords=["Physics", "astrophysics", "biology"])

    assert find_keywords(store, "PHYS") == ["astrophysics", "Physics"]
    assert find_keywords(store, None, limit=1) == ["astrophysics"]


def test_annotate_version_records_prompt_and_analysis(store: MediaStore) -> None:
    item = store.add_media("t", "text", "document")

    made = annotate_version(store, item.id, 1, prompt="p", analysis="a")

    assert (made.prompt, made.analysis_content, made.version) == ("p", "a", 2)


def test_claims_search_page_counts_matches_of_live_items_only(store: MediaStore) -> None:
    kept = store.add_media("kept", "text", "document")
    gone = store.add_media("gone", "text", "document")
    store.claims.add(kept.id, ["gravity one", "gravity two", "rain"])
    store.claims.add(gone.id, ["gravity three"])
    store.trash(gone.id)

    hits, total = search_claims_page(store, "gravity", limit=1, offset=1)

    assert total == 2 and len(hits) == 1 and hits[0].media_id == kept.id
    assert hits[0].chunk_index == 0
