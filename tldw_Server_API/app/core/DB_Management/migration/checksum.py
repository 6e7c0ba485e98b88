"""The content checksum of a table, computed alike on each side of the copy.

Each row is rendered as canonical text (one rendering per value family), hashed
with MD5, and the first 64 bits of the hashes are summed; the sum does not
depend on row order. The SQLite side is computed in Python from the *source*
values; the PostgreSQL side is computed by PostgreSQL from what it stored, in
SQL. Equal counts and sums mean equal contents (:mod:`.verify` compares them).

Canonical text per family: integers in decimal; doubles as the hex of their
IEEE-754 bytes; booleans ``1``/``0``; instants as epoch milliseconds; dates as
days since 1970-01-01; blobs as their MD5; JSON as PostgreSQL's ``jsonb``
text (keys ordered by length then bytes, ``", "`` and ``": "``); text as is.
NULL is ``N``, any other value is prefixed with ``v``.
"""

from __future__ import annotations

import hashlib
import json
import math
import struct
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

import psycopg

from ...text import strip_nul
from ..backends.pg_sql import quote_ident
from ..instants import parse_common_form, to_instant
from ..schemas.types import to_flag
from .casts import (
    INT_RANGES,
    InvalidUtf8,
    family_of,
    flag_word,
    has_surrogate,
    reject_constant,
    sqlite_real_text,
)
from .plan import TablePlan

SEPARATOR = "\x1f"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class Checksum:
    rows: int = 0
    total: int = 0

    def add(self, canonical_row: str) -> None:
        digest = hashlib.md5(canonical_row.encode("utf-8", "surrogatepass")).digest()
        self.rows += 1
        self.total += int.from_bytes(digest[:8], "big", signed=True)

    def add_all(self, canonical_rows: Sequence[str]) -> None:
        """:meth:`add` for each of *canonical_rows*."""
        md5, to_int = hashlib.md5, int.from_bytes
        self.rows += len(canonical_rows)
        self.total += sum(
            to_int(md5(row.encode("utf-8", "surrogatepass")).digest()[:8], "big", signed=True)
            for row in canonical_rows
        )

    def merge(self, other: Checksum) -> None:
        """Add the rows of *other* (the sum does not depend on the order of rows)."""
        self.rows += other.rows
        self.total += other.total


# -- Python side ---------------------------------------------------------------


def _jsonb_text(node: Any) -> str:
    if isinstance(node, dict):
        items = sorted(node.items(), key=lambda kv: (len(kv[0].encode()), kv[0].encode()))
        return "{" + ", ".join(f"{_jsonb_text(k)}: {_jsonb_text(v)}" for k, v in items) + "}"
    if isinstance(node, list):
        return "[" + ", ".join(_jsonb_text(v) for v in node) + "]"
    if isinstance(node, bool):
        return "true" if node else "false"
    if node is None:
        return "null"
    if isinstance(node, Decimal):
        return format(abs(node) if node.is_zero() else node, "f")  # numeric has no -0
    if isinstance(node, int):
        return str(node)
    if isinstance(node, str):
        return json.dumps(node, ensure_ascii=False)
    return str(node)


def _jsonb_key(key: str) -> tuple[int, bytes]:
    encoded = key.encode("utf-8")
    return len(encoded), encoded


def _jsonb_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # jsonb keeps the last of duplicate keys and orders keys by length, then bytes.
    merged = dict(pairs)
    return {key: merged[key] for key in sorted(merged, key=_jsonb_key)}


class _HasFraction(Exception):
    """A JSON number with a fraction or exponent: jsonb keeps its digits, a float would not."""


def _no_fractions(literal: str) -> Any:
    raise _HasFraction


_JSONB_DECODER = json.JSONDecoder(
    object_pairs_hook=_jsonb_object, parse_float=_no_fractions, parse_constant=reject_constant
)
#: jsonb's separators and string escapes (json.dumps would build an encoder per call).
_JSONB_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": "))


