"""Pieces every store shares: versioned updates, keyword get-or-create, search, sorting.

The database enforces the sync rules (``version`` grows by exactly one on every
update; every change of a synced row lands in ``sync_log``) with triggers on both
backends. The helpers here are how stores keep to those rules: each update
bumps ``version`` and ``last_modified`` in the same statement that changes the
row, and nothing here ever writes ``sync_log``.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeAlias

from sqlalchemy import Connection, Row, Table, select, update
from sqlalchemy.sql.elements import ColumnElement

from ..backends.base import Database
from ..instants import utc_now
from ..schemas.types import is_false
from .errors import InvalidInput, NotFound, VersionConflict

AnyRow: TypeAlias = Row[*tuple[Any, ...]]
"""A result row of any width (SQLAlchemy types rows by their columns)."""


def new_uuid() -> str:
    """A canonical lower-case uuid4, the form every uuid column and text key holds."""
    return str(uuid.uuid4())


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def now() -> datetime:
    """Aware UTC, truncated to the millisecond both backends keep."""
    return utc_now()


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


def order_clauses(table: Table, order: str, allowed: Sequence[str]) -> list[Any]:
    """``'title'`` / ``'-last_modified'`` into ORDER BY clauses, from an allow-list only.

    The primary key always breaks ties, so paging is stable on both backends.
    """
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
    return clauses


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


def require_live(conn: Connection, table: Table, key: Any) -> None:
    """Raise :class:`NotFound` unless *key* names a live row (parents of new child rows)."""
    pk = primary_key(table)
    stmt = select(pk).where(pk == key)
    if "deleted" in table.c:
        stmt = stmt.where(is_false(table.c.deleted))
    if conn.execute(stmt).first() is None:
        raise NotFound(table.name, key)


# -- keywords -------------------------------------------------------------------------------


def clean_keywords(table: str, keywords: Iterable[str]) -> list[str]:
    """Strip, drop blanks and NOCASE duplicates, keep the caller's order and spelling."""
    seen: set[str] = set()
    kept: list[str] = []
    for raw in keywords:
        if not isinstance(raw, str):
            raise InvalidInput(table, f"a keyword must be a string, got {raw!r}")
        word = raw.strip()
        folded = ascii_casefold(word)
        if word and folded not in seen:
            seen.add(folded)
            kept.append(word)
    return kept


def ascii_casefold(text: str) -> str:
    """SQLite NOCASE in Python: fold A-Z only ('ÉCOLE' and 'école' stay different)."""
    return text.translate(_ASCII_LOWER)


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def get_or_create_keyword(
    conn: Connection,
    database: Database,
    table: Table,
    word: str,
    new_row: Mapping[str, Any],
    *,
    client_id: str,
) -> int:
    """The id of *word* in *table*, inserting (or reviving a soft-deleted) row if needed.

    Matching is NOCASE on both backends. The insert does nothing on a conflict
    (another writer got there first), and the lookup after it finds that row.
    """
    found = _find_keyword(conn, database, table, word)
    if found is None:
        insert = database.dialect.insert(table).values(keyword=word, **new_row)
        conn.execute(insert.on_conflict_do_nothing())
        found = _find_keyword(conn, database, table, word)
    if found is None:  # pragma: no cover - the insert or a concurrent one made it
        raise InvalidInput(table.name, f"keyword {word!r} could not be stored")
    key, deleted = found
    if deleted:
        update_versioned(conn, table, key, {"deleted": False}, client_id=client_id, live_only=False)
    return key


def _find_keyword(
    conn: Connection, database: Database, table: Table, word: str
) -> tuple[int, bool] | None:
    row = conn.execute(
        select(table.c.id, table.c.deleted).where(
            database.dialect.nocase_equals(table.c.keyword, word)
        )
    ).first()
    return None if row is None else (int(row.id), bool(row.deleted))


# -- search -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchHit:
    """One search result: the row's key, why it matched, and how well.

    ``rank`` is comparable only within one result list (FTS5's bm25 and
    PostgreSQL's ts_rank use different scales); ``title_hit`` is comparable
    across backends and orders results the same way on both.
    """

    id: Any
    title: str
    snippet: str
    rank: float
    title_hit: bool


def search_keys(
    conn: Connection,
    database: Database,
    table: Table,
    index_name: str,
    query: str,
    *,
    limit: int,
    offset: int,
    where: Sequence[ColumnElement[bool]] = (),
) -> list[tuple[Any, bool, float]]:
    """(key, title_hit, rank) of matching live rows, best first; [] when nothing can match."""
    index = database.schema.search_index(index_name)
    stmt = database.dialect.search(table, index, query)
    if stmt is None:
        return []
    for condition in where:
        stmt = stmt.where(condition)
    rows = conn.execute(stmt.limit(limit).offset(offset)).all()
    return [(row.key, bool(row.title_hit), float(row.rank or 0.0)) for row in rows]


_WORD = re.compile(r"\w+", re.UNICODE)
_OPERATORS = {"OR", "AND", "NOT", "NEAR"}


def snippet(text: str | None, query: str, width: int = 160) -> str:
    """A short excerpt of *text* around the first query word it contains (display only)."""
    if not text:
        return ""
    lowered = text.casefold()
    for word in _WORD.findall(query):
        if word in _OPERATORS:
            continue
        at = lowered.find(word.casefold())
        if at >= 0:
            start = max(0, at - width // 3)
            return _trim(text, start, width)
    return _trim(text, 0, width)


def _trim(text: str, start: int, width: int) -> str:
    piece = " ".join(text[start : start + width].split())
    prefix = "…" if start > 0 else ""
    suffix = "…" if start + width < len(text) else ""
    return f"{prefix}{piece}{suffix}"
