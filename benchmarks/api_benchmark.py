"""Benchmark: the HTTP API on SQLite and on PostgreSQL, at 1, 8 and 32 concurrent clients.

    .venv/bin/python benchmarks/api_benchmark.py [--items 2000] [--requests 2000]
        [--clients 1,8,32] [--backends sqlite,postgresql] [--pg-dsn "host=127.0.0.1 user=postgres"]

For each backend a server subprocess (``python -m tldw_Server_API.app.main``,
access log off, workflow workers off) is started on 127.0.0.1 with a fresh
data directory (SQLite) or a fresh, throw-away database on the PostgreSQL
server of ``--pg-dsn`` (dropped afterwards). ``--items`` media items
(deterministic pseudo-text, about 150 words each, with keywords) are uploaded
through ``POST /api/v1/media/add`` (one text file each), then each workload
runs a bounded number of requests (``--requests``) at each client count, from
an httpx async client in this process, after a short warm-up:

* ``GET /api/v1/media/{id}`` for uniformly random ids;
* ``POST /api/v1/media/search`` with a JSON ``{"query": ...}`` cycling through
  one-word, two-word, prefix and OR queries (each search also writes its
  analytics record and counts its matches for the pagination).

Prints one markdown table: requests/s, p50 and p99 latency, errors. Client and
server share the machine, so at high client counts the numbers include the
client's own CPU use.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg

ROOT = Path(__file__).resolve().parents[1]
KEY = "benchmark-key"
WORDS = [
    "orbit", "planet", "moon", "tide", "gravity", "comet", "nebula", "galaxy", "star",
    "solar", "lunar", "eclipse", "telescope", "rocket", "launch", "crater", "dust", "ring",
    "storm", "aurora", "quasar", "pulsar", "meteor", "asteroid", "cosmic", "signal", "radio",
    "spectrum", "light", "wave", "energy", "mass", "field", "engine", "station", "module",
    "capsule", "pilot", "mission", "data", "sample", "archive", "report", "theory", "model",
    "measure", "system", "network",
]  # fmt: skip
QUERIES = ["orbit", "planet moon", "tele*", "comet OR quasar", '"solar storm"', "gravity -tide"]


@dataclass
class Row:
    backend: str
    endpoint: str
    clients: int
    requests: int
    seconds: float
    latencies_ms: list[float]
    errors: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        return percentile(self.latencies_ms, p)


def percentile(values: list[float], p: float) -> float:
    """The *p*-th percentile of *values* (nearest rank; NaN for none)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))
    return ordered[index]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def pg_database(dsn: str) -> Iterator[dict[str, str]]:
    """A throw-away database on the server of *dsn*; yields the TLDW_PG_* variables."""
    info = psycopg.conninfo.conninfo_to_dict(dsn)
    name = f"tldw_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    env = {
        "TLDW_CONTENT_DB_BACKEND": "postgresql",
        "TLDW_PG_HOST": str(info.get("host") or "127.0.0.1"),
        "TLDW_PG_PORT": str(info.get("port") or 5432),
        "TLDW_PG_DATABASE": name,
        "TLDW_PG_USER": str(info.get("user") or "postgres"),
    }
    if info.get("password"):
        env["TLDW_PG_PASSWORD"] = str(info["password"])
    try:
        yield env
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def server_process(
    work: Path, extra_env: dict[str, str]
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A server subprocess, up once its health answers 200; yields its base URL and process."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TLDW_", "SINGLE_USER"))}
    env |= {
        "PYTHONPATH": str(ROOT),
        "TLDW_CONFIG_FILE": str(work / "no-config.txt"),
        "TLDW_DATA_DIR": str(work / "Databases"),
        "SINGLE_USER_API_KEY": KEY,
        "TLDW_WORKFLOW_WORKERS": "0",
    } | extra_env
    log = (work / "server.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "tldw_Server_API.app.main", "--port", str(port),
         "--no-access-log", "--log-level", "warning"],
        cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise SystemExit(f"server exited:\n{(work / 'server.log').read_text()}")
            try:
                if httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("server did not start in 60 s")
            time.sleep(0.02)
        yield base, process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@contextmanager
def server(work: Path, extra_env: dict[str, str]) -> Iterator[str]:
    """A server subprocess; yields its base URL."""
    with server_process(work, extra_env) as (base, _process):
        yield base


def document(rng: random.Random, number: int) -> tuple[dict[str, str], str]:
    """The form fields and the text of one item's upload."""
    words = [rng.choice(WORDS) for _ in range(150)]
    paragraphs = [" ".join(words[i : i + 50]).capitalize() + "." for i in range(0, 150, 50)]
    form = {
        "title": f"{rng.choice(WORDS).title()} {rng.choice(WORDS)} {number}",
        "media_type": "document",
        "keywords": ",".join(rng.sample(WORDS[:12], 2)),
    }
    return form, "\n\n".join(paragraphs)


