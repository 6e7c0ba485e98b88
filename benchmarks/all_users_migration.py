"""Benchmark: ``--all-users`` over many small users into PostgreSQL, each in its own transaction.

    .venv/bin/python benchmarks/all_users_migration.py [--users 1000] [--media-items 2]
        [--pg-dsn "host=127.0.0.1 user=postgres"] [--baseline PATH]

A sample installation of N users (``sample_data.generate_installation``: a Media and a
ChaChaNotes file of *--media-items* items, copied to every user, plus the server databases) is
written to a temporary directory, then migrated by the command line
(``python -m tldw_Server_API.app.core.DB_Management.migration_tools --all-users
--create-schema --quiet``, a subprocess) into a fresh, throw-away database on the
PostgreSQL server of ``--pg-dsn`` (dropped afterwards). The same command runs twice:
the first run creates every schema and migrates every user; the second finds every user
verified and skips them all. Measured per run: wall time, time per user, and the peak
resident memory of the migration process (``ru_maxrss`` of the child), and the statements
it sent (each ``execute`` or ``COPY`` of its PostgreSQL driver: a round trip, counted in the
child by a start-up hook this script puts on its path).

``--baseline PATH`` names another checkout of the project (e.g. ``git worktree add
/tmp/before <commit>``): its first run is measured too, on the same files, each into a
fresh database, alternating with this checkout's (``--rounds`` of each), so the two are
compared side by side under the same load.

Prints one markdown table.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from api_benchmark import pg_database

ROOT = Path(__file__).resolve().parents[1]
MIGRATE = [sys.executable, "-m", "tldw_Server_API.app.core.DB_Management.migration_tools"]
#: Loaded at the child's start (``sitecustomize``): counts the statements the driver sends.
COUNTING_HOOK = """
import atexit, os
import psycopg

_sent = [0]


def _counted(name):
    original = getattr(psycopg.Cursor, name)

    def call(self, *args, **kwargs):
        _sent[0] += 1
        return original(self, *args, **kwargs)

    return call


for _name in ("execute", "executemany", "copy"):
    setattr(psycopg.Cursor, _name, _counted(_name))
atexit.register(lambda: open(os.environ["TLDW_BENCH_STATEMENTS"], "w").write(str(_sent[0])))
"""


@dataclass
class Row:
    run: str
    users: int
    seconds: float
    rss_mb: float
    exit_code: int
    statements: int

    @property
    def per_user_ms(self) -> float:
        return 1000 * self.seconds / self.users


def generate(data_dir: Path, users: int, media_items: int) -> None:
    """One generated user's files, copied to every other user (the same small content)."""
    sys.path.insert(0, str(ROOT))
    from tldw_Server_API.app.core.DB_Management.sample_data import generate_installation

    generate_installation(data_dir, users=["u00001"], media_items=media_items)
    first = data_dir / "user_databases" / "u00001"
    for n in range(2, users + 1):
        shutil.copytree(first, first.with_name(f"u{n:05d}"))


def migrate(data_dir: Path, env: dict[str, str], label: str, users: int, code: Path = ROOT) -> Row:
    """One ``--all-users`` run in a child process, of the project checked out at *code*:
    its wall time, peak RSS and statements sent."""
    flags = [
        *("--pg-host", env["TLDW_PG_HOST"], "--pg-port", env["TLDW_PG_PORT"]),
        *("--pg-database", env["TLDW_PG_DATABASE"], "--pg-user", env["TLDW_PG_USER"]),
    ]
    hook = data_dir.parent / "hook"
    hook.mkdir(exist_ok=True)
    (hook / "sitecustomize.py").write_text(COUNTING_HOOK)
    counted = hook / "statements"
    child_env = dict(
        os.environ, PYTHONPATH=f"{code}{os.pathsep}{hook}", TLDW_BENCH_STATEMENTS=str(counted)
    )
    if "TLDW_PG_PASSWORD" in env:
        child_env["PGPASSWORD"] = env["TLDW_PG_PASSWORD"]
    command = [*MIGRATE, "--all-users", "--data-dir", str(data_dir), "--create-schema", "--quiet"]
    started = time.perf_counter()
    done = subprocess.run(
        [*command, *flags], env=child_env, capture_output=True, text=True, check=False, cwd=code
    )
    seconds = time.perf_counter() - started
    if done.returncode:
        print(done.stderr[-2000:], file=sys.stderr)
    # ru_maxrss of children is the largest of any child so far: runs are measured in order,
    # and the second (skipping) run never exceeds the first.
    rss_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    statements = int(counted.read_text()) if counted.exists() else 0
    counted.unlink(missing_ok=True)
    return Row(label, users, seconds, rss_kb / 1024, done.returncode, statements)


def side_by_side(data_dir: Path, args: argparse.Namespace) -> list[Row]:
    """First runs of --baseline and of this checkout, alternating, each into a fresh database."""
    rows: list[Row] = []
    checkouts = [("baseline", Path(args.baseline).resolve()), ("this checkout", ROOT)]
    for round_number in range(args.rounds):
        order = checkouts if round_number % 2 == 0 else checkouts[::-1]
        for name, code in order:
            with pg_database(args.pg_dsn) as env:
                label = f"{name}: first run, round {round_number + 1}"
                rows.append(migrate(data_dir, env, label, args.users, code))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--media-items", type=int, default=2)
    parser.add_argument("--pg-dsn", default="host=127.0.0.1 user=postgres dbname=postgres")
    parser.add_argument("--baseline", help="another checkout to compare with, side by side")
    parser.add_argument("--rounds", type=int, default=2, help="with --baseline (default 2)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tldw-all-users-") as work:
        data_dir = Path(work) / "Databases"
        started = time.perf_counter()
        generate(data_dir, args.users, args.media_items)
        print(f"generated {args.users} users in {time.perf_counter() - started:.1f} s")
        if args.baseline:
            print_rows(side_by_side(data_dir, args))
            return
        with pg_database(args.pg_dsn) as env:
            rows = [
                migrate(data_dir, env, "first run (every user migrated)", args.users),
                migrate(data_dir, env, "re-run (every user verified: skipped)", args.users),
            ]
    print_rows(rows)


def print_rows(rows: list[Row]) -> None:
    print()
    print("| run | users | total s | per user ms | statements per user | peak RSS MB | exit |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        print(
            f"| {row.run} | {row.users:,} | {row.seconds:.1f} | {row.per_user_ms:.0f} "
            f"| {row.statements / row.users:,.0f} | {row.rss_mb:.0f} | {row.exit_code} |"
        )


if __name__ == "__main__":
    main()
