"""``GET /api/v1/analytics/summary``: what searches cost and how they went.

Analytics is one database per server and records searches by the hash of
their text, never the text, and by whom: each user's summary counts their own
searches and events only. Rows without a user (migrated from users' files)
count for admins only (``TLDW_ADMIN_USERS``; in single-user mode, the one user).
"""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from ...core.config import Settings
from ..auth import UserId
from ..deps import Analytics, Instant, IsoInstant

router = APIRouter(prefix="/api/v1/analytics", tags=["analytics"])


class SearchTypeCount(BaseModel):
    search_type: str | None
    count: int


class Summary(BaseModel):
    since: Instant | None
    searches: int
    avg_response_time_ms: float | None
    errors: int
    error_rate: float
    cache_hit_rate: float
    top_search_types: list[SearchTypeCount]
    events_by_type: dict[str, int]


@router.get("/summary", response_model=Summary)
def summary(
    request: Request,
    store: Analytics,
    user_id: UserId,
    since: Annotated[
        IsoInstant | None, Query(description="only records at or after this ISO-8601 instant")
    ] = None,
) -> Summary:
    settings: Settings = request.app.state.settings
    data = store.summarize(since=since, with_unowned=settings.is_admin(user_id))
    data["top_search_types"] = [
        SearchTypeCount(search_type=kind, count=count) for kind, count in data["top_search_types"]
    ]
    return Summary(**data)
