"""The feed's queue: memory up to a bound, then a temporary file, always in order."""

from __future__ import annotations

import os
import sqlite3
import tempfile
import threading
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from tldw_Server_API.app.core.DB_Management.backends.target import PgTarget
from tldw_Server_API.app.core.DB_Management.migration import feed
from tldw_Server_API.app.core.DB_Management.migration.spill import SpillQueue, Stopped

from .conftest import assert_ok, fetch, media, media_row, run


def _in_thread(call: Callable[[], Any]) -> tuple[threading.Thread, list[Any]]:
    """Run *call* in a thread; the list receives its result or exception."""
    outcome: list[Any] = []

    def target() -> None:
        try:
            outcome.append(call())
        except Exception as exc:
            outcome.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, outcome


def test_items_come_out_in_order_across_memory_and_file() -> None:
    spill: SpillQueue[tuple[int, str]] = SpillQueue(memory_items=2, spill_bytes=1 << 20)
    items = [(n, "x" * n) for n in range(10)]
    for item in items:
        spill.put(item)

    assert spill.spilled_items == 8
    assert [spill.get() for _ in items] == items


def test_the_file_is_emptied_once_everything_spilled_is_read_back() -> None:
    spill: SpillQueue[bytes] = SpillQueue(memory_items=1, spill_bytes=1 << 20)
    for _ in range(3):
        spill.put(b"y" * 1000)
    assert spill.spilled_bytes_waiting > 2000
    file = spill._file
    assert file is not None and os.fstat(file.fileno()).st_size > 2000

    for _ in range(3):
        spill.get()

    assert spill.spilled_bytes_waiting == 0
    assert os.fstat(file.fileno()).st_size == 0


def test_put_waits_while_memory_and_file_are_full() -> None:
    spill: SpillQueue[bytes] = SpillQueue(memory_items=1, spill_bytes=100)
    spill.put(b"in memory")
    spill.put(b"z" * 200)  # the file takes one item past its budget, then it is full
    thread, outcome = _in_thread(lambda: spill.put(b"waits"))
    thread.join(0.3)
    assert thread.is_alive() and outcome == []

    assert spill.get() == b"in memory"

    thread.join(5)
    assert outcome == [None]
    assert [spill.get(), spill.get()] == [b"z" * 200, b"waits"]


def test_an_item_that_cannot_be_pickled_waits_for_memory_and_keeps_its_place() -> None:
    spill: SpillQueue[Any] = SpillQueue(memory_items=1, spill_bytes=1 << 20)
    spill.put("first")
    spill.put("second")  # spilled
    unpicklable = threading.Lock()
    thread, outcome = _in_thread(lambda: spill.put(unpicklable, spillable=False))
    thread.join(0.3)
    assert thread.is_alive()

    assert spill.get() == "first"
    thread.join(5)
    assert outcome == [None]
    assert spill.get() == "second"
    assert spill.get() is unpicklable


def test_stop_wakes_a_waiting_reader_and_a_waiting_writer() -> None:
    empty: SpillQueue[int] = SpillQueue(memory_items=1, spill_bytes=0)
    reader, read = _in_thread(empty.get)
    full: SpillQueue[int] = SpillQueue(memory_items=1, spill_bytes=0)
    full.put(1)
    writer, wrote = _in_thread(lambda: full.put(2))
    time.sleep(0.1)

    empty.stop()
    full.stop()

    reader.join(5)
    writer.join(5)
    assert isinstance(read[0], Stopped)
    assert isinstance(wrote[0], Stopped)


def test_a_file_that_cannot_be_written_turns_spilling_off(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "no-such-directory"))
    spill: SpillQueue[str] = SpillQueue(memory_items=1, spill_bytes=1 << 20)
    spill.put("first")
    thread, outcome = _in_thread(lambda: spill.put("second"))
    thread.join(0.3)
    assert thread.is_alive()  # waits for memory instead of failing

    assert spill.get() == "first"
    thread.join(5)
    assert outcome == [None]
    assert spill.get() == "second"
    assert spill.spilled_items == 0


def test_a_migration_whose_rows_wait_on_disk_is_complete_and_verified(
    media_file: Path, pg_target: PgTarget, monkeypatch: pytest.MonkeyPatch
) -> None:
    with closing(sqlite3.connect(media_file)) as conn:
        for media_id in range(1, 301):
            media_row(conn, media_id, title=f"Spilled {media_id}", content="word " * 200)
        conn.commit()
    monkeypatch.setattr(feed, "BATCH_ROWS", 10)  # many small batches
    monkeypatch.setattr(feed, "BUDGET_BYTES", feed.BATCH_BYTES)  # one of them in memory
    spilled: list[int] = []
    original_stop = feed.RowFeed.stop

    def stop_and_count(self: feed.RowFeed) -> None:
        spilled.append(self.spilled_batches)
        original_stop(self)

    monkeypatch.setattr(feed.RowFeed, "stop", stop_and_count)

    assert_ok(run(pg_target, media(media_file)))

    assert spilled and spilled[0] > 0
    assert fetch(pg_target, "SELECT count(*), min(title), max(id) FROM user_1_media.media") == [
        (300, "Spilled 1", 300)
    ]
