"""Claims search, one page at a time, with how many claims match in all.

The same matching as :meth:`.media_claims.MediaClaims.search` (live claims of live,
untrashed items, best first), plus the total a paged view shows and each hit's
chunk index.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from ..schemas.types import is_false
from ._common import check_paging
from .media import MediaStore


@dataclass(frozen=True)
class ClaimMatch:
    id: int
    media_id: int
    chunk_index: int
    claim_text: str
    rank: float


def search_claims_page(
    store: MediaStore, query: str, *, limit: int, offset: int
) -> tuple[list[ClaimMatch], int]:
    """One page of claims matching *query* (best first) and the number of matches in all."""
    check_paging("claims", limit, offset)
    claims, media = store.t.claims, store.t.media
    index = store.database.schema.search_index("claims_fts")
    found = store.database.dialect.search(claims, index, query)
    if found is None:  # the query holds nothing that can match
        return [], 0
    live_media = select(media.c.id).where(is_false(media.c.deleted), is_false(media.c.is_trash))
    stmt = found.where(claims.c.media_id.in_(live_media))
    total_stmt = select(func.count()).select_from(stmt.order_by(None).subquery())
    with store.database.begin(write=False) as conn:
        total = int(conn.execute(total_stmt).scalar_one())
        ranked = [
            (int(r.key), float(r.rank or 0.0))
            for r in conn.execute(stmt.limit(limit).offset(offset))
        ]
        rows = {
            int(row.id): row
            for row in conn.execute(
                select(
                    claims.c.id, claims.c.media_id, claims.c.chunk_index, claims.c.claim_text
                ).where(claims.c.id.in_([key for key, _ in ranked]))
            )
        }
    return [
        ClaimMatch(
            key, int(rows[key].media_id), int(rows[key].chunk_index), rows[key].claim_text, rank
        )
        for key, rank in ranked
    ], total


__all__ = ["ClaimMatch", "search_claims_page"]
