"""Read and convert source rows ahead of the COPY; checksum them and build search vectors.

The load alternates between work for Python (reading SQLite, converting
values, checksums, search vectors) and work for PostgreSQL alone (writing
rows, rebuilding indexes). A feed thread keeps converting the next tables'
rows while PostgreSQL works, so neither waits for the other more than it must.
Its buffer is bounded (:data:`BUDGET_BYTES` in memory): memory stays flat
whatever the size of the database. While PostgreSQL builds a table's indexes
the feed goes on, its further batches waiting in a temporary file
(:mod:`.spill`, at most :data:`SPILL_BYTES`), so the next COPY starts with rows
ready instead of a feed that stood still.

Each batch is then *finished*: its source checksum computed and, for a
searchable table, each row's search vector built (:mod:`..search.vectors`;
``None`` where only PostgreSQL can compute it), appended to the row. On a large
database that is done in a helper process, on the other core, while the feed
converts the next batches and the main thread writes earlier ones; the
consumer picks each batch's result up when it reaches that batch.

One thread reads the whole source, in plan order, through the connection of
the run's single read transaction; nobody else uses that connection until the
feed has finished or been stopped. The helper never sees the source, only
converted rows.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from itertools import islice
from typing import Any

from ..search.vectors import build_vectors
from .casts import Cast, CastProblem
from .check import Exclusions
from .checksum import Checksum, batch_canonicalizer, families_of
from .plan import DatabasePlan, TablePlan
from .rows import copied_rows
from .spill import SpillQueue, Stopped

BUDGET_BYTES = 4 * 1024 * 1024
#: Converted batches that may wait on disk, beyond the memory budget.
SPILL_BYTES = 256 * 1024 * 1024
BATCH_BYTES = 256 * 1024
BATCH_ROWS = 1000
#: Rows from which finishing batches in helper processes pays for starting them.
HELPERS_FROM_ROWS = 20_000
#: Helper processes by default: none. Each helper costs ~90 MB (its own interpreter and
#: libraries) and, side by side on two cores, two of them did not make the run reliably
#: faster (docs/benchmarks.md); on more cores, ``--jobs`` lets the client keep up.
DEFAULT_JOBS = 0
#: One row in this many is measured to size batches (measuring each costs more than
#: the conversion of some tables).
_MEASURE_EVERY = 8
#: The most rows taken from the source between two measurements of the batch's size.
_TAKE_STEP = 32

Rows = list[tuple[Any, ...]]
Finished = tuple[Checksum, list[str | None] | None]


@dataclass(frozen=True)
class Finishing:
    """What finishing a table's batches takes: picklable, so a helper process can do it."""

    families: tuple[str, ...]
    vector_positions: tuple[int | None, ...] = ()
    vector_weights: tuple[str, ...] = ()

    @classmethod
    def of(cls, plan: DatabasePlan, table: TablePlan) -> Finishing:
        families = tuple(families_of(table))
        index = plan.search_index(table)
        if index is None:
            return cls(families)
        names = [c.name for c in table.target_columns]
        return cls(
            families,
            tuple(names.index(c) if c in names else None for c in index.column_names),
            tuple(weight for _, weight in index.columns),
        )


_CANONICALIZERS: dict[tuple[str, ...], Any] = {}


def finish_batch(finishing: Finishing, rows: Rows) -> Finished:
    """The checksum of converted *rows* and, for a searchable table, their vectors."""
    canonical = _CANONICALIZERS.get(finishing.families)
    if canonical is None:
        canonical = _CANONICALIZERS[finishing.families] = batch_canonicalizer(finishing.families)
    checksum = Checksum()
    checksum.add_all(canonical(rows))
    if not finishing.vector_weights:
        return checksum, None
    positions = finishing.vector_positions
    values = [tuple(None if p is None else row[p] for p in positions) for row in rows]
    return checksum, build_vectors(finishing.vector_weights, values)


#: How often a helper checks that the tool that started it is still there.
PARENT_CHECK_SECONDS = 0.5