def _json_canonical_fast(text: str) -> str | None:
    """jsonb's text for documents without fractional numbers or NUL escapes, else None.

    The C encoder does the work: keys are put in jsonb's order while parsing, and
    its ``", "``/``": "`` separators and string escapes are jsonb's own.
    """
    if "\\u0000" in text:
        return None
    try:
        parsed = _JSONB_DECODER.decode(text)
    except (_HasFraction, ValueError):
        return None
    if "\\u" in text and has_surrogate(parsed):
        return None
    return _JSONB_ENCODER.encode(parsed)


def _json_canonical(value: Any) -> str:
    text = value.decode("utf-8") if isinstance(value, bytes) else str(value)
    fast = _json_canonical_fast(text)
    if fast is not None:
        return fast
    try:
        parsed = json.loads(text, parse_float=Decimal, parse_constant=reject_constant)
        if "\\u" in text and has_surrogate(parsed):
            raise ValueError("lone surrogate")
    except ValueError:
        return _jsonb_text(text)  # stored as a JSON string by --on-invalid-json=string
    return _jsonb_text(strip_nul(parsed))


def _float_hex(value: Any) -> str:
    number = float(value)
    if math.isnan(number):
        number = math.nan  # one NaN, as PostgreSQL normalises them
    return struct.pack(">d", number).hex()


