"""The exact scan's in-memory vectors: current after every write (of this store, of another
store, of another process), kept per user, bounded in memory; and how hybrid fuses scores.

Every search here is exact (``exact=True``), the path that uses the cache, on both
backends."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tldw_Server_API.app.core.DB_Management.registry import DatabaseRegistry
from tldw_Server_API.app.core.DB_Management.stores.chunking import ChunkSpan
from tldw_Server_API.app.core.DB_Management.stores.embeddings import (
    CACHE,
    EmbeddingStore,
    VectorCache,
    _Matrix,
)
from tldw_Server_API.app.core.RAG.fusion import fts_scores, fuse, vector_scores
from tldw_Server_API.tests.RAG.test_vector_store import MODEL, store_items, unit_rows

ROOT = Path(__file__).resolve().parents[3]
#: Writes one item into user 1's embeddings, in a process of its own.
WRITER = """
import json, sys
from pathlib import Path
import numpy as np
from tldw_Server_API.app.core.config import load_settings
from tldw_Server_API.app.core.DB_Management.registry import DatabaseRegistry
from tldw_Server_API.app.core.DB_Management.stores.chunking import ChunkSpan
from tldw_Server_API.app.core.DB_Management.stores.embeddings import EmbeddingStore
values, vector = json.loads(sys.argv[1]), np.array(json.loads(sys.argv[2]), dtype=np.float32)
config, values["data_dir"] = Path(values.pop("config")), Path(values["data_dir"])
registry = DatabaseRegistry(load_settings(env={}, config_file=config, **values))
store = EmbeddingStore(registry.media("1"))
store.replace_item("media", "other-process", 1, sys.argv[3], [ChunkSpan("written elsewhere", 0, 1)],
                   vector[None, :])
