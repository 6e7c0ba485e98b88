"""Transcripts of media items, one per transcription run.

Reached as :attr:`MediaStore.transcripts`.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import insert

from ._common import record_from_row, require_live
from .media_records import Transcript

if TYPE_CHECKING:
    from .media import MediaStore


class Transcripts:
    """The transcripts of one user's media items."""

    def __init__(self, store: MediaStore) -> None:
        self._store = store

    def add(
        self,
        media_id: int,
        transcription: str,
        whisper_model: str | None = None,
        *,
        created_at: datetime | None = None,
    ) -> Transcript:
        """Store a transcript of the item (made now unless *created_at* says when)."""
        t = self._store.t
        with self._store.database.begin(write=True) as conn:
            require_live(conn, t.media, media_id)
            sync = self._store.new_sync()
            row = conn.execute(
                insert(t.transcripts)
                .values(
                    media_id=media_id,
                    transcription=transcription,
                    whisper_model=whisper_model,
                    created_at=created_at or sync["last_modified"],
                    **sync,
                )
                .returning(*t.transcripts.c)
            ).one()
            return record_from_row(Transcript, row)

    def of_media(self, media_id: int) -> list[Transcript]:
        """The item's transcripts, oldest first."""
        transcripts = self._store.t.transcripts
        order = (transcripts.c.created_at, transcripts.c.id)
        rows = self._store.children_of(media_id, transcripts, *order)
        return [record_from_row(Transcript, row) for row in rows]
