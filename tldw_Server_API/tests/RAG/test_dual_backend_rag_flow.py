"""The RAG ingest-and-retrieve flow on each backend: media, chunks and claims, then search."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from tldw_Server_API.app.core.config import Settings
from tldw_Server_API.app.core.DB_Management.backends.target import PgTarget
from tldw_Server_API.app.core.DB_Management.registry import DatabaseRegistry
from tldw_Server_API.app.core.DB_Management.stores import MediaStore, NewClaim
from tldw_Server_API.tests.conftest import settings_for

DOCS = {
    "Solar power basics": (
        "Photovoltaic cells turn sunlight into electricity.\n\n"
        "Inverters convert direct current to alternating current.\n\n"
        "Panels lose efficiency as they heat up."
    ),
    "Wind turbines": (
        "Turbine blades capture kinetic energy from wind.\n\n"
        "Offshore farms see steadier winds than onshore ones."
    ),
    "Battery storage": "Lithium cells store surplus solar electricity for the night.",
}


@pytest.fixture
def settings(backend_kind: str, tmp_path: Path, pg_target: PgTarget) -> Settings:
    """A fresh installation per test, cheaply: on PostgreSQL, a new default user's schemas
    in this module's database instead of a new database (overrides conftest's fixture)."""
    user = f"t{uuid.uuid4().hex[:12]}"
    target = pg_target if backend_kind == "postgresql" else None
    return settings_for(backend_kind, tmp_path / "Databases", target, default_user_id=user)


@pytest.fixture
def store(registry: DatabaseRegistry) -> MediaStore:
    store = MediaStore(registry.media())
    for title, content in DOCS.items():
        item = store.add_media(title, content, "article", keywords=["energy"])
        claims = [
            NewClaim(sentence.strip(), chunk_index=i, extractor="heuristic", confidence=0.7)
            for i, sentence in enumerate(content.split("\n\n"))
        ]
        store.claims.add(item.id, claims)
    return store


def test_ingested_media_is_found_by_content(store: MediaStore) -> None:
    hits = store.search_media("electricity")
    assert {h.title for h in hits} == {"Solar power basics", "Battery storage"}


def test_title_matches_rank_first(store: MediaStore) -> None:
    hits = store.search_media("solar")
    assert [(h.title, h.title_hit) for h in hits] == [
        ("Solar power basics", True),
        ("Battery storage", False),
    ]


def test_claims_are_retrieved_with_their_item(store: MediaStore) -> None:
    (hit,) = store.claims.search("inverters")
    assert store.get_media(hit.media_id).title == "Solar power basics"
    assert hit.claim_text.startswith("Inverters convert")
    claim = next(c for c in store.claims.of_media(hit.media_id) if c.id == hit.id)
    chunk_texts = [c.text for c in store.list_chunks(hit.media_id)]
    assert claim.chunk_index < len(chunk_texts)


def test_claims_of_deleted_items_are_not_retrieved(store: MediaStore) -> None:
    wind = next(h.id for h in store.search_media("turbines"))
    assert store.claims.search("offshore")
    store.soft_delete(wind)
    assert store.claims.search("offshore") == []
    store.restore(wind)
    assert [h.media_id for h in store.claims.search("offshore")] == [wind]


def test_claims_can_be_searched_within_one_item(store: MediaStore) -> None:
    battery = store.search_media("lithium")[0].id
    assert [h.media_id for h in store.claims.search("electricity", media_id=battery)] == [battery]
    assert len(store.claims.search("electricity")) == 2


def test_chunks_cover_each_paragraph(store: MediaStore) -> None:
    solar = store.search_media('"solar power"')[0].id
    chunks = store.list_chunks(solar)
    joined = " ".join(c.text for c in chunks)
    for paragraph in DOCS["Solar power basics"].split("\n\n"):
        assert paragraph in joined
