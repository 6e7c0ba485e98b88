"""Document versions of media items: every content an item has had, numbered from 1.

Reached as :attr:`MediaStore.versions`. Adding an item records version 1 and each new
content another, in the same transaction as the change (:meth:`DocumentVersions.insert`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypedDict, Unpack

from sqlalchemy import Connection, func, insert, select

from ..schemas.types import is_false
from ._common import record_from_row, require_live, require_text
from .errors import NotFound
from .media_records import DocumentVersion

if TYPE_CHECKING:
    from .media import MediaStore


class VersionNotes(TypedDict, total=False):
    """What may come with a version's content (each stored as NULL when absent)."""

    prompt: str | None
    analysis_content: str | None
    safe_metadata: Any


class DocumentVersions:
    """The document versions of one user's media items."""

    def __init__(self, store: MediaStore) -> None:
        self._store = store

    def add(self, media_id: int, content: str, **notes: Unpack[VersionNotes]) -> DocumentVersion:
        """Record a new version of the item's document (numbered after the last one)."""
        require_text("documentversions", "content", content)
        t = self._store.t
        with self._store.database.begin(write=True) as conn:
            require_live(conn, t.media, media_id)
            version_id = self.insert(conn, media_id, content, **notes)
            row = conn.execute(select(t.versions).where(t.versions.c.id == version_id)).one()
            return record_from_row(DocumentVersion, row)

    def of_media(self, media_id: int) -> list[DocumentVersion]:
        """The item's versions, oldest first."""
        versions = self._store.t.versions
        rows = self._store.children_of(media_id, versions, versions.c.version_number)
        return [record_from_row(DocumentVersion, row) for row in rows]

    def get(self, media_id: int, version_number: int) -> DocumentVersion:
        """One version of the item; :class:`NotFound` if it has no such version."""
        versions = self._store.t.versions
        stmt = select(versions).where(
            versions.c.media_id == media_id,
            versions.c.version_number == version_number,
            is_false(versions.c.deleted),
        )
        with self._store.database.begin(write=False) as conn:
            require_live(conn, self._store.t.media, media_id)
            row = conn.execute(stmt).one_or_none()
        if row is None:
            raise NotFound("documentversions", (media_id, version_number))
        return record_from_row(DocumentVersion, row)

    def insert(
        self, conn: Connection, media_id: int, content: str, **notes: Unpack[VersionNotes]
    ) -> int:
        """Add the next version inside the caller's transaction; return its row id."""
        versions = self._store.t.versions
        last = conn.execute(
            select(func.max(versions.c.version_number)).where(versions.c.media_id == media_id)
        ).scalar_one()
        sync = self._store.new_sync()
        return int(
            conn.execute(
                insert(versions)
                .values(
                    media_id=media_id,
                    version_number=int(last or 0) + 1,
                    **notes,
                    content=content,
                    created_at=sync["last_modified"],
                    **sync,
                )
                .returning(versions.c.id)
            ).scalar_one()
        )
