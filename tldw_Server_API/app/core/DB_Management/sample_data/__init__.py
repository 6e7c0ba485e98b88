"""Deterministic, realistic sample data in the legacy SQLite layout (see ``legacy_layout``).

The migration tool, its tests and the benchmarks need files that look like our users' files:
mostly ISO-8601 ``...Z`` timestamps, some ``DEFAULT CURRENT_TIMESTAMP`` text, a few epoch
integers left by other tools, 0/1 booleans with a few ``'true'``/``'false'`` strings, uuid4
strings, JSON text, BLOBs, soft-deleted rows, the ChaChaNotes reference cycles, and keywords that
only differ outside ASCII. Everything comes from ``random.Random(seed)`` and fixed base times, so
the same seed always gives the same rows.

Generation streams: rows are buffered per table and written with ``executemany`` every few
thousand rows inside one transaction, with the journal off, so a 20,000-item media file takes
seconds and memory does not grow with ``size``. The FTS triggers of the layout keep the FTS tables
current while inserting (only live rows are indexed, which a ``'rebuild'`` would not respect).

Soft-delete flags (``deleted``) are always 0/1: the FTS triggers and the application test
``deleted = 0``. The ``'true'``/``'false'`` strings go to other boolean columns (``is_trash``,
``is_processed``, analytics flags, ``is_active``).
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import string
import sys
import time
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path

from ..backends.sqlite import quote_sqlite
from ..legacy_layout import (
    DEFAULT_LAYOUT,
    DEFAULT_STEPS_TABLE,
    KINDS,
    LAYOUTS,
    STEP_TABLES,
    create_legacy_database,
    legacy_layout,
)
from .analytics import generate_analytics
from .chacha import generate_chacha
from .corpus import VOCABULARY
from .media import generate_media
from .sink import Plan, Sink, bulk_connection
from .workflows import generate_workflows

__all__ = [
    "KINDS",
    "LAYOUTS",
    "VOCABULARY",
    "generate",
    "generate_installation",
    "main",
    "row_counts",
]


_Generator = Callable[[Sink, random.Random, int, Plan], None]
_GENERATORS: dict[str, _Generator] = {
    "media": generate_media,
    "chacha": generate_chacha,
    "analytics": generate_analytics,
    "workflows": generate_workflows,
}


def generate(
    kind: str,
    path: Path,
    *,
    size: int,
    seed: int = 0,
    layout: str = DEFAULT_LAYOUT,
    steps_table: str = DEFAULT_STEPS_TABLE,
) -> dict[str, int]:
    """Create a legacy *kind* file at *path* in *layout* and fill it; returns rows per table.

    *size* is the number of Media items (media), conversations (chacha), searches (analytics)
    or workflow runs (workflows); everything else scales with it. Same seed, same rows.
    *steps_table* names workflows.db's step table (``workflow_step_runs`` or
    ``workflow_steps``).
    """
    return _generate(
        kind, Path(path), size=size, seed=seed, owner=1, layout=layout, steps_table=steps_table
    )


def _generate(
    kind: str,
    path: Path,
    *,
    size: int,
    seed: int,
    owner: int | None,
    layout: str,
    steps_table: str,
) -> dict[str, int]:
    chosen = legacy_layout(kind, layout, steps_table=steps_table)  # checks all three names
    if size < 1:
        raise ValueError(f"size must be at least 1, got {size}")
    create_legacy_database(kind, path, layout, steps_table=steps_table)
    try:
        with bulk_connection(path) as conn:
            sink = Sink(conn)
            plan = Plan(owner, chosen, steps_table)
            _GENERATORS[kind](sink, random.Random(seed), size, plan)
            sink.flush()
    except BaseException:
        path.unlink(missing_ok=True)  # a half-written sample is worse than none
        raise
    return _count_rows(path, chosen.tables)


def row_counts(
    kind: str,
    path: Path,
    layout: str = DEFAULT_LAYOUT,
    *,
    steps_table: str = DEFAULT_STEPS_TABLE,
) -> dict[str, int]:
    """Rows per ordinary table of a legacy *kind* file in *layout* (FTS tables are derived
    and left out)."""
    return _count_rows(Path(path), legacy_layout(kind, layout, steps_table=steps_table).tables)


def _count_rows(path: Path, tables: Sequence[str]) -> dict[str, int]:
    conn = sqlite3.connect(f"file:{path.as_posix()}?mode=ro", uri=True)
    try:
        counts = {}
        for table in tables:
            counts[table] = conn.execute(f"SELECT COUNT(*) FROM {quote_sqlite(table)}").fetchone()[
                0
            ]
        return counts
    finally:
        conn.close()


def _user_seed(seed: int, user: str) -> int:
    """Each user gets different rows, reproducibly (crc32 is stable across processes)."""
    return seed * 4_294_967_296 + zlib.crc32(user.encode())


def generate_installation(
    data_dir: Path,
    *,
    users: Sequence[str] = ("1",),
    media_items: int = 200,
    seed: int = 0,
    layout: str = DEFAULT_LAYOUT,
    steps_table: str = DEFAULT_STEPS_TABLE,
) -> dict[str, dict[str, int]]:
    """Write a whole installation's SQLite files under *data_dir*, as a user's server has them.

    ``user_databases/<user>/Media_DB_v2.db`` and ``ChaChaNotes.db`` per user, then
    ``Analytics.db`` and ``workflows.db``, all as the server version *layout* wrote them.
    Returns rows per table keyed by the file's path relative to *data_dir*.
    """
    data_dir = Path(data_dir)
    for kind in KINDS:  # bad names are refused before anything is written
        legacy_layout(kind, layout, steps_table=steps_table)
    for user in users:  # all checked before anything is written
        if not user or user in (".", "..") or not set(user) <= _USER_ID_CHARS:
            raise ValueError(f"user id {user!r} is not a safe directory name")
    written: dict[str, dict[str, int]] = {}
    for user in users:
        user_dir = data_dir / "user_databases" / user
        user_seed = _user_seed(seed, user)
        owner = int(user) if user.isdigit() else None
        plan = (
            ("media", "Media_DB_v2.db", media_items),
            ("chacha", "ChaChaNotes.db", max(10, media_items // 2)),
        )
        for kind, name, size in plan:
            path = user_dir / name
            written[path.relative_to(data_dir).as_posix()] = _generate(
                kind,
                path,
                size=size,
                seed=user_seed,
                owner=owner,
                layout=layout,
                steps_table=steps_table,
            )
    shared = (
        ("analytics", "Analytics.db", max(50, 2 * media_items * len(users))),
        ("workflows", "workflows.db", max(16, media_items // 2)),
    )
    for kind, name, size in shared:
        written[name] = _generate(
            kind,
            data_dir / name,
            size=size,
            seed=seed,
            owner=None,
            layout=layout,
            steps_table=steps_table,
        )
    return written


_USER_ID_CHARS = frozenset(string.ascii_letters + string.digits + "_-.")


def main(argv: Sequence[str] | None = None) -> int:
    """CLI: write a sample installation and print what was written."""
    parser = argparse.ArgumentParser(
        prog="python -m tldw_Server_API.app.core.DB_Management.sample_data",
        description="Write deterministic sample SQLite files in the legacy layout.",
    )
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--users", default="1", help="comma-separated user ids (default: 1)")
    parser.add_argument("--media-items", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--layout",
        choices=LAYOUTS,
        default=DEFAULT_LAYOUT,
        help="the server version whose layout the files have (default: %(default)s)",
    )
    parser.add_argument(
        "--steps-table",
        choices=STEP_TABLES,
        default=DEFAULT_STEPS_TABLE,
        help="the name of workflows.db's step table (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    users = [u.strip() for u in args.users.split(",") if u.strip()]
    started = time.perf_counter()
    try:
        written = generate_installation(
            args.data_dir,
            users=users,
            media_items=args.media_items,
            seed=args.seed,
            layout=args.layout,
            steps_table=args.steps_table,
        )
    except (ValueError, FileExistsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    elapsed = time.perf_counter() - started
    for rel, counts in written.items():
        size_mb = (args.data_dir / rel).stat().st_size / 1e6
        tables = ", ".join(f"{t}={n}" for t, n in counts.items())
        print(f"{args.data_dir / rel}  ({size_mb:.1f} MB)\n    {tables}")
    print(f"wrote {len(written)} files in {elapsed:.1f} s")
    return 0
