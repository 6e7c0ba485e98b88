"""Benchmark: retrieval at scale. Embedding throughput, query latency per mode and backend.

    .venv/bin/python benchmarks/rag_benchmark.py [--media 20000] [--queries 100]
        [--backends sqlite,postgresql] [--pg-dsn "host=127.0.0.1 user=postgres"] [--embedded-pg]

``--media`` items of deterministic pseudo-text (four paragraphs, about 4,400 characters:
four chunks each) are written through the Media store on each backend and embedded by the
indexer with the default local model. Printed: the embedding throughput (chunks/s, the
model alone, one process), the indexer's throughput (chunks/s, embedding and storing),
query latency p50/p99 per mode (``fts``, ``vector``, ``hybrid``; the ``Retriever`` in
process, no HTTP), the first vector query apart (it fills the exact scan's in-memory
vectors), the memory those vectors take, how vectors were searched, and the process's
peak memory.

On PostgreSQL a throw-away database is created on the server of ``--pg-dsn`` and dropped
afterwards; ``--embedded-pg`` starts the embedded PostgreSQL (which has pgvector, so
vector search uses HNSW) instead.
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

from tldw_Server_API.app.core.config import Settings, load_settings  # noqa: E402
from tldw_Server_API.app.core.DB_Management.backends.embedded import (  # noqa: E402
    start_embedded_postgres,
)
from tldw_Server_API.app.core.DB_Management.backends.target import PgTarget  # noqa: E402
from tldw_Server_API.app.core.DB_Management.registry import DatabaseRegistry  # noqa: E402
from tldw_Server_API.app.core.DB_Management.stores import MediaStore  # noqa: E402
from tldw_Server_API.app.core.DB_Management.stores.embeddings import (  # noqa: E402
    CACHE,
    EmbeddingStore,
)
from tldw_Server_API.app.core.RAG.chunks import chunk_item  # noqa: E402
from tldw_Server_API.app.core.RAG.embeddings import WordLlamaProvider  # noqa: E402
from tldw_Server_API.app.core.RAG.indexer import Indexer  # noqa: E402
from tldw_Server_API.app.core.RAG.search import RagQuery, Retriever  # noqa: E402

TOPICS = [
    "coffee", "volcano", "glacier", "market", "garden", "river", "engine", "violin", "forest",
    "harbour", "bridge", "desert", "planet", "library", "kitchen", "island", "railway", "castle",
    "orchard", "satellite", "museum", "canyon", "festival", "vineyard", "lighthouse", "factory",
]  # fmt: skip
FILLER = [
    "the", "a", "of", "and", "in", "near", "with", "old", "new", "small", "large", "quiet",
    "busy", "people", "visit", "morning", "evening", "history", "light", "water", "stone",
    "road", "season", "winter", "summer", "north", "south", "city", "village", "story",
]  # fmt: skip


def item_text(rng: random.Random) -> tuple[str, str]:
    topics = rng.sample(TOPICS, 2)
    paragraphs = []
    for _ in range(4):
        words = [rng.choice(FILLER if rng.random() < 0.85 else topics) for _ in range(180)]
        paragraphs.append(" ".join(words).capitalize() + ".")
    return f"{topics[0].title()} and {topics[1]}", "\n\n".join(paragraphs)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@contextmanager
def postgres(dsn: str | None, embedded: bool) -> Iterator[PgTarget]:
    if embedded:
        with start_embedded_postgres("rag_bench") as server:
            yield server.target
        return
    base = PgTarget.from_dsn(dsn or "host=127.0.0.1 user=postgres dbname=postgres")
    name = f"rag_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(base.conninfo(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield base.with_database(name)
    finally:
        with psycopg.connect(base.conninfo(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def settings_for(kind: str, folder: Path, target: PgTarget | None) -> Settings:
    values: dict[str, object] = {"content_db_backend": kind, "data_dir": folder}
    if target is not None:
        values |= {"pg_host": target.host, "pg_port": target.port, "pg_database": target.database,
                   "pg_user": target.user}  # fmt: skip
    return load_settings(env={}, config_file=folder / "none.txt", **values)


def run_backend(kind: str, settings: Settings, args: argparse.Namespace) -> list[str]:
    registry = DatabaseRegistry(settings)
    rows = []
    try:
        store = MediaStore(registry.media())
        rng = random.Random(42)
        for _ in range(args.media):
            title, content = item_text(rng)
            store.add_media(title, content, "document", chunks=[])
        provider = WordLlamaProvider()
        started = time.perf_counter()
        report = Indexer(registry, provider).run(settings.default_user_id)
        indexing = report.chunks / (time.perf_counter() - started)
        retriever = Retriever(registry.media(), registry.chacha(), provider)
        support = EmbeddingStore(registry.media()).support().detail
        qrng = random.Random(7)
        queries = [" ".join(qrng.sample(TOPICS, 2)) for _ in range(args.queries)]
        # The first vector query of a process reads the vectors into memory (exact scan)
        # or warms the index's pages: timed on its own, left out of the percentiles.
        begun = time.perf_counter()
        retriever.search(RagQuery(query="first query", mode="vector", top_k=10))
        first = (time.perf_counter() - begun) * 1000
        for mode in ("fts", "vector", "hybrid"):
            times = []
            for query in queries:
                begun = time.perf_counter()
                retriever.search(RagQuery(query=query, mode=mode, top_k=10))  # type: ignore[arg-type]
                times.append((time.perf_counter() - begun) * 1000)
            rows.append(
                f"| {kind} | {mode} | {report.chunks} | {indexing:,.0f} | "
                f"{statistics.median(times):.1f} | {percentile(times, 0.99):.1f} | "
                f"{first:,.0f} | {CACHE.nbytes / 1e6:.0f} | {support} |"
            )
        CACHE.clear()
    finally:
        registry.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--media", type=int, default=20_000)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--pg-dsn", default=None)
    parser.add_argument("--embedded-pg", action="store_true")
    args = parser.parse_args()

    rng = random.Random(1)
    texts = [t for _ in range(min(args.media, 2000))
             for t in chunk_item(*item_text(rng)).texts_to_embed]  # fmt: skip
    provider = WordLlamaProvider()
    provider.embed(texts[:10])  # load the model outside the measurement
    started = time.perf_counter()
    provider.embed(texts)
    print(f"embedding alone: {len(texts) / (time.perf_counter() - started):,.0f} chunks/s "
          f"({len(texts)} chunks, {provider.model_id})\n")  # fmt: skip

    print(
        "| backend | mode | chunks | indexing, chunks/s | p50 ms | p99 ms | first vector query ms "
        "| vectors cached, MB | vector search |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for kind in args.backends.split(","):
        with tempfile.TemporaryDirectory() as folder:
            if kind == "sqlite":
                rows = run_backend(kind, settings_for(kind, Path(folder), None), args)
            else:
                with postgres(args.pg_dsn, args.embedded_pg) as target:
                    rows = run_backend(kind, settings_for(kind, Path(folder), target), args)
        print("\n".join(rows), flush=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak memory of this process: {peak:,.0f} MB")


if __name__ == "__main__":
    main()
