"""Media items, their keywords, claims and document versions.

==================================================  ============================================
``POST   /api/v1/media``                             store an item (201: id, uuid, version, ...)
``GET    /api/v1/media``                             list (``limit``, ``offset``, ``sort``)
``GET    /api/v1/media/search?q=``                   full-text search (recorded in analytics)
``GET    /api/v1/media/{id}``                        one item
``PUT    /api/v1/media/{id}``                        change it; ``version`` required (409 if stale)
``DELETE /api/v1/media/{id}``                        soft delete (``?version=`` optional)
``POST   /api/v1/media/{id}/restore``                undo a delete
``GET|PUT /api/v1/media/{id}/keywords``              the item's keywords
``GET    /api/v1/keywords``                          every keyword in use
``GET|POST /api/v1/media/{id}/claims``               claims extracted from the item
``GET    /api/v1/claims/search?q=``                  full-text search over claims
``GET|POST /api/v1/media/{id}/versions``             document versions
``GET    /api/v1/media/{id}/versions/{number}``      one document version
==================================================  ============================================
"""

from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Response, status
from pydantic import BaseModel, Field

from ...core.DB_Management.stores import InvalidInput, MediaItem
from ...core.DB_Management.stores.media import MEDIA_SORT_KEYS
from ...core.text import JsonObject
from ..deps import (
    MAX_ID,
    MAX_JSON_INT,
    NOT_BLANK,
    Analytics,
    ExpectedVersion,
    Instant,
    IntId,
    Keywords,
    Limit,
    Media,
    Name,
    NotNull,
    Offset,
    SafeStr,
    SearchPage,
    SearchQuery,
    StrictModel,
    Versioned,
    recorded_search,
    search_page,
)

router = APIRouter(prefix="/api/v1", tags=["media"])

if TYPE_CHECKING:
    MediaSort = str
else:  # each sort key, ascending or with '-' descending, as an enum in the API schema
    MediaSort = Literal[tuple(k for key in MEDIA_SORT_KEYS for k in (key, f"-{key}"))]
Url = Annotated[SafeStr, Field(min_length=1, max_length=8192)]

#: The media types tldw writes; databases from earlier versions and other tools hold these too.
KNOWN_MEDIA_TYPES = (
    "article",
    "audio",
    "document",
    "ebook",
    "obsidian_note",
    "pdf",
    "podcast",
    "video",
    "web_page",
    "xml",
)
MEDIA_TYPE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9 _./+-]*$"
MediaType = Annotated[
    str,
    Field(
        min_length=1,
        max_length=1000,
        pattern=MEDIA_TYPE_PATTERN,
        description=(
            "what kind of media: one of "
            + ", ".join(KNOWN_MEDIA_TYPES)
            + "; any other label of ASCII letters, digits, space and _ . / + - (starting "
            "with a letter or digit) is kept as given, as existing databases hold some"
        ),
        examples=list(KNOWN_MEDIA_TYPES),
    ),
]


# -- models ---------------------------------------------------------------------------------


class MediaCreate(StrictModel):
    title: Name
    content: SafeStr
    type: MediaType
    author: Name | None = None
    url: Url | None = None
    keywords: Keywords = Field(default_factory=list)


class MediaUpdate(Versioned):
    title: Name | NotNull = None
    content: SafeStr | NotNull = None
    type: MediaType | NotNull = None
    author: Name | None = None
    url: Url | None = None
    keywords: Keywords | NotNull = None


class MediaSummary(BaseModel):
    id: int
    uuid: str
    version: int
    title: str
    type: str = Field(description="the media type (see the type of a created item)")
    author: str | None
    url: str | None
    keywords: list[str]
    created: Instant | None
    last_modified: Instant
    is_trash: bool
    content_hash: str


class MediaOut(MediaSummary):
    content: str | None
    deleted: bool
    trash_date: Instant | None
    chunking_status: str
    transcription_model: str | None
    visibility: str | None
    client_id: str


class MediaList(BaseModel):
    items: list[MediaSummary]
    total: int
    limit: int
    offset: int


class Deleted(BaseModel):
    id: int
    deleted: bool = True
    version: int


class KeywordsBody(StrictModel):
    keywords: Keywords


class MediaKeywords(BaseModel):
    media_id: int
    keywords: list[str]


class KeywordList(BaseModel):
    keywords: list[str]
    total: int
    limit: int
    offset: int


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


class ClaimHitOut(BaseModel):
    id: int
    media_id: int
    claim_text: str
    rank: float


class ClaimSearch(BaseModel):
    query: str
    results: list[ClaimHitOut]
    limit: int
    offset: int


class VersionIn(StrictModel):
    content: Annotated[SafeStr, Field(min_length=1)]
    prompt: SafeStr | None = None
    analysis_content: SafeStr | None = None
    safe_metadata: JsonObject | None = None


class VersionOut(BaseModel):
    id: int
    uuid: str
    version: int
    media_id: int
    version_number: int
    content: str
    prompt: str | None
    analysis_content: str | None
    safe_metadata: Any
    created_at: Instant | None


class VersionList(BaseModel):
    media_id: int
    versions: list[VersionOut]


def _out(item: MediaItem) -> MediaOut:
    return MediaOut.model_validate(item, from_attributes=True)


# -- items ------------------------------------------------------------------------------------


@router.post("/media", status_code=status.HTTP_201_CREATED, response_model=MediaOut)
def create_media(body: MediaCreate, store: Media, response: Response) -> MediaOut:
    item = store.add_media(
        body.title, body.content, body.type, body.author, body.url, body.keywords
    )
    response.headers["Location"] = f"/api/v1/media/{item.id}"
    return _out(item)


