"""The stores' clock: stamps to the millisecond, each later than the one before."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC
from itertools import pairwise

from tldw_Server_API.app.core.DB_Management.stores._common import now


def test_stamps_are_strictly_increasing_even_within_one_millisecond() -> None:
    stamps = [now() for _ in range(2000)]
    assert all(later > earlier for earlier, later in pairwise(stamps))


def test_stamps_are_aware_utc_and_whole_milliseconds() -> None:
    stamp = now()
    assert stamp.tzinfo is UTC
    assert stamp.microsecond % 1000 == 0


def test_threads_never_share_a_stamp() -> None:
    with ThreadPoolExecutor(max_workers=4) as pool:
        stamps = list(pool.map(lambda _: now(), range(4000)))
    assert len(set(stamps)) == len(stamps)
