"""Instants: every form our SQLite files hold, read as one UTC datetime, millisecond-exact.

SQLite has no time type, so the files our users have hold instants as
``2025-10-08T12:34:56.789Z`` (rows written by the application),
``2025-10-08 12:34:56`` (``DEFAULT CURRENT_TIMESTAMP``), ``+00:00`` offsets,
naive or date-only text, and epoch integers in seconds or milliseconds
(other tools). A naive value is UTC, as SQLite's own functions assume.

Both the SQLite column type and the migration's casts use this module, so an
instant means the same thing whichever path reads it.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

# Epoch numbers at or above this are milliseconds: 1e11 seconds is the year 5138,
# while 1e11 milliseconds is March 1973.
_EPOCH_MS_THRESHOLD = 100_000_000_000
_MIN_EPOCH_S = -62_135_596_800  # 0001-01-01
_MAX_EPOCH_S = 253_402_300_799  # 9999-12-31 23:59:59

_ISO = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})"
    r"(?:[T ](?P<time>\d{2}:\d{2}(?::\d{2})?)(?P<frac>\.\d+)?)?"
    r"\s*(?P<tz>Z|z|UTC|[+-]\d{2}(?::?\d{2})?)?$"
)


class InstantError(ValueError):
    """A value that is not an instant in any form we know."""


def truncate_ms(moment: datetime) -> datetime:
    """Drop sub-millisecond digits: both backends keep exactly milliseconds."""
    extra = moment.microsecond % 1000
    return moment.replace(microsecond=moment.microsecond - extra) if extra else moment


def from_epoch(number: float) -> datetime:
    """An epoch number in seconds, or in milliseconds when it is that large.

    Integers are converted exactly: dividing milliseconds by 1000 in floating
    point would land some instants a millisecond early once truncated.
    """
    milliseconds = abs(number) >= _EPOCH_MS_THRESHOLD
    seconds = number / 1000 if milliseconds else number
    if not _MIN_EPOCH_S <= seconds <= _MAX_EPOCH_S + 1:
        raise InstantError(f"epoch value {number!r} is outside years 1-9999")
    delta = timedelta(milliseconds=number) if milliseconds else timedelta(seconds=number)
    try:
        return truncate_ms(datetime(1970, 1, 1, tzinfo=UTC) + delta)
    except OverflowError:
        raise InstantError(f"epoch value {number!r} is outside years 1-9999") from None


def _offset(tz: str | None) -> timedelta:
    if tz is None or tz in ("Z", "z", "UTC"):
        return timedelta(0)
    sign = -1 if tz[0] == "-" else 1
    digits = tz[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
    return sign * timedelta(hours=hours, minutes=minutes)


def parse_common_form(text: str) -> datetime | None:
    """The two forms nearly every row holds, parsed in C; None for anything else.

    ``2025-10-08T12:34:56.789Z`` (the application) and ``2025-10-08 12:34:56``
    (``CURRENT_TIMESTAMP``) mean exactly what the general parser says they do.
    """
    if len(text) not in (19, 24) or text[4] != "-" or text[10] not in "T ":
        return None
    if len(text) == 24 and text[-1] != "Z":
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return truncate_ms(moment if moment.tzinfo else moment.replace(tzinfo=UTC))


def parse_text(text: str) -> datetime:
    """Parse one textual instant; see the module docstring for the accepted forms."""
    common = parse_common_form(text)
    if common is not None:
        return common
    stripped = text.strip()
    if re.fullmatch(r"[+-]?\d+", stripped):
        return from_epoch(int(stripped))
    if re.fullmatch(r"[+-]?\d+\.\d+", stripped):
        return from_epoch(float(stripped))
    match = _ISO.match(stripped)
    if match is None:
        raise InstantError(f"{text!r} is not an ISO-8601 instant or an epoch number")
    clock = match["time"] or "00:00:00"
    if len(clock) == 5:
        clock += ":00"
    frac = (match["frac"] or ".0")[1:7].ljust(6, "0")
    try:
        naive = datetime.fromisoformat(f"{match['date']}T{clock}.{frac}")
    except ValueError as exc:
        raise InstantError(f"{text!r} is not a valid instant ({exc})") from None
    try:
        moment = naive.replace(tzinfo=UTC) - _offset(match["tz"])
    except OverflowError:
        raise InstantError(f"{text!r} is outside years 1-9999") from None
    return truncate_ms(moment)


def to_instant(value: object) -> datetime | None:
    """Read any stored form as an aware UTC datetime (``None`` stays ``None``)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return truncate_ms(aware.astimezone(UTC))
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, bool):
        raise InstantError(f"{value!r} is a boolean, not an instant")
    if isinstance(value, int | float):
        return from_epoch(value)
    if isinstance(value, bytes):
        try:
            return parse_text(value.decode("utf-8"))
        except UnicodeDecodeError:
            raise InstantError(f"{value!r} is binary, not an instant") from None
    if isinstance(value, str):
        return parse_text(value)
    raise InstantError(f"{value!r} is not an instant")


def format_instant(moment: datetime) -> str:
    """The canonical text form: ``2025-10-08T12:34:56.789Z``, always a 4-digit year.

    Not ``strftime("%Y")``: on glibc it does not pad years before 1000
    (``1-01-01T...``), which neither ISO 8601 nor a text comparison accepts.
    """
    utc = to_instant(moment)
    assert utc is not None
    return (
        f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T"
        f"{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}.{utc.microsecond // 1000:03d}Z"
    )


def utc_now() -> datetime:
    return truncate_ms(datetime.now(UTC))
