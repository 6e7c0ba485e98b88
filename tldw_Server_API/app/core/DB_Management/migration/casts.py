"""Values are converted once, by target type, here.

A :class:`Cast` turns one SQLite value (any storage class) into the value
PostgreSQL stores for the target column, or raises :class:`CastProblem` when
PostgreSQL would refuse or alter it. Policies (``--on-nul=strip``, ...) are
applied here too, and every value a policy touched is counted.

Type families, by ``format_type`` of the target column:

=================================  ==========================================
target type                        accepted source values
=================================  ==========================================
smallint, integer, bigint          integers in range; 'true'/'false' as 1/0
double precision, real             integers and reals (NaN, ±inf as stored)
numeric                            integers, reals, numeric text
text, varchar, char                text without NUL (or with ``--on-nul=strip``);
                                   integers and reals as their SQLite text;
                                   blobs that are valid UTF-8
boolean                            0/1, 'true'/'false', 't'/'f', 'yes'/'no'
timestamp[tz], date                every instant form of ``instants.py``
bytea                              blobs; text as its UTF-8 bytes
json, jsonb                        valid JSON text (no NUL escapes, no NaN)
uuid                               any form Python's uuid module parses
=================================  ==========================================
"""

from __future__ import annotations

import json
import math
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from ...text import strip_nul
from ..instants import InstantError, to_instant
from ..schemas.types import to_flag

NulPolicy = Literal["error", "strip"]
JsonPolicy = Literal["error", "string"]
Utf8Policy = Literal["error", "replace"]

INT_RANGES = {
    "smallint": (-(2**15), 2**15 - 1),
    "integer": (-(2**31), 2**31 - 1),
    "bigint": (-(2**63), 2**63 - 1),
}


class CastProblem(ValueError):
    """PostgreSQL would refuse or alter this value; the message says why."""


class InvalidUtf8(bytes):
    """Text whose bytes are not UTF-8, as the tolerant reader hands it over."""


@dataclass
class Policies:
    """What to do with the common defects instead of stopping; counts what each touched."""

    on_nul: NulPolicy = "error"
    on_invalid_json: JsonPolicy = "error"
    on_invalid_utf8: Utf8Policy = "error"
    touched: Counter[str] = field(default_factory=Counter)

    def count(self, table: str, what: str) -> None:
        self.touched[f"{table}:{what}"] += 1

    def for_table(self, table: str) -> dict[str, int]:
        prefix = f"{table}:"
        return {k[len(prefix) :]: v for k, v in self.touched.items() if k.startswith(prefix)}


Converter = Callable[[Any], Any]


@dataclass(frozen=True)
class Cast:
    """The conversion of one source column into one target column."""

    family: str
    convert: Converter
    identity_types: tuple[type, ...]

    def __call__(self, value: Any) -> Any:
        if value is None or type(value) in self.identity_types:
            return value
        return self.convert(value)

    def column(self, values: Iterable[Any]) -> list[Any]:
        """:meth:`__call__` over a column of a batch, without a call per value it keeps."""
        keep, convert = self.identity_types, self.convert
        return [v if v is None or type(v) in keep else convert(v) for v in values]


def family_of(data_type: str) -> str:
    """The cast family of a PostgreSQL ``format_type`` string."""
    t = data_type.lower()
    if t in INT_RANGES:
        return t
    for prefix, family in (
        ("double precision", "float"),
        ("real", "float"),
        ("numeric", "numeric"),
        ("boolean", "boolean"),
        ("timestamp", "timestamptz" if "with time zone" in t else "timestamp"),
        ("date", "date"),
        ("bytea", "bytea"),
        ("jsonb", "json"),
        ("json", "json"),
        ("uuid", "uuid"),
        ("text", "text"),
        ("character", "text"),
    ):
        if t.startswith(prefix):
            return family
    return "text"


