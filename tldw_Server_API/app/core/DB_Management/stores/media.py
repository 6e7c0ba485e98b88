"""The Media store: one user's media items and what hangs off them.

Items, keywords, chunks, claims, document versions and transcripts, on either
backend, through one :class:`~..backends.base.Database` handle. Soft-deleted
items are invisible to every read except those asked ``include_deleted``;
trashed items are found by id but not listed, searched or counted by default.

Child rows (chunks, claims, versions, transcripts) are not soft-deleted with
their item: reads and searches of children only see children of live items, so
restoring an item brings everything back as it was.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Unpack

from sqlalchemy import Connection, func, insert, select
from sqlalchemy.sql.elements import ColumnElement

from ..backends.base import Database
from ..instants import to_instant
from ..schemas.types import is_false
from ._common import (
    AnyRow,
    VersionCheck,
    check_fields,
    load_row,
    new_uuid,
    now,
    record_from_row,
    require_live,
    require_schema,
    require_text,
    sha256_hex,
    sorted_page,
    update_versioned,
)
from .changes import content_changed
from .chunking import DEFAULT_CHUNKS, ChunkSpan, locate_chunks, split_content
from .errors import InvalidInput, NotFound, Taken
from .keywords import KeywordTags, clean_keywords
from .media_claims import MediaClaims
from .media_records import (
    Chunk,
    Claim,
    ClaimHit,
    DocumentVersion,
    MediaItem,
    NewClaim,
    Transcript,
)
from .media_transcripts import Transcripts
from .media_versions import DocumentVersions
from .search_hits import SearchHit, search_hits

MEDIA_SORT_KEYS = ("id", "title", "type", "author", "last_modified", "ingestion_date", "version")
MEDIA_CHANGEABLE = frozenset(
    {
        "title",
        "content",
        "type",
        "author",
        "url",
        "transcription_model",
        "chunking_status",
        "visibility",
        "source_hash",
        "ingestion_date",
        "owner_user_id",
        "keywords",
    }
)
VISIBILITIES = ("personal", "team", "org")


@dataclass
class _Tables:
    """The Media database's tables, looked up once per store."""

    database: Database
    media: Any = field(init=False)
    keywords: Any = field(init=False)
    links: Any = field(init=False)
    chunks: Any = field(init=False)
    claims: Any = field(init=False)
    versions: Any = field(init=False)
    transcripts: Any = field(init=False)

    def __post_init__(self) -> None:
        table = self.database.table
        self.media = table("media")
        self.keywords = table("keywords")
        self.links = table("mediakeywords")
        self.chunks = table("mediachunks")
        self.claims = table("claims")
        self.versions = table("documentversions")
        self.transcripts = table("transcripts")