registry.close()
"""


def _texts(store: EmbeddingStore, query: np.ndarray, k: int = 5) -> list[str]:
    return [h.chunk_text for h in store.nearest(query, MODEL, k, exact=True)]


def test_a_new_item_written_through_another_store_is_found_by_a_cached_search(
    registry: DatabaseRegistry,
) -> None:
    reader = EmbeddingStore(registry.media("1"))
    vectors = unit_rows(40)
    store_items(reader, vectors[:30])
    assert "fresh" not in _texts(reader, vectors[35])  # the reader's vectors are cached now
    writer = EmbeddingStore(registry.media("1"))
    writer.replace_item("media", "new", 1, MODEL, [ChunkSpan("fresh", 0, 1)], vectors[35:36])
    assert _texts(reader, vectors[35])[0] == "fresh"


def test_an_item_re_embedded_with_as_many_chunks_is_searched_with_its_new_vectors(
    registry: DatabaseRegistry,
) -> None:
    store = EmbeddingStore(registry.media("1"))
    vectors = unit_rows(12)
    store.replace_item("media", "1", 1, MODEL, [ChunkSpan("v1", 0, 1)], vectors[0:1])
    store_items(store, vectors[2:12], source="note")
    assert _texts(store, vectors[0])[0] == "v1"
    store.replace_item("media", "1", 2, MODEL, [ChunkSpan("v2", 0, 1)], vectors[1:2])
    hits = store.nearest(vectors[1], MODEL, 1, exact=True)
    assert [(h.chunk_text, round(h.score, 5)) for h in hits] == [("v2", 1.0)]


def test_a_removed_item_leaves_the_cached_search(registry: DatabaseRegistry) -> None:
    store = EmbeddingStore(registry.media("1"))
    vectors = unit_rows(10)
    store_items(store, vectors)
    assert {h.item_id for h in store.nearest(vectors[0], MODEL, 10, exact=True)} == {"0", "1"}
    EmbeddingStore(registry.media("1")).remove_items("media", ["0"])
    assert {h.item_id for h in store.nearest(vectors[0], MODEL, 10, exact=True)} == {"1"}


def test_a_write_of_another_process_is_found_by_a_cached_search(
    registry: DatabaseRegistry,
) -> None:
    store = EmbeddingStore(registry.media("1"))
    vectors = unit_rows(30)
    store_items(store, vectors[:25])
    assert "written elsewhere" not in _texts(store, vectors[29])
    s = registry.settings
    values = {"content_db_backend": s.content_db_backend, "data_dir": str(s.data_dir),
              "config": str(Path(s.data_dir) / "no-config.txt")}  # fmt: skip
    if s.content_db_backend == "postgresql":
        values |= {"pg_host": s.pg_host, "pg_port": s.pg_port, "pg_database": s.pg_database,
                   "pg_user": s.pg_user, "pg_password": s.pg_password}  # fmt: skip
    subprocess.run(
        [sys.executable, "-c", WRITER, json.dumps(values), json.dumps(vectors[29].tolist()), MODEL],
        check=True,
        cwd=ROOT,
        env=os.environ | {"PYTHONPATH": str(ROOT)},
        timeout=120,
    )
    assert _texts(store, vectors[29])[0] == "written elsewhere"


def test_each_user_searches_only_their_own_cached_vectors(registry: DatabaseRegistry) -> None:
    vectors = unit_rows(20)
    first = EmbeddingStore(registry.media("1"))
    second = EmbeddingStore(registry.media("2"))
    store_items(first, vectors[:10])
    second.replace_item("media", "9", 1, MODEL, [ChunkSpan("user 2's", 0, 1)], vectors[10:11])
    for _ in range(2):  # the first round fills both users' cached vectors, the second reads them
        assert "user 2's" not in _texts(first, vectors[10], 10)
        assert _texts(second, vectors[0], 10) == ["user 2's"]


def test_exact_search_gives_the_same_answer_from_cached_vectors(
    registry: DatabaseRegistry,
) -> None:
    store = EmbeddingStore(registry.media("1"))
    vectors = unit_rows(200, seed=21)
    store_items(store, vectors)
    query = unit_rows(1, seed=22)[0]
    CACHE.clear()
    read = store.nearest(query, MODEL, 10, exact=True)  # reads the rows
    cached = store.nearest(query, MODEL, 10, exact=True)  # scores the cached copy
    assert read == cached and len(read) == 10


def _matrix(rows: int) -> _Matrix:
    ids = np.arange(1, rows + 1, dtype=np.int64)
    return _Matrix(
        (rows, rows), ids, np.zeros(rows, dtype=np.int8), ids.astype(str).astype(object),
        np.zeros((rows, 64), dtype=np.float32),
    )  # fmt: skip


def test_the_cache_drops_the_least_recently_searched_past_its_budget() -> None:
    cache = VectorCache(max_bytes=3 * _matrix(100).nbytes)
    for name in ("a", "b", "c"):
        cache.put((name, MODEL, 64), _matrix(100))
    assert cache.get(("a", MODEL, 64)) is not None  # now "b" is the least recent
    cache.put(("d", MODEL, 64), _matrix(100))
    assert cache.get(("b", MODEL, 64)) is None
    assert all(cache.get((n, MODEL, 64)) is not None for n in ("a", "c", "d"))
    assert cache.nbytes <= cache.max_bytes


def test_vectors_larger_than_the_whole_budget_are_not_kept() -> None:
    cache = VectorCache(max_bytes=_matrix(10).nbytes)
    cache.put(("big", MODEL, 64), _matrix(1000))
    assert cache.get(("big", MODEL, 64)) is None and cache.nbytes == 0


def test_vector_scores_measure_the_cosine_above_the_weakest_candidate() -> None:
    scores = vector_scores({"exact": 1.0, "near": 0.6, "weakest": 0.5})
    assert scores == {"exact": 1.0, "near": pytest.approx(0.2), "weakest": 0.0}


def test_near_equal_vector_candidates_do_not_outrank_the_full_text_match() -> None:
    full_text = fts_scores([("match", False, 3.0)])
    cosines = {"noise 1": 0.58, "noise 2": 0.57, "noise 3": 0.55, "match": 0.54, "noise 4": 0.52}
    fused = fuse(full_text, cosines, alpha=0.7)
    assert max(fused, key=lambda key: fused[key]) == "match"


def test_a_clear_vector_match_outranks_full_text_hits_it_lacks_the_words_of() -> None:
    full_text = fts_scores([("word match", False, 3.0)])
    cosines = {"meaning match": 0.9, "noise": 0.2, "word match": 0.25}
    fused = fuse(full_text, cosines, alpha=0.7)
    assert max(fused, key=lambda key: fused[key]) == "meaning match"
