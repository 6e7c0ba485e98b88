"""Read, convert and checksum source rows ahead of the COPY, on a second thread.

The load alternates between work for Python (reading SQLite, converting
values, checksums) and work for PostgreSQL alone (computing search vectors,
writing them, rebuilding indexes). A feed keeps converting the next tables'
rows while PostgreSQL works, so neither waits for the other more than it must.
Its buffer is bounded (:data:`BUDGET_BYTES`): memory stays flat whatever the
size of the database.

One thread reads the whole source, in plan order, through the connection of
the run's single read transaction; nobody else uses that connection until the
feed has finished or been stopped.
"""

from __future__ import annotations

import queue
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from .casts import CastProblem
from .check import Exclusions
from .plan import DatabasePlan, TablePlan
from .verify import Checksum, families_of, row_canonicalizer

BUDGET_BYTES = 16 * 1024 * 1024
BATCH_BYTES = 256 * 1024
BATCH_ROWS = 1000


@dataclass
class CastFailed(Exception):
    """A source value the cast refused, with the row it is in."""

    table: str
    rowid: Any
    problem: CastProblem


@dataclass
class _Batch:
    table: str
    rows: list[tuple[Any, ...]]
    end: Checksum | None = None
    failure: BaseException | None = None


def _size(row: tuple[Any, ...]) -> int:
    """Roughly what the row holds in memory: the tuple, ~60 bytes per object, the text."""
    return 56 + 64 * len(row) + sum(len(v) for v in row if isinstance(v, str | bytes))


class RowFeed:
    """Every planned table's converted rows, in plan order, with each table's source checksum."""

    def __init__(
        self,
        source: sqlite3.Connection,
        plan: DatabasePlan,
        exclusions: Exclusions,
        *,
        budget_bytes: int = BUDGET_BYTES,
    ) -> None:
        self._source = source
        self._plan = plan
        self._exclusions = exclusions
        self._queue: queue.Queue[_Batch] = queue.Queue(maxsize=max(1, budget_bytes // BATCH_BYTES))
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="migration-feed", daemon=True)
        self._thread.start()

    # -- producer ------------------------------------------------------------------
    def _put(self, batch: _Batch) -> bool:
        while not self._stopping.is_set():
            try:
                self._queue.put(batch, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        try:
            for table in self._plan.tables:
                if not self._produce(table):
                    return
        except BaseException as exc:  # handed to the consumer, which raises it
            self._put(_Batch("", [], failure=exc))

    def _produce(self, table: TablePlan) -> bool:
        from .load import copied_rows

        casts, canonical = table.casts, row_canonicalizer(families_of(table))
        checksum = Checksum()
        rows: list[tuple[Any, ...]] = []
        size = 0
        for rowid, values in copied_rows(self._source, table, self._exclusions):
            try:
                row = tuple(cast(v) for cast, v in zip(casts, values, strict=True))
            except CastProblem as exc:
                self._put(_Batch(table.name, rows))
                self._put(_Batch(table.name, [], failure=CastFailed(table.name, rowid, exc)))
                return False
            checksum.add(canonical(row))
            rows.append(row)
            size += _size(row)
            if size >= BATCH_BYTES or len(rows) >= BATCH_ROWS:
                if not self._put(_Batch(table.name, rows)):
                    return False
                rows, size = [], 0
        return self._put(_Batch(table.name, rows, end=checksum))

    # -- consumer ------------------------------------------------------------------
    def rows(self, table: str) -> Iterator[tuple[Any, ...]]:
        """The converted rows of *table*; then :attr:`checksum` holds its source checksum."""
        while True:
            batch = self._queue.get()
            if batch.failure is not None:
                self.stop()
                raise batch.failure
            if batch.table != table:
                raise RuntimeError(f"feed out of order: expected {table}, got {batch.table}")
            yield from batch.rows
            if batch.end is not None:
                self.checksum = batch.end
                return

    def stop(self) -> None:
        """Stop reading and wait for the thread, so the source connection is free again."""
        self._stopping.set()
        while self._thread.is_alive():
            with suppress(queue.Empty):
                self._queue.get(timeout=0.05)
        self._thread.join()
