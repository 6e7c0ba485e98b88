"""The Library pages: the signed-in user's media items.

The list searches with the API's own search (``stores.media_search.search_page``, the
function behind ``POST /api/v1/media/search``: phrases, ``prefix*``, ``OR``, ``-word``),
filtered by media type and keyword. Adding goes through ``add_file`` of
``POST /api/v1/media/add`` (pasted text is added as a ``.txt`` file would be). An edit
names the version it was opened at: the store refuses it if the item moved on since.
Deleting moves an item to the trash, where it can be restored or, after a confirmation,
deleted for good (``purge``, the function behind ``DELETE /api/v1/media/{id}/permanent``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request, Response, status

from ..api.deps import IntId, recorded_search
from ..api.sessions import Session
from ..api.v1.media_add import add_file
from ..api.v1.media_models import KNOWN_MEDIA_TYPES, MEDIA_TYPE_PATTERN
from ..core.DB_Management.stores import (
    Chunk,
    Claim,
    DocumentVersion,
    MediaItem,
    MediaStore,
    NotFound,
    StoreError,
)
from ..core.DB_Management.stores.errors import Conflict
from ..core.DB_Management.stores.media_keyword_modes import find_keywords
from ..core.DB_Management.stores.media_search import MediaMatch, MediaQuery, search_page
from ..core.DB_Management.stores.media_trash import count_trash, list_trash, purge
from ..core.text_files import READABLE_SUFFIXES
from .forms import Upload
from .guards import (
    FormSession,
    PageError,
    SignedIn,
    TextForm,
    TextFormSession,
    UploadForm,
    UploadSession,
)
from .pages import page_router, render
from .user_pages import (
    PAGE_SIZE,
    Filter,
    PageNumber,
    UserStores,
    confirm_page,
    form_page,
    keyword_list,
    list_page,
    not_found,
    offset_of,
    opened_version,
    refused,
    refused_page,
    search_list_page,
    see,
    text_field,
    user_stores,
)

router = page_router()

DEFAULT_TYPE = "document"


def _live(store: MediaStore, media_id: int) -> MediaItem:
    """The item if it is live and out of the trash (the API's rule: a trashed item is
    reached only through the trash)."""
    item = store.get_media(media_id)
    if item.is_trash:
        raise NotFound("media", media_id, "it is in the trash")
    return item


@dataclass(frozen=True)
class ItemView:
    """What the page of a media item shows (its versions newest first)."""

    item: MediaItem
    chunks: list[Chunk] = field(default_factory=list)
    claims: list[Claim] = field(default_factory=list)
    versions: list[DocumentVersion] = field(default_factory=list)


def _missing(session: Session, media_id: int) -> PageError:
    return not_found(
        session,
        "Media not found",
        f"There is no media item {media_id} in your library (it may be in the trash).",
    )


# -- the list and its search -------------------------------------------------------------------


def _page_of(
    stores: UserStores, params: dict[str, str], page: int
) -> tuple[list[MediaMatch], int | None]:
    """The items to list on *page* and how many match in all. A search runs as the API's
    does (``search_page``), recorded in analytics when it has words."""
    query = MediaQuery(
        text=text_field(params, "q").strip() or None,
        media_types=[params["type"]] if params["type"].strip() else (),
        must_have=[params["keyword"]] if params["keyword"].strip() else (),
    )
    total = 0

    def run() -> list[MediaMatch]:
        nonlocal total
        found, total = search_page(stores.media, query, limit=PAGE_SIZE, offset=offset_of(page))
        return found

    hits = recorded_search(stores.analytics, "media", query.text, run) if query.text else run()
    return hits, total


def _keywords(stores: UserStores) -> list[str]:
    return find_keywords(stores.media, None, 500)


@router.get("/media", response_model=None)
def media_list(
    request: Request,
    session: SignedIn,
    q: Filter = "",
    type: Filter = "",
    keyword: Filter = "",
    page: PageNumber = 1,
) -> Response:
    params = {"q": q, "type": type, "keyword": keyword}
    return search_list_page(
        request,
        session,
        "media_list.html",
        params,
        page,
        _page_of,
        _keywords,
        media_types=KNOWN_MEDIA_TYPES,
    )


# -- adding --------------------------------------------------------------------------------------


def _add_page(request: Request, session: Session, fields: dict[str, str], *why: Any) -> Response:
    """The add form; *why*: why it was not added and the status (else a fresh form)."""
    return form_page(
        request,
        session,
        "media_add.html",
        fields,
        *why,
        media_types=KNOWN_MEDIA_TYPES,
        accept=",".join(READABLE_SUFFIXES),
    )


@router.get("/media/add", response_model=None)
def media_add_form(request: Request, session: SignedIn) -> Response:
    return _add_page(request, session, {"type": DEFAULT_TYPE})


def _media_type(fields: dict[str, str]) -> str:
    media_type = fields.get("type", "").strip()
    if not re.match(MEDIA_TYPE_PATTERN, media_type) or len(media_type) > 1000:
        raise ValueError("choose a media type (letters, digits, spaces and _ . / + -)")
    return media_type


def _source(upload: Upload, title: str) -> tuple[str, bytes]:
    """The file to add: the uploaded one, or the pasted text as a plain-text file."""
    text = upload.fields.get("text", "")
    if upload.file_name and text.strip():
        raise ValueError("give a file or a text, not both")
    if upload.file_name:
        return upload.file_name, upload.file_data
    if not text.strip():
        raise ValueError("paste a text or choose a file to upload")
    if not title:
        raise ValueError("a pasted text needs a title")
    return "pasted.txt", text.encode("utf-8", "surrogatepass")


@router.post("/media/add", response_model=None)
def media_add(request: Request, session: UploadSession, upload: UploadForm) -> Response:
    fields = upload.fields
    try:
        title = text_field(fields, "title").strip()
        author = text_field(fields, "author").strip() or None
        words = keyword_list(text_field(fields, "keywords"))
        media_type = _media_type(fields)
        name, data = _source(upload, title)
    except ValueError as exc:
        return _add_page(request, session, *refused(exc, fields, "item"))
    with user_stores(request, session) as stores:
        result = add_file(
            stores.media,
            name,
            data,
            media_type=media_type,
            title=title,
            author=author,
            keywords=words,
        )
    if result.db_id is None:
        return _add_page(
            request, session, fields, result.error, status.HTTP_422_UNPROCESSABLE_CONTENT
        )
    return see(f"/media/{result.db_id}")


# -- the trash -------------------------------------------------------------------------------


@router.get("/media/trash", response_model=None)
def media_trash(request: Request, session: SignedIn, page: PageNumber = 1) -> Response:
    with user_stores(request, session) as stores:
        items = list_trash(stores.media, limit=PAGE_SIZE, offset=offset_of(page))
        total = count_trash(stores.media)
    return list_page(request, session, "media_trash.html", items, page=page, params={}, total=total)


def _trash_or_restore(
    request: Request, session: Session, media_id: int, *, trashed: bool
) -> Response:
    """Move the item to the trash (on to the trash list) or out of it (on to its page)."""
    with user_stores(request, session) as stores:
        try:
            if trashed:
                _live(stores.media, media_id)
                stores.media.trash(media_id)
            else:
                stores.media.untrash(media_id)
        except NotFound:
            raise _missing(session, media_id) from None
    return see("/media/trash" if trashed else f"/media/{media_id}")


@router.post("/media/{media_id}/restore", response_model=None)
def media_restore(request: Request, media_id: IntId, session: FormSession) -> Response:
    return _trash_or_restore(request, session, media_id, trashed=False)


@router.post("/media/{media_id}/delete", response_model=None)
def media_delete(request: Request, media_id: IntId, session: FormSession) -> Response:
    return _trash_or_restore(request, session, media_id, trashed=True)


def _trashed(store: MediaStore, media_id: int) -> MediaItem:
    """The item if it is in the trash; :class:`Conflict` if it is live (an item is trashed
    first, as the API's ``DELETE .../permanent`` requires)."""
    item = store.get_media(media_id)
    if not item.is_trash:
        raise Conflict(f"{item.title!r} is not in the trash: move it to the trash first")
    return item


@router.get("/media/{media_id}/permanent", response_model=None)
def media_purge_form(request: Request, media_id: IntId, session: SignedIn) -> Response:
    """Ask before deleting a trashed item for good."""
    with user_stores(request, session) as stores:
        try:
            item = _trashed(stores.media, media_id)
        except NotFound:
            raise _missing(session, media_id) from None
        except Conflict as exc:
            return refused_page(request, session, "Not in the trash", exc)
    return confirm_page(
        request,
        session,
        title=f"Delete “{item.title}” for good?",
        message=(
            f"“{item.title}” will be deleted with its versions, chunks and claims. "
            "This cannot be undone: it cannot be restored afterwards."
        ),
        action=f"/media/{media_id}/permanent",
        button="Delete for good",
        cancel="/media/trash",
    )


@router.post("/media/{media_id}/permanent", response_model=None)
def media_purge(request: Request, media_id: IntId, session: FormSession) -> Response:
    """Delete a trashed item for good, as ``DELETE /api/v1/media/{id}/permanent`` does."""
    with user_stores(request, session) as stores:
        try:
            purge(stores.media, media_id)
        except NotFound:
            raise _missing(session, media_id) from None
        except Conflict as exc:
            return refused_page(request, session, "Not deleted", exc)
    return see("/media/trash")


# -- one item ---------------------------------------------------------------------------------


def _load_item(request: Request, session: Session, media_id: int, *, full: bool) -> ItemView:
    """The signed-in user's live item *media_id* (with its chunks, claims and versions if
    *full*); the not-found page if there is none."""
    with user_stores(request, session) as stores:
        store = stores.media
        try:
            item = _live(store, media_id)
            if not full:
                return ItemView(item)
            return ItemView(
                item,
                store.list_chunks(media_id),
                store.claims.of_media(media_id),
                list(reversed(store.versions.of_media(media_id))),
            )
        except NotFound:
            raise _missing(session, media_id) from None


@router.get("/media/{media_id}", response_model=None)
def media_page(request: Request, media_id: IntId, session: SignedIn) -> Response:
    view = _load_item(request, session, media_id, full=True)
    return render(request, "media_item.html", session, view=view, item=view.item)


def _edit_page(
    request: Request, session: Session, media_id: int, fields: dict[str, str], *why: Any
) -> Response:
    """The edit form; *why*: why it was not saved and the status (else a fresh form)."""
    return form_page(
        request,
        session,
        "media_edit.html",
        fields,
        *why,
        media_id=media_id,
        media_types=KNOWN_MEDIA_TYPES,
    )


@router.get("/media/{media_id}/edit", response_model=None)
def media_edit_form(request: Request, media_id: IntId, session: SignedIn) -> Response:
    item = _load_item(request, session, media_id, full=False).item
    fields = {
        "title": item.title,
        "type": item.type,
        "author": item.author or "",
        "keywords": ", ".join(item.keywords),
        "content": item.content or "",
        "version": str(item.version),
    }
    return _edit_page(request, session, media_id, fields)


def _media_changes(item: MediaItem, fields: dict[str, str]) -> dict[str, object]:
    """What the form changes in *item* (its current state); ValueError for a bad field."""
    title = text_field(fields, "title").strip()
    if not title:
        raise ValueError("the title cannot be empty")
    wanted: dict[str, object] = {
        "title": title,
        "type": _media_type(fields),
        "author": text_field(fields, "author").strip() or None,
        "keywords": keyword_list(text_field(fields, "keywords")),
        "content": text_field(fields, "content"),
    }
    return {name: value for name, value in wanted.items() if value != getattr(item, name)}


@router.post("/media/{media_id}/edit", response_model=None)
def media_edit(
    request: Request, media_id: IntId, session: TextFormSession, form: TextForm
) -> Response:
    with user_stores(request, session) as stores:
        try:
            item = _live(stores.media, media_id)
            version = opened_version(form)
            changes = _media_changes(item, form)
            if changes:
                stores.media.update_media(media_id, version, **changes)
        except NotFound:
            raise _missing(session, media_id) from None
        except (StoreError, ValueError) as exc:
            return _edit_page(request, session, media_id, *refused(exc, form, "item"))
    return see(f"/media/{media_id}")


__all__ = ["router"]
