"""Notes and their keywords.

=============================================  ==========================================
``POST   /api/v1/notes``                        create a note (201)
``GET    /api/v1/notes``                        list (``limit``, ``offset``, ``sort``)
``GET    /api/v1/notes/search?q=``              full-text search (recorded in analytics)
``GET    /api/v1/notes/keywords``               every note keyword in use
``GET    /api/v1/notes/{id}``                   one note
``PUT    /api/v1/notes/{id}``                   change it; ``version`` required (409 if stale)
``DELETE /api/v1/notes/{id}``                   soft delete (``?version=`` optional)
``POST   /api/v1/notes/{id}/restore``           undo a delete
``GET|PUT /api/v1/notes/{id}/keywords``         the note's keywords
=============================================  ==========================================
"""

from typing import TYPE_CHECKING, Annotated, Literal

from fastapi import APIRouter, Query, Response, status
from pydantic import BaseModel, Field

from ...core.DB_Management.stores import InvalidInput, Note
from ...core.DB_Management.stores.chacha import NOTE_SORT_KEYS
from ...core.DB_Management.stores.changes import content_changed
from ..deps import (
    Analytics,
    ExpectedVersion,
    Instant,
    Keywords,
    Limit,
    Name,
    Notes,
    NotNull,
    Offset,
    SafeStr,
    SearchPage,
    SearchQuery,
    StrictModel,
    TextId,
    Versioned,
    recorded_search,
    search_page,
)

router = APIRouter(prefix="/api/v1/notes", tags=["notes"])

if TYPE_CHECKING:
    NoteSort = str
else:  # each sort key, ascending or with '-' descending, as an enum in the API schema
    NoteSort = Literal[tuple(k for key in NOTE_SORT_KEYS for k in (key, f"-{key}"))]
RefId = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_.:-]+$")]


class NoteCreate(StrictModel):
    title: Name
    content: SafeStr
    keywords: Keywords = Field(default_factory=list)
    conversation_id: RefId | None = None
    message_id: RefId | None = None


class NoteUpdate(Versioned):
    title: Name | NotNull = None
    content: SafeStr | NotNull = None
    keywords: Keywords | NotNull = None


class NoteOut(BaseModel):
    id: str
    title: str
    content: str
    keywords: list[str]
    created_at: Instant | None
    last_modified: Instant
    version: int
    conversation_id: str | None
    message_id: str | None


class NoteList(BaseModel):
    items: list[NoteOut]
    total: int
    limit: int
    offset: int


class NoteDeleted(BaseModel):
    id: str
    deleted: bool = True
    version: int


class KeywordsBody(StrictModel):
    keywords: Keywords


class NoteKeywords(BaseModel):
    note_id: str
    keywords: list[str]


class KeywordList(BaseModel):
    keywords: list[str]
    total: int
    limit: int
    offset: int


def _out(note: Note) -> NoteOut:
    return NoteOut.model_validate(note, from_attributes=True)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=NoteOut)
def create_note(body: NoteCreate, store: Notes, response: Response) -> NoteOut:
    note = store.add_note(
        body.title,
        body.content,
        body.keywords,
        conversation_id=body.conversation_id,
        message_id=body.message_id,
    )
    response.headers["Location"] = f"/api/v1/notes/{note.id}"
    # The notes store leaves telling the retrieval indexer to its callers.
    content_changed(store.database)
    return _out(note)


@router.get("", response_model=NoteList)
def list_notes(
    store: Notes,
    limit: Limit = 50,
    offset: Offset = 0,
    sort: Annotated[
        NoteSort, Query(description="a column; '-' prefix for descending")
    ] = "-last_modified",
) -> NoteList:
    notes = store.list_notes(limit=limit, offset=offset, order=sort)
    return NoteList(
        items=[_out(n) for n in notes], total=store.count_notes(), limit=limit, offset=offset
    )


@router.get("/search", response_model=SearchPage)
def search_notes(
    q: SearchQuery, store: Notes, analytics: Analytics, limit: Limit = 20, offset: Offset = 0
) -> SearchPage:
    hits = recorded_search(
        analytics, "notes", q, lambda: store.search_notes(q, limit=limit, offset=offset)
    )
    return search_page(q, hits, limit, offset)


@router.get("/keywords", response_model=KeywordList)
def list_note_keywords(store: Notes, limit: Limit = 1000, offset: Offset = 0) -> KeywordList:
    words = store.list_keywords()
    return KeywordList(
        keywords=words[offset : offset + limit], total=len(words), limit=limit, offset=offset
    )


@router.get("/{note_id}", response_model=NoteOut)
def get_note(note_id: TextId, store: Notes) -> NoteOut:
    return _out(store.get_note(note_id))


@router.put("/{note_id}", response_model=NoteOut)
def update_note(note_id: TextId, body: NoteUpdate, store: Notes) -> NoteOut:
    changes = body.model_dump(exclude_unset=True, exclude={"version"})
    for name, value in changes.items():
        if value is None:
            raise InvalidInput("notes", f"{name} cannot be null")
    if not changes:
        raise InvalidInput("notes", "nothing to change: give at least one field besides version")
    note = store.update_note(note_id, body.version, **changes)
    content_changed(store.database)
    return _out(note)


@router.delete("/{note_id}", response_model=NoteDeleted)
def delete_note(note_id: TextId, store: Notes, version: ExpectedVersion = None) -> NoteDeleted:
    return NoteDeleted(id=note_id, version=store.soft_delete_note(note_id, version))


@router.post("/{note_id}/restore", response_model=NoteOut)
def restore_note(note_id: TextId, store: Notes) -> NoteOut:
    return _out(store.restore_note(note_id))


@router.get("/{note_id}/keywords", response_model=NoteKeywords)
def get_note_keywords(note_id: TextId, store: Notes) -> NoteKeywords:
    return NoteKeywords(note_id=note_id, keywords=store.get_note(note_id).keywords)


@router.put("/{note_id}/keywords", response_model=NoteKeywords)
def set_note_keywords(note_id: TextId, body: KeywordsBody, store: Notes) -> NoteKeywords:
    return NoteKeywords(note_id=note_id, keywords=store.set_note_keywords(note_id, body.keywords))
