"""Notes and their keywords, as tldw_server's clients call them.

=====================================================  ==========================================
``POST   /api/v1/notes/``                               create a note (201)
``GET    /api/v1/notes/``                               list (``limit``, ``offset``)
``GET    /api/v1/notes/search``                         full-text search (``query``): a list
``GET    /api/v1/notes/keywords``                       keywords in use (``limit``, ``offset``)
``POST   /api/v1/notes/keywords/``                      create a keyword (201)
``GET    /api/v1/notes/{id}``                           one note
``PUT    /api/v1/notes/{id}``                           change it (``expected-version`` header)
``PATCH  /api/v1/notes/{id}``                           the same, header optional
``DELETE /api/v1/notes/{id}``                           soft delete (``expected-version``), 204
``POST   /api/v1/notes/{id}/restore``                   undo a delete (``?expected_version=``)
``GET    /api/v1/notes/{id}/keywords/``                 the note's keywords
``POST   /api/v1/notes/{id}/keywords/{keyword_id}``     tag the note
``DELETE /api/v1/notes/{id}/keywords/{keyword_id}``     untag it
=====================================================  ==========================================

Every path answers with or without its trailing slash. A version conflict is a
409; a missing ``expected-version`` header a 422.
"""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Response, status
from pydantic import BaseModel, BeforeValidator, Field

from ...core.DB_Management.stores import Note, NotesStore
from ...core.DB_Management.stores.notes import Keyword
from ..compat import (
    LenientModel,
    OffsetPage,
    OptionalVersionHeader,
    VersionHeader,
    VersionQuery,
    page_fields,
    route,
)
from ..deps import (
    MAX_ID,
    Analytics,
    Instant,
    Limit,
    Name,
    Notes,
    Offset,
    RefId,
    SafeStr,
    SearchQuery,
    StrictModel,
    TextId,
    recorded_search,
)
from ..updates import NotNull, UpdateBody, changed_fields

router = APIRouter(prefix="/api/v1/notes", tags=["notes"])

KeywordId = Annotated[int, Path(ge=1, le=MAX_ID, description="the keyword's id")]
IncludeKeywords = Annotated[bool, Query(description="include each note's keywords")]
SearchLimit = Annotated[int, Query(ge=1, le=100, description="page size, 1-100")]


def _split_keywords(value: Any) -> Any:
    """``"a, b"`` as ``["a", "b"]`` (tldw_server's clients send either form), each word
    stripped, empty ones dropped, and a word repeated in another case kept once."""
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list):
        return value
    seen: set[str] = set()
    words: list[Any] = []
    for part in value:
        word = part.strip() if isinstance(part, str) else part
        if word == "":
            continue
        key = word.lower() if isinstance(word, str) else word
        if isinstance(key, str) and key in seen:
            continue
        if isinstance(key, str):
            seen.add(key)
        words.append(word)
    return words


#: Keywords of a note: up to 100 characters each, as tldw_server takes them.
NoteKeyword = Annotated[Name, Field(max_length=100)]
NoteKeywords = Annotated[
    list[NoteKeyword], Field(max_length=1000), BeforeValidator(_split_keywords)
]
TITLE_MAX = 255


def auto_title(content: str, max_len: int) -> str:
    """A title from the note's first line of text (heading marks and extra spaces dropped),
    cut at a word boundary to *max_len* characters; "Untitled note" when there is none."""
    for line in content.splitlines():
        words = line.strip().lstrip("#>*-+ \t").split()
        if words:
            title = " ".join(words)
            if len(title) <= max_len:
                return title
            cut = title[: max_len + 1].rsplit(" ", 1)[0]
            return (cut if 0 < len(cut) <= max_len else title[:max_len]).rstrip()
    return "Untitled note"


