"""How the migration feed cuts the source into batches: bounded in rows and in bytes."""

from __future__ import annotations

from tldw_Server_API.app.core.DB_Management.migration import feed


def _rows(count: int, text_bytes: int) -> list[tuple[int, tuple[object, ...]]]:
    return [(i, (i, "x" * text_bytes, None)) for i in range(count)]


def test_small_rows_fill_a_batch_up_to_its_row_limit() -> None:
    source = iter(_rows(feed.BATCH_ROWS + 500, 10))

    assert len(feed._take_batch(source)) == feed.BATCH_ROWS
    assert len(feed._take_batch(source)) == 500
    assert feed._take_batch(source) == []


def test_a_row_larger_than_a_batch_travels_alone() -> None:
    source = iter(_rows(5, 2 * feed.BATCH_BYTES))

    assert [len(feed._take_batch(source)) for _ in range(6)] == [1, 1, 1, 1, 1, 0]


def test_large_rows_stay_within_one_row_of_the_byte_budget() -> None:
    row_bytes = feed.BATCH_BYTES // 10
    source = iter(_rows(100, row_bytes))

    batch = feed._take_batch(source)

    assert sum(len(values[1]) for _, values in batch) <= feed.BATCH_BYTES + row_bytes
    assert len(batch) >= 9


def test_batches_keep_every_row_in_source_order() -> None:
    rows = _rows(3000, 700)
    source = iter(rows)

    batches = []
    while batch := feed._take_batch(source):
        batches.append(batch)

    assert [row for batch in batches for row in batch] == rows
    assert len(batches) > 3000 // feed.BATCH_ROWS
