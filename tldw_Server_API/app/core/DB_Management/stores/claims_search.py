"""Claims search, one page at a time, with how many claims match in all.

The same matching as :meth:`.media_claims.MediaClaims.search` (live claims of live,
untrashed items, best first), plus the total a paged view shows and each hit's
chunk index.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._common import check_paging
from .media import MediaStore
from .search_hits import count_rows, page_rows, search_statement


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
    claims = store.t.claims
    columns = ("media_id", "chunk_index", "claim_text")
    stmt = search_statement(store.database, claims, "claims_fts", query, store.claims.searched())
    if stmt is None:  # the query holds nothing that can match
        return [], 0
    with store.database.begin(write=False) as conn:
        total = count_rows(conn, stmt)
        matches = page_rows(conn, stmt, claims, columns, limit=limit, offset=offset)
    return [
        ClaimMatch(
            int(m.row.id), int(m.row.media_id), int(m.row.chunk_index), m.row.claim_text, m.rank
        )
        for m in matches
    ], total


__all__ = ["ClaimMatch", "search_claims_page"]
