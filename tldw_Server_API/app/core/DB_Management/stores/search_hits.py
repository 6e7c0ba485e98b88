"""Full-text search over a store's table: find the matching keys, then fetch their rows.

Every store searches the same way: the dialect's search statement (FTS5 on
SQLite, ``tsvector`` on PostgreSQL) returns keys in rank order, and one
follow-up select fetches the columns the hits show. :func:`search_rows` is that
two-step (:func:`search_statement`, then :func:`page_rows`, which paged views also
use with :func:`count_rows`); :func:`search_hits`, a read of its own, turns its rows into
:class:`SearchHit`\\ s with a display snippet.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import Connection, Select, Table, func, select
from sqlalchemy.sql.elements import ColumnElement

from ..backends.base import Database
from ._common import AnyRow, check_paging


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


class Match(NamedTuple):
    """A matching row (``id`` plus the columns asked for), best first in a result list."""

    row: AnyRow
    title_hit: bool
    rank: float


def search_rows(
    conn: Connection,
    database: Database,
    table: Table,
    index_name: str,
    query: str,
    columns: Sequence[str],
    *,
    limit: int,
    offset: int,
    where: Sequence[ColumnElement[bool]] = (),
) -> list[Match]:
    """Live rows of *table* matching *query* in index *index_name*, best first.

    Each row holds ``id`` and *columns*; *where* narrows the matches (for
    example to children of live parents). [] when nothing can match.
    """
    stmt = search_statement(database, table, index_name, query, where)
    if stmt is None:
        return []
    return page_rows(conn, stmt, table, columns, limit=limit, offset=offset)


def search_statement(
    database: Database,
    table: Table,
    index_name: str,
    query: str,
    where: Sequence[ColumnElement[bool]] = (),
) -> Select[Any] | None:
    """The ``(key, title_hit, rank)`` rows of live rows matching *query*, narrowed by
    *where*, best first; None when nothing can match."""
    index = database.schema.search_index(index_name)
    stmt = database.dialect.search(table, index, query)
    if stmt is None:
        return None
    return stmt.where(*where)


def page_rows(
    conn: Connection,
    stmt: Select[Any],
    table: Table,
    columns: Sequence[str],
    *,
    limit: int,
    offset: int,
) -> list[Match]:
    """One page of the ``(key, title_hit, rank)`` rows of *stmt*, in its order, each with
    the ``id`` and *columns* of *table*'s row of that key (fetched by one more select)."""
    keys = [
        (row.key, bool(row.title_hit), float(row.rank or 0.0))
        for row in conn.execute(stmt.limit(limit).offset(offset))
    ]
    if not keys:
        return []
    wanted = [table.c.id, *(table.c[name] for name in columns)]
    rows = {
        row.id: row
        for row in conn.execute(select(*wanted).where(table.c.id.in_([k for k, _, _ in keys])))
    }
    return [Match(rows[key], title_hit, rank) for key, title_hit, rank in keys]


def count_rows(conn: Connection, stmt: Select[Any]) -> int:
    """How many rows *stmt* selects in all (the total behind a paged view)."""
    return int(
        conn.execute(select(func.count()).select_from(stmt.order_by(None).subquery())).scalar_one()
    )


def search_hits(
    database: Database,
    table: Table,
    index_name: str,
    query: str,
    *,
    title: str = "title",
    text: str = "content",
    limit: int,
    offset: int,
    where: Sequence[ColumnElement[bool]] = (),
) -> list[SearchHit]:
    """:func:`search_rows` as hits titled by column *title*, snippets cut from column *text*:
    the paging checked, then one read of its own."""
    check_paging(table.name, limit, offset)
    with database.begin(write=False) as conn:
        matches = search_rows(
            conn,
            database,
            table,
            index_name,
            query,
            (title, text),
            limit=limit,
            offset=offset,
            where=where,
        )
    return [
        SearchHit(
            m.row.id,
            getattr(m.row, title),
            snippet(getattr(m.row, text), query),
            m.rank,
            m.title_hit,
        )
        for m in matches
    ]


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