class NoteCreate(LenientModel):
    """tldw_server's ``NoteCreate``: the title may be left out with ``auto_title``."""

    title: Name | None = Field(None, description="required unless auto_title is true")
    content: SafeStr
    id: RefId | None = Field(default=None, description="a client-chosen id (default: a uuid)")
    keywords: NoteKeywords | None = Field(
        default=None, description="a list, or one comma-separated string"
    )
    conversation_id: RefId | None = None
    message_id: RefId | None = None
    auto_title: bool = Field(
        False, description="without a title: make one from the first line of the content"
    )
    title_strategy: Literal["heuristic", "llm", "llm_fallback"] = Field(
        "heuristic",
        description="how to make the title: this server always uses the first line",
    )
    title_max_len: int = Field(
        250, ge=1, le=500, description=f"longest made title (taken as 10-{TITLE_MAX})"
    )
    language: Annotated[str, Field(max_length=100)] | None = Field(
        None, description="a hint for making titles (accepted, not needed by this server)"
    )

    def effective_title(self) -> str:
        """The title given, or one made from the content (400 without either)."""
        title = (self.title or "").strip()
        if title:
            return self.title or title
        if not self.auto_title:
            raise HTTPException(
                status.HTTP_400_BAD_REQUEST, "Title is required unless auto_title=true"
            )
        return auto_title(self.content, min(TITLE_MAX, max(10, self.title_max_len)))


class NoteUpdate(LenientModel, UpdateBody):
    title: Name | NotNull = None
    content: SafeStr | NotNull = None
    keywords: NoteKeywords | NotNull = None
    conversation_id: RefId | None = Field(None, description="link to a chat; null unlinks")
    message_id: RefId | None = Field(None, description="link to a message; null unlinks")


class KeywordOut(BaseModel):
    id: int
    keyword: str
    created_at: Instant | None
    last_modified: Instant
    version: int
    client_id: str
    deleted: bool


class NoteOut(BaseModel):
    id: str
    title: str
    content: str
    conversation_id: str | None
    message_id: str | None
    created_at: Instant | None
    last_modified: Instant
    version: int
    client_id: str
    deleted: bool
    keywords: list[KeywordOut] | None = Field(
        description="the note's keywords (on lists and searches only with include_keywords)"
    )


class NoteList(OffsetPage):
    items: list[NoteOut]
    notes: list[NoteOut] = Field(description="the same as items (an older name)")
    results: list[NoteOut] = Field(description="the same as items (an older name)")
    count: int = Field(description="notes on this page")


class KeywordCreate(StrictModel):
    keyword: Name


class KeywordsOfNote(BaseModel):
    note_id: str
    keywords: list[KeywordOut]


class LinkResult(BaseModel):
    success: bool
    message: str


def _keyword(row: Keyword) -> KeywordOut:
    return KeywordOut.model_validate(row, from_attributes=True)


def _notes(store: NotesStore, notes: list[Note], with_keywords: bool = True) -> list[NoteOut]:
    rows = store.keyword_rows(n.id for n in notes) if with_keywords else {}
    # Every field NoteOut declares is the note's, but its keywords: rows, not words.
    return [
        NoteOut.model_validate(
            vars(n) | {"keywords": [_keyword(k) for k in rows[n.id]] if with_keywords else None}
        )
        for n in notes
    ]


def _note(store: NotesStore, note: Note) -> NoteOut:
    return _notes(store, [note])[0]


@route(router, "POST", "/", status_code=status.HTTP_201_CREATED, response_model=NoteOut)
def create_note(body: NoteCreate, store: Notes, response: Response) -> NoteOut:
    note = store.add_note(
        body.effective_title(),
        body.content,
        body.keywords or (),
        conversation_id=body.conversation_id,
        message_id=body.message_id,
        note_id=body.id,
    )
    response.headers["Location"] = f"/api/v1/notes/{note.id}"
    return _note(store, note)


