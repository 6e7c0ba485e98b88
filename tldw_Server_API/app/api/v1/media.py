"""Media items, their trash, keywords and document versions, as tldw_server serves them.

Paths, parameters and shapes are tldw_server's (its web frontend, browser
extension and scripts call them); docs/api.md marks each route.

===================================================  ==========================================
``GET    /api/v1/media[/]?page&results_per_page``     list: ``{items, pagination}``
``POST   /api/v1/media/add``                          multipart upload of text/Markdown/HTML files
``POST   /api/v1/media/search?page&results_per_page`` search: ``{items, results, pagination}``
``GET    /api/v1/media/keywords?query&limit``         ``{keywords: [...]}``
``GET    /api/v1/media/trash``                        trashed items: ``{items, pagination}``
``GET    /api/v1/media/{id}``                         one item (source, processing, content...)
``PUT    /api/v1/media/{id}``                         change it; new content makes a new version
``DELETE /api/v1/media/{id}``                         move it to the trash (204)
``POST   /api/v1/media/{id}/restore``                 take it out of the trash
``DELETE /api/v1/media/{id}/permanent``               delete a trashed item for good (204)
``PATCH  /api/v1/media/{id}/keywords``                ``{keywords, mode: add|remove|set}``
``GET    /api/v1/media/{id}/versions?page&limit``     a list of document versions
``POST   /api/v1/media/{id}/versions``                a new document version (201)
``GET    /api/v1/media/{id}/versions/{n}``            one document version
===================================================  ==========================================

Claims are in :mod:`.media_claims`, uploads in :mod:`.media_add`.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, NoReturn

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Response, status

from ...core.DB_Management.stores import InvalidInput, MediaItem, MediaStore, NotFound
from ...core.DB_Management.stores.media_keyword_modes import edit_keywords, find_keywords
from ...core.DB_Management.stores.media_search import MediaMatch, MediaQuery, search_page
from ...core.DB_Management.stores.media_trash import count_trash, list_trash, purge
from ...core.DB_Management.stores.media_version_analysis import annotate_version
from ..deps import MAX_LIMIT, Analytics, IntId, Media, recorded_search
from ..updates import null_field
from .media_add import router as add_router
from .media_claims import router as claims_router
from .media_models import (
    MAX_PAGE,
    KeywordsEdit,
    KeywordSuggestions,
    MediaDetail,
    MediaKeywords,
    MediaList,
    MediaListItem,
    MediaUpdate,
    SearchBody,
    SearchList,
    TrashList,
    TrashListItem,
    VersionCreate,
    VersionDetail,
    item_url,
    media_detail,
    pagination,
    version_detail,
)

router = APIRouter(prefix="/api/v1", tags=["media"])
# Static paths (/media/add, /media/search, /media/keywords, /media/trash) before /media/{id}.
router.include_router(add_router)
router.include_router(claims_router)

Page = Annotated[int, Query(ge=1, le=MAX_PAGE, description="page number, from 1")]
PerPage = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"items per page, 1-{MAX_LIMIT}")]
IncludeKeywords = Annotated[bool, Query(description="list each item's keywords")]


# -- lists -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ListQuery:
    """What a media list is asked for (the item list, the trash), and the parts of the answer
    that follow from it: the entries, the page, whether keywords are shown."""

    page: Page = 1
    results_per_page: PerPage = 10
    include_keywords: IncludeKeywords = False

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.results_per_page

    def entry(self, item: MediaItem) -> MediaListItem:
        return _list_item(item.id, item.title, item.type, item.keywords, self.include_keywords)

    def page_of(self, total: int) -> dict[str, Any]:
        """``pagination`` and ``keywords_available`` of a list of *total* items."""
        return {
            "pagination": pagination(self.page, self.results_per_page, total),
            "keywords_available": True if self.include_keywords else None,
        }


Listing = Annotated[ListQuery, Depends()]


@router.get("/media/", response_model=MediaList, response_model_exclude_none=True)
@router.get(
    "/media", response_model=MediaList, response_model_exclude_none=True, include_in_schema=False
)
def list_media(store: Media, listing: Listing) -> MediaList:
    """Live, untrashed items, most recently changed first."""
    items = store.list_media(
        limit=listing.results_per_page, offset=listing.offset, order="-last_modified"
    )
    entries = [listing.entry(i) for i in items]
    return MediaList(items=entries, **listing.page_of(store.count_media()))


@router.get("/media/trash", response_model=TrashList, response_model_exclude_none=True)
def list_media_trash(store: Media, listing: Listing) -> TrashList:
    """Trashed items, most recently trashed first."""
    items = list_trash(store, limit=listing.results_per_page, offset=listing.offset)
    return TrashList(
        items=[
            TrashListItem(**listing.entry(i).model_dump(), deleted_at=i.trash_date) for i in items
        ],
        **listing.page_of(count_trash(store)),
    )


@router.post("/media/search", response_model=SearchList, response_model_exclude_none=True)
def search_media(
    body: SearchBody,
    store: Media,
    analytics: Analytics,
    page: Page = 1,
    results_per_page: PerPage = 10,
) -> SearchList:
    """Full-text search (title matches first) with filters; without a query, a filtered list."""
    text = f'"{body.exact_phrase.strip()}"' if body.exact_phrase else (body.query or "").strip()
    dates = body.date_range or {}
    query = MediaQuery(
        text=text or None,
        fields=body.searched_fields(),
        media_types=body.media_types or (),
        must_have=body.must_have or (),
        must_not_have=body.must_not_have or (),
        start=dates.get("start_date"),
        end=dates.get("end_date"),
        boosts=body.boosts(),
        sort_by=body.order(),
    )
    offset = (page - 1) * results_per_page
    total = 0

    def run() -> list[MediaMatch]:
        nonlocal total
        hits, total = search_page(store, query, limit=results_per_page, offset=offset)
        return hits

    hits = recorded_search(analytics, "media", text, run) if text else run()
    items = [_list_item(h.id, h.title, h.type, [], False) for h in hits]
    return SearchList(
        items=items, results=items, pagination=pagination(page, results_per_page, total)
    )


@router.get("/media/keywords", response_model=KeywordSuggestions)
def list_media_keywords(
    store: Media,
    query: Annotated[str | None, Query(max_length=1000, description="part of a keyword")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
) -> KeywordSuggestions:
    """Keywords in use (containing *query*, any case), sorted."""
    return KeywordSuggestions(keywords=find_keywords(store, query, limit))


#: The static paths beside ``/media/{media_id}``, each with its one method. Any other method
#: on them is 405 (``Allow`` names the method), not a 422 calling "search" an invalid media id.
STATIC_PATHS = {
    "/media/add": "POST",
    "/media/search": "POST",
    "/media/keywords": "GET",
    "/media/trash": "GET",
}
ID_METHODS = ("GET", "PUT", "DELETE")


def _method_not_allowed(allowed: str) -> Callable[[], NoReturn]:
    def refuse() -> NoReturn:
        raise HTTPException(status.HTTP_405_METHOD_NOT_ALLOWED, headers={"Allow": allowed})

    return refuse


for _path, _allowed in STATIC_PATHS.items():
    router.add_api_route(
        _path,
        _method_not_allowed(_allowed),
        methods=[m for m in ID_METHODS if m != _allowed],
        response_model=None,
        include_in_schema=False,
    )


# -- one item ------------------------------------------------------------------------------------


@router.get("/media/{media_id}", response_model=MediaDetail)
def get_media(
    media_id: IntId,
    store: Media,
    include_content: bool = True,
    include_versions: bool = True,
    include_version_content: bool = False,
) -> MediaDetail:
    item = _live_item(store, media_id)
    return media_detail(
        item,
        store.versions.of_media(media_id),
        include_content=include_content,
        include_versions=include_versions,
        include_version_content=include_version_content,
    )


@router.put("/media/{media_id}", response_model=MediaDetail)
def update_media(media_id: IntId, body: MediaUpdate, store: Media) -> MediaDetail:
    """Change the fields given; ``content`` makes a new version carrying ``prompt``/``analysis``."""
    item = _live_item(store, media_id)
    refused = null_field(body)
    if refused is not None:
        raise _invalid(f"{refused} cannot be null")
    changes = body.model_dump(exclude_unset=True, exclude={"prompt", "analysis"})
    if changes:
        store.update_media(media_id, item.version, **changes)
    if "content" in changes and (body.prompt is not None or body.analysis is not None):
        newest = store.versions.of_media(media_id)[-1]
        annotate_version(
            store, media_id, newest.version_number, prompt=body.prompt, analysis=body.analysis
        )
    return media_detail(store.get_media(media_id), store.versions.of_media(media_id))


@router.delete("/media/{media_id}", status_code=status.HTTP_204_NO_CONTENT)
def trash_media(media_id: IntId, store: Media) -> Response:
    """Move the item to the trash (already there: nothing changes)."""
    store.trash(media_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/media/{media_id}/restore", response_model=MediaDetail)
def restore_media(media_id: IntId, store: Media) -> MediaDetail:
    """Take the item out of the trash; an item deleted by an earlier version of this API too."""
    try:
        item = store.get_media(media_id)
    except NotFound:
        item = store.restore(media_id)  # soft-deleted (the old DELETE): undelete it
    if item.is_trash:
        item = store.untrash(media_id)
    return media_detail(item, store.versions.of_media(media_id))


@router.delete(
    "/media/{media_id}/permanent",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={status.HTTP_409_CONFLICT: {"description": "the item is not in the trash"}},
)
def delete_media_permanently(media_id: IntId, store: Media) -> Response:
    """Delete a trashed item, its versions, chunks and claims; this cannot be undone."""
    purge(store, media_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.patch("/media/{media_id}/keywords", response_model=MediaKeywords)
def patch_media_keywords(media_id: IntId, body: KeywordsEdit, store: Media) -> MediaKeywords:
    _live_item(store, media_id)
    return MediaKeywords(
        media_id=media_id, keywords=edit_keywords(store, media_id, body.keywords, body.mode)
    )


# -- document versions ----------------------------------------------------------------------------


@router.get(
    "/media/{media_id}/versions",
    response_model=list[VersionDetail],
    response_model_exclude_none=True,
)
def list_versions(
    media_id: IntId,
    store: Media,
    include_content: bool = False,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 10,
    page: Page = 1,
) -> list[VersionDetail]:
    """The item's document versions, oldest first, one page of them."""
    _live_item(store, media_id)
    start = (page - 1) * limit
    versions = store.versions.of_media(media_id)[start : start + limit]
    return [version_detail(v, with_content=include_content) for v in versions]


