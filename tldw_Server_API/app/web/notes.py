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
from ..core.DB_Management.stores import Note, NotesStore, NotFound, StoreError, VersionConflict
from .guards import FormSession, PageError, ShortForm, SignedIn, TextForm, TextFormSession
from .pages import page_router, render
from .user_pages import (
    PAGE_SIZE,
    Filter,
    PageNumber,
    UserStores,
    confirm_page,
    form_page,
    keyword_list,
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


def _missing(session: Session) -> PageError:
    return not_found(session, "Note not found", "There is no such note among yours.")


def _page_of(
    stores: UserStores, params: dict[str, str], page: int
) -> tuple[list[Note], int | None]:
    """The notes to list on *page* (a search, a keyword's notes, or all) and how many in
    all, if known.

    A search runs as the API's does (``find_notes``), recorded in analytics."""
    store = stores.notes
    offset = offset_of(page)
    q = text_field(params, "q").strip()
    keyword = params["keyword"].strip()
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


def _keywords(stores: UserStores) -> list[str]:
    return stores.notes.list_keywords()


@router.get("/notes", response_model=None)
def notes_list(
    request: Request,
    session: SignedIn,
    q: Filter = "",
    keyword: Filter = "",
    page: PageNumber = 1,
) -> Response:
    params = {"q": q, "keyword": keyword}
    return search_list_page(request, session, "notes_list.html", params, page, _page_of, _keywords)


def _form_page(
    request: Request, session: Session, note_id: str | None, fields: dict[str, str], *why: Any
) -> Response:
    """A new note's form (no *note_id*), or a note's edit form; *why*: why it was not saved
    and the status (else a fresh form)."""
    return form_page(request, session, "note_edit.html", fields, *why, note_id=note_id)


def _load_note(request: Request, session: Session, note_id: str) -> Note:
    """The signed-in user's note *note_id*; the not-found page if there is none."""
    with user_stores(request, session) as stores:
        try:
            return stores.notes.get_note(note_id)
        except NotFound:
            raise _missing(session) from None


def _note_fields(form: dict[str, str]) -> tuple[str, str, list[str]]:
    """Title, content and keywords of a posted note form; ValueError for a bad field."""
    title = text_field(form, "title").strip()
    if not title:
        raise ValueError("the title cannot be empty")
    return title, text_field(form, "content"), keyword_list(text_field(form, "keywords"))


@router.get("/notes/new", response_model=None)
def note_new_form(request: Request, session: SignedIn) -> Response:
    return _form_page(request, session, None, {})


def _store_note(notes: NotesStore, note_id: str | None, form: dict[str, str]) -> str:
    """Store a posted note form as a new note (no *note_id*) or over the note at the
    version the form was opened at; the note's id."""
    if note_id is None:
        title, content, words = _note_fields(form)
        return notes.add_note(title, content, words).id
    version = opened_version(form)
    title, content, words = _note_fields(form)
    notes.update_note(note_id, version, title=title, content=content, keywords=words)
    return note_id


def _save_note(
    request: Request, session: Session, note_id: str | None, form: dict[str, str]
) -> Response:
    """Save a posted note form (:func:`_store_note`), then on to the note; a refused form
    is shown again, saying why."""
    with user_stores(request, session) as stores:
        try:
            saved = _store_note(stores.notes, note_id, form)
        except NotFound:
            raise _missing(session) from None
        except (StoreError, ValueError) as exc:
            return _form_page(request, session, note_id, *refused(exc, form, "note"))
    return see(f"/notes/{saved}")


@router.post("/notes/new", response_model=None)
def note_create(request: Request, session: TextFormSession, form: TextForm) -> Response:
    return _save_note(request, session, None, form)


@router.get("/notes/{note_id}", response_model=None)
def note_page(request: Request, note_id: TextId, session: SignedIn) -> Response:
    note = _load_note(request, session, note_id)
    return render(request, "note.html", session, note=note)


@router.get("/notes/{note_id}/edit", response_model=None)
def note_edit_form(request: Request, note_id: TextId, session: SignedIn) -> Response:
    note = _load_note(request, session, note_id)
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
    return _save_note(request, session, note_id, form)


@router.get("/notes/{note_id}/delete", response_model=None)
def note_delete_form(request: Request, note_id: TextId, session: SignedIn) -> Response:
    """Ask before deleting a note; the form names the version shown here."""
    note = _load_note(request, session, note_id)
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
            raise _missing(session) from None
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