def follow_parent(parent_pid: int) -> None:
    """A helper's initializer: never outlive the tool, even one killed with SIGKILL.

    A killed tool cannot shut its pool down, and the helpers' queue pipes stay open
    (each helper holds both ends), so they would wait forever. Each one watches its
    parent instead: when the parent is gone the helper is re-parented (its parent id
    changes) and it exits. A watching thread, not ``PR_SET_PDEATHSIG``: that fires
    when the *thread* that spawned the helper ends, which the feed thread does
    before the run is over. Ctrl-C in a terminal reaches the helpers too; the tool
    handles it for them, so they ignore it (no traceback of theirs on screen).
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(PARENT_CHECK_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="follow-parent", daemon=True).start()


@dataclass
class CastFailed(Exception):
    """A source value the cast refused, with the row it is in."""

    table: str
    rowid: Any
    problem: CastProblem


@dataclass
class _Batch:
    table: str
    rows: Rows
    finished: Future[Finished] | Finished | None = None
    last: bool = False
    failure: BaseException | None = None

    def __getstate__(self) -> dict[str, Any]:
        # A batch spilled to disk takes its helper's result with it.
        state = dict(self.__dict__)
        if isinstance(self.finished, Future):
            state["finished"] = self.finished.result()
        return state


def _size(row: tuple[Any, ...]) -> int:
    """Roughly what the row holds in memory: the tuple, ~60 bytes per object, the text."""
    return 56 + 64 * len(row) + sum(len(v) for v in row if isinstance(v, str | bytes))


def _take_batch(source: Iterator[tuple[Any, tuple[Any, ...]]]) -> list[tuple[Any, tuple[Any, ...]]]:
    """The next (rowid, values) of *source*: :data:`BATCH_ROWS`, or fewer making about
    :data:`BATCH_BYTES`; [] at the end.

    Rows are taken a few at a time, as many as the size measured so far says still fit
    (one row in :data:`_MEASURE_EVERY` is measured), so a batch of large rows stays
    within about one row of the budget.
    """
    taken: list[tuple[Any, tuple[Any, ...]]] = []
    size = 0.0
    step = 1
    while size < BATCH_BYTES and len(taken) < BATCH_ROWS:
        part = list(islice(source, min(step, BATCH_ROWS - len(taken))))
        if not part:
            break
        taken += part
        measured = part[::_MEASURE_EVERY]
        per_row = sum(_size(values) for _, values in measured) / len(measured)
        size += per_row * len(part)
        step = max(1, min(_TAKE_STEP, int((BATCH_BYTES - size) / per_row) + 1))
    return taken


def _cast_rows(casts: Sequence[Cast], rows: Sequence[tuple[Any, ...]]) -> Rows:
    """*rows* converted a column at a time (a Python call per column, not per value)."""
    columns = [
        cast.column(values) for cast, values in zip(casts, zip(*rows, strict=True), strict=True)
    ]
    return list(zip(*columns, strict=True))


class RowFeed:
    """Every planned table's converted rows, in plan order, with each table's source checksum."""

    def __init__(
        self,
        source: sqlite3.Connection,
        plan: DatabasePlan,
        exclusions: Exclusions,
        *,
        budget_bytes: int | None = None,
        spill_bytes: int | None = None,
        jobs: int = DEFAULT_JOBS,
        min_rows: int | None = None,
    ) -> None:
        """Batches are finished by *jobs* helper processes if the source has *min_rows*
        (default :data:`HELPERS_FROM_ROWS`) rows or more; else, or with ``jobs=0``, by the
        feed thread itself. Converted batches wait in memory up to *budget_bytes*
        (:data:`BUDGET_BYTES`), then on disk up to *spill_bytes* (:data:`SPILL_BYTES`)."""
        self._source = source
        self._plan = plan
        self._exclusions = exclusions
        threshold = HELPERS_FROM_ROWS if min_rows is None else min_rows
        large = sum(t.source.row_count for t in plan.tables) >= threshold
        # spawn, not fork: this process has threads (and a PostgreSQL connection).
        self._helper = (
            ProcessPoolExecutor(
                jobs,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=follow_parent,
                initargs=(os.getpid(),),
            )
            if jobs > 0 and large
            else None
        )
        self._queue: SpillQueue[_Batch] = SpillQueue(
            (BUDGET_BYTES if budget_bytes is None else budget_bytes) // BATCH_BYTES,
            SPILL_BYTES if spill_bytes is None else spill_bytes,
        )
        self._thread = threading.Thread(target=self._run, name="migration-feed", daemon=True)
        self._thread.start()

    # -- producer ------------------------------------------------------------------
    def _put(self, batch: _Batch) -> bool:
        """Queue *batch*; False once the feed is stopped. A failure is never spilled."""
        try:
            self._queue.put(batch, spillable=batch.failure is None)
        except Stopped:
            return False
        return True

    def _run(self) -> None:
        try:
            for table in self._plan.tables:
                if not self._produce(table):
                    return
        except BaseException as exc:  # handed to the consumer, which raises it
            self._put(_Batch("", [], failure=exc))

    def _produce(self, table: TablePlan) -> bool:
        finishing = Finishing.of(self._plan, table)
        source = copied_rows(self._source, table, self._exclusions)
        while chunk := _take_batch(source):
            try:
                rows = _cast_rows(table.casts, [values for _, values in chunk])
            except CastProblem:
                return self._refuse(table, finishing, chunk)
            if not self._put(self._batch(table, finishing, rows)):
                return False
        return self._put(self._batch(table, finishing, [], last=True))

    def _refuse(
        self, table: TablePlan, finishing: Finishing, chunk: list[tuple[Any, tuple[Any, ...]]]
    ) -> bool:
        """Hand on the rows of *chunk* before the first value the cast refuses, then
        the refusal (cast a row at a time to find it); always False."""
        rows: Rows = []
        for rowid, values in chunk:
            try:
                rows.append(tuple([cast(v) for cast, v in zip(table.casts, values, strict=True)]))
            except CastProblem as exc:
                self._put(self._batch(table, finishing, rows))
                self._put(_Batch(table.name, [], failure=CastFailed(table.name, rowid, exc)))
                return False
        raise AssertionError(f"{table.name}: a value refused in a batch was accepted alone")

    def _batch(
        self, table: TablePlan, finishing: Finishing, rows: Rows, *, last: bool = False
    ) -> _Batch:
        """A batch of converted rows, its finishing under way (or done, without a helper)."""
        if self._helper is None or not rows:
            return _Batch(table.name, rows, finish_batch(finishing, rows), last)
        return _Batch(table.name, rows, self._helper.submit(finish_batch, finishing, rows), last)

    # -- consumer ------------------------------------------------------------------
    def rows(self, table: str) -> Iterator[tuple[Any, ...]]:
        """The final rows of *table*; then :attr:`checksum` holds its source checksum.

        A searchable table's rows end with their search vector (text, or ``None``).
        """
        checksum = Checksum()
        while True:
            batch = self._queue.get()
            if batch.failure is not None:
                self.stop()
                raise batch.failure
            if batch.table != table:
                raise RuntimeError(f"feed out of order: expected {table}, got {batch.table}")
            assert batch.finished is not None
            finished = batch.finished
            part, vectors = finished.result() if isinstance(finished, Future) else finished
            checksum.merge(part)
            yield from _with_vectors(batch.rows, vectors)
            if batch.last:
                self.checksum = checksum
                return

    @property
    def spilled_batches(self) -> int:
        """Batches that waited on disk (none when PostgreSQL kept up)."""
        return self._queue.spilled_items

    def stop(self) -> None:
        """Stop reading and wait for the thread, so the source connection is free again."""
        self._queue.stop()
        self._thread.join()
        if self._helper is not None:
            self._helper.shutdown(wait=True, cancel_futures=True)


def _with_vectors(rows: Rows, vectors: Sequence[str | None] | None) -> Iterator[tuple[Any, ...]]:
    if vectors is None:
        return iter(rows)
    return map(tuple.__add__, rows, ((v,) for v in vectors))