@router.post(
    "/media/{media_id}/versions",
    status_code=status.HTTP_201_CREATED,
    response_model=MediaDetail,
)
def add_version(media_id: IntId, body: VersionCreate, store: Media) -> MediaDetail:
    """Record a new document version (the item's own content is unchanged)."""
    _live_item(store, media_id)
    store.versions.add(
        media_id,
        body.content,
        prompt=body.prompt,
        analysis_content=body.analysis_content,
        safe_metadata=body.safe_metadata,
    )
    return media_detail(store.get_media(media_id), store.versions.of_media(media_id))


@router.get(
    "/media/{media_id}/versions/{version_number}",
    response_model=VersionDetail,
    response_model_exclude_none=True,
)
def get_version(
    media_id: IntId,
    version_number: Annotated[int, Path(ge=1, le=2**31 - 1)],
    store: Media,
    include_content: bool = True,
) -> VersionDetail:
    _live_item(store, media_id)
    made = store.versions.get(media_id, version_number)
    return version_detail(made, with_content=include_content)


# -- helpers ---------------------------------------------------------------------------------


def _list_item(
    media_id: int, title: str, type: str, keywords: list[str], with_keywords: bool
) -> MediaListItem:
    return MediaListItem(
        id=media_id,
        title=title,
        type=type,
        url=item_url(media_id),
        keywords=keywords if with_keywords else None,
    )


def _live_item(store: MediaStore, media_id: int) -> MediaItem:
    """The item, if it is live and not in the trash (a trashed item is found by id only
    through the trash list, restore and permanent delete, as in tldw_server)."""
    item = store.get_media(media_id)
    if item.is_trash:
        raise NotFound("media", media_id, "it is in the trash")
    return item


def _invalid(message: str) -> InvalidInput:
    return InvalidInput("media", message)


__all__ = ["router"]
