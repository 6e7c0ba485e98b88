"""The migration's casts: each SQLite value into what PostgreSQL stores, or a named refusal."""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tldw_Server_API.app.core.DB_Management.migration.casts import (
    CastProblem,
    InvalidUtf8,
    Policies,
    cast_for,
    family_of,
)
from tldw_Server_API.app.core.DB_Management.migration.checksum import python_canonical


def cast(data_type: str, value: object, policies: Policies | None = None) -> object:
    return cast_for(data_type, policies or Policies(), "t")(value)


@pytest.mark.parametrize(
    ("data_type", "family"),
    [
        ("bigint", "bigint"),
        ("integer", "integer"),
        ("smallint", "smallint"),
        ("double precision", "float"),
        ("real", "float"),
        ("numeric(10,2)", "numeric"),
        ("boolean", "boolean"),
        ("timestamp(3) with time zone", "timestamptz"),
        ("timestamp without time zone", "timestamp"),
        ("date", "date"),
        ("bytea", "bytea"),
        ("jsonb", "json"),
        ("json", "json"),
        ("uuid", "uuid"),
        ("text", "text"),
        ("character varying(20)", "text"),
        ("tsvector", "text"),
    ],
)
def test_family_of_each_target_type(data_type: str, family: str) -> None:
    assert family_of(data_type) == family


def test_integers_pass_through_a_bigint_column() -> None:
    assert cast("bigint", 2**63 - 1) == 2**63 - 1
    assert cast("bigint", -(2**63)) == -(2**63)


def test_integer_out_of_range_for_integer_column_is_refused() -> None:
    with pytest.raises(CastProblem, match="out of range"):
        cast("integer", 2**31)


def test_integral_real_in_integer_column_is_accepted() -> None:
    assert cast("bigint", 3.0) == 3


def test_fractional_real_in_integer_column_is_refused() -> None:
    with pytest.raises(CastProblem, match="would be altered"):
        cast("bigint", 1.5)


@pytest.mark.parametrize(("word", "number"), [("true", 1), ("false", 0), (" TRUE ", 1)])
def test_flag_words_in_an_integer_flag_column_become_1_and_0(word: str, number: int) -> None:
    assert cast("bigint", word) == number
    assert python_canonical("bigint", word) == python_canonical("bigint", number)


@pytest.mark.parametrize("value", ["0x1F", "12", "yes", b"\x01"])
def test_text_or_blob_in_integer_column_is_refused(value: object) -> None:
    with pytest.raises(CastProblem, match="in an integer column"):
        cast("bigint", value)


@pytest.mark.parametrize("value", [0.1, 1 / 3, 1e308, 5e-324, -0.0, math.inf, -math.inf])
def test_reals_stay_the_same_double(value: float) -> None:
    result = cast("double precision", value)
    assert isinstance(result, float)
    assert result.hex() == value.hex()


def test_nan_stays_nan() -> None:
    assert math.isnan(cast("double precision", math.nan))  # type: ignore[arg-type]


def test_integer_in_double_column_becomes_exact_double() -> None:
    assert cast("double precision", 2**53) == float(2**53)


def test_integer_not_exact_as_double_is_refused() -> None:
    with pytest.raises(CastProblem, match="too large"):
        cast("double precision", 2**53 + 1)


def test_text_in_double_column_is_refused() -> None:
    with pytest.raises(CastProblem, match="text in a floating-point column"):
        cast("double precision", "1e999")


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0, False), (1, True), ("true", True), ("false", False), ("TRUE", True), ("0", False)],
)
def test_booleans_from_every_stored_form(value: object, expected: bool) -> None:
    assert cast("boolean", value) is expected


@pytest.mark.parametrize("value", [2, "maybe", 0.5])
def test_non_boolean_is_refused(value: object) -> None:
    with pytest.raises(CastProblem, match="not a boolean"):
        cast("boolean", value)


@pytest.mark.parametrize(
    "value",
    [
        "2025-10-08T12:34:56.789Z",
        "2025-10-08T12:34:56.789+00:00",
        "2025-10-08 12:34:56.789",
        "2025-10-08T14:34:56.789+02:00",
        1759926896789,
    ],
)
def test_timestamps_arrive_as_the_same_utc_instant(value: object) -> None:
    expected = datetime(2025, 10, 8, 12, 34, 56, 789000, tzinfo=UTC)
    assert cast("timestamp(3) with time zone", value) == expected


def test_epoch_seconds_integer_is_an_instant() -> None:
    expected = datetime(2025, 10, 8, 12, 34, 56, tzinfo=UTC)
    assert cast("timestamp with time zone", 1759926896) == expected


def test_naive_timestamp_column_gets_utc_wall_time() -> None:
    assert cast("timestamp without time zone", "2025-10-08T14:00:00+02:00") == datetime(
        2025, 10, 8, 12, 0
    )


def test_unparseable_timestamp_is_refused() -> None:
    with pytest.raises(CastProblem, match="unparseable timestamp"):
        cast("timestamp with time zone", "yesterday")