@route(router, "GET", "/", response_model=NoteList)
def list_notes(
    store: Notes, limit: Limit = 100, offset: Offset = 0, include_keywords: IncludeKeywords = False
) -> NoteList:
    page = _notes(store, store.list_notes(limit=limit, offset=offset), include_keywords)
    return NoteList(
        items=page,
        notes=page,
        results=page,
        count=len(page),
        **page_fields(limit, offset, store.count_notes(), len(page)),
    )


@route(router, "GET", "/search", response_model=list[NoteOut])
def search_notes(
    query: SearchQuery,
    store: Notes,
    analytics: Analytics,
    limit: SearchLimit = 10,
    offset: Offset = 0,
    include_keywords: IncludeKeywords = False,
) -> list[NoteOut]:
    found = recorded_search(
        analytics,
        "notes",
        query,
        lambda: store.find_notes(query, limit=limit, offset=offset),
        score=lambda hit: hit[1],
    )
    return _notes(store, [note for note, _ in found], include_keywords)


@route(router, "GET", "/keywords", response_model=list[KeywordOut])
def list_note_keywords(store: Notes, limit: Limit = 100, offset: Offset = 0) -> list[KeywordOut]:
    return [_keyword(k) for k in store.list_keyword_rows(limit=limit, offset=offset)]


@route(router, "POST", "/keywords/", status_code=status.HTTP_201_CREATED, response_model=KeywordOut)
def create_keyword(body: KeywordCreate, store: Notes) -> KeywordOut:
    return _keyword(store.create_keyword(body.keyword))


@router.get("/{note_id}", response_model=NoteOut)
def get_note(note_id: TextId, store: Notes) -> NoteOut:
    return _note(store, store.get_note(note_id))


def _update(store: NotesStore, note_id: str, body: NoteUpdate, version: int | None) -> NoteOut:
    changes = changed_fields(body)
    expected = version if version is not None else store.get_note(note_id).version
    return _note(store, store.update_note(note_id, expected, **changes))


@router.put("/{note_id}", response_model=NoteOut)
def update_note(
    note_id: TextId, body: NoteUpdate, store: Notes, expected_version: VersionHeader
) -> NoteOut:
    return _update(store, note_id, body, expected_version)


@router.patch("/{note_id}", response_model=NoteOut)
def patch_note(
    note_id: TextId, body: NoteUpdate, store: Notes, expected_version: OptionalVersionHeader = None
) -> NoteOut:
    return _update(store, note_id, body, expected_version)


@router.delete("/{note_id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
def delete_note(note_id: TextId, store: Notes, expected_version: VersionHeader) -> Response:
    store.soft_delete_note(note_id, expected_version)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{note_id}/restore", response_model=NoteOut)
def restore_note(note_id: TextId, store: Notes, expected_version: VersionQuery) -> NoteOut:
    return _note(store, store.restore_note(note_id, expected_version))


@route(router, "GET", "/{note_id}/keywords/", response_model=KeywordsOfNote)
def get_note_keywords(note_id: TextId, store: Notes) -> KeywordsOfNote:
    store.get_note(note_id)
    rows = store.keyword_rows([note_id])[note_id]
    return KeywordsOfNote(note_id=note_id, keywords=[_keyword(k) for k in rows])


@router.post("/{note_id}/keywords/{keyword_id}", response_model=LinkResult)
def link_note_keyword(note_id: TextId, keyword_id: KeywordId, store: Notes) -> LinkResult:
    linked = store.link_keyword(note_id, keyword_id)
    return LinkResult(
        success=True,
        message="Note linked to keyword." if linked else "The note already had that keyword.",
    )


@router.delete("/{note_id}/keywords/{keyword_id}", response_model=LinkResult)
def unlink_note_keyword(note_id: TextId, keyword_id: KeywordId, store: Notes) -> LinkResult:
    store.get_note(note_id)
    unlinked = store.unlink_keyword(note_id, keyword_id)
    return LinkResult(
        success=unlinked,
        message="Note unlinked from keyword." if unlinked else "The note had no such keyword.",
    )
