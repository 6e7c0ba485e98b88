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

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select

from ..backends.base import Database
from ..instants import to_instant
from ..schemas.types import is_false
from ._common import (
    AnyRow,
    check_fields,
    check_paging,
    new_uuid,
    now,
    order_clauses,
    require_live,
    require_text,
    sha256_hex,
    update_versioned,
)
from .changes import content_changed
from .chunking import DEFAULT_CHUNKS, ChunkSpan, locate_chunks, split_content
from .errors import InvalidInput, NotFound, Taken
from .keywords import KeywordTags, clean_keywords
from .search_hits import SearchHit, search_hits, search_rows

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


@dataclass(frozen=True)
class MediaItem:
    id: int
    uuid: str
    version: int
    title: str
    content: str | None
    type: str
    author: str | None
    url: str | None
    keywords: list[str]
    created: datetime | None
    last_modified: datetime
    deleted: bool
    is_trash: bool
    trash_date: datetime | None
    content_hash: str
    client_id: str
    chunking_status: str
    transcription_model: str | None
    visibility: str | None
    owner_user_id: int | None


@dataclass(frozen=True)
class Chunk:
    id: int
    media_id: int
    chunk_id: str | None
    text: str
    start_index: int | None
    end_index: int | None
    uuid: str
    version: int


@dataclass(frozen=True)
class NewClaim:
    """A claim to store; ``chunk_index`` names the chunk it was extracted from."""

    claim_text: str
    chunk_index: int = 0
    span_start: int | None = None
    span_end: int | None = None
    confidence: float | None = None
    extractor: str = "manual"
    extractor_version: str = "1"


@dataclass(frozen=True)
class Claim:
    id: int
    media_id: int
    chunk_index: int
    claim_text: str
    span_start: int | None
    span_end: int | None
    confidence: float | None
    extractor: str
    extractor_version: str
    chunk_hash: str
    created_at: datetime | None
    uuid: str
    version: int


@dataclass(frozen=True)
class ClaimHit:
    id: int
    media_id: int
    claim_text: str
    rank: float


@dataclass(frozen=True)
class DocumentVersion:
    id: int
    media_id: int
    version_number: int
    content: str
    prompt: str | None
    analysis_content: str | None
    safe_metadata: Any
    created_at: datetime | None
    uuid: str
    version: int


