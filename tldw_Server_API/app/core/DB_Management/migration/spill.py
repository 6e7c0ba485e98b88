"""A first-in first-out queue kept in memory up to a bound, then in a temporary file.

The feed converts rows at its own pace; PostgreSQL takes them in bursts, with
pauses while it builds a table's indexes and checksums it. Memory alone would
either stall the feed during those pauses or break the memory budget. Items
beyond :attr:`SpillQueue.memory_items` are therefore pickled to an anonymous
temporary file (usually the page cache, never the process's memory) until
:attr:`SpillQueue.spill_bytes` are waiting there; only then does :meth:`put`
wait. Order is kept across both places: the queue's entries are the items
themselves or the file positions of the spilled ones, in arrival order. The
file is emptied each time everything spilled has been read back.
"""

from __future__ import annotations

import os
import pickle
import tempfile
import threading
from collections import deque
from dataclasses import dataclass
from typing import IO, Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class _Spilled:
    """Where one spilled item lies in the file."""

    offset: int
    length: int


class Stopped(Exception):
    """The queue was stopped while a caller waited."""


class SpillQueue(Generic[T]):
    """A FIFO holding *memory_items* items in memory and up to *spill_bytes* on disk."""

    def __init__(self, memory_items: int, spill_bytes: int) -> None:
        self.memory_items = max(1, memory_items)
        self.spill_bytes = spill_bytes
        self._entries: deque[T | _Spilled] = deque()
        self._in_memory = 0
        self._file: IO[bytes] | None = None
        self._write_at = 0  # end of the spilled data
        self._spilled_waiting = 0  # bytes spilled and not yet read back
        self._changed = threading.Condition()
        self._stopped = False
        #: Items that went through the file, for the curious (and the tests).
        self.spilled_items = 0

    def put(self, item: T, *, spillable: bool = True) -> None:
        """Append *item*; an item that cannot be pickled must say ``spillable=False``.

        Waits while both memory and file are full (or, for an unspillable item,
        while memory is); raises :class:`Stopped` if the queue is stopped meanwhile.
        A file that cannot be written (a full disk) turns spilling off: the queue
        then waits for memory, as if it had no file.
        """
        while True:
            with self._changed:
                while not self._stopped:
                    if self._in_memory < self.memory_items:
                        self._entries.append(item)
                        self._in_memory += 1
                        self._changed.notify_all()
                        return
                    if spillable and self._spilled_waiting < self.spill_bytes:
                        break
                    self._changed.wait()
                else:
                    raise Stopped
            # Pickled outside the lock: the reader keeps taking items meanwhile.
            data = pickle.dumps(item, protocol=pickle.HIGHEST_PROTOCOL)
            with self._changed:
                if self._stopped:
                    raise Stopped
                try:
                    os.pwrite(self._open().fileno(), data, self._write_at)
                except OSError:
                    self.spill_bytes = 0
                    continue
                self._entries.append(_Spilled(self._write_at, len(data)))
                self._write_at += len(data)
                self._spilled_waiting += len(data)
                self.spilled_items += 1
                self._changed.notify_all()
                return

    def get(self) -> T:
        """The oldest item, waiting for one; raises :class:`Stopped` if stopped meanwhile."""
        with self._changed:
            while not self._entries:
                if self._stopped:
                    raise Stopped
                self._changed.wait()
            entry = self._entries.popleft()
            if not isinstance(entry, _Spilled):
                self._in_memory -= 1
                self._changed.notify_all()
                return entry
            assert self._file is not None
            data = os.pread(self._file.fileno(), entry.length, entry.offset)
            self._spilled_waiting -= entry.length
            if self._spilled_waiting == 0:
                # Everything spilled has been read back: start the file over.
                self._file.truncate(0)
                self._write_at = 0
            self._changed.notify_all()
        return pickle.loads(data)  # type: ignore[no-any-return]

    def stop(self) -> None:
        """Wake every waiting caller with :class:`Stopped`, drop the items, remove the file."""
        with self._changed:
            self._stopped = True
            self._entries.clear()
            self._in_memory = 0
            self._spilled_waiting = 0
            if self._file is not None:
                self._file.close()
                self._file = None
            self._changed.notify_all()

    def _open(self) -> IO[bytes]:
        if self._file is None:
            self._file = tempfile.TemporaryFile(prefix="tldw-migration-spill-")  # noqa: SIM115 - closed by stop()
        return self._file

    def __len__(self) -> int:
        with self._changed:
            return len(self._entries)

    @property
    def spilled_bytes_waiting(self) -> int:
        with self._changed:
            return self._spilled_waiting


__all__ = ["SpillQueue", "Stopped"]
