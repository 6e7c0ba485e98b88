"""Benchmark: server start-up and memory against the number of users in the keys file.

    .venv/bin/python benchmarks/startup_users.py [--users 10,1000,10000]
        [--backends sqlite,postgresql] [--pg-dsn "host=127.0.0.1 user=postgres"]

For each backend and user count, a multi-user server subprocess
(``python -m tldw_Server_API.app.main``, access log and workflow workers off) is
started with a fresh data directory (SQLite) or a fresh, throw-away database on
the PostgreSQL server of ``--pg-dsn`` (dropped afterwards), and a keys file
mapping one key to each of N users. Measured:

* start-up: from launching the process to the first 200 of ``/api/v1/health``
  (polled every 20 ms);
* start-up CPU: the server process's user + system CPU time by then (what the
  start-up cost the machine; less sensitive than wall time to other work on it);
* RSS: the server process's resident memory (``VmRSS``) right after that;
* first request of a cold user (``GET /api/v1/notes``: their databases are created
  then), the same request again (open), and the RSS after both.

Prints one markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from api_benchmark import pg_database, server_process


@dataclass
class Row:
    backend: str
    users: int
    startup_s: float
    startup_cpu_s: float
    rss_mb: float
    cold_ms: float
    warm_ms: float
    rss_after_mb: float


def rss_mb(pid: int) -> float:
    """The resident memory of process *pid*, in MB (from /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process *pid* so far (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def key_of(number: int) -> str:
    return f"bench-key-{number:06d}-0123456789abcdef"


def timed_get(base: str, path: str, key: str) -> float:
    started = time.perf_counter()
    response = httpx.get(f"{base}{path}", headers={"X-API-KEY": key}, timeout=60)
    elapsed = (time.perf_counter() - started) * 1000
    response.raise_for_status()
    return elapsed


def measure(backend: str, users: int, work: Path, extra_env: dict[str, str]) -> Row:
    keys_file = work / "keys.json"
    keys_file.write_text(json.dumps({key_of(n): f"u{n}" for n in range(users)}))
    env = extra_env | {"TLDW_AUTH_MODE": "multi_user", "TLDW_API_KEYS_FILE": str(keys_file)}
    started = time.perf_counter()
    with server_process(work, env) as (base, process):
        startup = time.perf_counter() - started
        cpu = cpu_seconds(process.pid)
        rss = rss_mb(process.pid)
        cold_user = key_of(users // 2)
        cold = timed_get(base, "/api/v1/notes", cold_user)
        warm = timed_get(base, "/api/v1/notes", cold_user)
        return Row(backend, users, startup, cpu, rss, cold, warm, rss_mb(process.pid))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", default="10,1000,10000")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--pg-dsn", default="host=127.0.0.1 user=postgres dbname=postgres")
    args = parser.parse_args()
    rows: list[Row] = []
    for backend in args.backends.split(","):
        for users in (int(n) for n in args.users.split(",")):
            with tempfile.TemporaryDirectory(prefix="tldw-startup-") as tmp:
                work = Path(tmp)
                if backend == "sqlite":
                    rows.append(measure(backend, users, work, {}))
                else:
                    with pg_database(args.pg_dsn) as env:
                        rows.append(measure(backend, users, work, env))
            print(f"{backend} {users} users: done", flush=True)
    print()
    print(
        "| backend | users in keys file | start-up s | start-up CPU s | RSS MB "
        "| cold user's first request ms | same user again ms | RSS MB after |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r.backend} | {r.users:,} | {r.startup_s:.2f} | {r.startup_cpu_s:.2f} "
            f"| {r.rss_mb:.0f} | {r.cold_ms:.0f} "
            f"| {r.warm_ms:.1f} | {r.rss_after_mb:.0f} |"
        )


if __name__ == "__main__":
    main()
