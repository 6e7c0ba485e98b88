"""Media search with filters, one page at a time, and how many items match in all.

What the search view of a client asks: an optional full-text query (the query
language of :mod:`...search.query`: words, ``"a phrase"``, ``prefix*``, ``OR``,
``-word``) over some fields, media types, keywords an item must have or must not
have, a range of ingestion dates, weights for the title and the content, and an
order. Without a query it lists the live, untrashed items that pass the filters.

The fields: ``title`` and ``content`` are searched through the full-text index,
confined to the fields asked (:func:`...search.restriction`, the same rows on both
backends); ``author`` and ``type`` hold short labels, so the query matches them as
text they contain (any ASCII case), as tldw_server does. An item matches when any
field asked matches.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, literal, or_, select

from ..schemas.types import is_false
from ._common import check_paging
from .media import MediaStore
from .search_hits import count_rows, page_rows, snippet

#: The orders a search can ask for: relevance (title matches first), by ingestion date, by
#: title, or by last change.
SEARCH_SORTS = (
    "relevance",
    "date_desc",
    "date_asc",
    "title_asc",
    "title_desc",
    "last_modified_desc",
    "last_modified_asc",
)
#: Fields searched through the full-text index, and fields matched as text they contain.
INDEXED_FIELDS = ("title", "content")
LABEL_FIELDS = ("author", "type")
SEARCH_FIELDS = INDEXED_FIELDS + LABEL_FIELDS


@dataclass(frozen=True)
class MediaQuery:
    """What to look for; every part is optional and the parts combine with AND.

    ``fields`` are the fields the text is looked for in (any of :data:`SEARCH_FIELDS`);
    ``start`` and ``end`` bound the ingestion date (inclusive); ``boosts`` weighs the
    title or the content more (or less) in the relevance order.
    """

    text: str | None = None
    fields: Sequence[str] = INDEXED_FIELDS
    media_types: Sequence[str] = ()
    must_have: Sequence[str] = ()
    must_not_have: Sequence[str] = ()
    start: datetime | None = None
    end: datetime | None = None
    boosts: Mapping[str, float] = field(default_factory=dict)
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
    unknown = sorted(set(query.fields) - set(SEARCH_FIELDS))
    if unknown:
        raise ValueError(f"fields must be among {', '.join(SEARCH_FIELDS)}: not {unknown}")
    media = store.t.media
    if query.text:
        found = _text_match(store, query, query.text)
        if found is None:  # the query holds nothing that can match
            return [], 0
        stmt = found
    else:
        stmt = _live(store).order_by(media.c.id.desc())
    stmt = stmt.where(*_filters(store, query))
    stmt = _ordered(stmt, media, query.sort_by)
    with store.database.begin(write=False) as conn:
        total = count_rows(conn, stmt)
        matches = page_rows(
            conn, stmt, media, ("title", "type", "content"), limit=limit, offset=offset
        )
    return [
        MediaMatch(
            int(m.row.id),
            m.row.title,
            m.row.type,
            snippet(m.row.content, query.text or ""),
            m.rank,
            m.title_hit,
        )
        for m in matches
    ], total


def _live(store: MediaStore) -> Select[Any]:
    """Every live, untrashed item, as unranked search rows."""
    media = store.t.media
    return (
        select(media.c.id.label("key"), literal(False).label("title_hit"))
        .add_columns(literal(0.0).label("rank"))
        .where(*store.listed())
    )


def _text_match(store: MediaStore, query: MediaQuery, text: str) -> Select[Any] | None:
    """Items whose fields asked match *text*, best first; None when nothing can match."""
    media = store.t.media
    indexed = [f for f in query.fields if f in INDEXED_FIELDS]
    # A type filter already says which types: the text is not looked for in the type too.
    labels = [
        f for f in query.fields if f in LABEL_FIELDS and not (f == "type" and query.media_types)
    ]
    if not indexed and not labels:
        indexed = list(INDEXED_FIELDS)
    found = None
    if indexed:
        index = store.database.schema.search_index("media_fts")
        found = store.database.dialect.search(
            media, index, text, columns=indexed, boosts=query.boosts
        )
    phrase = text.strip().strip('"').strip()
    contains = [media.c[f].icontains(phrase, autoescape=True) for f in labels if phrase]
    if not contains:
        return found
    if found is None:
        return _live(store).where(or_(*contains)).order_by(media.c.id.desc())
    hits = found.subquery()
    title_hit = func.coalesce(hits.c.title_hit, literal(False))
    rank = func.coalesce(hits.c.rank, literal(0.0))
    return (
        select(media.c.id.label("key"), title_hit.label("title_hit"), rank.label("rank"))
        .select_from(media.outerjoin(hits, hits.c.key == media.c.id))
        .where(*store.listed())
        .where(or_(hits.c.key.is_not(None), *contains))
        .order_by(title_hit.desc(), rank.desc(), media.c.id)
    )


def _filters(store: MediaStore, query: MediaQuery) -> list[Any]:
    media, kw, links = store.t.media, store.t.keywords, store.t.links
    conditions: list[Any] = []
    if query.start is not None:
        conditions.append(media.c.ingestion_date >= query.start)
    if query.end is not None:
        conditions.append(media.c.ingestion_date <= query.end)
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
        "last_modified_desc": (media.c.last_modified, True),
        "last_modified_asc": (media.c.last_modified, False),
    }[sort_by]
    first = column.desc() if descending else column.asc()
    return stmt.order_by(None).order_by(first, media.c.id.desc() if descending else media.c.id)


__all__ = ["SEARCH_FIELDS", "SEARCH_SORTS", "MediaMatch", "MediaQuery", "search_page"]
