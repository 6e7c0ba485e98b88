"""The same content on SQLite and PostgreSQL gives the same search results.

Both installations are built, side by side, from the same media, claims and
keyworded notes; every search is then run on both and compared. Ranks are on
different scales (bm25 and ts_rank), so results are compared as sets, title
matches first.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tldw_Server_API.app.core.DB_Management.backends.target import PgTarget
from tldw_Server_API.app.core.DB_Management.registry import DatabaseRegistry
from tldw_Server_API.app.core.DB_Management.stores import MediaStore, NotesStore, SearchHit
from tldw_Server_API.tests.conftest import settings_for

MEDIA = [
    (
        "Café culture in Paris",
        "Espresso, croissants and the art of people-watching.",
        ["Travel", "food"],
    ),
    ("Paris metro guide", "Line 1 crosses the city east to west; buy a carnet.", ["travel"]),
    (
        "Sourdough at home",
        "A starter, flour, water and patience. Bake at 250°C.",
        ["Food", "baking"],
    ),
    ("Compilers", "Parsing, type checking and code generation for C++ and Rust.", ["cs"]),
    ("東京の旅", "東京 タワー and 浅草 temples; 数据库 notes in 中文.", ["travel", "日本"]),
    ("Deleted draft", "Paris espresso draft that was thrown away.", ["travel"]),
]
CLAIMS = {
    0: ["Espresso is served short in Paris cafés", "Croissants are eaten at breakfast"],
    2: ["A sourdough starter needs daily feeding"],
    3: ["C++ templates are Turing complete"],
}
NOTES = [
    ("Trip plan", "Visit the café near the metro; try espresso.", ["Travel", "todo"]),
    ("Bread log", "Starter doubled in six hours.", ["baking"]),
    ("Reading list", "Dragon book on compilers.", ["cs", "TODO"]),
]
QUERIES = [
    "paris",
    "espresso",
    "café",
    "cafe",
    "travel",
    "metro OR sourdough",
    '"starter needs"',
    "paris -metro",
    "comp*",
    "C++",
    "東京",
    "数据库",
    "todo",
    "draft",
    "",
    "NOT paris",
]


@dataclass
class Installation:
    media: MediaStore
    notes: NotesStore


def _build(registry: DatabaseRegistry) -> Installation:
    media, notes = MediaStore(registry.media()), NotesStore(registry.chacha())
    for position, (title, content, keywords) in enumerate(MEDIA):
        item = media.add_media(title, content, "article", keywords=keywords)
        media.claims.add(item.id, CLAIMS.get(position, []))
        if title == "Deleted draft":
            media.soft_delete(item.id)
    for title, content, keywords in NOTES:
        notes.add_note(title, content, keywords)
    return Installation(media, notes)


@pytest.fixture(scope="module")
def both(
    tmp_path_factory: pytest.TempPathFactory, pg_target: PgTarget
) -> Iterator[dict[str, Installation]]:
    data = tmp_path_factory.mktemp("e2e")
    sqlite = DatabaseRegistry(settings_for("sqlite", Path(data) / "sqlite"))
    postgres = DatabaseRegistry(settings_for("postgresql", Path(data) / "pg", pg_target))
    try:
        yield {"sqlite": _build(sqlite), "postgresql": _build(postgres)}
    finally:
        sqlite.close()
        postgres.close()


def _shape(hits: list[SearchHit]) -> tuple[set[str], set[str], bool]:
    """Titles matched in the title, titles matched elsewhere, and whether title hits lead."""
    flags = [h.title_hit for h in hits]
    return (
        {h.title for h in hits if h.title_hit},
        {h.title for h in hits if not h.title_hit},
        flags == sorted(flags, reverse=True),
    )


@pytest.mark.parametrize("query", QUERIES)
def test_media_search_agrees(both: dict[str, Installation], query: str) -> None:
    sqlite, postgres = (both[k].media.search_media(query, limit=50) for k in both)
    assert _shape(sqlite) == _shape(postgres)
    assert {h.id for h in sqlite} == {h.id for h in postgres}


@pytest.mark.parametrize("query", QUERIES)
def test_note_search_agrees(both: dict[str, Installation], query: str) -> None:
    sqlite, postgres = (both[k].notes.search_notes(query, limit=50) for k in both)
    assert _shape(sqlite) == _shape(postgres)


@pytest.mark.parametrize("query", QUERIES)
def test_claim_search_agrees(both: dict[str, Installation], query: str) -> None:
    sqlite, postgres = (both[k].media.claims.search(query, limit=50) for k in both)
    assert {h.claim_text for h in sqlite} == {h.claim_text for h in postgres}


def test_the_expected_results_are_found(both: dict[str, Installation]) -> None:
    for installation in both.values():
        media = installation.media
        assert _shape(media.search_media("paris")) == (
            {"Café culture in Paris", "Paris metro guide"},
            set(),
            True,
        )
        assert {h.title for h in media.search_media("cafe")} == {"Café culture in Paris"}
        assert [h.claim_text for h in media.claims.search("turing")] == [
            "C++ templates are Turing complete"
        ]
        assert {h.title for h in installation.notes.search_notes("espresso")} == {"Trip plan"}


def test_keywords_agree(both: dict[str, Installation]) -> None:
    sqlite, postgres = both["sqlite"], both["postgresql"]
    assert sqlite.media.list_keywords() == postgres.media.list_keywords()
    assert sqlite.media.list_keywords() == ["baking", "cs", "food", "Travel", "日本"]
    assert (
        sqlite.notes.list_keywords()
        == postgres.notes.list_keywords()
        == [
            "baking",
            "cs",
            "todo",
            "Travel",
        ]
    )
    for installation in both.values():
        assert installation.media.media_with_keyword("TRAVEL") == [1, 2, 5]
        titles = {
            installation.notes.get_note(i).title
            for i in installation.notes.notes_with_keyword("Todo")
        }
        assert titles == {"Trip plan", "Reading list"}