@router.get("/media", response_model=MediaList)
def list_media(
    store: Media,
    limit: Limit = 50,
    offset: Offset = 0,
    sort: Annotated[MediaSort, Query(description="a column; '-' prefix for descending")] = "id",
) -> MediaList:
    items = store.list_media(limit=limit, offset=offset, order=sort)
    return MediaList(
        items=[MediaSummary.model_validate(i, from_attributes=True) for i in items],
        total=store.count_media(),
        limit=limit,
        offset=offset,
    )


@router.get("/media/search", response_model=SearchPage)
def search_media(
    q: SearchQuery, store: Media, analytics: Analytics, limit: Limit = 20, offset: Offset = 0
) -> SearchPage:
    hits = recorded_search(
        analytics, "media", q, lambda: store.search_media(q, limit=limit, offset=offset)
    )
    return search_page(q, hits, limit, offset)


@router.get("/media/{media_id}", response_model=MediaOut)
def get_media(media_id: IntId, store: Media) -> MediaOut:
    return _out(store.get_media(media_id))


@router.put("/media/{media_id}", response_model=MediaOut)
def update_media(media_id: IntId, body: MediaUpdate, store: Media) -> MediaOut:
    changes = body.model_dump(exclude_unset=True, exclude={"version"})
    for required in ("title", "type", "content", "keywords"):
        if required in changes and changes[required] is None:
            raise _invalid(f"{required} cannot be null")
    if not changes:
        raise _invalid("nothing to change: give at least one field besides version")
    return _out(store.update_media(media_id, body.version, **changes))


@router.delete("/media/{media_id}", response_model=Deleted)
def delete_media(media_id: IntId, store: Media, version: ExpectedVersion = None) -> Deleted:
    return Deleted(id=media_id, version=store.soft_delete(media_id, expected_version=version))


@router.post("/media/{media_id}/restore", response_model=MediaOut)
def restore_media(media_id: IntId, store: Media) -> MediaOut:
    return _out(store.restore(media_id))


# -- keywords ----------------------------------------------------------------------------------


@router.get("/media/{media_id}/keywords", response_model=MediaKeywords)
def get_media_keywords(media_id: IntId, store: Media) -> MediaKeywords:
    return MediaKeywords(media_id=media_id, keywords=store.get_media(media_id).keywords)


@router.put("/media/{media_id}/keywords", response_model=MediaKeywords)
def set_media_keywords(media_id: IntId, body: KeywordsBody, store: Media) -> MediaKeywords:
    return MediaKeywords(media_id=media_id, keywords=store.set_keywords(media_id, body.keywords))


@router.get("/keywords", response_model=KeywordList)
def list_keywords(store: Media, limit: Limit = 1000, offset: Offset = 0) -> KeywordList:
    words = store.list_keywords()
    return KeywordList(
        keywords=words[offset : offset + limit], total=len(words), limit=limit, offset=offset
    )


# -- claims --------------------------------------------------------------------------------------


@router.get("/media/{media_id}/claims", response_model=ClaimList)
def list_claims(media_id: IntId, store: Media) -> ClaimList:
    claims = store.list_claims(media_id)
    return ClaimList(
        media_id=media_id,
        claims=[ClaimOut.model_validate(c, from_attributes=True) for c in claims],
    )


@router.post("/media/{media_id}/claims", status_code=status.HTTP_201_CREATED)
def add_claims(media_id: IntId, body: ClaimsBody, store: Media) -> ClaimList:
    claims = store.add_claims(media_id, [c.model_dump() for c in body.claims])
    return ClaimList(
        media_id=media_id,
        claims=[ClaimOut.model_validate(c, from_attributes=True) for c in claims],
    )


@router.get("/claims/search", response_model=ClaimSearch)
def search_claims(
    q: SearchQuery,
    store: Media,
    analytics: Analytics,
    media_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    limit: Limit = 20,
    offset: Offset = 0,
) -> ClaimSearch:
    hits = recorded_search(
        analytics,
        "claims",
        q,
        lambda: store.search_claims(q, limit=limit, offset=offset, media_id=media_id),
    )
    return ClaimSearch(
        query=q,
        results=[ClaimHitOut.model_validate(h, from_attributes=True) for h in hits],
        limit=limit,
        offset=offset,
    )


# -- document versions ----------------------------------------------------------------------------


@router.get("/media/{media_id}/versions", response_model=VersionList)
def list_versions(media_id: IntId, store: Media) -> VersionList:
    versions = store.list_document_versions(media_id)
    return VersionList(
        media_id=media_id,
        versions=[VersionOut.model_validate(v, from_attributes=True) for v in versions],
    )


@router.post(
    "/media/{media_id}/versions", status_code=status.HTTP_201_CREATED, response_model=VersionOut
)
def add_version(media_id: IntId, body: VersionIn, store: Media) -> VersionOut:
    made = store.add_document_version(
        media_id,
        body.content,
        prompt=body.prompt,
        analysis_content=body.analysis_content,
        safe_metadata=body.safe_metadata,
    )
    return VersionOut.model_validate(made, from_attributes=True)


@router.get("/media/{media_id}/versions/{version_number}", response_model=VersionOut)
def get_version(
    media_id: IntId,
    version_number: Annotated[int, Path(ge=1, le=2**31 - 1)],
    store: Media,
) -> VersionOut:
    made = store.get_document_version(media_id, version_number)
    return VersionOut.model_validate(made, from_attributes=True)


def _invalid(message: str) -> InvalidInput:
    return InvalidInput("media", message)