@dataclass(frozen=True)
class Transcript:
    id: int
    media_id: int
    transcription: str | None
    whisper_model: str | None
    created_at: datetime | None
    uuid: str
    version: int


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
        if database.schema.name != "media":
            raise InvalidInput(
                "media", f"MediaStore needs a Media database, got {database.schema.title}"
            )
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
            new_row=self._new_sync,
            client_id=client_id,
        )

    # -- sync columns for new rows ---------------------------------------------------------

    def _new_sync(self) -> dict[str, Any]:
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
            sync = self._new_sync()
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
            self._insert_version(conn, media_id, content)
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
        check_paging("media", limit, offset)
        media = self.t.media
        stmt = self._visible(select(media), include_deleted, include_trash)
        stmt = (
            stmt.order_by(*order_clauses(media, order, MEDIA_SORT_KEYS)).limit(limit).offset(offset)
        )
        with self.database.begin(write=False) as conn:
            rows = conn.execute(stmt).all()
            words = self.tags.of(conn, [row.id for row in rows])
        return [_media_item(row, words.get(row.id, [])) for row in rows]

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
            update_versioned(
                conn,
                self.t.media,
                media_id,
                values,
                client_id=self.client_id,
                expected_version=expected_version,
            )
            if "content" in values:
                self._insert_version(conn, media_id, values["content"])
            if words is not None:
                self.tags.replace(conn, media_id, clean_keywords("media", words))
            item = self._load(conn, media_id, include_deleted=False)
        content_changed(self.database)
        return item

    def soft_delete(self, media_id: int, expected_version: int | None = None) -> int:
        """Mark the item deleted (logged as a 'delete' in sync_log); return its new version."""
        with self.database.begin(write=True) as conn:
            return update_versioned(
                conn,
                self.t.media,
                media_id,
                {"deleted": True},
                client_id=self.client_id,
                expected_version=expected_version,
            )

    def restore(self, media_id: int) -> MediaItem:
        """Bring a soft-deleted item back; restoring a live item changes nothing."""
        with self.database.begin(write=True) as conn:
            item = self._load(conn, media_id, include_deleted=True)
            if item.deleted:
                update_versioned(
                    conn,
                    self.t.media,
                    media_id,
                    {"deleted": False},
                    client_id=self.client_id,
                    live_only=False,
                )
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
                update_versioned(conn, self.t.media, media_id, values, client_id=self.client_id)
            return self._load(conn, media_id, include_deleted=False)

    # -- search ------------------------------------------------------------------------------

    def search_media(self, query: str, limit: int = 20, offset: int = 0) -> list[SearchHit]:
        """Live, untrashed items matching *query* (FTS5 syntax); title matches first."""
        check_paging("media", limit, offset)
        with self.database.begin(write=False) as conn:
            return search_hits(
                conn,
                self.database,
                self.t.media,
                "media_fts",
                query,
                title="title",
                text="content",
                limit=limit,
                offset=offset,
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
        chunks = self.t.chunks
        stmt = (
            select(chunks)
            .where(chunks.c.media_id == media_id, is_false(chunks.c.deleted))
            .order_by(chunks.c.id)
        )
        with self.database.begin(write=False) as conn:
            require_live(conn, self.t.media, media_id)
            return [_chunk(row) for row in conn.execute(stmt)]

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
                **self._new_sync(),
            }
            for number, span in enumerate(spans)
        ]
        conn.execute(insert(self.t.chunks), rows)

    # -- claims ---------------------------------------------------------------------------------

    def add_claims(
        self, media_id: int, claims: Sequence[str | NewClaim | Mapping[str, Any]]
    ) -> list[Claim]:
        """Store claims extracted from the item; ``chunk_hash`` ties each to its chunk's text."""
        wanted = [_as_new_claim(c) for c in claims]
        if not wanted:
            return []
        with self.database.begin(write=True) as conn:
            require_live(conn, self.t.media, media_id)
            chunk_texts = self._chunk_texts(conn, media_id)
            ids = []
            for claim in wanted:
                basis = chunk_texts.get(claim.chunk_index, claim.claim_text)
                ids.append(
                    conn.execute(
                        insert(self.t.claims)
                        .values(
                            media_id=media_id,
                            chunk_index=claim.chunk_index,
                            span_start=claim.span_start,
                            span_end=claim.span_end,
                            claim_text=claim.claim_text,
                            confidence=claim.confidence,
                            extractor=claim.extractor,
                            extractor_version=claim.extractor_version,
                            chunk_hash=sha256_hex(basis),
                            created_at=now(),
                            **self._new_sync(),
                        )
                        .returning(self.t.claims.c.id)
                    ).scalar_one()
                )
            rows = conn.execute(
                select(self.t.claims)
                .where(self.t.claims.c.id.in_(ids))
                .order_by(self.t.claims.c.id)
            )
            return [_claim(row) for row in rows]

    def list_claims(self, media_id: int) -> list[Claim]:
        claims = self.t.claims
        stmt = (
            select(claims)
            .where(claims.c.media_id == media_id, is_false(claims.c.deleted))
            .order_by(claims.c.chunk_index, claims.c.id)
        )
        with self.database.begin(write=False) as conn:
            require_live(conn, self.t.media, media_id)
            return [_claim(row) for row in conn.execute(stmt)]

    def search_claims(
        self, query: str, limit: int = 20, offset: int = 0, *, media_id: int | None = None
    ) -> list[ClaimHit]:
        """Live claims of live, untrashed items matching *query*, best first."""
        check_paging("claims", limit, offset)
        claims, media = self.t.claims, self.t.media
        live_media = select(media.c.id).where(is_false(media.c.deleted), is_false(media.c.is_trash))
        where = [claims.c.media_id.in_(live_media)]
        if media_id is not None:
            where.append(claims.c.media_id == media_id)
        with self.database.begin(write=False) as conn:
            matches = search_rows(
                conn,
                self.database,
                claims,
                "claims_fts",
                query,
                ("media_id", "claim_text"),
                limit=limit,
                offset=offset,
                where=where,
            )
        return [ClaimHit(m.row.id, int(m.row.media_id), m.row.claim_text, m.rank) for m in matches]

    def _chunk_texts(self, conn: Connection, media_id: int) -> dict[int, str]:
        chunks = self.t.chunks
        texts = conn.execute(
            select(chunks.c.chunk_text)
            .where(chunks.c.media_id == media_id, is_false(chunks.c.deleted))
            .order_by(chunks.c.id)
        ).scalars()
        return dict(enumerate(texts))

    # -- document versions ----------------------------------------------------------------------

    def add_document_version(
        self,
        media_id: int,
        content: str,
        *,
        prompt: str | None = None,
        analysis_content: str | None = None,
        safe_metadata: Any = None,
    ) -> DocumentVersion:
        """Record a new version of the item's document (numbered after the last one)."""
        require_text("documentversions", "content", content)
        with self.database.begin(write=True) as conn:
            require_live(conn, self.t.media, media_id)
            version_id = self._insert_version(
                conn, media_id, content, prompt, analysis_content, safe_metadata
            )
            row = conn.execute(
                select(self.t.versions).where(self.t.versions.c.id == version_id)
            ).one()
            return _document_version(row)

    def list_document_versions(self, media_id: int) -> list[DocumentVersion]:
        versions = self.t.versions
        stmt = (
            select(versions)
            .where(versions.c.media_id == media_id, is_false(versions.c.deleted))
            .order_by(versions.c.version_number)
        )
        with self.database.begin(write=False) as conn:
            require_live(conn, self.t.media, media_id)
            return [_document_version(row) for row in conn.execute(stmt)]

    def get_document_version(self, media_id: int, version_number: int) -> DocumentVersion:
        versions = self.t.versions
        stmt = select(versions).where(
            versions.c.media_id == media_id,
            versions.c.version_number == version_number,
            is_false(versions.c.deleted),
        )
        with self.database.begin(write=False) as conn:
            require_live(conn, self.t.media, media_id)
            row = conn.execute(stmt).one_or_none()
        if row is None:
            raise NotFound("documentversions", (media_id, version_number))
        return _document_version(row)

    def _insert_version(
        self,
        conn: Connection,
        media_id: int,
        content: str,
        prompt: str | None = None,
        analysis_content: str | None = None,
        safe_metadata: Any = None,
    ) -> int:
        versions = self.t.versions
        last = conn.execute(
            select(func.max(versions.c.version_number)).where(versions.c.media_id == media_id)
        ).scalar_one()
        sync = self._new_sync()
        return int(
            conn.execute(
                insert(versions)
                .values(
                    media_id=media_id,
                    version_number=int(last or 0) + 1,
                    prompt=prompt,
                    analysis_content=analysis_content,
                    safe_metadata=safe_metadata,
                    content=content,
                    created_at=sync["last_modified"],
                    **sync,
                )
                .returning(versions.c.id)
            ).scalar_one()
        )

    # -- transcripts ----------------------------------------------------------------------------

    def add_transcript(
        self,
        media_id: int,
        transcription: str,
        whisper_model: str | None = None,
        *,
        created_at: datetime | None = None,
    ) -> Transcript:
        transcripts = self.t.transcripts
        with self.database.begin(write=True) as conn:
            require_live(conn, self.t.media, media_id)
            sync = self._new_sync()
            row = conn.execute(
                insert(transcripts)
                .values(
                    media_id=media_id,
                    transcription=transcription,
                    whisper_model=whisper_model,
                    created_at=created_at or sync["last_modified"],
                    **sync,
                )
                .returning(*transcripts.c)
            ).one()
            return _transcript(row)

    def list_transcripts(self, media_id: int) -> list[Transcript]:
        transcripts = self.t.transcripts
        stmt = (
            select(transcripts)
            .where(transcripts.c.media_id == media_id, is_false(transcripts.c.deleted))
            .order_by(transcripts.c.created_at, transcripts.c.id)
        )
        with self.database.begin(write=False) as conn:
            require_live(conn, self.t.media, media_id)
            return [_transcript(row) for row in conn.execute(stmt)]

    # -- helpers --------------------------------------------------------------------------------

    def _load(self, conn: Connection, media_id: int, *, include_deleted: bool) -> MediaItem:
        media = self.t.media
        row = conn.execute(select(media).where(media.c.id == media_id)).one_or_none()
        if row is None or (row.deleted and not include_deleted):
            raise NotFound("media", media_id, "it is deleted" if row is not None else "")
        return _media_item(row, self.tags.of(conn, [media_id]).get(media_id, []))

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


