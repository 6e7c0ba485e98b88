"""The Analytics store: what searches cost and how they went, without what was searched.

Queries are personal data; analytics only needs to group identical searches.
So a search is recorded by the SHA-256 of its normalised text (whitespace
collapsed, case folded), its length and a coarse complexity, never the text.

A store opened for a user (``AnalyticsStore(db, user_id="alice")``) records
that user on every row and summarises that user's rows only (plus, for an
admin, the rows without a user: those migrated from users' files). A store
without a user is the server's own view: it records no user and sums up all.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Select, case, func, insert, or_, select, true

from ..backends.base import Database
from ..instants import to_instant
from ._common import now, require_schema
from .errors import InvalidInput

TOP_SEARCH_TYPES = 5


def query_hash(query: str) -> str:
    """The key under which a query is recorded: equal for queries differing only in case/spacing."""
    normalised = " ".join(query.split()).casefold()
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()


def query_complexity(query: str) -> str:
    """'simple' (up to 3 words), 'moderate' (up to 8) or 'complex'."""
    words = len(query.split())
    if words <= 3:
        return "simple"
    return "moderate" if words <= 8 else "complex"


class AnalyticsStore:
    """Writes search and event records, and summarises them."""

    def __init__(self, database: Database, user_id: str | None = None) -> None:
        require_schema(self, database, "analytics", "the Analytics database")
        self.database = database
        self.user_id = user_id
        self.searches = database.table("search_analytics")
        self.events = database.table("analytics_events")

    def record_search(
        self,
        query: str,
        search_type: str,
        results_count: int,
        max_score: float | None,
        avg_score: float | None,
        response_time_ms: float,
        cache_hit: bool = False,
        error: str | BaseException | None = None,
        *,
        reranking_used: bool = False,
        expansion_used: bool = False,
        filters_used: str | None = None,
        timestamp: datetime | None = None,
    ) -> int:
        """Record one search and return its id; an *error* (text or exception) marks it failed."""
        if results_count < 0 or response_time_ms < 0:
            raise InvalidInput(
                "search_analytics",
                f"results_count and response_time_ms must be >= 0, got {results_count} "
                f"and {response_time_ms}",
            )
        error_type = None
        if error is not None:
            error_type = type(error).__name__ if isinstance(error, BaseException) else str(error)
        stmt = (
            insert(self.searches)
            .values(
                timestamp=to_instant(timestamp) if timestamp else now(),
                query_hash=query_hash(query),
                query_length=len(query),
                query_complexity=query_complexity(query),
                search_type=search_type,
                results_count=results_count,
                max_score=max_score,
                avg_score=avg_score,
                response_time_ms=response_time_ms,
                cache_hit=cache_hit,
                reranking_used=reranking_used,
                expansion_used=expansion_used,
                filters_used=filters_used,
                error_occurred=error is not None,
                error_type=error_type,
                user_id=self.user_id,
            )
            .returning(self.searches.c.id)
        )
        with self.database.begin(write=True) as conn:
            return int(conn.execute(stmt).scalar_one())

    def record_event(
        self,
        event_type: str,
        metrics: Mapping[str, Any],
        query_hash: str | None = None,
        *,
        timestamp: datetime | None = None,
    ) -> int:
        """Record one event with its metrics (stored as JSON). Returns its id."""
        if not event_type:
            raise InvalidInput("analytics_events", "event_type must be a non-empty string")
        stmt = (
            insert(self.events)
            .values(
                timestamp=to_instant(timestamp) if timestamp else now(),
                event_type=event_type,
                query_hash=query_hash,
                metrics=dict(metrics),
                user_id=self.user_id,
            )
            .returning(self.events.c.id)
        )
        with self.database.begin(write=True) as conn:
            return int(conn.execute(stmt).scalar_one())

    def summarize(
        self, since: datetime | None = None, *, with_unowned: bool = False
    ) -> dict[str, Any]:
        """Totals since *since* (everything when ``None``) of this store's user's rows.

        *with_unowned* adds the rows that belong to no user (an admin's view). A store
        without a user sums up every row.

        Keys: ``searches``, ``avg_response_time_ms``, ``errors``, ``error_rate``,
        ``cache_hit_rate``, ``top_search_types`` (``[(type, count)]``, most used
        first) and ``events_by_type`` (``{type: count}``).
        """
        s = self.searches
        errors = func.sum(case((s.c.error_occurred == true(), 1), else_=0))
        hits = func.sum(case((s.c.cache_hit == true(), 1), else_=0))
        average_ms = func.avg(s.c.response_time_ms)
        totals = self._rows(select(func.count(), average_ms, errors, hits), s, since, with_unowned)
        by_type = self._rows(
            select(s.c.search_type, func.count().label("n")), s, since, with_unowned
        ).group_by(s.c.search_type)
        by_type = by_type.order_by(func.count().desc(), s.c.search_type).limit(TOP_SEARCH_TYPES)
        e = self.events
        events = self._rows(select(e.c.event_type, func.count()), e, since, with_unowned).group_by(
            e.c.event_type
        )
        with self.database.begin(write=False) as conn:
            count, avg_ms, error_count, hit_count = conn.execute(totals).one()
            top = [(t, int(n)) for t, n in conn.execute(by_type)]
            event_counts = {t: int(n) for t, n in conn.execute(events)}
        count = int(count or 0)
        return {
            "since": since,
            "searches": count,
            "avg_response_time_ms": float(avg_ms) if avg_ms is not None else None,
            "errors": int(error_count or 0),
            "error_rate": (int(error_count or 0) / count) if count else 0.0,
            "cache_hit_rate": (int(hit_count or 0) / count) if count else 0.0,
            "top_search_types": top,
            "events_by_type": event_counts,
        }

    def _rows(
        self, stmt: Select[Any], table: Any, since: datetime | None, with_unowned: bool
    ) -> Select[Any]:
        """*stmt* over *table*'s rows since *since* that this store's user may count."""
        stmt = stmt.select_from(table)
        if self.user_id is not None:
            own = table.c.user_id == self.user_id
            stmt = stmt.where(or_(own, table.c.user_id.is_(None)) if with_unowned else own)
        return stmt if since is None else stmt.where(table.c.timestamp >= to_instant(since))


__all__ = ["AnalyticsStore", "query_complexity", "query_hash"]
