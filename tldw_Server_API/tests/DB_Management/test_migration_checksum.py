"""A batch's checksum, computed a column at a time, is the checksum of its rows one by one."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from tldw_Server_API.app.core.DB_Management.migration.casts import InvalidUtf8
from tldw_Server_API.app.core.DB_Management.migration.checksum import (
    Checksum,
    batch_canonicalizer,
    row_canonicalizer,
)

FAMILIES = ["text", "bigint", "integer", "smallint", "float", "boolean", "timestamptz", "bytea"]

#: What a converted row may hold in a column of each family, NULL included.
_VALUES = {
    "text": st.text() | st.integers() | st.just(InvalidUtf8(b"caf\xe9")),
    "bigint": st.integers(-(2**63), 2**63 - 1) | st.booleans() | st.sampled_from(["true", "0"]),
    "integer": st.integers(-(2**31), 2**31 - 1),
    "smallint": st.integers(-(2**15), 2**15 - 1),
    "float": st.floats(allow_nan=True) | st.integers(-(2**53), 2**53),
    "boolean": st.booleans() | st.sampled_from([0, 1, "yes", "f"]),
    "timestamptz": st.datetimes(timezones=st.just(UTC))
    | st.sampled_from(["2024-05-01 10:00:00", "2024-05-01T10:00:00.123Z", "2024-05-01"]),
    "bytea": st.binary(),
}


@st.composite
def _batches(draw: st.DrawFn) -> tuple[list[str], list[tuple[object, ...]]]:
    families = draw(st.lists(st.sampled_from(FAMILIES), min_size=1, max_size=6))
    row = st.tuples(*(st.none() | _VALUES[f] for f in families))
    return families, draw(st.lists(row, max_size=20))


@given(_batches())
def test_a_batch_canonicalises_as_its_rows_do(batch: tuple[list[str], list[tuple]]) -> None:
    families, rows = batch

    by_rows = [row_canonicalizer(families)(row) for row in rows]

    assert batch_canonicalizer(families)(rows) == by_rows


@given(st.lists(st.text(), max_size=30))
def test_adding_all_rows_at_once_sums_as_adding_each(texts: list[str]) -> None:
    one_by_one, at_once = Checksum(), Checksum()
    for text in texts:
        one_by_one.add(text)

    at_once.add_all(texts)

    assert at_once == one_by_one


def test_an_instant_canonicalises_the_same_in_a_batch_and_alone() -> None:
    moment = datetime(2024, 5, 1, 10, 0, 0, 123000, tzinfo=UTC)
    rows = [(moment,), ("2024-05-01T10:00:00.123Z",)]

    texts = batch_canonicalizer(["timestamptz"])(rows)

    assert texts[0] == texts[1] == row_canonicalizer(["timestamptz"])((moment,))
