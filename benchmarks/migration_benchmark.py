"""Benchmark: this tool against the guide's original method and the raw-COPY floor.

    .venv/bin/python benchmarks/migration_benchmark.py [--sizes 20000,200000] [--pg-dsn DSN]

For each size, a reference media database laid out as in content-schema.md is
generated deterministically (``sample_data.generate``, cached under
benchmarks/data/), then migrated into the same target schema (ours: generated
search vectors, GIN indexes, foreign keys, triggers) three ways, side by side:

(a) this tool, as a subprocess (``migration_tools --content-sqlite``), its peak
    RSS (the tool and its helper processes together, sampled every 20 ms);
    (a') the same with ``--jobs 2`` (two helper processes);
(b) the guide's original method: DELETE-based clearing in dependency order,
    then batched ``INSERT ... ON CONFLICT DO NOTHING`` through executemany,
    batch 500, one transaction;
(c) the floor: ``psql \\copy`` of pre-rendered files (rendering not timed) into
    the same schema in one transaction (TRUNCATE first on a re-run).

(b) and (c) disable the schema's bookkeeping triggers (sync log, version rule)
inside their transaction so all three end in the same state (the migrated
sync_log, no extra rows); the triggers keeping search vectors current stay on,
and foreign keys stay checked: search maintenance is included everywhere.
Each method runs twice: into an empty target ("first run") and again over its
own result ("re-run"). Prints one table per size.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tldw_Server_API.app.core.DB_Management.backends.target import PgTarget  # noqa: E402
from tldw_Server_API.app.core.DB_Management.migration.casts import Policies  # noqa: E402
from tldw_Server_API.app.core.DB_Management.migration.plan import plan_database  # noqa: E402
from tldw_Server_API.app.core.DB_Management.migration.source import (  # noqa: E402
    open_source,
    quote_sqlite,
    read_catalog,
)
from tldw_Server_API.app.core.DB_Management.migration.target import read_target  # noqa: E402
from tldw_Server_API.app.core.DB_Management.sample_data import generate  # noqa: E402

DATA = ROOT / "benchmarks" / "data"
NAMESPACE = "user_1_media"


# The layout the earlier sessions' numbers were measured on (the rows are the same as the
# generator wrote then); a current-layout file adds tables, which would change the comparison.
LAYOUT = "late-2025"


def reference_file(size: int) -> Path:
    path = DATA / f"media_{LAYOUT}_{size}.db"
    if not path.exists():
        DATA.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        partial.unlink(missing_ok=True)
        started = time.perf_counter()
        generate("media", partial, size=size, seed=0, layout=LAYOUT)
        partial.rename(path)
        print(f"generated {path.name} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return path


def fresh_database(server: PgTarget, name: str) -> PgTarget:
    with psycopg.connect(server.conninfo(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    target = server.with_database(name)
    env = os.environ | {
        "TLDW_CONTENT_DB_BACKEND": "postgresql",
        "TLDW_PG_HOST": target.host,
        "TLDW_PG_PORT": str(target.port),
        "TLDW_PG_DATABASE": name,
        "TLDW_PG_USER": target.user,
        "TLDW_CONFIG_FILE": "/nonexistent",
    }
    subprocess.run(
        [sys.executable, "-m", "tldw_Server_API.app.core.DB_Management.init_db"],
        env=env,
        check=True,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    return target


def run_tool(source: Path, target: PgTarget, *extra: str) -> tuple[float, int]:
    """(seconds, peak RSS in MB) of one migration_tools run with *extra* arguments."""
    args = [
        sys.executable,
        "-m",
        "tldw_Server_API.app.core.DB_Management.migration_tools",
        "--content-sqlite",
        str(source),
        "--pg-host",
        target.host,
        "--pg-port",
        str(target.port),
        "--pg-database",
        target.database,
        "--pg-user",
        target.user,
        "--quiet",
        *extra,
    ]
    started = time.perf_counter()
    proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = _TreePeak(proc.pid)
    _, status, _ = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    peak.stop()
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(
            f"migration_tools failed: {proc.stderr.read().decode() if proc.stderr else ''}"
        )
    return seconds, peak.mb


class _TreePeak:
    """The peak of the summed RSS of a process and its descendants (the tool's helpers)."""

    def __init__(self, pid: int) -> None:
        self._pid, self.mb, self._done = pid, 0, threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._done.wait(0.02):
            self.mb = max(self.mb, sum(_rss_kb(p) for p in _tree(self._pid)) // 1024)

    def stop(self) -> None:
        self._done.set()
        self._thread.join()


def _tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            try:
                todo += [int(c) for c in task.read_text().split()]
            except OSError:
                continue
    return pids


def _rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _plan(source: Path, target: PgTarget):  # type: ignore[no-untyped-def]
    sqlite_conn = open_source(source)
    with psycopg.connect(target.conninfo()) as conn:
        targets = read_target(conn, NAMESPACE)
    plan = plan_database(
        "Media",
        read_catalog(sqlite_conn, source),
        NAMESPACE,
        targets,
        renames={},
        skip=set(),
        policies=Policies(),
    )
    return sqlite_conn, plan


def _rows(sqlite_conn: sqlite3.Connection, table) -> list[tuple]:  # type: ignore[no-untyped-def]
    cols = ", ".join(quote_sqlite(c) for c in table.source_columns)
    cursor = sqlite_conn.execute(f"SELECT {cols} FROM {quote_sqlite(table.source.name)}")
    while batch := cursor.fetchmany(500):
        yield [tuple(cast(v) for cast, v in zip(table.casts, row, strict=True)) for row in batch]


def bookkeeping_triggers(target: PgTarget) -> list[tuple[str, str]]:
    """(qualified table, trigger) of the sync-log and version-rule triggers."""
    with psycopg.connect(target.conninfo()) as conn:
        rows = conn.execute(
            "SELECT format('%%I.%%I', n.nspname, c.relname), t.tgname FROM pg_trigger t "
            "JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND NOT t.tgisinternal AND t.tgname NOT LIKE '%%_vector'",
            (NAMESPACE,),
        ).fetchall()
    return [(table, trigger) for table, trigger in rows]


def run_guide_method(source: Path, target: PgTarget) -> float:
    """(b): DELETE in reverse dependency order, then INSERT ON CONFLICT DO NOTHING, batch 500."""
    sqlite_conn, plan = _plan(source, target)
    triggers = bookkeeping_triggers(target)
    started = time.perf_counter()
    with psycopg.connect(target.conninfo()) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        for table, trigger in triggers:
            conn.execute(f'ALTER TABLE {table} DISABLE TRIGGER "{trigger}"')
        for table in reversed(plan.tables):
            conn.execute(f"DELETE FROM {table.target.qualified}")
        for table in plan.tables:
            cols = ", ".join(f'"{c.name}"' for c in table.target_columns)
            marks = ", ".join(["%s"] * len(table.target_columns))
            sql = (
                f"INSERT INTO {table.target.qualified} ({cols}) VALUES ({marks}) "
                "ON CONFLICT DO NOTHING"
            )
            with conn.cursor() as cursor:
                for batch in _rows(sqlite_conn, table):
                    cursor.executemany(sql, batch)
        for table, trigger in triggers:
            conn.execute(f'ALTER TABLE {table} ENABLE TRIGGER "{trigger}"')
    sqlite_conn.close()
    return time.perf_counter() - started


def render_copy_files(source: Path, target: PgTarget, folder: Path) -> list[tuple[str, str, Path]]:
    """Pre-render each table as a COPY text file (not timed): (qualified table, columns, file)."""
    sqlite_conn, plan = _plan(source, target)
    files = []
    with psycopg.connect(target.conninfo()) as conn:
        for table in plan.tables:
            path = folder / f"{table.name}.copy"
            cols = ", ".join(f'"{c.name}"' for c in table.target_columns)
            conn.execute(
                f"CREATE TEMP TABLE render_{table.name} (LIKE {table.target.qualified} "
                "INCLUDING DEFAULTS EXCLUDING GENERATED) ON COMMIT DROP"
            )
            with path.open("wb") as out, conn.cursor() as cursor:
                with cursor.copy(f"COPY render_{table.name} ({cols}) FROM STDIN") as copy:
                    for batch in _rows(sqlite_conn, table):
                        for row in batch:
                            copy.write_row(row)
                with cursor.copy(f"COPY render_{table.name} ({cols}) TO STDOUT") as copy:
                    for data in copy:
                        out.write(data)
            files.append((table.target.qualified, cols, path))
        conn.rollback()
    sqlite_conn.close()
    return files


def run_psql_copy(files: list[tuple[str, str, Path]], target: PgTarget, *, truncate: bool) -> float:
    """(c): one psql session, one transaction, \\copy of every pre-rendered file."""
    triggers = bookkeeping_triggers(target)
    lines = ["\\set ON_ERROR_STOP on", "BEGIN;", "SET TimeZone = 'UTC';"]
    lines += [f'ALTER TABLE {t} DISABLE TRIGGER "{name}";' for t, name in triggers]
    if truncate:
        lines.append("TRUNCATE " + ", ".join(t for t, _, _ in files) + " CASCADE;")
    lines += [f"\\copy {t} ({cols}) FROM '{path}'" for t, cols, path in files]
    lines += [f'ALTER TABLE {t} ENABLE TRIGGER "{name}";' for t, name in triggers]
    lines.append("COMMIT;")
    script = "\n".join(lines) + "\n"
    env = os.environ | {"PGPASSWORD": target.password.get_secret_value() if target.password else ""}
    started = time.perf_counter()
    subprocess.run(
        [
            "psql",
            "-X",
            "-q",
            "-h",
            target.host,
            "-p",
            str(target.port),
            "-U",
            target.user,
            target.database,
        ],
        input=script.encode(),
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def benchmark(size: int, server: PgTarget) -> dict[str, tuple[float, float, int | None]]:
    source = reference_file(size)
    mb = source.stat().st_size / 1e6
    print(
        f"\nsize {size:,} media items ({mb:,.0f} MB), target {server.describe()}", file=sys.stderr
    )
    results: dict[str, tuple[float, float, int | None]] = {}
    with tempfile.TemporaryDirectory(prefix="tldw-bench-") as tmp:
        target = fresh_database(server, "tldw_bench_c")
        files = render_copy_files(source, target, Path(tmp))
        first = run_psql_copy(files, target, truncate=False)
        rerun = run_psql_copy(files, target, truncate=True)
        results["(c) psql \\copy, one transaction"] = (first, rerun, None)
        shutil.rmtree(tmp, ignore_errors=True)

    target = fresh_database(server, "tldw_bench_a")
    first, rss1 = run_tool(source, target)
    rerun, rss2 = run_tool(source, target)
    results["(a) migration_tools"] = (first, rerun, max(rss1, rss2))
    first, rss1 = run_tool(source, target, "--jobs", "2")
    rerun, rss2 = run_tool(source, target, "--jobs", "2")
    results["(a') migration_tools --jobs 2 (two helper processes)"] = (
        first,
        rerun,
        max(rss1, rss2),
    )

    target = fresh_database(server, "tldw_bench_b")
    results["(b) guide: INSERT ON CONFLICT, batch 500"] = (
        run_guide_method(source, target),
        run_guide_method(source, target),
        None,
    )
    return results


def print_table(size: int, results: dict[str, tuple[float, float, int | None]]) -> None:
    floor_first, floor_rerun, _ = results["(c) psql \\copy, one transaction"]
    print(f"\n### {size:,} media items\n")
    print("| method | first run (s) | re-run (s) | first ÷ (c) | re-run ÷ (c) | peak RSS (MB) |")
    print("|---|---:|---:|---:|---:|---:|")
    for name in sorted(results):
        first, rerun, rss = results[name]
        print(
            f"| {name} | {first:.2f} | {rerun:.2f} | {first / floor_first:.2f} | "
            f"{rerun / floor_rerun:.2f} | {rss if rss is not None else '-'} |"
        )
    a_first, a_rerun, _ = results["(a) migration_tools"]
    b_first, b_rerun, _ = results["(b) guide: INSERT ON CONFLICT, batch 500"]
    print(f"\n(b) ÷ (a): first run {b_first / a_first:.2f}×, re-run {b_rerun / a_rerun:.2f}×")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="20000", help="comma-separated media item counts")
    parser.add_argument(
        "--pg-dsn", default="host=127.0.0.1 port=5432 user=postgres dbname=postgres"
    )
    args = parser.parse_args()
    server = PgTarget.from_dsn(args.pg_dsn)
    for size in (int(s) for s in args.sizes.split(",")):
        print_table(size, benchmark(size, server))


if __name__ == "__main__":
    main()