class MediaStore:
    """Reads and writes one user's Media database; every write is one transaction."""

    def __init__(self, database: Database, client_id: str = "server") -> None:
        require_schema(self, database, "media", "a Media database")
        self.database = database
        self.client_id = client_id
        self.t = _Tables(database)
        self.tags: KeywordTags[int] = KeywordTags(
            database,
            keywords=self.t.keywords,
            links=self.t.links,
            owners=self.t.media,
            link_column="media_id",
            key=int,
            new_row=self.new_sync,
            client_id=client_id,
        )
        self.claims = MediaClaims(self)
        self.versions = DocumentVersions(self)
        self.transcripts = Transcripts(self)

    # -- sync columns for new rows ---------------------------------------------------------

    def new_sync(self) -> dict[str, Any]:
        """The sync columns of a row this store creates now."""
        return {
            "uuid": new_uuid(),
            "last_modified": now(),
            "version": 1,
            "client_id": self.client_id,
            "deleted": False,
        }

    # -- media items -----------------------------------------------------------------------

    def add_media(
        self,
        title: str,
        content: str,
        type: str,
        author: str | None = None,
        url: str | None = None,
        keywords: Iterable[str] = (),
        chunks: Sequence[str] | None = None,
        *,
        transcription_model: str | None = None,
        ingestion_date: datetime | None = None,
        visibility: str = "personal",
        owner_user_id: int | None = None,
        source_hash: str | None = None,
        target_chunks: int = DEFAULT_CHUNKS,
    ) -> MediaItem:
        """Store a new item with its keywords, chunks and document version 1.

        *chunks* overrides the default chunker (about *target_chunks* chunks cut at
        paragraph breaks); pass ``[]`` to store none.
        """
        require_text("media", "title", title)
        require_text("media", "type", type)
        if not isinstance(content, str):
            raise InvalidInput(
                "media", f"content must be a string, got {content.__class__.__name__}"
            )
        self._check_visibility(visibility)
        words = clean_keywords("media", keywords)
        spans = (
            split_content(content, target_chunks)
            if chunks is None
            else locate_chunks(content, chunks)
        )
        with self.database.begin(write=True) as conn:
            self._check_url_free(conn, url)
            sync = self.new_sync()
            media_id = conn.execute(
                insert(self.t.media)
                .values(
                    title=title,
                    content=content,
                    type=type,
                    author=author,
                    url=url,
                    ingestion_date=ingestion_date or sync["last_modified"],
                    transcription_model=transcription_model,
                    is_trash=False,
                    chunking_status="completed" if spans else "pending",
                    vector_processing=0,
                    content_hash=sha256_hex(content),
                    source_hash=source_hash,
                    visibility=visibility,
                    owner_user_id=owner_user_id,
                    **sync,
                )
                .returning(self.t.media.c.id)
            ).scalar_one()
            self.tags.link(conn, media_id, words)
            self._insert_chunks(conn, media_id, sync["uuid"], spans)
            self.versions.insert(conn, media_id, content)
            item = self._load(conn, media_id, include_deleted=False)
        content_changed(self.database)  # committed: the retrieval indexer embeds it
        return item

    def get_media(self, media_id: int, include_deleted: bool = False) -> MediaItem:
        """The item with this id (trashed items too); :class:`NotFound` if absent or deleted."""
        with self.database.begin(write=False) as conn:
            return self._load(conn, media_id, include_deleted=include_deleted)

    def get_media_by_uuid(self, media_uuid: str, include_deleted: bool = False) -> MediaItem:
        with self.database.begin(write=False) as conn:
            media_id = conn.execute(
                select(self.t.media.c.id).where(self.t.media.c.uuid == media_uuid)
            ).scalar_one_or_none()
            if media_id is None:
                raise NotFound("media", media_uuid)
            return self._load(conn, media_id, include_deleted=include_deleted)

    def list_media(
        self,
        limit: int = 50,
        offset: int = 0,
        include_deleted: bool = False,
        order: str = "id",
        *,
        include_trash: bool = False,
    ) -> list[MediaItem]:
        """A page of items sorted by an allow-listed key (``-`` prefix: descending)."""
        media = self.t.media
        stmt = self._visible(select(media), include_deleted, include_trash)
        page = sorted_page(stmt, media, order, MEDIA_SORT_KEYS, limit=limit, offset=offset)
        with self.database.begin(write=False) as conn:
            tagged = self.tags.tagged(conn, conn.execute(page).all())
        return [_media_item(row, words) for row, words in tagged]

    def count_media(self, include_deleted: bool = False, *, include_trash: bool = False) -> int:
        stmt = self._visible(
            select(func.count()).select_from(self.t.media), include_deleted, include_trash
        )
        with self.database.begin(write=False) as conn:
            return int(conn.execute(stmt).scalar_one())

    def update_media(self, media_id: int, expected_version: int, **changes: Any) -> MediaItem:
        """Change fields of a live item that is still at *expected_version*.

        A new ``content`` gets a new hash and a new document version; ``keywords``
        replaces the item's keywords. Raises :class:`VersionConflict` when the item
        moved on, :class:`NotFound` when it is absent or deleted.
        """
        check_fields("media", changes, MEDIA_CHANGEABLE)
        words = changes.pop("keywords", None)
        values = self._validated_changes(changes)
        with self.database.begin(write=True) as conn:
            if "url" in values:
                self._check_url_free(conn, values["url"], media_id)
            self._update(conn, media_id, values, expected_version=expected_version)
            if "content" in values:
                self.versions.insert(conn, media_id, values["content"])
            if words is not None:
                self.tags.replace(conn, media_id, clean_keywords("media", words))
            item = self._load(conn, media_id, include_deleted=False)
        content_changed(self.database)
        return item

    def soft_delete(self, media_id: int, expected_version: int | None = None) -> int:
        """Mark the item deleted (logged as a 'delete' in sync_log); return its new version."""
        with self.database.begin(write=True) as conn:
            return self._update(
                conn, media_id, {"deleted": True}, expected_version=expected_version
            )

    def restore(self, media_id: int) -> MediaItem:
        """Bring a soft-deleted item back; restoring a live item changes nothing."""
        with self.database.begin(write=True) as conn:
            item = self._load(conn, media_id, include_deleted=True)
            if item.deleted:
                self._update(conn, media_id, {"deleted": False}, live_only=False)
            return self._load(conn, media_id, include_deleted=False)

    def trash(self, media_id: int) -> MediaItem:
        """Move a live item to the trash: kept and gettable, but hidden from lists and search."""
        return self._set_trash(media_id, True)

    def untrash(self, media_id: int) -> MediaItem:
        return self._set_trash(media_id, False)

    def _set_trash(self, media_id: int, trashed: bool) -> MediaItem:
        with self.database.begin(write=True) as conn:
            item = self._load(conn, media_id, include_deleted=False)
            if item.is_trash != trashed:
                values = {"is_trash": trashed, "trash_date": now() if trashed else None}
                self._update(conn, media_id, values)
            return self._load(conn, media_id, include_deleted=False)

    # -- search ------------------------------------------------------------------------------

    def search_media(self, query: str, limit: int = 20, offset: int = 0) -> list[SearchHit]:
        """Live, untrashed items matching *query* (FTS5 syntax); title matches first."""
        return search_hits(
            self.database, self.t.media, "media_fts", query, limit=limit, offset=offset
        )

    # -- keywords ------------------------------------------------------------------------------

    def add_keyword(self, keyword: str) -> int:
        """The id of *keyword* (NOCASE, as SQLite compares), created if needed."""
        return self.tags.add(keyword)

    def set_keywords(self, media_id: int, keywords: Iterable[str]) -> list[str]:
        """Replace the item's keywords; return them as stored (first spelling wins)."""
        return self.tags.set(media_id, keywords)

    def list_keywords(self) -> list[str]:
        """Every live keyword, sorted case-insensitively."""
        return self.tags.names()

    def media_with_keyword(self, keyword: str) -> list[int]:
        """Ids of live items tagged *keyword* (NOCASE match)."""
        return self.tags.owners_with(keyword)

    # -- chunks ---------------------------------------------------------------------------------

    def list_chunks(self, media_id: int) -> list[Chunk]:
        """The item's chunks in document order."""
        rows = self.children_of(media_id, self.t.chunks, self.t.chunks.c.id)
        return [record_from_row(Chunk, row, text=row.chunk_text) for row in rows]

    def children_of(self, media_id: int, table: Any, *order: Any) -> list[AnyRow]:
        """The live rows of *table* (chunks, claims, ...) that belong to the live item."""
        stmt = (
            select(table)
            .where(table.c.media_id == media_id, is_false(table.c.deleted))
            .order_by(*order)
        )
        with self.database.begin(write=False) as conn:
            require_live(conn, self.t.media, media_id)
            return list(conn.execute(stmt))

    def _insert_chunks(
        self, conn: Connection, media_id: int, media_uuid: str, spans: Sequence[ChunkSpan]
    ) -> None:
        if not spans:
            return
        rows = [
            {
                "media_id": media_id,
                "chunk_text": span.text,
                "start_index": span.start,
                "end_index": span.end,
                "chunk_id": f"{media_uuid}_{number}",
                **self.new_sync(),
            }
            for number, span in enumerate(spans)
        ]
        conn.execute(insert(self.t.chunks), rows)

    # -- helpers --------------------------------------------------------------------------------

    def _update(
        self, conn: Connection, media_id: int, values: dict[str, Any], **check: Unpack[VersionCheck]
    ) -> int:
        """Change the item as this store's client (the version rule, see
        :func:`._common.update_versioned`); return its new version."""
        return update_versioned(
            conn, self.t.media, media_id, values, client_id=self.client_id, **check
        )

    def _load(self, conn: Connection, media_id: int, *, include_deleted: bool) -> MediaItem:
        row = load_row(conn, self.t.media, media_id, include_deleted=include_deleted)
        return _media_item(row, self.tags.of(conn, [media_id]).get(media_id, []))

    def listed(self) -> list[ColumnElement[bool]]:
        """The conditions of an item that lists and searches: live, and not in the trash."""
        media = self.t.media
        return [is_false(media.c.deleted), is_false(media.c.is_trash)]

    def _visible(self, stmt: Any, include_deleted: bool, include_trash: bool) -> Any:
        media = self.t.media
        if not include_deleted:
            stmt = stmt.where(is_false(media.c.deleted))
        if not include_trash:
            stmt = stmt.where(is_false(media.c.is_trash))
        return stmt

    def _check_url_free(
        self, conn: Connection, url: str | None, media_id: int | None = None
    ) -> None:
        """URLs are unique: say which item holds one instead of failing on the constraint."""
        if url is None:
            return
        media = self.t.media
        holder = conn.execute(select(media.c.id).where(media.c.url == url)).scalar_one_or_none()
        if holder is not None and holder != media_id:
            raise Taken("media", f"url {url!r} already belongs to media id {holder}")

    def _check_visibility(self, visibility: str | None) -> None:
        if visibility is not None and visibility not in VISIBILITIES:
            raise InvalidInput(
                "media",
                f"visibility {visibility!r} is invalid; choose one of {', '.join(VISIBILITIES)}",
            )

    def _validated_changes(self, changes: dict[str, Any]) -> dict[str, Any]:
        values = dict(changes)
        for name in ("title", "type"):
            if name in values:
                require_text("media", name, values[name])
        if "visibility" in values:
            self._check_visibility(values["visibility"])
        if "content" in values:
            if not isinstance(values["content"], str):
                raise InvalidInput("media", "content must be a string")
            values["content_hash"] = sha256_hex(values["content"])
        if "ingestion_date" in values:
            values["ingestion_date"] = to_instant(values["ingestion_date"])
        return values


def _media_item(row: AnyRow, keywords: list[str]) -> MediaItem:
    return record_from_row(MediaItem, row, keywords=keywords, created=row.ingestion_date)


__all__ = [
    "Chunk",
    "Claim",
    "ClaimHit",
    "DocumentVersion",
    "MediaItem",
    "MediaStore",
    "NewClaim",
    "SearchHit",
    "Transcript",
]
