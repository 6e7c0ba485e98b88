"""Claims extracted from media items: storing, listing and searching them.

Reached as :attr:`MediaStore.claims`. A claim names the chunk it came from by index; its
``chunk_hash`` is the hash of that chunk's text when stored, so a later re-chunking shows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, insert, select
from sqlalchemy.sql.elements import ColumnElement

from ..schemas.types import is_false
from ._common import check_paging, now, record_from_row, require_live, require_text, sha256_hex
from .errors import InvalidInput
from .media_records import Claim, ClaimHit, NewClaim
from .search_hits import search_rows

if TYPE_CHECKING:
    from .media import MediaStore


class MediaClaims:
    """The claims of one user's media items."""

    def __init__(self, store: MediaStore) -> None:
        self._store = store

    def add(
        self, media_id: int, claims: Sequence[str | NewClaim | Mapping[str, Any]]
    ) -> list[Claim]:
        """Store claims extracted from the item; ``chunk_hash`` ties each to its chunk's text."""
        wanted = [as_new_claim(c) for c in claims]
        if not wanted:
            return []
        t = self._store.t
        with self._store.database.begin(write=True) as conn:
            require_live(conn, t.media, media_id)
            chunk_texts = _chunk_texts(conn, t.chunks, media_id)
            ids = [
                conn.execute(
                    insert(t.claims)
                    .values(
                        media_id=media_id,
                        chunk_index=claim.chunk_index,
                        span_start=claim.span_start,
                        span_end=claim.span_end,
                        claim_text=claim.claim_text,
                        confidence=claim.confidence,
                        extractor=claim.extractor,
                        extractor_version=claim.extractor_version,
                        chunk_hash=sha256_hex(chunk_texts.get(claim.chunk_index, claim.claim_text)),
                        created_at=now(),
                        **self._store.new_sync(),
                    )
                    .returning(t.claims.c.id)
                ).scalar_one()
                for claim in wanted
            ]
            rows = conn.execute(
                select(t.claims).where(t.claims.c.id.in_(ids)).order_by(t.claims.c.id)
            )
            return [record_from_row(Claim, row) for row in rows]

    def of_media(self, media_id: int) -> list[Claim]:
        """The item's live claims, by chunk."""
        claims = self._store.t.claims
        rows = self._store.children_of(media_id, claims, claims.c.chunk_index, claims.c.id)
        return [record_from_row(Claim, row) for row in rows]

    def searched(self, media_id: int | None = None) -> list[ColumnElement[bool]]:
        """The conditions of a claim that searches: its item lists (and is *media_id*)."""
        claims, media = self._store.t.claims, self._store.t.media
        where = [claims.c.media_id.in_(select(media.c.id).where(*self._store.listed()))]
        if media_id is not None:
            where.append(claims.c.media_id == media_id)
        return where

    def search(
        self, query: str, limit: int = 20, offset: int = 0, *, media_id: int | None = None
    ) -> list[ClaimHit]:
        """Live claims of live, untrashed items matching *query*, best first."""
        check_paging("claims", limit, offset)
        with self._store.database.begin(write=False) as conn:
            matches = search_rows(
                conn,
                self._store.database,
                self._store.t.claims,
                "claims_fts",
                query,
                ("media_id", "claim_text"),
                limit=limit,
                offset=offset,
                where=self.searched(media_id),
            )
        return [ClaimHit(m.row.id, int(m.row.media_id), m.row.claim_text, m.rank) for m in matches]


def _chunk_texts(conn: Connection, chunks: Any, media_id: int) -> dict[int, str]:
    texts = conn.execute(
        select(chunks.c.chunk_text)
        .where(chunks.c.media_id == media_id, is_false(chunks.c.deleted))
        .order_by(chunks.c.id)
    ).scalars()
    return dict(enumerate(texts))


def as_new_claim(claim: str | NewClaim | Mapping[str, Any]) -> NewClaim:
    """*claim* as a :class:`NewClaim`, checked; :class:`InvalidInput` says what is wrong."""
    if isinstance(claim, NewClaim):
        made = claim
    elif isinstance(claim, str):
        made = NewClaim(claim_text=claim)
    elif isinstance(claim, Mapping):
        try:
            made = NewClaim(**claim)
        except TypeError as exc:
            raise InvalidInput("claims", f"invalid claim {dict(claim)!r}: {exc}") from None
    else:
        raise InvalidInput("claims", f"a claim must be text, NewClaim or a mapping, got {claim!r}")
    require_text("claims", "claim_text", made.claim_text)
    if made.chunk_index < 0:
        raise InvalidInput("claims", f"chunk_index must be >= 0, got {made.chunk_index}")
    return made