# -- row mapping ------------------------------------------------------------------------------


def _media_item(row: AnyRow, keywords: list[str]) -> MediaItem:
    return MediaItem(
        id=int(row.id),
        uuid=row.uuid,
        version=int(row.version),
        title=row.title,
        content=row.content,
        type=row.type,
        author=row.author,
        url=row.url,
        keywords=keywords,
        created=row.ingestion_date,
        last_modified=row.last_modified,
        deleted=bool(row.deleted),
        is_trash=bool(row.is_trash),
        trash_date=row.trash_date,
        content_hash=row.content_hash,
        client_id=row.client_id,
        chunking_status=row.chunking_status,
        transcription_model=row.transcription_model,
        visibility=row.visibility,
        owner_user_id=row.owner_user_id,
    )


def _chunk(row: AnyRow) -> Chunk:
    return Chunk(
        id=int(row.id),
        media_id=int(row.media_id),
        chunk_id=row.chunk_id,
        text=row.chunk_text,
        start_index=row.start_index,
        end_index=row.end_index,
        uuid=row.uuid,
        version=int(row.version),
    )


def _claim(row: AnyRow) -> Claim:
    return Claim(
        id=int(row.id),
        media_id=int(row.media_id),
        chunk_index=int(row.chunk_index),
        claim_text=row.claim_text,
        span_start=row.span_start,
        span_end=row.span_end,
        confidence=row.confidence,
        extractor=row.extractor,
        extractor_version=row.extractor_version,
        chunk_hash=row.chunk_hash,
        created_at=row.created_at,
        uuid=row.uuid,
        version=int(row.version),
    )


def _document_version(row: AnyRow) -> DocumentVersion:
    return DocumentVersion(
        id=int(row.id),
        media_id=int(row.media_id),
        version_number=int(row.version_number),
        content=row.content,
        prompt=row.prompt,
        analysis_content=row.analysis_content,
        safe_metadata=row.safe_metadata,
        created_at=row.created_at,
        uuid=row.uuid,
        version=int(row.version),
    )


def _transcript(row: AnyRow) -> Transcript:
    return Transcript(
        id=int(row.id),
        media_id=int(row.media_id),
        transcription=row.transcription,
        whisper_model=row.whisper_model,
        created_at=row.created_at,
        uuid=row.uuid,
        version=int(row.version),
    )


def _as_new_claim(claim: str | NewClaim | Mapping[str, Any]) -> NewClaim:
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
