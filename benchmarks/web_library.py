"""Benchmark: the server's time to render the WebUI's Library page, on SQLite and PostgreSQL.

    .venv/bin/python benchmarks/web_library.py [--items 20000] [--requests 200]
        [--backends sqlite,postgresql] [--pg-dsn "host=127.0.0.1 user=postgres dbname=postgres"]

For each backend the app runs in this process (Starlette's TestClient: no socket, so the
time measured is the server's work, routing to rendered HTML), on a fresh data directory
(SQLite) or a fresh, throw-away database on the PostgreSQL server of ``--pg-dsn`` (dropped
afterwards). ``--items`` media items (deterministic pseudo-text of about 150 words, two
keywords each from a pool of 200, no chunks) are written through the media store's tables as
``add_media`` writes them, in batches (see :func:`seed`), then a browser session signs in
through the sign-in form and each workload requests the page ``--requests`` times, after a
short warm-up. The retrieval indexer is stopped first: it would embed the new items on the
same cores meanwhile. On PostgreSQL the database is vacuumed and analysed after the load, as
autovacuum does within a minute of it. The workloads:

* ``/media``: the first page, the newest 20 items;
* ``/media?page=N``: a uniformly random page of the whole list (deep offsets included);
* ``/media?keyword=K``: the items of a random keyword (about 200 of them);
* ``/media?q=W``: a search for a random word (each also records its analytics row).

Prints one markdown table: p50, p99 and max in milliseconds per backend and workload.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg
from pydantic import SecretStr
from sqlalchemy import insert

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from api_benchmark import percentile, pg_database  # noqa: E402

from tldw_Server_API.app.core.config import Settings, load_settings  # noqa: E402
from tldw_Server_API.app.core.DB_Management.registry import DatabaseRegistry  # noqa: E402
from tldw_Server_API.app.core.DB_Management.stores import MediaStore  # noqa: E402
from tldw_Server_API.app.core.DB_Management.stores._common import sha256_hex  # noqa: E402
from tldw_Server_API.app.factory import create_app  # noqa: E402

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # Starlette's notice that its TestClient will move
    from fastapi.testclient import TestClient

SEED_BATCH = 500
KEY = "benchmark-key-0123456789"
PAGE_SIZE = 20
KEYWORDS = [f"topic-{n:03d}" for n in range(200)]
#: A vocabulary of 2,520 made-up words: a text of 150 of them holds a given word in about 6 %
#: of the items (some 1,200 of 20,000), as a user's words spread over their library.
WORDS = [
    f"{a}{b}{c}"
    for a in ("ka", "lo", "mi", "nu", "pe", "ra", "si", "to", "vu", "ze", "ba", "do", "fi", "gu")
    for b in ("bri", "dal", "fen", "gor", "hul", "jas", "kem", "lin", "mor", "nast", "pol", "qui")
    for c in ("a", "e", "i", "o", "u", "an", "el", "in", "or", "us", "ax", "ob", "id", "um", "ek")
]  # fmt: skip


@dataclass
class Row:
    backend: str
    workload: str
    latencies_ms: list[float]

    def percentile(self, p: float) -> float:
        return percentile(self.latencies_ms, p)


def settings_for(backend: str, work: Path, pg_env: dict[str, str]) -> Settings:
    """The server's settings; *pg_env* holds the ``TLDW_PG_*`` variables of its database."""
    return load_settings(
        env=pg_env,
        config_file=work / "no-config.txt",
        content_db_backend=backend,
        data_dir=work / "Databases",
        single_user_api_key=SecretStr(KEY),
        workflow_workers=0,
    )


def document(rng: random.Random, number: int) -> tuple[str, str, list[str]]:
    """Title, text and keywords of item *number*."""
    title = f"{rng.choice(WORDS).title()} {rng.choice(WORDS)} {number}"
    text = " ".join(rng.choice(WORDS) for _ in range(150)).capitalize() + "."
    return title, text, rng.sample(KEYWORDS, 2)


def seed(registry: DatabaseRegistry, items: int) -> None:
    """*items* media items of the default user, written through the media store's tables.

    ``add_media`` one item at a time costs some 15-30 ms an item on this 2-core machine
    (a transaction, keyword look-ups and a version each): 20,000 would take the better part
    of an hour when the machine is shared. So the items are written as ``add_media`` writes
    them (the item with its sync columns, its keyword links and version 1), a batch of rows
    per statement, :data:`SEED_BATCH` items per transaction; the database's own triggers
    (search index, sync log) run as for any insert."""
    rng = random.Random(7)
    with registry.user() as databases:
        store = MediaStore(databases.media, client_id="benchmark")
        keyword_ids = {word: store.add_keyword(word) for word in KEYWORDS}
        t = store.t
        for start in range(0, items, SEED_BATCH):
            docs = [document(rng, n) for n in range(start, min(items, start + SEED_BATCH))]
            with store.database.begin(write=True) as conn:
                syncs = [store.new_sync() for _ in docs]
                rows = [
                    {
                        "title": title,
                        "content": text,
                        "type": "document",
                        "ingestion_date": sync["last_modified"],
                        "is_trash": False,
                        "chunking_status": "pending",
                        "vector_processing": 0,
                        "content_hash": sha256_hex(text),
                        "visibility": "personal",
                        **sync,
                    }
                    for (title, text, _), sync in zip(docs, syncs, strict=True)
                ]
                ids = (
                    conn.execute(
                        insert(t.media).returning(t.media.c.id, sort_by_parameter_order=True), rows
                    )
                    .scalars()
                    .all()
                )
                links = [
                    {"media_id": media_id, "keyword_id": keyword_ids[word]}
                    for media_id, (_, _, words) in zip(ids, docs, strict=True)
                    for word in words
                ]
                conn.execute(insert(t.links), links)
                versions = []
                for media_id, (_, text, _) in zip(ids, docs, strict=True):
                    sync = store.new_sync()
                    versions.append(
                        {
                            "media_id": media_id,
                            "version_number": 1,
                            "content": text,
                            "created_at": sync["last_modified"],
                            **sync,
                        }
                    )
                conn.execute(insert(t.versions), versions)


