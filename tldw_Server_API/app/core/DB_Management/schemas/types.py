"""Column types that mean the same thing on SQLite and PostgreSQL.

Each type names a value's meaning once; its rendering per dialect is here and
nowhere else:

=============  ==========================  ===============================
type           PostgreSQL                  SQLite
=============  ==========================  ===============================
``Key``        BIGINT (identity)           INTEGER (rowid alias)
``Instant``    TIMESTAMPTZ, milliseconds   TEXT ``2025-10-08T12:34:56.789Z``
``Flag``       BOOLEAN                     INTEGER 0/1 (reads 'true'/'false')
``Json``       JSONB                       TEXT
``Double``     DOUBLE PRECISION            REAL
``Blob``       BYTEA                       BLOB
``Uuid``       TEXT (see below)            TEXT
=============  ==========================  ===============================

Uuids stay TEXT on PostgreSQL on purpose: the files we migrate hold ids that
are "uuid strings" by convention only (text primary keys in notes and chats,
upper-case or braced forms written by other tools), and the target must never
be stricter than the source. New uuids are canonical lower-case uuid4.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Dialect, Integer, LargeBinary, Text, false, text
from sqlalchemy import Double as _Double
from sqlalchemy.dialects.postgresql import JSONB, TIMESTAMP
from sqlalchemy.types import TypeDecorator, TypeEngine

from ..instants import format_instant, to_instant

AUTOINCREMENT: dict[str, Any] = {"sqlite_autoincrement": True}
"""A table's keyword: SQLite never reuses a deleted row's id (PostgreSQL identities never do)."""

NOW = text("CURRENT_TIMESTAMP")
"""The server default of a moment column: when the row was written."""

Key = BigInteger().with_variant(Integer(), "sqlite")
"""An integer primary or foreign key: BIGINT on PostgreSQL, the rowid alias on SQLite."""

Int = Key
"""Every integer column: SQLite integers are 64-bit, so the target never refuses one."""

Uuid = Text
Double = _Double
Blob = LargeBinary


class Instant(TypeDecorator[datetime]):
    """A point in time, exact to the millisecond, always returned as aware UTC."""

    impl = Text
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return TIMESTAMP(timezone=True, precision=3)
        return Text()

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        moment = to_instant(value)
        if dialect.name == "postgresql":
            return moment
        assert moment is not None
        return format_instant(moment)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        # One representation whatever the backend: aware, datetime.UTC, milliseconds.
        return to_instant(value)


_TRUE_WORDS = {"1", "true", "t", "yes", "y", "on"}
_FALSE_WORDS = {"0", "false", "f", "no", "n", "off", ""}


def to_flag(value: Any) -> bool | None:
    """Read a stored boolean: 0/1, True/False, or the words hand-edited rows hold."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        if value in (0, 1):
            return bool(value)
        raise ValueError(f"{value!r} is not a boolean (expected 0 or 1)")
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE_WORDS:
            return True
        if word in _FALSE_WORDS:
            return False
    raise ValueError(f"{value!r} is not a boolean")


class Flag(TypeDecorator[bool]):
    """A boolean: BOOLEAN on PostgreSQL, 0/1 on SQLite (no CHECK, as our users' files)."""

    impl = Boolean(create_constraint=False)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return Integer()
        return Boolean(create_constraint=False)

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        flag = to_flag(value)
        if flag is None or dialect.name != "sqlite":
            return flag
        return int(flag)

    def process_result_value(self, value: Any, dialect: Dialect) -> bool | None:
        return to_flag(value)


def is_false(column: Any) -> Any:
    """``column`` is false, portably: ``= false`` on PostgreSQL, ``= 0`` on SQLite.

    (``column.is_(False)`` binds a parameter for decorated types, and ``IS $1``
    is a syntax error on PostgreSQL.)
    """
    return column == false()


class Json(TypeDecorator[Any]):
    """A JSON document: JSONB on PostgreSQL, text on SQLite.

    Reading tolerates legacy SQLite text that is not valid JSON by returning it
    as the plain string it is, so no stored value is ever hidden by an error.
    """

    impl = Text
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return JSONB(none_as_null=True)
        return Text()

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None or dialect.name == "postgresql":
            return value
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if value is None or dialect.name == "postgresql" or not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except ValueError:
            return value