def test_date_column_takes_midnight_only() -> None:
    assert cast("date", "2025-10-08") == date(2025, 10, 8)
    with pytest.raises(CastProblem, match="time of day"):
        cast("date", "2025-10-08T12:00:00Z")


def test_blob_stays_the_same_bytes() -> None:
    data = bytes(range(256))
    assert cast("bytea", data) == data


def test_text_in_bytea_column_becomes_its_utf8_bytes() -> None:
    assert cast("bytea", "é") == "é".encode()


def test_valid_json_text_is_kept_as_written() -> None:
    text = '{"b": 1, "a": [true, null]}'
    assert cast("jsonb", text) == text


def test_invalid_json_is_refused_by_default() -> None:
    with pytest.raises(CastProblem, match="invalid JSON"):
        cast("jsonb", "{bad")


def test_invalid_json_becomes_a_json_string_under_policy() -> None:
    policies = Policies(on_invalid_json="string")
    assert cast("jsonb", "{bad", policies) == '"{bad"'
    assert policies.for_table("t") == {"invalid_json_as_string": 1}


def test_json_nan_is_refused() -> None:
    with pytest.raises(CastProblem, match="NaN"):
        cast("jsonb", '{"x": NaN}')


def test_json_nul_escape_is_refused_or_stripped() -> None:
    with pytest.raises(CastProblem, match="u0000"):
        cast("jsonb", '{"x": "a\\u0000b"}')
    policies = Policies(on_nul="strip")
    assert cast("jsonb", '{"x": "a\\u0000b"}', policies) == '{"x": "ab"}'
    assert policies.for_table("t") == {"nul_stripped": 1}


def test_nul_in_text_is_refused_by_default() -> None:
    with pytest.raises(CastProblem, match="NUL"):
        cast("text", "a\x00b")


def test_nul_in_text_is_stripped_and_counted_under_policy() -> None:
    policies = Policies(on_nul="strip")
    assert cast("text", "a\x00b\x00", policies) == "ab"
    assert policies.for_table("t") == {"nul_stripped": 1}


def test_invalid_utf8_text_is_refused_by_default() -> None:
    with pytest.raises(CastProblem, match="not valid UTF-8"):
        cast("text", InvalidUtf8(b"A\xffB"))


def test_invalid_utf8_text_is_replaced_and_counted_under_policy() -> None:
    policies = Policies(on_invalid_utf8="replace")
    assert cast("text", InvalidUtf8(b"A\xffB"), policies) == "A\ufffdB"
    assert policies.for_table("t") == {"invalid_utf8_replaced": 1}


def test_numbers_in_text_column_read_as_sqlite_renders_them() -> None:
    assert cast("text", 42) == "42"
    assert cast("text", 1.0) == "1.0"
    assert cast("text", 0.1) == "0.1"


def test_utf8_blob_in_text_column_becomes_text() -> None:
    assert cast("text", "école".encode()) == "école"


def test_uuid_is_preserved() -> None:
    value = str(uuid.uuid4())
    assert cast("text", value) == value
    assert cast("uuid", value.upper()) == value


def test_numeric_keeps_decimal_digits() -> None:
    assert cast("numeric", "12.50") == Decimal("12.50")
    assert cast("numeric", 0.1) == Decimal("0.1")
    with pytest.raises(CastProblem):
        cast("numeric", "abc")


def test_none_is_null_in_every_family() -> None:
    for data_type in ("bigint", "double precision", "boolean", "timestamptz", "jsonb", "text"):
        assert cast(data_type, None) is None


def test_canonical_instant_is_the_same_for_every_form() -> None:
    forms = ["2025-10-08T12:34:56.789Z", "2025-10-08 12:34:56.789", 1759926896789]
    assert len({python_canonical("timestamptz", f) for f in forms}) == 1


def test_canonical_bytea_of_invalid_utf8_text_is_its_bytes() -> None:
    raw = b"A\xffB"
    assert python_canonical("bytea", InvalidUtf8(raw)) == python_canonical("bytea", raw)


_SOURCE_VALUES = st.none() | st.integers() | st.floats() | st.text() | st.binary()


def _outcome(convert: Callable[[], object]) -> object:
    try:
        return convert()
    except CastProblem as exc:
        return ("refused", str(exc))


@pytest.mark.parametrize(
    "data_type",
    [
        "bigint",
        "integer",
        "double precision",
        "boolean",
        "timestamp with time zone",
        "text",
        "jsonb",
        "bytea",
        "uuid",
        "numeric",
        "date",
    ],
)
@pytest.mark.parametrize("fast", [False, True])
@given(values=st.lists(_SOURCE_VALUES, max_size=12))
def test_a_column_casts_as_its_values_do_one_by_one(
    data_type: str, fast: bool, values: list[object]
) -> None:
    one = cast_for(data_type, Policies(), "t", fast=fast)
    by_value = [_outcome(lambda v=v: one(v)) for v in values]
    refused = next((o for o in by_value if isinstance(o, tuple) and o[:1] == ("refused",)), None)

    by_column = _outcome(lambda: one.column(values))

    # Compared by repr: NaN (a float or a Decimal) never equals itself, yet it is the same value.
    assert repr(by_column) == repr(refused if refused is not None else by_value)
