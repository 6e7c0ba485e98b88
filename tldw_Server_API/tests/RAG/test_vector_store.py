"""Chunk vectors on both backends: exact search, the index where the server has one,
filters, models and the schema step that adds the table."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import text

from tldw_Server_API.app.core.DB_Management.backends.target import PgTarget
from tldw_Server_API.app.core.DB_Management.registry import DatabaseRegistry
from tldw_Server_API.app.core.DB_Management.schemas.manager import downgrade_to, ensure_schema
from tldw_Server_API.app.core.DB_Management.stores.chunking import ChunkSpan
from tldw_Server_API.app.core.DB_Management.stores.embeddings import EmbeddingStore
from tldw_Server_API.app.core.DB_Management.stores.errors import InvalidInput
from tldw_Server_API.app.core.RAG.embeddings import normalise
from tldw_Server_API.tests.conftest import settings_for
from tldw_Server_API.tests.postgres_harness import fresh_database

MODEL = "test:random:32"


def unit_rows(count: int, dims: int = 32, seed: int = 7, clusters: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if clusters:
        centres = rng.normal(size=(clusters, dims))
        rows = centres[rng.integers(0, clusters, count)] + 0.35 * rng.normal(size=(count, dims))
    else:
        rows = rng.normal(size=(count, dims))
    return normalise(rows.astype(np.float32))


def store_items(
    store: EmbeddingStore, vectors: np.ndarray, per_item: int = 5, source: str = "media"
) -> None:
    for start in range(0, len(vectors), per_item):
        chunk = vectors[start : start + per_item]
        spans = [ChunkSpan(f"chunk {start + i}", None, None) for i in range(len(chunk))]
        store.replace_item(source, str(start // per_item), 1, MODEL, spans, chunk)


def brute_force(vectors: np.ndarray, query: np.ndarray, k: int) -> list[str]:
    scores = vectors @ query
    order = np.lexsort((np.arange(len(vectors)), -scores))[:k]
    return [f"chunk {i}" for i in order]


@pytest.fixture
def store(registry: DatabaseRegistry) -> EmbeddingStore:
    return EmbeddingStore(registry.media())


def test_exact_search_returns_the_true_nearest_chunks_best_first(store: EmbeddingStore) -> None:
    vectors = unit_rows(200)
    store_items(store, vectors)
    query = unit_rows(1, seed=99)[0]
    hits = store.nearest(query, MODEL, 10, exact=True)
    assert [h.chunk_text for h in hits] == brute_force(vectors, query, 10)
    assert [round(h.score, 5) for h in hits] == sorted(
        (round(float(v @ query), 5) for v in vectors), reverse=True
    )[:10]


def test_search_without_an_index_gives_the_exact_answer(store: EmbeddingStore) -> None:
    if store.support().method == "hnsw":
        pytest.skip("this server has pgvector: approximate search uses its index")
    vectors = unit_rows(120)
    store_items(store, vectors)
    query = unit_rows(1, seed=5)[0]
    assert store.nearest(query, MODEL, 10) == store.nearest(query, MODEL, 10, exact=True)


def test_vectors_of_another_model_are_never_returned(store: EmbeddingStore) -> None:
    vectors = unit_rows(10)
    store_items(store, vectors)
    assert store.nearest(vectors[0], "another:model:32", 5, exact=True) == []
    assert store.nearest(vectors[0], "another:model:32", 5) == []


def test_replacing_an_item_drops_its_old_chunks(store: EmbeddingStore) -> None:
    vectors = unit_rows(6)
    spans = [ChunkSpan("old", 0, 3), ChunkSpan("old too", 4, 11)]
    store.replace_item("media", "1", 1, MODEL, spans, vectors[:2])
    store.replace_item("media", "1", 2, MODEL, [ChunkSpan("new", 0, 3)], vectors[2:3])
    assert store.count(MODEL) == 1
    assert store.embedded_versions("media", MODEL) == {"1": 2}
    assert [h.chunk_text for h in store.nearest(vectors[0], MODEL, 5, exact=True)] == ["new"]


def test_filters_limit_search_to_sources_and_listed_items(store: EmbeddingStore) -> None:
    vectors = unit_rows(30)
    store_items(store, vectors[:20], source="media")  # items "0" to "3"
    store_items(store, vectors[20:], source="note")  # items "0" and "1"
    query = vectors[0]
    for exact in (True, False):
        notes = store.nearest(query, MODEL, 30, sources=["note"], exact=exact)
        assert {h.source for h in notes} == {"note"} and len(notes) == 10
        only = store.nearest(
            query, MODEL, 30, only={"media": ["2"]}, sources=["media"], exact=exact
        )
        assert {(h.source, h.item_id) for h in only} == {("media", "2")} and len(only) == 5


def test_removed_items_are_no_longer_found(store: EmbeddingStore) -> None:
    vectors = unit_rows(10)
    store_items(store, vectors)
    assert store.remove_items("media", ["0"]) == 5
    assert {h.item_id for h in store.nearest(vectors[0], MODEL, 10, exact=True)} == {"1"}


def test_an_unknown_source_is_refused(store: EmbeddingStore) -> None:
    with pytest.raises(InvalidInput, match="source must be one of"):
        store.nearest(unit_rows(1)[0], MODEL, 5, sources=["chats"])


def test_exact_results_are_identical_on_sqlite_and_postgresql(
    tmp_path: Path, pg_server: PgTarget
) -> None:
    vectors = unit_rows(300, seed=11)
    queries = unit_rows(5, seed=12)
    answers = []
    with fresh_database(pg_server) as target:
        for kind, pg in (("sqlite", None), ("postgresql", target)):
            registry = DatabaseRegistry(settings_for(kind, tmp_path / kind, pg))
            try:
                store = EmbeddingStore(registry.media())
                store_items(store, vectors)
                answers.append(
                    [
                        [
                            (h.item_id, h.chunk_index, h.score)
                            for h in store.nearest(q, MODEL, 10, exact=True)
                        ]
                        for q in queries
                    ]
                )
            finally:
                registry.close()
    assert answers[0] == answers[1]


@pytest.fixture
def pg_store(pg_database: PgTarget, tmp_path: Path) -> Iterator[EmbeddingStore]:
    registry = DatabaseRegistry(settings_for("postgresql", tmp_path, pg_database))
    try:
        yield EmbeddingStore(registry.media())
    finally:
        registry.close()


def test_hnsw_recall_at_10_is_at_least_95_percent(pg_store: EmbeddingStore) -> None:
    if pg_store.support().method != "hnsw":
        pytest.skip("this PostgreSQL has no pgvector: searches are exact")
    vectors = unit_rows(4000, dims=64, seed=3, clusters=40)
    for start in range(0, len(vectors), 500):
        block = vectors[start : start + 500]
        spans = [ChunkSpan(f"chunk {start + i}", None, None) for i in range(len(block))]
        pg_store.replace_item("media", str(start), 1, "m64", spans, block)
    queries = unit_rows(50, dims=64, seed=4, clusters=40)
    found = 0
    for query in queries:
        truth = {h.chunk_text for h in pg_store.nearest(query, "m64", 10, exact=True)}
        approx = {h.chunk_text for h in pg_store.nearest(query, "m64", 10)}
        found += len(truth & approx)
    recall = found / (10 * len(queries))
    assert recall >= 0.95, f"recall@10 = {recall:.3f}"


def test_postgresql_uses_hnsw_exactly_when_the_server_offers_pgvector(
    pg_store: EmbeddingStore,
) -> None:
    with pg_store.database.begin(write=False) as conn:
        offered = conn.execute(
            text("SELECT count(*) FROM pg_available_extensions WHERE name = 'vector'")
        ).scalar_one()
    support = pg_store.support()
    assert support.method == ("hnsw" if offered else "exact")
    assert ("no pgvector" in support.detail) == (not offered)


def test_upgrade_from_version_3_adds_the_embeddings_table(registry: DatabaseRegistry) -> None:
    media = registry.media()
    downgrade_to(media, 3)
    state = ensure_schema(media)
    assert (state.outcome, state.from_version, state.version) == ("upgraded", 3, 4)
    store = EmbeddingStore(media)
    store_items(store, unit_rows(5))
    assert store.count(MODEL) == 5