def vacuum(dsn: str, database: str) -> None:
    """``VACUUM ANALYZE`` the benchmark's database, as autovacuum would after the load."""
    info = psycopg.conninfo.conninfo_to_dict(dsn) | {"dbname": database}
    with psycopg.connect(psycopg.conninfo.make_conninfo(**info), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def sign_in(client: TestClient) -> None:
    """A browser's session: the sign-in form, its token, the key."""
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/signin").text)
    assert token is not None
    answer = client.post(
        "/signin", data={"csrf": token.group(1), "api_key": KEY}, follow_redirects=False
    )
    assert answer.status_code == 303, answer.text


def workloads(items: int, rng: random.Random) -> dict[str, Callable[[], str]]:
    pages = max(1, -(-items // PAGE_SIZE))
    return {
        "first page": lambda: "/media",
        "random page": lambda: f"/media?page={rng.randint(1, pages)}",
        "keyword": lambda: f"/media?keyword={rng.choice(KEYWORDS)}",
        "search": lambda: f"/media?q={rng.choice(WORDS)}",
    }


def measure(client: TestClient, backend: str, name: str, path: Callable[[], str], n: int) -> Row:
    for _ in range(5):  # warm-up: caches, prepared statements, the template
        assert client.get(path()).status_code == 200
    latencies: list[float] = []
    for _ in range(n):
        started = time.perf_counter()
        response = client.get(path())
        latencies.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.text[:500]
    return Row(backend, name, latencies)


def bench_backend(backend: str, args: argparse.Namespace) -> list[Row]:
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix=f"tldw-bench-web-{backend}-") as tmp:
        work = Path(tmp)

        def go(pg_env: dict[str, str], vacuum_dsn: str | None) -> None:
            with TestClient(create_app(settings_for(backend, work, pg_env))) as client:
                # The retrieval indexer would embed every new item meanwhile, on the same
                # two cores as the requests measured: it is stopped for the benchmark.
                client.app.state.rag.stop()  # type: ignore[attr-defined]
                started = time.perf_counter()
                seed(client.app.state.registry, args.items)  # type: ignore[attr-defined]
                if vacuum_dsn is not None:
                    vacuum(vacuum_dsn, pg_env["TLDW_PG_DATABASE"])
                seconds = time.perf_counter() - started
                print(f"  {backend}: {args.items} items in {seconds:.0f} s", file=sys.stderr)
                sign_in(client)
                rng = random.Random(11)
                for name, path in workloads(args.items, rng).items():
                    row = measure(client, backend, name, path, args.requests)
                    print(f"  {backend} {name}: p50 {row.percentile(50):.1f} ms", file=sys.stderr)
                    rows.append(row)

        if backend == "sqlite":
            go({}, None)
        else:
            with pg_database(args.pg_dsn) as pg_env:
                go(pg_env, args.pg_dsn)
    return rows


def table(rows: list[Row]) -> str:
    lines = [
        "| backend | workload | requests | p50 ms | p99 ms | max ms |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r.backend} | {r.workload} | {len(r.latencies_ms)} | {r.percentile(50):.1f} | "
            f"{r.percentile(99):.1f} | {max(r.latencies_ms):.1f} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=20_000, help="media items to add")
    parser.add_argument("--requests", type=int, default=200, help="requests per workload")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument(
        "--pg-dsn",
        default=os.environ.get("TLDW_BENCH_PG_DSN", "host=127.0.0.1 user=postgres dbname=postgres"),
        help="a maintenance connection; a throw-away database is created on its server",
    )
    args = parser.parse_args()
    if args.items < 1 or args.requests < 1:
        parser.error("--items and --requests must be positive")
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    for backend in backends:
        if backend not in ("sqlite", "postgresql"):
            parser.error(f"unknown backend {backend!r}")
    rows: list[Row] = []
    for backend in backends:
        rows += bench_backend(backend, args)
    print(
        f"\nWebUI Library page: {args.items} media items, {args.requests} requests per row, "
        f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs\n"
    )
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
