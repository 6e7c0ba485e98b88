"""The Notes pages: the signed-in user's notes, their search and keywords.

Search is the store's ``find_notes``, the one behind ``GET /api/v1/notes/search``. An edit
or a deletion names the version it was opened at: the store refuses it if the note moved on
since. Deleting is the API's ``DELETE /api/v1/notes/{id}`` (``soft_delete_note``).
"""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response

from ..api.deps import TextId, recorded_search
from ..api.sessions import Session
from ..core.DB_Management.stores import Note, NotFound, StoreError, VersionConflict
from .guards import FormSession, ShortForm, SignedIn, TextForm, TextFormSession
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
    opened_version,
    refused,
    refused_page,
    see,
    text_field,
    user_stores,
)

router = page_router()


def _missing(request: Request, session: Session) -> Response:
    return not_found(request, session, "Note not found", "There is no such note among yours.")


def _page_of(
    stores: UserStores, q: str, keyword: str, offset: int
) -> tuple[list[Note], int | None]:
    """The notes to list (a search, a keyword's notes, or all) and how many in all, if known.

    A search runs as the API's does (``find_notes``), recorded in analytics."""
    store = stores.notes
    if q:
        found = recorded_search(
            stores.analytics,
            "notes",
            q,
            lambda: store.find_notes(q, limit=PAGE_SIZE, offset=offset),
            score=lambda hit: hit[1],
        )
        return [note for note, _ in found], None
    if keyword:
        ids = store.notes_with_keyword(keyword)
        return [store.get_note(i) for i in ids[offset : offset + PAGE_SIZE]], len(ids)
    return store.list_notes(limit=PAGE_SIZE, offset=offset), store.count_notes()


@router.get("/notes", response_model=None)
def notes_list(
    request: Request,
    session: SignedIn,
    q: Filter = "",
    keyword: Filter = "",
    page: PageNumber = 1,
) -> Response:
    params = {"q": q, "keyword": keyword}
    notes: list[Note] = []
    total: int | None = 0
    error: str | None = None
    with user_stores(request, session) as stores:
        try:
            text = text_field(params, "q").strip()
            notes, total = _page_of(stores, text, keyword.strip(), (page - 1) * PAGE_SIZE)
        except (StoreError, ValueError) as exc:
            error = f"That search could not be run: {exc}"
        keywords = stores.notes.list_keywords()
    return list_page(
        request,
        session,
        "notes_list.html",
        notes,
        page=page,
        params=params,
        total=total,
        error=error,
        keywords=keywords,
    )


def _form_page(
    request: Request, session: Session, note_id: str | None, fields: dict[str, str], *why: Any
) -> Response:
    """A new note's form (no *note_id*), or a note's edit form; *why*: why it was not saved
    and the status (else a fresh form)."""
    return form_page(request, session, "note_edit.html", fields, *why, note_id=note_id)


def _load_note(request: Request, session: Session, note_id: str) -> Note | Response:
    """The signed-in user's note *note_id*, or the not-found page to send instead."""
    with user_stores(request, session) as stores:
        try:
            return stores.notes.get_note(note_id)
        except NotFound:
            return _missing(request, session)


def _note_fields(form: dict[str, str]) -> tuple[str, str, list[str]]:
    """Title, content and keywords of a posted note form; ValueError for a bad field."""
    title = text_field(form, "title").strip()
    if not title:
        raise ValueError("the title cannot be empty")
    return title, text_field(form, "content"), keyword_list(text_field(form, "keywords"))


@router.get("/notes/new", response_model=None)
def note_new_form(request: Request, session: SignedIn) -> Response:
    return _form_page(request, session, None, {})


@router.post("/notes/new", response_model=None)
def note_create(request: Request, session: TextFormSession, form: TextForm) -> Response:
    with user_stores(request, session) as stores:
        try:
            title, content, words = _note_fields(form)
            note = stores.notes.add_note(title, content, words)
        except (StoreError, ValueError) as exc:
            return _form_page(request, session, None, *refused(exc, form, "note"))
    return see(f"/notes/{note.id}")


@router.get("/notes/{note_id}", response_model=None)
def note_page(request: Request, note_id: TextId, session: SignedIn) -> Response:
    note = _load_note(request, session, note_id)
    if isinstance(note, Response):
        return note
    return render(request, "note.html", session, note=note)


@router.get("/notes/{note_id}/edit", response_model=None)
def note_edit_form(request: Request, note_id: TextId, session: SignedIn) -> Response:
    note = _load_note(request, session, note_id)
    if isinstance(note, Response):
        return note
    fields = {
        "title": note.title,
        "content": note.content,
        "keywords": ", ".join(note.keywords),
        "version": str(note.version),
    }
    return _form_page(request, session, note_id, fields)


@router.post("/notes/{note_id}/edit", response_model=None)
def note_edit(
    request: Request, note_id: TextId, session: TextFormSession, form: TextForm
) -> Response:
    with user_stores(request, session) as stores:
        try:
            version = opened_version(form)
            title, content, words = _note_fields(form)
            stores.notes.update_note(note_id, version, title=title, content=content, keywords=words)
        except NotFound:
            return _missing(request, session)
        except (StoreError, ValueError) as exc:
            return _form_page(request, session, note_id, *refused(exc, form, "note"))
    return see(f"/notes/{note_id}")


@router.get("/notes/{note_id}/delete", response_model=None)
def note_delete_form(request: Request, note_id: TextId, session: SignedIn) -> Response:
    """Ask before deleting a note; the form names the version shown here."""
    note = _load_note(request, session, note_id)
    if isinstance(note, Response):
        return note
    return confirm_page(
        request,
        session,
        title=f"Delete the note “{note.title}”?",
        message=(
            f"“{note.title}” (version {note.version}) will leave your notes and their "
            "search. If it changes before you confirm, it is not deleted."
        ),
        action=f"/notes/{note_id}/delete",
        button="Delete the note",
        cancel=f"/notes/{note_id}",
        hidden={"version": str(note.version)},
    )


@router.post("/notes/{note_id}/delete", response_model=None)
def note_delete(
    request: Request, note_id: TextId, session: FormSession, form: ShortForm
) -> Response:
    """Delete the note at the version the form was opened at, as the API's ``DELETE``."""
    with user_stores(request, session) as stores:
        try:
            stores.notes.soft_delete_note(note_id, opened_version(form))
        except NotFound:
            return _missing(request, session)
        except VersionConflict as exc:
            why = (
                f"This note was changed since you opened it (you opened version "
                f"{exc.expected_version}, it is now at version {exc.current_version}), so it "
                "was not deleted. Open it again to see what changed, then delete it if you "
                "still want to."
            )
            return refused_page(request, session, "Not deleted", exc, why)
        except (StoreError, ValueError) as exc:
            return refused_page(request, session, "Not deleted", exc)
    return see("/notes")


__all__ = ["router"]
