"""SQLite column defaults as PostgreSQL defaults of the column's target type.

The rule: the PostgreSQL default has the target column's type and gives the
value a migration would have made of the value SQLite's default stores. So a
default is judged by what SQLite would store (its value, after the column's
type affinity) and by what the migration's cast makes of that value:

* a constant (``'x'``, ``-1``, ``X'00ff'``, ``TRUE``, ``(1 + 2)``, ...) is
  evaluated by SQLite itself in a column of the same declared type, converted
  by the cast of the target type, and written as a typed literal;
* a clock default (``CURRENT_TIMESTAMP``, ``CURRENT_DATE``, ``CURRENT_TIME``,
  ``datetime('now')``, ``date('now')``, ``time('now')``, ``unixepoch()``,
  ``strftime(format, 'now')`` with any format) becomes a PostgreSQL expression
  of the same moment (UTC, as SQLite's clock is): a text column gets SQLite's
  exact text (``'YYYY-MM-DD HH:MM:SS'``), a timestamp column the moment at
  SQLite's precision (``CURRENT_DATE`` on a timestamptz column: midnight UTC),
  a number column the number. Which of these holds is found by evaluating the
  default at two sample moments and casting the results as the load would.

A default with no faithful translation (random values, ``'localtime'``, a
clock text in a boolean column, ...) is left out, with the reason: the target
column then has no default, and the report says so.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from .casts import INT_RANGES, CastProblem, Policies, cast_for, family_of
from .source import tolerant_text

#: Two moments differing in every field (hour past noon, other weekday, ...).
SAMPLE_MOMENTS = (
    datetime(2001, 2, 3, 4, 5, 6, 789000, tzinfo=UTC),
    datetime(2019, 11, 28, 23, 59, 58, 123000, tzinfo=UTC),
)


@dataclass(frozen=True)
class DefaultTranslation:
    """A PostgreSQL default expression (``sql``), or why the SQLite default was left out."""

    sql: str | None
    dropped: str | None = None


# -- SQLite's clock formats --------------------------------------------------------------


def _utc(moment: str) -> str:
    return f"({moment} AT TIME ZONE 'UTC')"


class _ToChar(str):
    """A ``to_char`` pattern: adjacent ones (and plain separators) merge into one call."""

    def __call__(self, moment: str) -> str:
        return f"to_char({_utc(moment)}, '{self}')"


def _to_char(pattern: str) -> _ToChar:
    return _ToChar(pattern)


def _padded(pattern: str) -> Callable[[str], str]:
    """A number padded with a space to two characters (SQLite's %e, %k, %l)."""
    return lambda moment: f"lpad(to_char({_utc(moment)}, 'FM{pattern}'), 2, ' ')"


def _week(first_day_offset: str) -> Callable[[str], str]:
    """SQLite's %U (weeks start on Sunday) or %W (on Monday), counted as SQLite does."""

    def week(moment: str) -> str:
        day = f"(extract(doy FROM {_utc(moment)})::int - 1)"
        weekday = f"extract(dow FROM {_utc(moment)})::int"
        return f"lpad((({day} - ({weekday}{first_day_offset}) % 7 + 7) / 7)::text, 2, '0')"

    return week


def _hour12(moment: datetime) -> int:
    return moment.hour % 12 or 12


def _sqlite_week(moment: datetime, first_day_offset: int) -> int:
    weekday = moment.isoweekday() % 7  # Sunday 0, as SQLite counts
    return (moment.timetuple().tm_yday - 1 - (weekday + first_day_offset) % 7 + 7) // 7


#: Each strftime specifier: (what SQLite writes for a moment, the PostgreSQL expression for
#: a moment given as SQL). %J (the Julian day as a float) has no exact text twin.
SPECIFIERS: dict[str, tuple[Callable[[datetime], str], Callable[[str], str]]] = {
    "d": (lambda m: f"{m.day:02d}", _to_char("DD")),
    "e": (lambda m: f"{m.day:2d}", _padded("DD")),
    "f": (lambda m: f"{m.second:02d}.{m.microsecond // 1000:03d}", _to_char("SS.MS")),
    "F": (lambda m: f"{m.year:04d}-{m.month:02d}-{m.day:02d}", _to_char("YYYY-MM-DD")),
    "G": (lambda m: f"{m.isocalendar()[0]:04d}", _to_char("IYYY")),
    "g": (lambda m: f"{m.isocalendar()[0] % 100:02d}", _to_char("IY")),
    "H": (lambda m: f"{m.hour:02d}", _to_char("HH24")),
    "I": (lambda m: f"{_hour12(m):02d}", _to_char("HH12")),
    "j": (lambda m: f"{m.timetuple().tm_yday:03d}", _to_char("DDD")),
    "k": (lambda m: f"{m.hour:2d}", _padded("HH24")),
    "l": (lambda m: f"{_hour12(m):2d}", _padded("HH12")),
    "m": (lambda m: f"{m.month:02d}", _to_char("MM")),
    "M": (lambda m: f"{m.minute:02d}", _to_char("MI")),
    "p": (lambda m: "PM" if m.hour >= 12 else "AM", _to_char("AM")),
    "P": (lambda m: "pm" if m.hour >= 12 else "am", _to_char("am")),
    "R": (lambda m: f"{m.hour:02d}:{m.minute:02d}", _to_char("HH24:MI")),
    "s": (
        lambda m: str(int(m.timestamp())),
        lambda moment: f"floor(extract(epoch FROM {moment}))::bigint::text",
    ),
    "S": (lambda m: f"{m.second:02d}", _to_char("SS")),
    "T": (lambda m: f"{m.hour:02d}:{m.minute:02d}:{m.second:02d}", _to_char("HH24:MI:SS")),
    "u": (lambda m: str(m.isoweekday()), _to_char("ID")),
    "U": (lambda m: f"{_sqlite_week(m, 0):02d}", _week("")),
    "V": (lambda m: f"{m.isocalendar()[1]:02d}", _to_char("IW")),
    "w": (
        lambda m: str(m.isoweekday() % 7),
        lambda moment: f"extract(dow FROM {_utc(moment)})::int::text",
    ),
    "W": (lambda m: f"{_sqlite_week(m, 6):02d}", _week(" + 6")),
    "Y": (lambda m: f"{m.year:04d}", _to_char("YYYY")),
}


@dataclass(frozen=True)
class ClockFormat:
    """A clock default as a strftime format; ``integer``: SQLite returns a number, not text."""

    pieces: tuple[tuple[bool, str], ...]  # (is a specifier, the specifier's letter or text)
    integer: bool = False

    @classmethod
    def parse(cls, fmt: str, *, integer: bool = False) -> ClockFormat | None:
        """The pieces of *fmt*, or None when it holds a specifier without an exact twin."""
        pieces: list[tuple[bool, str]] = []
        literal = ""
        i = 0
        while i < len(fmt):
            if fmt[i] != "%":
                literal += fmt[i]
                i += 1
                continue
            spec = fmt[i + 1 : i + 2]
            i += 2
            if spec == "%":
                literal += "%"
                continue
            if spec not in SPECIFIERS:
                return None
            if literal:
                pieces.append((False, literal))
                literal = ""
            pieces.append((True, spec))
        if literal:
            pieces.append((False, literal))
        return cls(tuple(pieces), integer)

    def sqlite_value(self, moment: datetime) -> str | int:
        """What SQLite's default returns at *moment* (before the column's affinity)."""
        text = "".join(SPECIFIERS[p][0](moment) if spec else p for spec, p in self.pieces)
        return int(text) if self.integer else text

    def pg_text(self, moment: str = "now()") -> str:
        """The PostgreSQL expression of SQLite's text at *moment* (an SQL timestamptz)."""
        parts: list[str] = []
        pattern = ""  # to_char pieces not yet written out
        for is_spec, piece in self.pieces:
            spec = SPECIFIERS[piece][1] if is_spec else None
            if isinstance(spec, _ToChar) or (spec is None and _SEPARATORS.fullmatch(piece)):
                pattern += spec if spec is not None else piece
                continue
            if pattern:
                parts.append(_flush(pattern, moment))
                pattern = ""
            parts.append(spec(moment) if spec is not None else _literal(piece))
        if pattern:
            parts.append(_flush(pattern, moment))
        return " || ".join(parts) if parts else "''"


#: Literal text to_char copies as it is.
_SEPARATORS = re.compile(r"[-:/ .,]+")


def _flush(pattern: str, moment: str) -> str:
    """A merged to_char pattern; bare separators stay a plain literal."""
    return _literal(pattern) if _SEPARATORS.fullmatch(pattern) else _ToChar(pattern)(moment)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


_STRING = r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\""
_NOW_ARGS = rf"\s*(?:(?P<now>'now'|\"now\")\s*(?:,\s*(?P<mod>{_STRING})\s*)?)?"
_CLOCK_CALL = re.compile(rf"(?P<fn>datetime|date|time|unixepoch)\s*\({_NOW_ARGS}\)", re.I)
_STRFTIME = re.compile(
    rf"strftime\s*\(\s*(?P<fmt>{_STRING})\s*(?:,{_NOW_ARGS})?\)",
    re.I,
)
_KEYWORDS = {
    "CURRENT_TIMESTAMP": "%Y-%m-%d %H:%M:%S",
    "CURRENT_DATE": "%Y-%m-%d",
    "CURRENT_TIME": "%H:%M:%S",
}
_FUNCTION_FORMATS = {"datetime": "%Y-%m-%d %H:%M:%S", "date": "%Y-%m-%d", "time": "%H:%M:%S"}
_SUBSECOND = {"datetime": "%Y-%m-%d %H:%M:%f", "time": "%H:%M:%f"}
#: Names whose value depends on the moment or on chance: such a default is no constant.
_VOLATILE = re.compile(
    r"\b(random|randomblob|changes|total_changes|last_insert_rowid|current_timestamp|"
    r"current_date|current_time|date|time|datetime|julianday|unixepoch|strftime|timediff)\b",
    re.I,
)


def _unquote(literal: str) -> str:
    quote = literal[0]
    return literal[1:-1].replace(quote * 2, quote)


def _strip_parens(expression: str) -> str:
    text = expression.strip()
    while text.startswith("(") and text.endswith(")") and _balanced(text[1:-1]):
        text = text[1:-1].strip()
    return text


def _balanced(text: str) -> bool:
    depth = 0
    for char in re.sub(_STRING, "''", text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0


def clock_format(expression: str) -> ClockFormat | bool | None:
    """The clock format of a clock default; False if *expression* is not a clock default;
    None if it is one without an exact PostgreSQL twin (a modifier such as 'localtime')."""
    text = _strip_parens(expression)
    if text.upper() in _KEYWORDS:
        return ClockFormat.parse(_KEYWORDS[text.upper()])
    if match := _CLOCK_CALL.fullmatch(text):
        name, modifier = match["fn"].lower(), match["mod"]
        if modifier is None:
            return ClockFormat.parse(
                "%s" if name == "unixepoch" else _FUNCTION_FORMATS[name],
                integer=name == "unixepoch",
            )
        if _unquote(modifier).lower() in ("subsec", "subsecond") and name in _SUBSECOND:
            return ClockFormat.parse(_SUBSECOND[name])
        return None
    if match := _STRFTIME.fullmatch(text):
        if match["mod"] is not None:
            return None
        return ClockFormat.parse(_unquote(match["fmt"]))
    return False


# -- what SQLite stores, and what the migration makes of it ----------------------------


def _stored(declared_type: str, default_sql: str | None, value: Any = None) -> Any:
    """What SQLite stores in a column of *declared_type*: its default, or *value*."""
    conn = sqlite3.connect(":memory:")
    try:
        conn.text_factory = tolerant_text  # type: ignore[assignment]
        default = f" DEFAULT ({default_sql})" if default_sql is not None else ""
        conn.execute(f"CREATE TABLE t (c {declared_type}{default})")
        if default_sql is None:
            conn.execute("INSERT INTO t VALUES (?)", (value,))
        else:
            conn.execute("INSERT INTO t DEFAULT VALUES")
        return conn.execute("SELECT c FROM t").fetchone()[0]
    finally:
        conn.close()


def _typed_literal(value: Any, pg_type: str) -> str:
    """*value* (as a cast made it) as a PostgreSQL literal of *pg_type*."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, float):
        text = {"inf": "Infinity", "-inf": "-Infinity", "nan": "NaN"}.get(repr(value), repr(value))
    elif isinstance(value, datetime | date):
        text = value.isoformat()
    elif isinstance(value, bytes):
        text = "\\x" + value.hex()
    else:
        text = str(value)
    return f"{_literal(text)}::{pg_type}"


def _constant(expression: str, pg_type: str, declared_type: str) -> DefaultTranslation:
    try:
        value = _stored(declared_type, expression)
    except sqlite3.Error as exc:
        return DefaultTranslation(None, f"SQLite cannot evaluate it alone ({exc})")
    if value is None:
        return DefaultTranslation(None)  # DEFAULT NULL: the same as no default
    try:
        converted = cast_for(pg_type, Policies(), "default")(value)
    except CastProblem as exc:
        return DefaultTranslation(None, f"its value {value!r} does not fit {pg_type} ({exc})")
    return DefaultTranslation(_typed_literal(converted, pg_type))


_INSTANT_PRECISIONS = ("milliseconds", "second", "day")


def _truncated(moment: datetime, precision: str) -> datetime:
    if precision == "milliseconds":
        return moment
    if precision == "second":
        return moment.replace(microsecond=0)
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def _clock(form: ClockFormat, pg_type: str, declared_type: str) -> str | None:
    """The PostgreSQL expression of a clock default in a *pg_type* column, if faithful."""
    family = family_of(pg_type)
    cast = cast_for(pg_type, Policies(), "default")
    results = []
    for moment in SAMPLE_MOMENTS:
        raw = form.sqlite_value(moment)
        try:
            results.append((moment, raw, cast(_stored(declared_type, None, raw))))
        except CastProblem:
            return None
    if family == "text":
        if all(converted == str(raw) for _, raw, converted in results):
            return form.pg_text()
        return None
    if family in ("timestamptz", "timestamp"):
        for precision in _INSTANT_PRECISIONS:
            if all(_same_instant(c, _truncated(m, precision)) for m, _, c in results):
                return _pg_instant(precision, family, pg_type)
        return None
    if family == "date":
        if all(converted == moment.date() for moment, _, converted in results):
            return f"({_utc('now()')})::date::{pg_type}"
        return None
    if family in INT_RANGES or family in ("float", "numeric"):
        pattern = r"-?\d+" if family in INT_RANGES else r"-?\d+(\.\d+)?"
        for _, raw, converted in results:
            if not re.fullmatch(pattern, str(raw)) or Decimal(str(raw)) != Decimal(converted):
                return None
        return f"({form.pg_text()})::{pg_type}"
    return None


def _same_instant(converted: Any, moment: datetime) -> bool:
    if isinstance(converted, datetime) and converted.tzinfo is None:
        converted = converted.replace(tzinfo=UTC)
    return isinstance(converted, datetime) and abs(converted - moment) < timedelta(microseconds=1)


def _pg_instant(precision: str, family: str, pg_type: str) -> str:
    if precision == "day":
        midnight = f"date_trunc('day', {_utc('now()')})"
        expression = f"{midnight} AT TIME ZONE 'UTC'" if family == "timestamptz" else midnight
    elif family == "timestamptz":
        expression = f"date_trunc('{precision}', now())"
    else:
        expression = f"date_trunc('{precision}', {_utc('now()')})"
    return f"({expression})::{pg_type}"


#: A declared SQLite type with the affinity a target family implies, when the caller has none.
_AFFINITY_OF_FAMILY = {
    "float": "REAL",
    "numeric": "NUMERIC",
    "boolean": "BOOLEAN",
    "timestamptz": "DATETIME",
    "timestamp": "DATETIME",
    "date": "DATE",
    "bytea": "BLOB",
}


def translate(
    default: str | None, pg_type: str, declared_type: str | None = None
) -> DefaultTranslation:
    """The PostgreSQL default of a column of *pg_type* declared *declared_type* in SQLite,
    whose SQLite default expression (as ``PRAGMA table_info`` shows it) is *default*.

    Without *declared_type*, the SQLite affinity matching *pg_type* is assumed.
    """
    if default is None:
        return DefaultTranslation(None)
    if declared_type is None:
        family = family_of(pg_type)
        declared_type = (
            "INTEGER" if family in INT_RANGES else _AFFINITY_OF_FAMILY.get(family, "TEXT")
        )
    form = clock_format(default)
    if form is None:
        return DefaultTranslation(None, f"no PostgreSQL equal of SQLite's {default}")
    if isinstance(form, ClockFormat):
        sql = _clock(form, pg_type, declared_type)
        if sql is None:
            return DefaultTranslation(
                None, f"SQLite's {default} gives no faithful value for a {pg_type} column"
            )
        return DefaultTranslation(sql)
    if _VOLATILE.search(re.sub(_STRING, "''", default)):
        return DefaultTranslation(None, f"{default} changes from row to row")
    return _constant(default, pg_type, declared_type)
