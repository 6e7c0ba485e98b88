"""The shapes of the media routes: tldw_server's, so its clients read ours unchanged.

Field names, nesting and defaults follow the public tldw_server contract
(``MediaListResponse``, ``MediaDetailResponse``, ``VersionDetailResponse``...).
The builders at the bottom turn store rows into these shapes in one place.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from ...core.DB_Management.stores import DocumentVersion, MediaItem
from ...core.DB_Management.stores.media_keyword_modes import KEYWORD_MODES
from ...core.DB_Management.stores.media_search import INDEXED_FIELDS, SEARCH_FIELDS, SEARCH_SORTS
from ...core.text import JsonObject
from ..deps import Instant, IsoInstant, Keywords, Name, QueryText, SafeStr, StrictModel
from ..updates import NotNull

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
Prompt = Annotated[SafeStr, Field(max_length=100_000)]
Analysis = Annotated[SafeStr, Field(max_length=5_000_000)]

#: Largest page number: with the largest page size the offset stays within what stores take.
MAX_PAGE = 1_000_000


def item_url(media_id: int) -> str:
    """Where the full item is: list entries point at it, as tldw_server's do."""
    return f"/api/v1/media/{media_id}"


# -- pages -----------------------------------------------------------------------------------


class Pagination(BaseModel):
    """Page-number pagination: the canonical fields and the older media aliases."""

    mode: Literal["page"] = "page"
    page: int
    per_page: int
    total: int
    total_pages: int
    has_more: bool
    results_per_page: int = Field(description="the same as per_page (older clients read it)")
    total_items: int = Field(description="the same as total (older clients read it)")


def pagination(page: int, per_page: int, total: int) -> Pagination:
    pages = (total + per_page - 1) // per_page
    return Pagination(
        page=page,
        per_page=per_page,
        total=total,
        total_pages=pages,
        has_more=page < pages,
        results_per_page=per_page,
        total_items=total,
    )


class MediaListItem(BaseModel):
    id: int
    title: str
    type: str
    url: str = Field(description="the API path of the full item")
    keywords: list[str] | None = Field(None, description="with include_keywords=true only")


class TrashListItem(MediaListItem):
    deleted_at: Instant | None = Field(None, description="when the item went to the trash")


class MediaList(BaseModel):
    items: list[MediaListItem]
    pagination: Pagination
    keywords_available: bool | None = Field(None, description="with include_keywords=true only")


class TrashList(BaseModel):
    items: list[TrashListItem]
    pagination: Pagination
    keywords_available: bool | None = Field(None, description="with include_keywords=true only")


class SearchList(BaseModel):
    items: list[MediaListItem]
    results: list[MediaListItem] = Field(description="the same list as items (older clients)")
    pagination: Pagination


# -- one item --------------------------------------------------------------------------------


class MediaSource(BaseModel):
    url: str | None
    title: str
    duration: float | str | None = None
    type: str


class MediaProcessing(BaseModel):
    prompt: str | None
    analysis: str | None
    safe_metadata: dict[str, Any] | None
    model: str | None
    timestamp_option: bool | None = None
    chunking_status: str | None
    vector_processing_status: int | None = None


class MediaContent(BaseModel):
    metadata: dict[str, Any]
    text: str
    word_count: int


class VersionDetail(BaseModel):
    uuid: str | None
    media_id: int
    version_number: int
    created_at: Instant | None
    prompt: str | None = None
    analysis_content: str | None = None
    safe_metadata: dict[str, Any] | None = None
    content: str | None = Field(None, description="only when asked for")


class MediaDetail(BaseModel):
    media_id: int
    source: MediaSource
    processing: MediaProcessing
    content: MediaContent
    keywords: list[str]
    timestamps: list[str]
    versions: list[VersionDetail]
    has_original_file: bool = False
    original_file_url: str | None = None


def version_detail(made: DocumentVersion, *, with_content: bool) -> VersionDetail:
    metadata = made.safe_metadata if isinstance(made.safe_metadata, dict) else None
    shown = {"safe_metadata": metadata, "content": made.content if with_content else None}
    return VersionDetail.model_validate(vars(made) | shown)


def media_detail(
    item: MediaItem,
    versions: list[DocumentVersion],
    *,
    include_content: bool = True,
    include_versions: bool = True,
    include_version_content: bool = False,
) -> MediaDetail:
    """The item as tldw_server describes one: prompt and analysis are the latest version's."""
    latest = versions[-1] if versions else None
    text = item.content or ""
    metadata: dict[str, Any] = {"author": item.author} if item.author else {}
    return MediaDetail(
        media_id=item.id,
        source=MediaSource(url=item.url, title=item.title, type=item.type),
        processing=MediaProcessing(
            prompt=latest.prompt if latest else None,
            analysis=latest.analysis_content if latest else None,
            safe_metadata=version_detail(latest, with_content=False).safe_metadata
            if latest
            else None,
            model=item.transcription_model,
            chunking_status=item.chunking_status,
        ),
        content=MediaContent(
            metadata=metadata,
            text=text if include_content else "",
            word_count=len(text.split()),
        ),
        keywords=item.keywords,
        timestamps=[],
        versions=[version_detail(v, with_content=include_version_content) for v in versions]
        if include_versions
        else [],
    )


