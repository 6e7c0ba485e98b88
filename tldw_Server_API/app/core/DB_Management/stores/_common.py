"""Pieces every store shares: new ids, field checks, versioned updates, paging, sorting.

The database enforces the sync rules (``version`` grows by exactly one on every
update; every change of a synced row lands in ``sync_log``) with triggers on both
backends. The helpers here are how stores keep to those rules: each update
bumps ``version`` and ``last_modified`` in the same statement that changes the
row, and nothing here ever writes ``sync_log``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import threading
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeAlias, TypedDict, TypeVar

from sqlalchemy import Connection, Row, Select, Table, select, update
from sqlalchemy.sql.elements import ColumnElement

from ..instants import utc_now
from ..schemas.types import is_false
from .errors import InvalidInput, NotFound, VersionConflict

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

    from ..backends.base import Database

AnyRow: TypeAlias = Row[*tuple[Any, ...]]
"""A result row of any width (SQLAlchemy types rows by their columns)."""

R = TypeVar("R", bound="DataclassInstance")

#: Declared field types whose values a row may give in another form: SQLite answers 0/1 for
#: booleans, and a PostgreSQL ``bigint`` may arrive as another integer type.
_COERCED = {"int": int, "bool": bool}


def record_from_row(record: type[R], row: AnyRow, /, **values: Any) -> R:
    """A *record* dataclass from *row*: each field from the column of its name.

    *values* gives the fields the row names otherwise, or does not hold. Fields declared
    ``int`` or ``bool`` are coerced to that type.
    """
    columns = row._mapping
    for field in dataclasses.fields(record):
        if field.name not in values:
            value = columns[field.name]
            # A string under postponed annotations, the class itself otherwise.
            declared = getattr(field.type, "__name__", field.type)
            coerce = _COERCED.get(str(declared))
            values[field.name] = coerce(value) if coerce is not None else value
    return record(**values)


def require_schema(store: object, database: Database, schema: str, wanted: str) -> None:
    """Refuse to open *store* over a database that is not a *schema* one (*wanted* names it)."""
    if database.schema.name != schema:
        raise InvalidInput(
            schema, f"{type(store).__name__} needs {wanted}, got {database.schema.title}"
        )


def new_uuid() -> str:
    """A canonical lower-case uuid4, the form every uuid column and text key holds."""
    return str(uuid.uuid4())


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


_ONE_MS = timedelta(milliseconds=1)
_stamp_lock = threading.Lock()
_last_stamp: datetime | None = None


def now() -> datetime:
    """Aware UTC to the millisecond both backends keep, later than any stamp given before.

    Rows written one after another (a chat turn and its reply, a note created
    then another updated) would otherwise share a millisecond, and a listing by
    time would fall back to their random uuids. Strictly increasing stamps keep
    such listings in the order of the writes. The clock runs ahead of the wall
    only while this process writes more than a row per millisecond.
    """
    global _last_stamp
    with _stamp_lock:
        stamp = utc_now()
        if _last_stamp is not None and stamp <= _last_stamp:
            stamp = _last_stamp + _ONE_MS
        _last_stamp = stamp
        return stamp


def primary_key(table: Table) -> ColumnElement[Any]:
    return next(iter(table.primary_key.columns))


def check_fields(table: str, changes: Mapping[str, Any], allowed: Iterable[str]) -> None:
    """Refuse unknown fields by name: a typo must not be silently ignored."""
    unknown = sorted(set(changes) - set(allowed))
    if unknown:
        raise InvalidInput(
            table, f"cannot change {', '.join(unknown)}; changeable: {', '.join(sorted(allowed))}"
        )


def require_text(table: str, field: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(table, f"{field} must be a non-empty string, got {value!r}")
    return value


def sorted_page(
    stmt: Select[Any], table: Table, order: str, allowed: Sequence[str], *, limit: int, offset: int
) -> Select[Any]:
    """*stmt* sorted by ``'title'`` / ``'-last_modified'`` (from an allow-list only), one page.

    The primary key always breaks ties, so paging is stable on both backends.
    """
    check_paging(table.name, limit, offset)
    name = order.removeprefix("-")
    if name not in allowed:
        choices = ", ".join(f"{n}, -{n}" for n in allowed)
        raise InvalidInput(table.name, f"cannot sort by {order!r}; choose one of {choices}")
    column = table.c[name]
    key = primary_key(table)
    descending = order.startswith("-")
    clauses = [column.desc() if descending else column.asc()]
    if column is not key:
        clauses.append(key.desc() if descending else key.asc())
    return stmt.order_by(*clauses).limit(limit).offset(offset)


def check_paging(table: str, limit: int, offset: int) -> None:
    if limit < 0 or offset < 0:
        raise InvalidInput(table, f"limit and offset must be >= 0, got {limit} and {offset}")


# -- versioned writes ------------------------------------------------------------------


def bump(table: Table, client_id: str) -> dict[str, Any]:
    """The columns every update of a synced row must set (the version rule, sync metadata)."""
    values: dict[str, Any] = {
        "version": table.c.version + 1,
        "last_modified": now(),
        "client_id": client_id,
    }
    if "prev_version" in table.c:
        values["prev_version"] = table.c.version  # the old value: SET reads the row as it was
    return values


class VersionCheck(TypedDict, total=False):
    """What :func:`update_versioned` checks besides the key, for wrappers to pass through."""

    expected_version: int | None
    live_only: bool


def update_versioned(
    conn: Connection,
    table: Table,
    key: Any,
    values: Mapping[str, Any],
    *,
    client_id: str,
    expected_version: int | None = None,
    live_only: bool = True,
) -> int:
    """Update one row with the version rule; return its new version.

    With *expected_version*, the write only happens if the row is still at that
    version (optimistic locking, checked by the same UPDATE that writes, so two
    writers cannot both win). Raises :class:`NotFound` or :class:`VersionConflict`.
    """
    pk = primary_key(table)
    stmt = update(table).where(pk == key).values(**values, **bump(table, client_id))
    if live_only and "deleted" in table.c:
        stmt = stmt.where(is_false(table.c.deleted))
    if expected_version is not None:
        stmt = stmt.where(table.c.version == expected_version)
    new_version = conn.execute(stmt.returning(table.c.version)).scalar_one_or_none()
    if new_version is not None:
        return int(new_version)
    raise _why_not_updated(conn, table, key, expected_version, live_only=live_only)


def _why_not_updated(
    conn: Connection, table: Table, key: Any, expected: int | None, *, live_only: bool
) -> Exception:
    pk = primary_key(table)
    row = conn.execute(select(table.c.version, table.c.deleted).where(pk == key)).one_or_none()
    if row is None:
        return NotFound(table.name, key)
    if live_only and row.deleted:
        return NotFound(table.name, key, "it is deleted")
    assert expected is not None
    return VersionConflict(table.name, key, expected, int(row.version))


def load_row(conn: Connection, table: Table, key: Any, *, include_deleted: bool = False) -> AnyRow:
    """The row *key* names; :class:`NotFound` if absent, or deleted unless *include_deleted*."""
    pk = primary_key(table)
    row = conn.execute(select(table).where(pk == key)).one_or_none()
    if row is None or (row.deleted and not include_deleted):
        raise NotFound(table.name, key, "it is deleted" if row is not None else "")
    return row


def require_live(conn: Connection, table: Table, key: Any) -> None:
    """Raise :class:`NotFound` unless *key* names a live row (parents of new child rows)."""
    pk = primary_key(table)
    stmt = select(pk).where(pk == key)
    if "deleted" in table.c:
        stmt = stmt.where(is_false(table.c.deleted))
    if conn.execute(stmt).first() is None:
        raise NotFound(table.name, key)