def storage_class(value: Any) -> str:
    """What SQLite stored, in its own words (``text``, ``blob``, ``real``, ``integer``)."""
    if isinstance(value, InvalidUtf8):
        return "text (not valid UTF-8)"
    if isinstance(value, str):
        return "text"
    if isinstance(value, bytes):
        return "blob"
    if isinstance(value, float):
        return "real"
    if isinstance(value, int):
        return "integer"
    return type(value).__name__


def _text_of(value: Any, policies: Policies, table: str) -> str:
    if isinstance(value, InvalidUtf8):
        if policies.on_invalid_utf8 == "replace":
            policies.count(table, "invalid_utf8_replaced")
            return bytes(value).decode("utf-8", "replace")
        raise CastProblem("text is not valid UTF-8 (use --on-invalid-utf8=replace)")
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            raise CastProblem("blob in a text column is not valid UTF-8") from None
    if isinstance(value, float):
        return sqlite_real_text(value)
    return str(value)


def sqlite_real_text(value: float) -> str:
    # SQLite renders reals with 15 significant digits and keeps a trailing '.0'.
    if math.isinf(value):
        return "Inf" if value > 0 else "-Inf"
    text = f"{value:.15g}"
    return text if any(ch in text for ch in ".en") else text + ".0"


def _strip_nul(text: str, policies: Policies, table: str) -> str:
    if "\x00" not in text:
        return text
    if policies.on_nul == "strip":
        policies.count(table, "nul_stripped")
        return strip_nul(text)
    raise CastProblem(
        "text contains a NUL byte, which PostgreSQL cannot store (use --on-nul=strip)"
    )


def _int_cast(family: str) -> Converter:
    low, high = INT_RANGES[family]

    def convert(value: Any) -> int:
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int):
            if low <= value <= high:
                return value
            raise CastProblem(f"integer out of range for {family} ({low}..{high})")
        if isinstance(value, float):
            if value.is_integer() and low <= value <= high:
                return int(value)
            raise CastProblem(f"real value in a {family} column would be altered")
        flag = flag_word(value)
        if flag is not None:
            return flag
        raise CastProblem(f"{storage_class(value)} in an integer column")

    return convert


def flag_word(value: Any) -> int | None:
    """1 or 0 for the words hand-edited rows hold in 0/1 flag columns ('true', 'false').

    Some flags are integer columns on the target too (``workflows.is_active``,
    ``workflow_runs.cancel_requested``); content-schema.md says their rows may
    hold the words, which mean what 1 and 0 mean.
    """
    if isinstance(value, str) and not isinstance(value, InvalidUtf8):
        word = value.strip().lower()
        if word in ("true", "false"):
            return 1 if word == "true" else 0
    return None


def _float_cast(value: Any) -> float:
    if isinstance(value, int) and not isinstance(value, bool):
        as_float = float(value)
        if int(as_float) != value:
            raise CastProblem("integer too large to be exact as a double")
        return as_float
    raise CastProblem(f"{storage_class(value)} in a floating-point column")


def _numeric_cast(value: Any) -> Decimal:
    try:
        if isinstance(value, float):
            return Decimal(repr(value))
        if isinstance(value, int | str):
            number = Decimal(str(value).strip())
            if not number.is_finite():
                raise CastProblem("not a finite number")
            return number
    except InvalidOperation:
        pass
    raise CastProblem("not a number")


def _bool_cast(value: Any) -> bool:
    try:
        flag = to_flag(value)
    except ValueError:
        raise CastProblem("not a boolean (expected 0/1 or true/false)") from None
    assert flag is not None
    return flag


def _parsed_moment(value: Any, what: str) -> datetime:
    """*value* (not NULL) as an aware moment; *what* names the target in the problem."""
    try:
        moment = to_instant(value)
    except InstantError as exc:
        raise CastProblem(f"unparseable {what}: {exc}") from None
    assert moment is not None
    return moment