def python_canonical(family: str, value: Any) -> str:
    """The canonical text of one source value for a target column of *family*."""
    if value is None:
        return "N"
    if isinstance(value, InvalidUtf8):
        # A bytea column keeps the bytes; a text column the replaced text (--on-invalid-utf8).
        value = bytes(value) if family == "bytea" else bytes(value).decode("utf-8", "replace")
    if family in INT_RANGES:
        flag = flag_word(value)
        return "v" + str(int(value) if flag is None else flag)
    if family == "float":
        return "v" + _float_hex(value)
    if family == "boolean":
        return "v1" if to_flag(value) else "v0"
    if family in ("timestamptz", "timestamp"):
        moment = to_instant(value)
        assert moment is not None
        delta = moment - _EPOCH
        return "v" + str((delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000)
    if family == "date":
        moment = to_instant(value)
        assert moment is not None
        return "v" + str((moment.date() - _EPOCH.date()).days)
    if family == "bytea":
        data = value if isinstance(value, bytes) else str(value).encode()
        return "v" + hashlib.md5(data).hexdigest()
    if family == "json":
        return "v" + _json_canonical(value)
    if family == "numeric":
        return "v" + format(Decimal(str(value)).normalize(), "f")
    if isinstance(value, float):
        return "v" + sqlite_real_text(value)
    if isinstance(value, bytes):
        return "v" + value.decode("utf-8")
    return "v" + strip_nul(str(value))


_MS = timedelta(milliseconds=1)


def _canonicalizer(family: str) -> Callable[[Any], str]:
    """:func:`python_canonical` for one family, with the values most rows hold handled first.

    The common cases return exactly what :func:`python_canonical` returns; everything
    else goes through it. (Text and integers are handled a column at a time, in
    :func:`_column_canonicalizer`.)
    """
    general = partial(python_canonical, family)
    if family == "timestamptz":

        def instant(value: Any) -> str:
            if type(value) is datetime and value.tzinfo is UTC:
                return "v" + str((value - _EPOCH) // _MS)  # as the load's cast made it
            if type(value) is str:
                moment = parse_common_form(value)
                if moment is not None:
                    return "v" + str((moment - _EPOCH) // _MS)
            return general(value)

        return instant
    if family == "float":

        def double(value: Any) -> str:
            return "v" + _float_hex(value) if type(value) is float else general(value)

        return double
    return general


def _column_canonicalizer(family: str) -> Callable[[Sequence[Any]], list[str]]:
    """The canonical texts of a column of values of *family*; text and integers inside
    one comprehension, without a call per value (a batch's checksum is mostly calls)."""
    general = partial(python_canonical, family)
    if family == "text":
        return lambda values: [
            "v" + v if type(v) is str and "\x00" not in v else general(v) for v in values
        ]
    if family in INT_RANGES:
        return lambda values: ["v" + str(v) if type(v) is int else general(v) for v in values]
    one = _canonicalizer(family)
    return lambda values: list(map(one, values))


def batch_canonicalizer(families: Sequence[str]) -> Callable[[Sequence[Sequence[Any]]], list[str]]:
    """The function giving the canonical texts of a batch of rows, built once per table,
    computed a column at a time.

    A source value and the value the load's cast made of it have the same
    canonical text, so the load passes what it converted (no instant is parsed
    twice) and ``--verify-only`` what it read.
    """
    functions = tuple(_column_canonicalizer(f) for f in families)

    def canonical(rows: Sequence[Sequence[Any]]) -> list[str]:
        if not rows:
            return []
        # Rows of a batch all have one value per column: zip(*...) transposes them.
        transposed = zip(*rows, strict=True)
        columns = [f(values) for f, values in zip(functions, transposed, strict=True)]
        return list(map(SEPARATOR.join, zip(*columns, strict=True)))

    return canonical


def row_canonicalizer(families: Sequence[str]) -> Callable[[Iterable[Any]], str]:
    """One row's canonical text: :func:`batch_canonicalizer` for a batch of one."""
    batch = batch_canonicalizer(families)
    return lambda row: batch([tuple(row)])[0]


# -- PostgreSQL side -------------------------------------------------------------


#: How PostgreSQL renders a value of each family as :func:`python_canonical` does (``{c}``:
#: the quoted column); any other family (the integers, text) is its plain ``::text``.
_SQL_CANONICAL = {
    "float": "encode(float8send({c}::float8), 'hex')",
    "boolean": "CASE WHEN {c} THEN '1' ELSE '0' END",
    "timestamptz": "(extract(epoch FROM {c}) * 1000)::bigint::text",
    "timestamp": "(extract(epoch FROM {c} AT TIME ZONE 'UTC') * 1000)::bigint::text",
    "date": "({c} - date '1970-01-01')::text",
    "bytea": "md5({c})",
    "json": "{c}::jsonb::text",
    "numeric": "trim_scale({c})::text",
}


def sql_canonical(family: str, column: str) -> str:
    """The SQL expression computing :func:`python_canonical` of *column* in PostgreSQL."""
    c = quote_ident(column)
    text = _SQL_CANONICAL.get(family, "{c}::text").format(c=c)
    return f"CASE WHEN {c} IS NULL THEN 'N' ELSE 'v' || {text} END"


def sql_row(families: list[str], columns: list[str]) -> str:
    parts = ", ".join(sql_canonical(f, c) for f, c in zip(families, columns, strict=True))
    return f"concat_ws(chr(31), {parts})"


def _checksum_select(plan: TablePlan) -> str:
    families = [family_of(c.data_type) for c in plan.target_columns]
    row = sql_row(families, [c.name for c in plan.target_columns])
    return (
        f"SELECT count(*), coalesce(sum(('x' || left(md5({row}), 16))::bit(64)::bigint), 0) "
        f"FROM {plan.target.qualified}"
    )


def target_checksum(conn: psycopg.Connection, plan: TablePlan) -> Checksum:
    total = conn.execute(_checksum_select(plan)).fetchone()
    assert total is not None
    return Checksum(rows=int(total[0]), total=int(total[1]))


def target_checksums(conn: psycopg.Connection, plans: Sequence[TablePlan]) -> list[Checksum]:
    """:func:`target_checksum` of each of *plans*, in one query.

    A table whose source is empty is only counted: an empty table's sum is 0, and a
    count above 0 fails its verification all the same.
    """
    if not plans:
        return []
    parts = [
        f"SELECT {i} AS n, * FROM ({_checksum_select(plan)}) t{i}"
        if plan.source.row_count
        else f"SELECT {i}, count(*), 0 FROM {plan.target.qualified}"
        for i, plan in enumerate(plans)
    ]
    found = {
        int(n): Checksum(rows=int(rows), total=int(total))
        for n, rows, total in conn.execute(" UNION ALL ".join(parts)).fetchall()
    }
    return [found[i] for i in range(len(plans))]


def families_of(plan: TablePlan) -> list[str]:
    return [family_of(c.data_type) for c in plan.target_columns]
