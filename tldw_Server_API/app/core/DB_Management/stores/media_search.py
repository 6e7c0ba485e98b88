"""Media search with filters, one page at a time, and how many items match in all.

What the search view of a client asks: an optional full-text query (the query
language of :mod:`...search.query`: words, ``"a phrase"``, ``prefix*``, ``OR``,
``-word``), media types, keywords an item must have or must not have, and an
order. Without a query it lists the live, untrashed items that pass the filters.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, literal, select

from ..schemas.types import is_false
from ._common import check_paging
from .media import MediaStore
from .search_hits import snippet

#: The orders a search can ask for: relevance (title matches first), or by date or title.
SEARCH_SORTS = ("relevance", "date_desc", "date_asc", "title_asc", "title_desc")


@dataclass(frozen=True)
class MediaQuery:
    """What to look for; every part is optional and the parts combine with AND."""

    text: str | None = None
    media_types: Sequence[str] = ()
    must_have: Sequence[str] = ()
    must_not_have: Sequence[str] = ()
    sort_by: str = "relevance"


@dataclass(frozen=True)
class MediaMatch:
    """One item found: enough to list it, and why it matched."""

    id: int
    title: str
    type: str
    snippet: str
    rank: float
    title_hit: bool


def search_page(
    store: MediaStore, query: MediaQuery, *, limit: int, offset: int
) -> tuple[list[MediaMatch], int]:
    """One page of matching items (in the order asked) and the number of matches in all."""
    check_paging("media", limit, offset)
    if query.sort_by not in SEARCH_SORTS:
        raise ValueError(f"sort_by must be one of {', '.join(SEARCH_SORTS)}")
    media = store.t.media
    if query.text:
        index = store.database.schema.search_index("media_fts")
        found = store.database.dialect.search(media, index, query.text)
        if found is None:  # the query holds nothing that can match
            return [], 0
        stmt = found
    else:
        stmt = (
            select(media.c.id.label("key"), literal(False).label("title_hit"))
            .add_columns(literal(0.0).label("rank"))
            .where(is_false(media.c.deleted), is_false(media.c.is_trash))
            .order_by(media.c.id.desc())
        )
    stmt = stmt.where(*_filters(store, query))
    total_stmt = select(func.count()).select_from(stmt.order_by(None).subquery())
    stmt = _ordered(stmt, media, query.sort_by)
    with store.database.begin(write=False) as conn:
        total = int(conn.execute(total_stmt).scalar_one())
        keys = [
            (int(row.key), bool(row.title_hit), float(row.rank or 0.0))
            for row in conn.execute(stmt.limit(limit).offset(offset))
        ]
        rows = {
            int(row.id): row
            for row in conn.execute(
                select(media.c.id, media.c.title, media.c.type, media.c.content).where(
                    media.c.id.in_([key for key, _, _ in keys])
                )
            )
        }
    return [
        MediaMatch(
            key,
            rows[key].title,
            rows[key].type,
            snippet(rows[key].content, query.text or ""),
            rank,
            title_hit,
        )
        for key, title_hit, rank in keys
    ], total


def _filters(store: MediaStore, query: MediaQuery) -> list[Any]:
    media, kw, links = store.t.media, store.t.keywords, store.t.links
    conditions: list[Any] = []
    if query.media_types:
        wanted = sorted({t.strip().lower() for t in query.media_types if t.strip()})
        conditions.append(func.lower(media.c.type).in_(wanted))

    def tagged(word: str) -> Any:
        return (
            select(links.c.media_id)
            .join(kw, kw.c.id == links.c.keyword_id)
            .where(is_false(kw.c.deleted))
            .where(store.database.dialect.nocase_equals(kw.c.keyword, word.strip()))
        )

    for word in query.must_have:
        if word.strip():
            conditions.append(media.c.id.in_(tagged(word)))
    for word in query.must_not_have:
        if word.strip():
            conditions.append(media.c.id.not_in(tagged(word)))
    return conditions


def _ordered(stmt: Any, media: Any, sort_by: str) -> Any:
    if sort_by == "relevance":
        return stmt  # the search's own order (title matches, then rank), or newest first
    column, descending = {
        "date_desc": (media.c.ingestion_date, True),
        "date_asc": (media.c.ingestion_date, False),
        "title_asc": (media.c.title, False),
        "title_desc": (media.c.title, True),
    }[sort_by]
    first = column.desc() if descending else column.asc()
    return stmt.order_by(None).order_by(first, media.c.id.desc() if descending else media.c.id)


__all__ = ["SEARCH_SORTS", "MediaMatch", "MediaQuery", "search_page"]
