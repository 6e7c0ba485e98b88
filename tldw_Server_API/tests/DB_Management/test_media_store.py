"""MediaStore details: the default chunker, search paging and ordering, input checks."""

from __future__ import annotations

import pytest

from tldw_Server_API.app.core.config import Settings
from tldw_Server_API.app.core.DB_Management.registry import DatabaseRegistry
from tldw_Server_API.app.core.DB_Management.stores import InvalidInput, MediaStore, NewClaim
from tldw_Server_API.app.core.DB_Management.stores.chunking import locate_chunks, split_content


@pytest.fixture
def settings(user_settings: Settings) -> Settings:
    """A fresh installation per test, cheaply (overrides the suite's fixture)."""
    return user_settings


@pytest.fixture
def store(registry: DatabaseRegistry) -> MediaStore:
    return MediaStore(registry.media())


# -- the chunker (no database) ---------------------------------------------------------------


def test_empty_content_has_no_chunks() -> None:
    assert split_content("") == [] and split_content(" \n\n ") == []


def test_short_content_is_one_chunk() -> None:
    assert [c.text for c in split_content("just one line")] == ["just one line"]


def test_paragraphs_are_grouped_into_about_four_chunks() -> None:
    text = "\n\n".join(f"Paragraph {i} " + "word " * 20 for i in range(12))
    chunks = split_content(text)
    assert 3 <= len(chunks) <= 5
    assert all(text[c.start : c.end] == c.text for c in chunks)
    assert all(not c.text.startswith("\n") and not c.text.endswith("\n") for c in chunks)


def test_chunks_are_cut_at_spaces_never_inside_words() -> None:
    text = " ".join(f"w{i:03d}" for i in range(300))
    for chunk in split_content(text):
        assert chunk.text.split() == [w for w in chunk.text.split() if len(w) == 4]


def test_caller_chunks_are_located_in_order() -> None:
    spans = locate_chunks("ab ab cd", ["ab", "ab", "cd", "missing"])
    assert [(s.start, s.end) for s in spans] == [(0, 2), (3, 5), (6, 8), (None, None)]


# -- search ---------------------------------------------------------------------------------


def test_search_pages_through_results_best_first(store: MediaStore) -> None:
    for i in range(5):
        store.add_media(f"Note {i}", f"heron sighting number {i}", "article")
    store.add_media("Heron field guide", "birds", "article")
    first, rest = store.search_media("heron", limit=2), store.search_media("heron", offset=2)
    assert first[0].title == "Heron field guide" and first[0].title_hit
    assert len(first) == 2 and len(rest) == 4
    assert {h.id for h in first}.isdisjoint(h.id for h in rest)


def test_a_query_that_cannot_match_returns_nothing(store: MediaStore) -> None:
    store.add_media("T", "content", "article")
    for query in ("", "   ", '"', "-content", "NOT", "***"):
        assert store.search_media(query) == []


def test_search_snippets_show_the_matching_passage(store: MediaStore) -> None:
    filler = "lorem ipsum " * 40
    store.add_media("T", f"{filler} the narwhal surfaced {filler}", "article")
    (hit,) = store.search_media("narwhal")
    assert "narwhal" in hit.snippet and len(hit.snippet) < 200


def test_claims_can_be_given_as_mappings(store: MediaStore) -> None:
    item = store.add_media("T", "content", "article")
    (claim,) = store.claims.add(item.id, [{"claim_text": "x", "span_start": 1, "span_end": 3}])
    assert (claim.span_start, claim.span_end, claim.extractor) == (1, 3, "manual")


def test_a_claim_with_unknown_fields_is_invalid_input(store: MediaStore) -> None:
    item = store.add_media("T", "content", "article")
    with pytest.raises(InvalidInput, match="claims: invalid claim"):
        store.claims.add(item.id, [{"claim_text": "x", "colour": "red"}])
    with pytest.raises(InvalidInput, match="chunk_index must be >= 0"):
        store.claims.add(item.id, [NewClaim("x", chunk_index=-1)])


def test_an_invalid_visibility_lists_the_accepted_ones(store: MediaStore) -> None:
    with pytest.raises(
        InvalidInput, match="visibility 'public' is invalid; choose one of personal"
    ):
        store.add_media("T", "c", "article", visibility="public")


def test_negative_paging_is_invalid_input(store: MediaStore) -> None:
    with pytest.raises(InvalidInput, match="limit and offset must be >= 0"):
        store.list_media(limit=-1)


def test_a_media_store_refuses_another_database(registry: DatabaseRegistry) -> None:
    with pytest.raises(InvalidInput, match="needs a Media database, got ChaChaNotes"):
        MediaStore(registry.chacha())