async def seed(base: str, items: int) -> None:
    rng = random.Random(42)
    docs = [document(rng, n) for n in range(items)]
    async with httpx.AsyncClient(base_url=base, headers={"X-API-KEY": KEY}, timeout=60) as client:
        queue = iter(docs)

        async def worker() -> None:
            for form, text in queue:
                files = [("files", ("item.txt", text.encode(), "text/plain"))]
                response = await client.post("/api/v1/media/add", data=form, files=files)
                response.raise_for_status()

        await asyncio.gather(*(worker() for _ in range(8)))


async def measure(
    base: str, backend: str, endpoint: str, clients: int, requests: int, items: int
) -> Row:
    rng = random.Random(clients)

    def request(n: int) -> tuple[str, str, dict[str, str] | None]:
        if endpoint == "GET /media/{id}":
            return "GET", f"/api/v1/media/{rng.randint(1, items)}", None
        return "POST", "/api/v1/media/search", {"query": QUERIES[n % len(QUERIES)]}

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(
        base_url=base, headers={"X-API-KEY": KEY}, timeout=60, limits=limits
    ) as client:
        latencies: list[float] = []
        errors = 0

        async def run(total: int, record: bool) -> None:
            nonlocal errors
            counter = iter(range(total))

            async def worker() -> None:
                nonlocal errors
                for n in counter:
                    method, url, body = request(n)
                    started = time.perf_counter()
                    response = await client.request(method, url, json=body)
                    elapsed = (time.perf_counter() - started) * 1000
                    if record:
                        latencies.append(elapsed)
                        errors += response.status_code != 200

            await asyncio.gather(*(worker() for _ in range(clients)))

        await run(min(100, requests), record=False)  # warm-up: connections, caches
        started = time.perf_counter()
        await run(requests, record=True)
        seconds = time.perf_counter() - started
    return Row(backend, endpoint, clients, requests, seconds, latencies, errors)


def bench_backend(backend: str, args: argparse.Namespace) -> list[Row]:
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix=f"tldw-bench-{backend}-") as tmp:
        work = Path(tmp)

        def go(extra_env: dict[str, str]) -> None:
            with server(work, extra_env) as base:
                started = time.perf_counter()
                asyncio.run(seed(base, args.items))
                print(
                    f"  {backend}: seeded {args.items} items in "
                    f"{time.perf_counter() - started:.1f} s",
                    file=sys.stderr,
                )
                for endpoint in ("GET /media/{id}", "POST /media/search"):
                    for clients in args.clients:
                        row = asyncio.run(
                            measure(base, backend, endpoint, clients, args.requests, args.items)
                        )
                        print(
                            f"  {backend} {endpoint} x{clients}: {row.rps:.0f} req/s",
                            file=sys.stderr,
                        )
                        rows.append(row)

        if backend == "sqlite":
            go({})
        else:
            with pg_database(args.pg_dsn) as env:
                go(env)
    return rows


def table(rows: list[Row]) -> str:
    lines = [
        "| backend | endpoint | clients | requests | req/s | p50 ms | p99 ms | errors |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r.backend} | `{r.endpoint}` | {r.clients} | {r.requests} | {r.rps:,.0f} | "
            f"{r.percentile(50):.2f} | {r.percentile(99):.2f} | {r.errors} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=2000, help="media items to create")
    parser.add_argument("--requests", type=int, default=2000, help="requests per measurement")
    parser.add_argument(
        "--clients", default="1,8,32", help="comma-separated concurrent client counts"
    )
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument(
        "--pg-dsn",
        default=os.environ.get("TLDW_BENCH_PG_DSN", "host=127.0.0.1 user=postgres dbname=postgres"),
        help="a maintenance connection; a throw-away database is created on its server",
    )
    args = parser.parse_args()
    args.clients = [int(c) for c in args.clients.split(",") if c.strip()]
    if args.items < 1 or args.requests < 1 or not args.clients or min(args.clients) < 1:
        parser.error("--items, --requests and --clients must be positive")
    rows: list[Row] = []
    for backend in [b.strip() for b in args.backends.split(",") if b.strip()]:
        if backend not in ("sqlite", "postgresql"):
            parser.error(f"unknown backend {backend!r}")
        rows += bench_backend(backend, args)
    print(
        f"\nAPI benchmark: {args.items} media items, {args.requests} requests per row, "
        f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs\n"
    )
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
