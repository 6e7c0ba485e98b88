"""The Media store on both backends: CRUD, keywords, chunks, claims, versions, transcripts,
and the rules the database itself enforces (version + 1, sync_log) for every writer."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import insert, select, update
from sqlalchemy.exc import DBAPIError

from tldw_Server_API.app.core.config import Settings
from tldw_Server_API.app.core.DB_Management.registry import DatabaseRegistry
from tldw_Server_API.app.core.DB_Management.stores import (
    InvalidInput,
    MediaStore,
    NewClaim,
    NotFound,
    VersionConflict,
)

ARTICLE = (
    "Photosynthesis converts light into chemical energy.\n\n"
    "Chlorophyll absorbs mostly blue and red light.\n\n"
    "The Calvin cycle fixes carbon dioxide into sugars.\n\n"
    "Oxygen is released as a by-product of splitting water."
)


@pytest.fixture
def settings(user_settings: Settings) -> Settings:
    """A fresh installation per test, cheaply (overrides the suite's fixture)."""
    return user_settings


@pytest.fixture
def store(registry: DatabaseRegistry) -> MediaStore:
    return MediaStore(registry.media(), client_id="test-client")


def _sync_log(store: MediaStore) -> list[tuple[str, str, str, int]]:
    log = store.database.table("sync_log")
    with store.database.begin(write=False) as conn:
        rows = conn.execute(
            select(log.c.entity, log.c.entity_uuid, log.c.operation, log.c.version).order_by(
                log.c.change_id
            )
        )
        return [tuple(r) for r in rows]


# -- items ---------------------------------------------------------------------------------


def test_add_media_returns_the_stored_item(store: MediaStore) -> None:
    item = store.add_media(
        "Photosynthesis", ARTICLE, "article", author="Ada", url="https://x.org/p"
    )
    assert item.id == 1
    assert item.version == 1
    assert (item.title, item.content, item.type, item.author, item.url) == (
        "Photosynthesis",
        ARTICLE,
        "article",
        "Ada",
        "https://x.org/p",
    )
    assert item.client_id == "test-client"
    assert not item.deleted and not item.is_trash
    assert store.get_media(item.id) == item


def test_content_hash_is_the_sha256_of_the_content(store: MediaStore) -> None:
    item = store.add_media("T", ARTICLE, "article")
    assert item.content_hash == hashlib.sha256(ARTICLE.encode()).hexdigest()


def test_new_items_get_a_uuid4(store: MediaStore) -> None:
    item = store.add_media("T", "x", "article")
    assert len(item.uuid) == 36 and item.uuid[14] == "4"
    assert store.get_media_by_uuid(item.uuid).id == item.id


def test_empty_title_is_invalid_input(store: MediaStore) -> None:
    with pytest.raises(InvalidInput, match="media: title must be a non-empty string"):
        store.add_media("  ", "x", "article")


def test_duplicate_url_names_the_item_holding_it(store: MediaStore) -> None:
    first = store.add_media("A", "a", "article", url="https://dup.example")
    with pytest.raises(InvalidInput, match=f"already belongs to media id {first.id}"):
        store.add_media("B", "b", "article", url="https://dup.example")


def test_list_media_sorts_by_allowed_keys(store: MediaStore) -> None:
    for title in ("banana", "apple", "cherry"):
        store.add_media(title, title, "article")
    assert [m.title for m in store.list_media(order="title")] == ["apple", "banana", "cherry"]
    assert [m.title for m in store.list_media(order="-id")] == ["cherry", "apple", "banana"]
    assert [m.title for m in store.list_media(limit=1, offset=1, order="id")] == ["apple"]


def test_list_media_refuses_a_sort_key_outside_the_allow_list(store: MediaStore) -> None:
    with pytest.raises(InvalidInput, match="cannot sort by 'content; DROP TABLE media'"):
        store.list_media(order="content; DROP TABLE media")


def test_count_media_counts_live_items(store: MediaStore) -> None:
    ids = [store.add_media(f"t{i}", "x", "article").id for i in range(3)]
    store.soft_delete(ids[0])
    assert store.count_media() == 2
    assert store.count_media(include_deleted=True) == 3


def test_update_media_bumps_version_and_last_modified(store: MediaStore) -> None:
    item = store.add_media("Old", ARTICLE, "article")
    updated = store.update_media(item.id, item.version, title="New", author="Grace")
    assert (updated.title, updated.author, updated.version) == ("New", "Grace", 2)
    assert updated.last_modified >= item.last_modified
    assert store.update_media(item.id, 2, title="Newer").version == 3


def test_update_with_a_stale_version_raises_version_conflict(store: MediaStore) -> None:
    item = store.add_media("T", "x", "article")
    store.update_media(item.id, 1, title="first writer")
    with pytest.raises(VersionConflict, match=r"expected version 1.*at version 2") as info:
        store.update_media(item.id, 1, title="second writer")
    assert info.value.current_version == 2
    assert store.get_media(item.id).title == "first writer"


def test_update_of_a_missing_item_raises_not_found(store: MediaStore) -> None:
    with pytest.raises(NotFound, match="media 999 not found"):
        store.update_media(999, 1, title="x")


def test_update_of_an_unknown_field_is_invalid_input(store: MediaStore) -> None:
    item = store.add_media("T", "x", "article")
    with pytest.raises(InvalidInput, match="cannot change colour"):
        store.update_media(item.id, item.version, colour="red")


def test_updating_content_rehashes_and_adds_a_document_version(store: MediaStore) -> None:
    item = store.add_media("T", "first", "article")
    updated = store.update_media(item.id, item.version, content="second")
    assert updated.content_hash == hashlib.sha256(b"second").hexdigest()
    versions = store.versions.of_media(item.id)
    assert [(v.version_number, v.content) for v in versions] == [(1, "first"), (2, "second")]


# -- soft delete, restore, trash -----------------------------------------------------------


def test_soft_deleted_items_are_neither_listed_found_nor_searched(store: MediaStore) -> None:
    keep = store.add_media("Kept zebra", "zebra", "article")
    gone = store.add_media("Deleted zebra", "zebra", "article")
    assert store.soft_delete(gone.id, expected_version=1) == 2
    assert [m.id for m in store.list_media()] == [keep.id]
    with pytest.raises(NotFound, match="it is deleted"):
        store.get_media(gone.id)
    assert [h.id for h in store.search_media("zebra")] == [keep.id]
    assert store.get_media(gone.id, include_deleted=True).deleted


def test_restore_brings_a_soft_deleted_item_back(store: MediaStore) -> None:
    item = store.add_media("Back again", "walrus", "article", keywords=["k"])
    store.soft_delete(item.id)
    restored = store.restore(item.id)
    assert not restored.deleted and restored.version == 3 and restored.keywords == ["k"]
    assert [h.id for h in store.search_media("walrus")] == [item.id]


def test_trashed_items_are_gettable_but_not_listed_or_searched(store: MediaStore) -> None:
    item = store.add_media("Trash me", "pelican", "article")
    trashed = store.trash(item.id)
    assert trashed.is_trash and trashed.trash_date is not None
    assert store.get_media(item.id).is_trash
    assert store.list_media() == [] and store.search_media("pelican") == []
    assert not store.untrash(item.id).is_trash
    assert [h.id for h in store.search_media("pelican")] == [item.id]


# -- keywords -------------------------------------------------------------------------------


def test_keywords_match_ascii_case_insensitively_like_nocase(store: MediaStore) -> None:
    item = store.add_media("T", "x", "article", keywords=["Foo", "foo", "FOO "])
    assert item.keywords == ["Foo"]
    assert store.add_keyword("fOO") == store.add_keyword("Foo")


def test_keywords_differing_outside_ascii_are_distinct(store: MediaStore) -> None:
    item = store.add_media("T", "x", "article", keywords=["ÉCOLE", "école"])
    assert sorted(item.keywords) == sorted(["ÉCOLE", "école"])
    assert store.add_keyword("ÉCOLE") != store.add_keyword("école")


def test_set_keywords_replaces_the_items_keywords(store: MediaStore) -> None:
    item = store.add_media("T", "x", "article", keywords=["a", "b"])
    assert store.set_keywords(item.id, ["B", "c"]) == ["b", "c"]
    assert store.get_media(item.id).keywords == ["b", "c"]
    assert store.list_keywords() == ["a", "b", "c"]
    assert store.media_with_keyword("C") == [item.id]


# -- chunks ---------------------------------------------------------------------------------


def test_default_chunking_cuts_content_into_about_four_exact_slices(store: MediaStore) -> None:
    item = store.add_media("T", ARTICLE, "article")
    chunks = store.list_chunks(item.id)
    assert 3 <= len(chunks) <= 5
    for chunk in chunks:
        assert ARTICLE[chunk.start_index : chunk.end_index] == chunk.text
    assert "".join(c.text for c in chunks).replace("\n", "") == ARTICLE.replace("\n", "")
    assert len({c.chunk_id for c in chunks}) == len(chunks)


def test_one_long_paragraph_is_still_chunked(store: MediaStore) -> None:
    text = " ".join(f"word{i}" for i in range(400))
    chunks = store.list_chunks(store.add_media("T", text, "article").id)
    assert 3 <= len(chunks) <= 6
    assert all(text[c.start_index : c.end_index] == c.text for c in chunks)


def test_explicit_chunks_are_stored_with_their_offsets(store: MediaStore) -> None:
    item = store.add_media("T", "alpha beta gamma", "article", chunks=["alpha", "gamma", "zzz"])
    chunks = store.list_chunks(item.id)
    assert [(c.text, c.start_index, c.end_index) for c in chunks[:2]] == [
        ("alpha", 0, 5),
        ("gamma", 11, 16),
    ]
    assert (chunks[2].text, chunks[2].start_index) == ("zzz", None)


# -- claims, versions, transcripts -------------------------------------------------------------


def test_claims_are_stored_listed_and_searchable(store: MediaStore) -> None:
    item = store.add_media("Plants", ARTICLE, "article")
    claims = store.claims.add(
        item.id,
        [
            "Chlorophyll absorbs red light",
            NewClaim("Oxygen is a by-product", chunk_index=1, confidence=0.9, extractor="llm"),
        ],
    )
    assert [c.claim_text for c in store.claims.of_media(item.id)] == [c.claim_text for c in claims]
    chunk0 = store.list_chunks(item.id)[0].text
    assert claims[0].chunk_hash == hashlib.sha256(chunk0.encode()).hexdigest()
    assert (claims[1].confidence, claims[1].extractor) == (0.9, "llm")
    hits = store.claims.search("oxygen")
    assert [(h.id, h.media_id) for h in hits] == [(claims[1].id, item.id)]


def test_claims_of_a_missing_item_raise_not_found(store: MediaStore) -> None:
    with pytest.raises(NotFound, match="media 42"):
        store.claims.add(42, ["x"])


def test_document_versions_are_numbered_per_item(store: MediaStore) -> None:
    item = store.add_media("T", "v1 text", "article")
    second = store.versions.add(item.id, "v2 text", prompt="summarise", analysis_content="short")
    assert second.version_number == 2
    got = store.versions.get(item.id, 2)
    assert (got.content, got.prompt, got.analysis_content) == ("v2 text", "summarise", "short")
    with pytest.raises(NotFound, match="documentversions"):
        store.versions.get(item.id, 3)


def test_transcripts_are_stored_and_listed(store: MediaStore) -> None:
    item = store.add_media("Talk", "", "video", chunks=[])
    store.transcripts.add(item.id, "hello everyone", whisper_model="whisper-large-v3")
    store.transcripts.add(item.id, "second pass", whisper_model="whisper-small")
    listed = store.transcripts.of_media(item.id)
    assert [(t.transcription, t.whisper_model) for t in listed] == [
        ("hello everyone", "whisper-large-v3"),
        ("second pass", "whisper-small"),
    ]


# -- rules the database enforces ---------------------------------------------------------------


def test_a_raw_update_without_a_version_bump_is_refused(store: MediaStore) -> None:
    item = store.add_media("T", "x", "article")
    media = store.database.table("media")
    with pytest.raises(DBAPIError, match="version rule"), store.database.begin() as conn:
        conn.execute(update(media).where(media.c.id == item.id).values(title="sneaky"))
    assert store.get_media(item.id).title == "T"


def test_a_raw_update_skipping_a_version_is_refused(store: MediaStore) -> None:
    item = store.add_media("T", "x", "article")
    media = store.database.table("media")
    with pytest.raises(DBAPIError, match="version rule"), store.database.begin() as conn:
        conn.execute(update(media).where(media.c.id == item.id).values(version=3))


def test_sync_log_gets_create_update_and_delete_entries(store: MediaStore) -> None:
    item = store.add_media("T", "x", "article", chunks=[])
    store.update_media(item.id, 1, title="T2")
    store.soft_delete(item.id)
    media_entries = [e for e in _sync_log(store) if e[0] == "Media"]
    assert media_entries == [
        ("Media", item.uuid, "create", 1),
        ("Media", item.uuid, "update", 2),
        ("Media", item.uuid, "delete", 3),
    ]


def test_children_are_logged_in_sync_log_too(store: MediaStore) -> None:
    item = store.add_media("T", "x", "article", chunks=["x"], keywords=["kw"])
    store.claims.add(item.id, ["c"])
    entities = {e[0] for e in _sync_log(store) if e[2] == "create"}
    assert {"Media", "Keywords", "MediaChunks", "DocumentVersions", "Claims"} <= entities


# -- values ---------------------------------------------------------------------------------------


def test_instants_round_trip_to_the_millisecond(store: MediaStore) -> None:
    moment = datetime(2025, 10, 8, 12, 34, 56, 789654, tzinfo=UTC)
    item = store.add_media("T", "x", "article", ingestion_date=moment)
    assert store.get_media(item.id).created == datetime(2025, 10, 8, 12, 34, 56, 789000, tzinfo=UTC)


def test_instants_with_an_offset_are_stored_as_the_same_utc_moment(store: MediaStore) -> None:
    paris = timezone(timedelta(hours=2))
    moment = datetime(2025, 10, 8, 14, 0, 0, 123000, tzinfo=paris)
    item = store.add_media("T", "x", "article", ingestion_date=moment)
    got = store.get_media(item.id).created
    assert got == moment and got.utcoffset() == timedelta(0)


def test_booleans_read_back_as_python_bools(store: MediaStore) -> None:
    item = store.trash(store.add_media("T", "x", "article").id)
    media = store.database.table("media")
    with store.database.begin(write=False) as conn:
        row = conn.execute(select(media.c.is_trash, media.c.deleted)).one()
    assert row.is_trash is True and row.deleted is False
    assert item.is_trash is True


def test_json_metadata_round_trips(store: MediaStore) -> None:
    item = store.add_media("T", "x", "article")
    metadata = {
        "doi": "10.1/x",
        "authors": ["Ada", "Grace"],
        "pages": 12,
        "ok": True,
        "n": None,
        "nested": {"ünï": "cödé", "score": 0.25},
    }
    store.versions.add(item.id, "v2", safe_metadata=metadata)
    assert store.versions.get(item.id, 2).safe_metadata == metadata


def test_a_version_stores_what_came_with_it_and_null_for_the_rest(store: MediaStore) -> None:
    item = store.add_media("T", "x", "article")
    made = store.versions.add(item.id, "v2", prompt="p", analysis_content="a")
    assert (made.prompt, made.analysis_content, made.safe_metadata) == ("p", "a", None)
    versions = store.database.table("documentversions")
    with store.database.begin(write=False) as conn:
        nulls = conn.execute(
            select(versions.c.version_number)
            .where(versions.c.prompt.is_(None), versions.c.safe_metadata.is_(None))
            .order_by(versions.c.version_number)
        ).scalars()
        assert list(nulls) == [1]  # SQL NULL (not JSON's null) where nothing was given


def test_ids_continue_after_rows_inserted_with_explicit_ids(
    store: MediaStore, registry: DatabaseRegistry
) -> None:
    store.add_media("first", "x", "article", chunks=[])
    media = store.database.table("media")
    with store.database.begin() as conn:
        conn.execute(
            insert(media).values(
                id=100,
                title="imported",
                type="article",
                content="x",
                content_hash="h",
                uuid="00000000-0000-4000-8000-000000000100",
                last_modified=datetime.now(UTC),
                client_id="import",
                is_trash=False,
                deleted=False,
                version=1,
            )
        )
    # A reopen (a server restart, the end of a migration) settles id generation.
    reopened = DatabaseRegistry(registry.settings)
    try:
        fresh = MediaStore(reopened.media())
        assert fresh.add_media("next", "x", "article", chunks=[]).id == 101
        assert fresh.add_media("after", "x", "article", chunks=[]).id == 102
    finally:
        reopened.close()
