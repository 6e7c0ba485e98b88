"""Search parity: one table of queries, run against the same media on SQLite and PostgreSQL.

Each row is (query, the titles SQLite and PostgreSQL must both find with a title
match, the titles both must find in the content only). The expectations are
written out so that a query both engines get wrong the same way still fails.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tldw_Server_API.app.core.DB_Management.backends.target import PgTarget
from tldw_Server_API.app.core.DB_Management.registry import DatabaseRegistry
from tldw_Server_API.app.core.DB_Management.stores import MediaStore, SearchHit
from tldw_Server_API.tests.conftest import settings_for

CORPUS = [
    ("Eiffel Tower", "The tower in Paris was finished in 1889."),
    ("Tower Bridge", "A bridge over the Thames in London."),
    ("Paris and London", "Trains connect Paris with London every hour."),
    ("École normale", "L'école est fermée le dimanche; naïve café owners."),
    ("CAFÉ REVIEW", "A café with loud music in Zürich."),
    ("Cafe without accent", "Plain cafe spelled in ASCII by Müller."),
    ("東京タワー", "東京 タワー is a landmark; 北京 is far away."),
    ("数据库 notes", "検索 and 数据库 indexing in 中文."),
    ("Contact", "Write to alice@example.com about the e-mail client."),
    ("C++ templates", "Modern C++ and C# compared; don't panic."),
    ("Pi", "The value 3.14 approximates pi; U.S.A. uses inches."),
    ("Emoji party", "Party time 🎉 with cake 🍰 and a volcano 🌋."),
    ("Volcanoes", "Lava, magma and volcanic ash."),
    ("Deleted tower", "This tower row is soft-deleted."),
]
DELETED = {"Deleted tower"}

A, B, C = "Eiffel Tower", "Tower Bridge", "Paris and London"
# (query, title hits, content-only hits)
TABLE: list[tuple[str, set[str], set[str]]] = [
    # words: all must match, any case
    ("tower", {A, B}, set()),
    ("TOWER", {A, B}, set()),
    ("paris london", {C}, set()),
    ("paris", {C}, {A}),
    # phrases
    ('"eiffel tower"', {A}, set()),
    ('"tower eiffel"', set(), set()),
    ('"connect paris with"', set(), {C}),
    # prefixes
    ("volcan*", {"Volcanoes"}, {"Emoji party"}),
    ('"tower br"*', {B}, set()),
    ("tow*", {A, B}, set()),
    # OR and grouping
    ("thames OR 1889", set(), {A, B}),
    ("(eiffel OR bridge) tower", {A, B}, set()),
    # exclusion
    ("tower -bridge", {A}, set()),
    ("tower NOT paris", {B}, set()),
    ("-tower", set(), set()),
    # accents: folded on both sides
    ("ecole", {"École normale"}, set()),
    ("ÉCOLE", {"École normale"}, set()),
    ("cafe", {"CAFÉ REVIEW", "Cafe without accent"}, {"École normale"}),
    ("café", {"CAFÉ REVIEW", "Cafe without accent"}, {"École normale"}),
    ("naive", set(), {"École normale"}),
    ("zurich muller", set(), set()),
    ("muller", set(), {"Cafe without accent"}),
    # CJK: runs without separators are one token
    ("東京", set(), {"東京タワー"}),
    ("東京*", {"東京タワー"}, set()),
    ("数据库", {"数据库 notes"}, set()),
    ("中文", set(), {"数据库 notes"}),
    # punctuation inside words
    ("e-mail", set(), {"Contact"}),
    ("alice@example.com", set(), {"Contact"}),
    ("C++", {"C++ templates"}, set()),
    ("don't", set(), {"C++ templates"}),
    ("3.14", set(), {"Pi"}),
    ("U.S.A.", set(), {"Pi"}),
    ("🌋 volcano", set(), {"Emoji party"}),
    # hostile or empty input: never an error, never everything
    ("", set(), set()),
    ("   ", set(), set()),
    ('"', set(), set()),
    ("(((", set(), set()),
    ("AND OR NOT", set(), set()),
    ("*", set(), set()),
    ("'; DROP TABLE media; --", set(), set()),
    ("title:tower", set(), set()),
    ("NEAR(eiffel tower)", set(), set()),  # NEAR is a plain word here, found nowhere
    ("^tower", {A, B}, set()),
    ("tower\x00bridge", {B}, set()),
    ("x" * 5000, set(), set()),
    (" OR ".join(["tower"] * 100), {A, B}, set()),
    ("(" * 50 + "tower" + ")" * 50, {A, B}, set()),
]


@pytest.fixture(scope="module")
def stores(
    tmp_path_factory: pytest.TempPathFactory, pg_target: PgTarget
) -> Iterator[dict[str, MediaStore]]:
    data = Path(tmp_path_factory.mktemp("parity"))
    registries = {
        "sqlite": DatabaseRegistry(settings_for("sqlite", data / "sqlite")),
        "postgresql": DatabaseRegistry(settings_for("postgresql", data / "pg", pg_target)),
    }
    try:
        built = {}
        for kind, registry in registries.items():
            store = MediaStore(registry.media())
            for title, content in CORPUS:
                item = store.add_media(title, content, "article")
                if title in DELETED:
                    store.soft_delete(item.id)
            built[kind] = store
        yield built
    finally:
        for registry in registries.values():
            registry.close()


def _split(hits: list[SearchHit]) -> tuple[set[str], set[str]]:
    flags = [h.title_hit for h in hits]
    assert flags == sorted(flags, reverse=True), "title hits must come first"
    return {h.title for h in hits if h.title_hit}, {h.title for h in hits if not h.title_hit}


@pytest.mark.parametrize(
    ("query", "title_hits", "content_hits"), TABLE, ids=[repr(q[0])[:40] for q in TABLE]
)
def test_search_parity(
    stores: dict[str, MediaStore], query: str, title_hits: set[str], content_hits: set[str]
) -> None:
    sqlite = stores["sqlite"].search_media(query, limit=100)
    postgres = stores["postgresql"].search_media(query, limit=100)
    assert {h.id for h in sqlite} == {h.id for h in postgres}
    assert _split(sqlite) == _split(postgres)
    assert _split(sqlite) == (title_hits, content_hits)