def _instant_cast(aware: bool) -> Converter:
    def convert(value: Any) -> datetime:
        moment = _parsed_moment(value, "timestamp")
        return moment if aware else moment.replace(tzinfo=None)

    return convert


def _date_cast(value: Any) -> date:
    moment = _parsed_moment(value, "date")
    if moment.astimezone(UTC).time() != datetime.min.time():
        raise CastProblem("a date column would drop this value's time of day")
    return moment.date()


def _bytea_cast(value: Any) -> bytes:
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, int | float):
        return str(value).encode()
    return bytes(value)


def reject_constant(name: str) -> Any:
    raise ValueError(f"JSON text holds {name}, which is not valid JSON")


def _json_cast(policies: Policies, table: str) -> Converter:
    def convert(value: Any) -> str:
        text = _strip_nul(_text_of(value, policies, table), policies, table)
        try:
            parsed = json.loads(text, parse_constant=reject_constant)
            if "\\u" in text and has_surrogate(parsed):
                raise ValueError("a \\u escape names a lone UTF-16 surrogate")
        except ValueError as exc:
            if policies.on_invalid_json == "string":
                policies.count(table, "invalid_json_as_string")
                return json.dumps(text, ensure_ascii=False)
            raise CastProblem(f"invalid JSON ({exc}; use --on-invalid-json=string)") from None
        if "\\u0000" in text and _has_nul(parsed):
            if policies.on_nul != "strip":
                raise CastProblem("JSON holds a \\u0000 escape, which jsonb cannot store")
            policies.count(table, "nul_stripped")
            return json.dumps(strip_nul(parsed), ensure_ascii=False)
        return text

    return convert


def _any_string(node: Any, test: Callable[[str], bool]) -> bool:
    """Whether *test* holds for any string of a parsed document (its keys included)."""
    if isinstance(node, str):
        return test(node)
    if isinstance(node, list):
        return any(_any_string(v, test) for v in node)
    if isinstance(node, dict):
        return any(_any_string(k, test) or _any_string(v, test) for k, v in node.items())
    return False


def _is_unencodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def has_surrogate(node: Any) -> bool:
    """Whether a parsed document holds a lone surrogate, which PostgreSQL's JSON refuses."""
    return _any_string(node, _is_unencodable)


def _has_nul(node: Any) -> bool:
    return _any_string(node, lambda text: "\x00" in text)


def _uuid_cast(value: Any) -> str:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise CastProblem("not a uuid") from None


def cast_for(data_type: str, policies: Policies, table: str, *, fast: bool = False) -> Cast:
    """The :class:`Cast` into a target column of type *data_type*.

    A *fast* cast passes text and JSON strings through untouched when no policy
    needs to see them: PostgreSQL's own input functions then refuse what they
    cannot store (a NUL byte, invalid JSON) and the load maps that refusal back
    to the source row, file, table, key, column and value.
    """
    family = family_of(data_type)
    if family in INT_RANGES:
        identity: tuple[type, ...] = (int,) if family == "bigint" else ()
        return Cast(family, _int_cast(family), identity)
    if family == "float":
        return Cast(family, _float_cast, (float,))
    if family == "numeric":
        return Cast(family, _numeric_cast, ())
    if family == "boolean":
        return Cast(family, _bool_cast, (bool,))
    if family in ("timestamptz", "timestamp"):
        return Cast(family, _instant_cast(family == "timestamptz"), ())
    if family == "date":
        return Cast(family, _date_cast, ())
    if family == "bytea":
        return Cast(family, _bytea_cast, (bytes,))
    if family == "json":
        passthrough = fast and policies.on_nul == "error" and policies.on_invalid_json == "error"
        return Cast(family, _json_cast(policies, table), (str,) if passthrough else ())
    if family == "uuid":
        return Cast(family, _uuid_cast, ())

    def text_convert(value: Any) -> str:
        return _strip_nul(_text_of(value, policies, table), policies, table)

    return Cast("text", text_convert, (str,) if fast and policies.on_nul == "error" else ())