# -- request bodies ----------------------------------------------------------------------------


class MediaUpdate(StrictModel):
    """A PUT: any of these fields; new content makes a new document version."""

    title: Name | NotNull = None
    author: Name | None = None
    type: MediaType | NotNull = None
    content: SafeStr | NotNull = None
    prompt: Prompt | None = Field(None, description="recorded with the new content's version")
    analysis: Analysis | None = Field(None, description="recorded with the new content's version")
    keywords: Keywords | NotNull = None


class KeywordsEdit(StrictModel):
    keywords: Keywords
    mode: Literal[KEYWORD_MODES] = "add"  # type: ignore[valid-type]


class MediaKeywords(BaseModel):
    media_id: int
    keywords: list[str]


class KeywordSuggestions(BaseModel):
    keywords: list[str]


#: A name in ``fields`` or ``sort_by``: any text, as tldw_server takes any (see SearchBody).
SearchName = Annotated[str, Field(max_length=100)]
#: The order an unknown ``sort_by`` gets: tldw_server's own default, newest change first.
FALLBACK_SORT = "last_modified_desc"
#: Boosts are clamped to this range, as tldw_server clamps them.
BOOST_RANGE = (0.05, 50.0)
SearchDates = dict[Annotated[str, Field(max_length=100)], IsoInstant]
Boosts = dict[Annotated[str, Field(max_length=100)], Annotated[float, Field(allow_inf_nan=False)]]


class SearchBody(StrictModel):
    """POST /media/search: what tldw_server's clients send (unknown fields are refused).

    Unknown names in ``fields`` and an unknown ``sort_by`` are no error, as in tldw_server.
    """

    query: QueryText | None = Field(
        None, description='our query language: words, "a phrase", prefix*, OR, -word'
    )
    fields: Annotated[list[SearchName], Field(max_length=100)] = Field(
        default_factory=lambda: list(INDEXED_FIELDS),
        description=(
            f"where to look for the query: any of {', '.join(SEARCH_FIELDS)} (an item matches "
            "when any of them matches); other names are ignored"
        ),
    )
    exact_phrase: QueryText | None = None
    media_types: Annotated[list[Name], Field(max_length=100)] | None = None
    must_have: Annotated[list[Name], Field(max_length=100)] | None = None
    must_not_have: Annotated[list[Name], Field(max_length=100)] | None = None
    sort_by: SearchName | None = Field(
        "relevance",
        description=(
            f"one of {', '.join(SEARCH_SORTS)}: relevance (title matches first), by ingestion "
            f"date, title or last change; any other value sorts as {FALLBACK_SORT}"
        ),
    )
    date_range: SearchDates | None = Field(
        None,
        description=(
            "ingestion dates: start_date and end_date (ISO-8601, inclusive; an instant "
            "without a zone is UTC); other keys are ignored"
        ),
    )
    boost_fields: Boosts | None = Field(
        None,
        description=(
            "title and content weights in the relevance order (1 is the default; clamped to "
            f"{BOOST_RANGE[0]}-{BOOST_RANGE[1]}); other keys are ignored"
        ),
    )
    email_query_mode: Literal["legacy"] | None = None

    def searched_fields(self) -> list[str]:
        """The known names of ``fields``, the others dropped as tldw_server drops them.

        When none is left the query looks where it looks by default (title and content);
        tldw_server would then match every item, whatever the query.
        """
        known = [name for name in self.fields if name in SEARCH_FIELDS]
        return known or list(INDEXED_FIELDS)

    def order(self) -> str:
        """``sort_by`` when it is a known order (``relevance`` when absent), else the fallback."""
        if self.sort_by is None:
            return "relevance"
        return self.sort_by if self.sort_by in SEARCH_SORTS else FALLBACK_SORT

    def boosts(self) -> dict[str, float]:
        """The title and content boosts asked for, clamped."""
        low, high = BOOST_RANGE
        asked = self.boost_fields or {}
        return {f: min(high, max(low, asked[f])) for f in INDEXED_FIELDS if f in asked}


class VersionCreate(StrictModel):
    content: Annotated[SafeStr, Field(min_length=1)]
    prompt: Prompt
    analysis_content: Analysis
    safe_metadata: JsonObject | None = None
