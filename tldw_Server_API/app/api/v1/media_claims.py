"""Claims extracted from media items, as tldw_server serves them (plus one route of ours).

==================================================  ===========================================
``GET  /api/v1/claims/search?q&limit&offset``        ``{query, total, results, pagination, ...}``
``GET  /api/v1/claims/{media_id}?limit&offset``      the item's claims: a list
                                                     (``envelope=true``: ``{items, total, ...}``)
``POST /api/v1/media/{media_id}/claims``             store claims (ours only: tldw_server
                                                     extracts them while ingesting)
==================================================  ===========================================
"""

from typing import Annotated

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, Field

from ...core.DB_Management.stores import Claim
from ...core.DB_Management.stores.claims_search import ClaimMatch, search_claims_page
from ..deps import (
    MAX_JSON_INT,
    NOT_BLANK,
    Analytics,
    Instant,
    IntId,
    Media,
    Name,
    Offset,
    SafeStr,
    SearchQuery,
    StrictModel,
    recorded_search,
)

router = APIRouter()


class ClaimIn(StrictModel):
    claim_text: Annotated[
        SafeStr, Field(min_length=1, max_length=100_000, json_schema_extra=NOT_BLANK)
    ]
    chunk_index: Annotated[int, Field(ge=0, le=1_000_000)] = 0
    span_start: Annotated[int, Field(ge=0, le=MAX_JSON_INT)] | None = None
    span_end: Annotated[int, Field(ge=0, le=MAX_JSON_INT)] | None = None
    confidence: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] | None = None
    extractor: Name = "manual"
    extractor_version: Name = "1"


class ClaimsBody(StrictModel):
    claims: Annotated[list[ClaimIn], Field(min_length=1, max_length=1000)]


class ClaimOut(BaseModel):
    id: int
    uuid: str
    version: int
    media_id: int
    chunk_index: int
    claim_text: str
    span_start: int | None
    span_end: int | None
    confidence: float | None
    extractor: str
    extractor_version: str
    chunk_hash: str
    created_at: Instant | None


class ClaimList(BaseModel):
    media_id: int
    claims: list[ClaimOut]


class ClaimPage(BaseModel):
    """``envelope=true``: one page of an item's claims and how to get the next."""

    items: list[ClaimOut]
    next_offset: int | None
    total: int
    total_pages: int
    next_link: str | None


class ClaimHitOut(BaseModel):
    id: int
    media_id: int
    chunk_index: int
    claim_text: str
    claim_cluster_id: int | None = None
    relevance_score: float | None


class OffsetPagination(BaseModel):
    mode: str = "offset"
    limit: int
    offset: int
    total: int
    has_more: bool
    next_offset: int | None


class ClaimSearch(BaseModel):
    query: str
    group_by_cluster: bool = False
    total: int
    results: list[ClaimHitOut]
    has_more: bool
    next_offset: int | None
    pagination: OffsetPagination


def _out(claims: list[Claim]) -> list[ClaimOut]:
    return [ClaimOut.model_validate(c, from_attributes=True) for c in claims]


@router.get("/claims/search", response_model=ClaimSearch, tags=["claims"])
def search_claims(
    q: SearchQuery,
    store: Media,
    analytics: Analytics,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    offset: Offset = 0,
    group_by_cluster: Annotated[bool, Query(description="clusters are not kept: false")] = False,
) -> ClaimSearch:
    """Live claims of live, untrashed items matching *q*, best first."""
    total = 0

    def run() -> list[ClaimMatch]:
        nonlocal total
        hits, total = search_claims_page(store, q, limit=limit, offset=offset)
        return hits

    hits = recorded_search(analytics, "claims", q, run)
    following = offset + len(hits)
    next_offset = following if following < total else None
    return ClaimSearch(
        query=q,
        total=total,
        results=[
            ClaimHitOut(
                id=h.id,
                media_id=h.media_id,
                chunk_index=h.chunk_index,
                claim_text=h.claim_text,
                relevance_score=h.rank,
            )
            for h in hits
        ],
        has_more=next_offset is not None,
        next_offset=next_offset,
        pagination=OffsetPagination(
            limit=limit,
            offset=offset,
            total=total,
            has_more=next_offset is not None,
            next_offset=next_offset,
        ),
    )


@router.get("/claims/{media_id}", response_model=list[ClaimOut] | ClaimPage, tags=["claims"])
def list_claims(
    media_id: IntId,
    store: Media,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Offset = 0,
    envelope: bool = False,
) -> list[ClaimOut] | ClaimPage:
    """The item's claims in document order: a list, or with ``envelope=true`` a page."""
    claims = store.claims.of_media(media_id)
    page = _out(claims[offset : offset + limit])
    if not envelope:
        return page
    following = offset + len(page)
    next_offset = following if following < len(claims) else None
    return ClaimPage(
        items=page,
        next_offset=next_offset,
        total=len(claims),
        total_pages=(len(claims) + limit - 1) // limit,
        next_link=(
            f"/api/v1/claims/{media_id}?limit={limit}&offset={next_offset}&envelope=true"
            if next_offset is not None
            else None
        ),
    )


@router.post(
    "/media/{media_id}/claims",
    status_code=status.HTTP_201_CREATED,
    response_model=ClaimList,
    tags=["claims"],
)
def add_claims(media_id: IntId, body: ClaimsBody, store: Media) -> ClaimList:
    """Store claims extracted elsewhere (ours only)."""
    claims = store.claims.add(media_id, [c.model_dump() for c in body.claims])
    return ClaimList(media_id=media_id, claims=_out(claims))


__all__ = ["router"]
