"""Where generated rows go, and what the file they go to is.

:class:`Sink` buffers rows per table and writes each buffer with one
``executemany`` inside the single transaction of :func:`bulk_connection` (journal
off), so memory stays flat whatever the size. :class:`Plan` says whose file it is
and in which layout.
"""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..legacy_layout import (
    LegacyLayout,
)
from .corpus import iso, uuid4

_FLUSH_ROWS = 4000  # rows per executemany: big enough to amortise, small enough to stay flat


class Sink:
    """Buffers rows per table and writes each buffer with one ``executemany`` when it fills.

    Foreign keys are not enforced while generating (SQLite's default), so buffers may be written
    in any order; the generators still only reference rows they create.
    """

    def __init__(self, conn: sqlite3.Connection, flush_rows: int = _FLUSH_ROWS) -> None:
        self._conn = conn
        self._flush_rows = flush_rows
        self._columns: dict[str, str] = {}
        self._sql: dict[str, str] = {}
        self._rows: dict[str, list[tuple[object, ...]]] = {}

    def table(self, name: str, columns: str) -> None:
        """Declare the columns (comma separated) that ``add`` supplies for *name*."""
        marks = ", ".join("?" for _ in columns.split(","))
        self._columns[name] = columns
        self._sql[name] = f"INSERT INTO {name} ({columns}) VALUES ({marks})"
        self._rows[name] = []

    def extend(self, name: str, columns: str) -> None:
        """Declare *columns* after those of *name*, a table declared and not yet added to."""
        if self._rows[name]:
            raise RuntimeError(f"{name}: rows were added before its columns were extended")
        self.table(name, f"{self._columns[name]}, {columns}")

    def tables(self, columns: dict[str, str]) -> None:
        """``table`` for each table -> columns entry."""
        for name, names in columns.items():
            self.table(name, names)

    def add(self, name: str, row: tuple[object, ...]) -> None:
        rows = self._rows[name]
        rows.append(row)
        if len(rows) >= self._flush_rows:
            self._write(name)

    def flush(self) -> None:
        for name in self._rows:
            self._write(name)

    def _write(self, name: str) -> None:
        rows = self._rows[name]
        if rows:
            self._conn.executemany(self._sql[name], rows)
            rows.clear()


@contextmanager
def bulk_connection(path: Path) -> Iterator[sqlite3.Connection]:
    """One connection tuned for a one-off bulk load: no journal, no fsync, one transaction."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=OFF")
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA cache_size=-32768")  # 32 MB: bounded, so memory stays flat
        conn.execute("PRAGMA temp_store=MEMORY")
        conn.execute("BEGIN")
        yield conn
        conn.execute("COMMIT")
    finally:
        conn.close()


def sync_columns(rng: random.Random, t: float, *, version: int, deleted: int, client: str) -> tuple:
    """The seven sync columns (uuid, last_modified, version, client_id, deleted, prev, merge)."""
    merge = uuid4(rng) if rng.random() < 0.01 else None
    prev = version - 1 if version > 1 else None
    return (uuid4(rng), iso(t), version, client, deleted, prev, merge)


SYNC_COLS = "uuid, last_modified, version, client_id, deleted, prev_version, merge_parent_uuid"


@dataclass(frozen=True)
class Plan:
    """What a generator needs besides its rows' count: whose file it is and its layout."""

    owner: int | None
    layout: LegacyLayout
    steps_table: str
