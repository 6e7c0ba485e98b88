"""Instants: every stored form of a moment reads back as the same UTC instant, to the millisecond.

``instants.py`` is shared by the SQLite column type and the migration's casts, so these
properties are what make a migrated timestamp mean what it meant in the user's file.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tldw_Server_API.app.core.DB_Management.instants import (
    InstantError,
    format_instant,
    from_epoch,
    parse_text,
    to_instant,
    truncate_ms,
)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# Years 1970-2999 keep epoch seconds below the milliseconds threshold (1e11 s is year 5138) and
# epoch milliseconds above it (1e11 ms is March 1973), so both integer forms are unambiguous.
# No example database on disk, no per-example deadline (machines under load are slow).
quiet = settings(database=None, deadline=None)

moments = st.datetimes(
    min_value=datetime(1973, 3, 4), max_value=datetime(2999, 12, 31, 23, 59, 59)
).map(lambda d: d.replace(tzinfo=UTC))
offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(lambda m: timedelta(minutes=m))


def ms(moment: datetime) -> int:
    """Milliseconds since the epoch, exact (no float rounding)."""
    delta = moment - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def iso_forms(moment: datetime) -> list[str]:
    """The textual forms our users' files hold for *moment* (UTC), to the millisecond."""
    millis = f"{moment.microsecond // 1000:03d}"
    clock = moment.strftime("%Y-%m-%dT%H:%M:%S")
    return [
        f"{clock}.{millis}Z",
        f"{clock}.{millis}+00:00",
        f"{clock}.{millis}".replace("T", " "),
        f"{clock}.{millis}",
        f"{clock}.{millis}z",
        f"{clock}.{millis} UTC",
        f"{clock}.{millis}+0000",
    ]


@quiet
@given(moments)
def test_every_textual_form_reads_as_the_same_millisecond(moment: datetime) -> None:
    expected = ms(moment)
    for text in iso_forms(moment):
        assert ms(parse_text(text)) == expected, text


@quiet
@given(moments)
def test_epoch_seconds_and_milliseconds_integers_read_as_the_same_instant(
    moment: datetime,
) -> None:
    whole = moment.replace(microsecond=0)
    assert to_instant(ms(whole) // 1000) == whole
    assert to_instant(ms(moment)) == truncate_ms(moment)
    assert to_instant(str(ms(moment))) == truncate_ms(moment)


@quiet
@given(moments, offsets)
def test_an_offset_names_the_same_instant_as_its_utc_form(
    moment: datetime, offset: timedelta
) -> None:
    local = truncate_ms(moment).astimezone(timezone(offset))
    text = local.isoformat(timespec="milliseconds")
    assert to_instant(text) == truncate_ms(moment)


@quiet
@given(moments)
def test_the_canonical_form_parses_back_to_itself(moment: datetime) -> None:
    text = format_instant(moment)
    assert text.endswith("Z") and len(text) == len("2025-10-08T12:34:56.789Z")
    assert format_instant(parse_text(text)) == text
    assert to_instant(text) == truncate_ms(moment)


@quiet
@given(st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59)))
def test_the_canonical_form_has_a_four_digit_year_in_every_year(naive: datetime) -> None:
    text = format_instant(naive.replace(tzinfo=UTC))
    assert len(text) == len("2025-10-08T12:34:56.789Z")
    assert text[:4] == f"{naive.year:04d}" and text[4] == "-"
    assert to_instant(text) == truncate_ms(naive.replace(tzinfo=UTC))


def test_year_one_is_written_with_leading_zeros() -> None:
    assert format_instant(datetime(1, 1, 1, tzinfo=UTC)) == "0001-01-01T00:00:00.000Z"


@quiet
@given(st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2999, 1, 1)))
def test_a_naive_datetime_is_utc(naive: datetime) -> None:
    assert to_instant(naive) == truncate_ms(naive.replace(tzinfo=UTC))


@quiet
@given(moments)
def test_sub_millisecond_digits_are_dropped_not_rounded(moment: datetime) -> None:
    text = moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond:06d}999Z"
    result = parse_text(text)
    assert result.microsecond % 1000 == 0
    assert ms(result) == ms(moment)


def test_date_only_text_is_midnight_utc() -> None:
    assert to_instant("2025-10-08") == datetime(2025, 10, 8, tzinfo=UTC)
    assert to_instant(date(2025, 10, 8)) == datetime(2025, 10, 8, tzinfo=UTC)


def test_default_current_timestamp_form_is_utc() -> None:
    assert to_instant("2025-10-08 12:34:56") == datetime(2025, 10, 8, 12, 34, 56, tzinfo=UTC)


def test_minutes_only_clock_is_accepted() -> None:
    assert to_instant("2025-10-08T12:34Z") == datetime(2025, 10, 8, 12, 34, tzinfo=UTC)


def test_epoch_threshold_separates_seconds_from_milliseconds() -> None:
    assert to_instant(99_999_999_999) == EPOCH + timedelta(seconds=99_999_999_999)
    assert to_instant(100_000_000_000) == EPOCH + timedelta(milliseconds=100_000_000_000)
    assert from_epoch(1_759_926_896.789) == datetime(2025, 10, 8, 12, 34, 56, 789000, tzinfo=UTC)


def test_blob_holding_text_reads_as_text() -> None:
    assert to_instant(b"2025-10-08T12:34:56.789Z") == datetime(
        2025, 10, 8, 12, 34, 56, 789000, tzinfo=UTC
    )


def test_none_stays_none() -> None:
    assert to_instant(None) is None


@pytest.mark.parametrize(
    "value",
    ["yesterday", "", "2025-13-01", "2025-02-30T00:00:00Z", "12:34:56", True, b"\xff\xfe", 1e20],
)
def test_values_that_are_not_instants_are_refused(value: object) -> None:
    with pytest.raises(InstantError):
        to_instant(value)
