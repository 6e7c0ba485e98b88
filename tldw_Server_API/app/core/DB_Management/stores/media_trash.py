"""The media trash: what is in it, and removing an item for good.

Moving an item to the trash and back is :meth:`MediaStore.trash` /
:meth:`MediaStore.untrash`; this module adds the two operations the trash view
needs. A trashed item is live (not ``deleted``) with ``is_trash`` set: it keeps
its keywords, chunks, claims and versions until it is purged.

Purging deletes the row itself: its chunks, claims, versions, transcripts and
keyword links go with it (``ON DELETE CASCADE``), and the database's sync log
records a ``delete`` for each, as it does for any removed row.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, select, true

from ..schemas.types import is_false
from ._common import check_paging
from .errors import Conflict, NotFound
from .media import MediaItem, MediaStore


def _in_trash(store: MediaStore) -> list[Any]:
    media = store.t.media
    return [is_false(media.c.deleted), media.c.is_trash == true()]


def list_trash(store: MediaStore, limit: int = 50, offset: int = 0) -> list[MediaItem]:
    """A page of trashed items, most recently trashed first."""
    check_paging("media", limit, offset)
    media = store.t.media
    stmt = (
        select(media.c.id)
        .where(*_in_trash(store))
        .order_by(media.c.trash_date.desc(), media.c.id.desc())
        .limit(limit)
        .offset(offset)
    )
    with store.database.begin(write=False) as conn:
        ids = [int(i) for i in conn.execute(stmt).scalars()]
    # A page is small (its size is the caller's page size): one read per item keeps this
    # module on the store's public reads, so an item looks the same here as everywhere.
    return [store.get_media(media_id) for media_id in ids]


def count_trash(store: MediaStore) -> int:
    """How many items the trash holds."""
    stmt = select(func.count()).select_from(store.t.media).where(*_in_trash(store))
    with store.database.begin(write=False) as conn:
        return int(conn.execute(stmt).scalar_one())


def purge(store: MediaStore, media_id: int) -> None:
    """Delete a trashed item and everything that hangs off it; it cannot be restored.

    :class:`NotFound` if there is no live item *media_id*; :class:`Conflict` if it is
    not in the trash (an item is trashed first, so one request cannot lose live data).
    """
    media = store.t.media
    with store.database.begin(write=True) as conn:
        row = conn.execute(
            select(media.c.deleted, media.c.is_trash).where(media.c.id == media_id)
        ).one_or_none()
        if row is None or row.deleted:
            raise NotFound("media", media_id)
        if not row.is_trash:
            raise Conflict(
                f"media {media_id!r}: not in the trash; move it there first (DELETE the item)"
            )
        conn.execute(delete(media).where(media.c.id == media_id))


__all__ = ["count_trash", "list_trash", "purge"]
