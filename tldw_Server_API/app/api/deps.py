"""What every router shares: the registry, per-user stores, paging, safe input types.

A store is built per request from the caller's own database handle
(the :class:`UserDatabases` leased for the caller), so a route can only ever reach
the data of the user its API key belongs to.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import datetime
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from fastapi import Depends, HTTPException, Path, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationInfo,
    field_validator,
)

from ..core.DB_Management.backends.unreachable import is_open_failure
from ..core.DB_Management.init_db import open_failure
from ..core.DB_Management.instants import format_instant
from ..core.DB_Management.registry import DatabaseRegistry, UserDatabases
from ..core.DB_Management.stores import (
    AnalyticsStore,
    CharacterStore,
    ChatStore,
    MediaStore,
    NotesStore,
    SearchHit,
)
from ..core.redaction import describe_db_error
from ..core.text import NO_NUL_PATTERN, StorableText, storable
from .auth import UserId
from .user_stores import UserStores, user_analytics

log = logging.getLogger("tldw_server.api")

MAX_LIMIT = 1000
MAX_OFFSET = 1_000_000_000
MAX_ID = 2**63 - 1
#: The largest integer in a request body: the largest every JSON reader holds exactly
#: (I-JSON, RFC 7493); beyond it a client's JSON library may already have rounded it.
MAX_JSON_INT = 2**53 - 1
MAX_QUERY_CHARS = 1000


# -- input types ----------------------------------------------------------------------


SafeStr = StorableText
"""Any storable text (the rule of :mod:`...core.text`: no NUL, no lone surrogates)."""

#: What ``str.isspace()`` calls whitespace (what the stores' ``strip()`` removes), spelled out:
#: regex engines disagree on ``\s`` (U+001C-U+001F, U+0085).
WHITESPACE_CLASS = (
    r"\u0009-\u000d\u001c-\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
)
#: Some character besides whitespace (and no NUL): the stores refuse blank labels.
NOT_BLANK_PATTERN = rf"^[^\u0000]*[^\u0000{WHITESPACE_CLASS}][^\u0000]*$"

NOT_BLANK = {"pattern": NOT_BLANK_PATTERN}


def storable_if_text(value: Any) -> Any:
    """:func:`storable` on text; anything else is left to the ``str`` check that follows."""
    return storable(value) if isinstance(value, str) else value


Name = Annotated[
    str,
    Field(min_length=1, max_length=1000, json_schema_extra=NOT_BLANK),
    BeforeValidator(storable_if_text),
]
"""A short non-empty label: a title, type, author, keyword, sender...

Checked as a string, its length in characters (a :data:`StorableText` with limits on top
would make pydantic count "items after validation")."""

Keywords = Annotated[list[Name], Field(max_length=1000)]

QueryText = Annotated[
    str,
    Field(max_length=MAX_QUERY_CHARS, json_schema_extra={"pattern": NO_NUL_PATTERN}),
    BeforeValidator(storable_if_text),
]
"""A search query in a body, checked as a string like :data:`Name` (its length in characters)."""


def an_iso_instant(value: Any) -> Any:
    """*value* unless it is a number: ``since=1.5`` is not an ISO-8601 instant."""
    if isinstance(value, int | float) or (
        isinstance(value, str) and value.strip().lstrip("+-").replace(".", "", 1).isdigit()
    ):
        raise ValueError("must be an ISO-8601 instant such as 2025-10-08T12:34:56Z")
    return value


IsoInstant = Annotated[datetime, BeforeValidator(an_iso_instant)]
"""An instant in a request, ISO-8601 only (pydantic would read numbers as epoch seconds)."""

Instant = Annotated[datetime, PlainSerializer(format_instant, return_type=str)]
"""Instants leave the API as ``2025-10-08T12:34:56.789Z`` whatever the backend."""


def wants_number(annotation: Any) -> bool:
    """Whether a field of this type holds an ``int`` or ``float`` (maybe optional)."""
    if annotation in (int, float):
        return True
    origin = get_origin(annotation)
    if origin is Annotated:
        return wants_number(get_args(annotation)[0])
    if origin in (Union, UnionType):
        return any(wants_number(arg) for arg in get_args(annotation))
    return False


class StrictModel(BaseModel):
    """Request bodies: unknown fields are an error, never silently ignored; a number is a
    JSON number (``3`` or ``3.0``), never ``true`` or ``"3"``, as the schema says."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)

    @field_validator("*", mode="before")
    @classmethod
    def _numbers_are_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        field = cls.model_fields.get(info.field_name or "")
        if isinstance(value, bool | str) and field is not None and wants_number(field.annotation):
            kind = "a boolean" if isinstance(value, bool) else "text"
            raise ValueError(f"must be a number, not {kind}")
        return value


class Versioned(StrictModel):
    """An update: the version read, and at least one field to change."""

    model_config = ConfigDict(json_schema_extra={"minProperties": 2})

    version: int = Field(
        ge=1, le=MAX_JSON_INT, description="the version you read; 409 if the row moved on"
    )


# -- path and query parameters ------------------------------------------------------------

#: What a text id (a uuid, or a client's own id) may hold.
TEXT_ID_PATTERN = r"^[A-Za-z0-9_.:-]+$"
IntId = Annotated[int, Path(ge=1, le=MAX_ID, description="the row's integer id")]
TextId = Annotated[
    str, Path(min_length=1, max_length=200, pattern=TEXT_ID_PATTERN, description="the row's id")
]
#: A text id given in a request body (a reference to a chat, a message, a note).
RefId = Annotated[str, Field(min_length=1, max_length=200, pattern=TEXT_ID_PATTERN)]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"page size, 1-{MAX_LIMIT}")]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="rows to skip")]
SearchQuery = Annotated[
    str,
    Query(
        min_length=1,
        max_length=MAX_QUERY_CHARS,
        description='FTS5-style: words, "a phrase", prefix*, OR, -word / NOT word',
    ),
    AfterValidator(storable),
]
ExpectedVersion = Annotated[
    int | None,
    Query(ge=1, le=MAX_ID, description="only if the row is still at this version (409 if not)"),
]


# -- registry and stores ---------------------------------------------------------------------
# A request leases its user's databases once (FastAPI caches a dependency per request), and
# the lease ends after the route has finished: the user is never closed under a request.
# The dependencies are ``async`` so that a user already open costs no thread hop; only a
# cold user's first request opens its databases, on a worker thread.


async def get_registry(request: Request) -> DatabaseRegistry:
    return request.app.state.registry


Registry = Annotated[DatabaseRegistry, Depends(get_registry)]


class DatabasesUnavailable(HTTPException):
    """A user's databases cannot be opened now (their server unreachable, a file in the
    way): 503, for the API and the WebUI alike (whose pages show it as a page)."""

    MESSAGE = "your databases cannot be opened now; try again later"

    def __init__(self) -> None:
        super().__init__(status.HTTP_503_SERVICE_UNAVAILABLE, self.MESSAGE)


def acquire_user_databases(registry: DatabaseRegistry, user_id: str) -> UserDatabases:
    """*user_id*'s databases, opened if need be (blocking), leased until
    ``registry.user_cache.release(user_id)``; :class:`DatabasesUnavailable` if they cannot
    be opened. What every request on a user's data (API route or page) goes through."""
    handles = registry.user_cache.open_now(user_id)
    if handles is not None:
        return handles
    try:
        return registry.user_cache.acquire(user_id)
    except Exception as exc:
        if not is_open_failure(exc):
            raise
        # The one line says where and why (never a password), not whose databases.
        log.error("cannot open a user's databases: %s", open_failure(exc, registry.settings))
        raise DatabasesUnavailable() from None


@contextmanager
def leased_user_databases(registry: DatabaseRegistry, user_id: str) -> Iterator[UserDatabases]:
    """:func:`acquire_user_databases` for the ``with`` block (a page's, run on a worker thread)."""
    handles = acquire_user_databases(registry, user_id)
    try:
        yield handles
    finally:
        registry.user_cache.release(user_id)


async def user_databases(registry: Registry, user_id: UserId) -> AsyncIterator[UserDatabases]:
    """The caller's databases, opened on first use, leased for the request."""
    # A user already open is leased here, without a thread hop; only a cold one is opened
    # on a worker thread.
    handles = registry.user_cache.open_now(user_id)
    if handles is None:
        handles = await run_in_threadpool(acquire_user_databases, registry, user_id)
    try:
        yield handles
    finally:
        registry.user_cache.release(user_id)


UserDbs = Annotated[UserDatabases, Depends(user_databases)]


# Each store is built as ``user_stores.py`` says; these are the routes' handles on them.


async def user_stores(user: UserDbs, registry: Registry) -> UserStores:
    return UserStores(user, registry)


Stores = Annotated[UserStores, Depends(user_stores)]


async def media_store(stores: Stores) -> MediaStore:
    return stores.media


async def notes_store(stores: Stores) -> NotesStore:
    return stores.notes


async def character_store(stores: Stores) -> CharacterStore:
    return stores.characters


async def chat_store(stores: Stores) -> ChatStore:
    return stores.chats


async def analytics_store(registry: Registry, user_id: UserId) -> AnalyticsStore:
    """Without the user's own databases: analytics routes do not open (or lease) them."""
    return user_analytics(registry, user_id)


Media = Annotated[MediaStore, Depends(media_store)]
Notes = Annotated[NotesStore, Depends(notes_store)]
Characters = Annotated[CharacterStore, Depends(character_store)]
Chats = Annotated[ChatStore, Depends(chat_store)]
Analytics = Annotated[AnalyticsStore, Depends(analytics_store)]


# -- search ------------------------------------------------------------------------------------


class SearchResult(BaseModel):
    id: int | str
    title: str
    snippet: str
    rank: float
    title_hit: bool


class SearchPage(BaseModel):
    query: str
    results: list[SearchResult]
    limit: int
    offset: int


def recorded_search(
    analytics: AnalyticsStore,
    search_type: str,
    query: str,
    run: Any,
    score: Any = None,
) -> list[Any]:
    """Run a search and record it in analytics (by hash), including failed searches.

    *run* is a no-argument callable; *score* picks a hit's score (default ``.rank``).
    A failure to record is logged, never turned into a failed search.
    """
    started = time.perf_counter()
    error: BaseException | None = None
    hits: list[Any] = []
    try:
        hits = list(run())
        return hits
    except BaseException as exc:
        error = exc
        raise
    finally:
        elapsed_ms = (time.perf_counter() - started) * 1000
        scores = [float(score(h) if score else h.rank) for h in hits]
        try:
            analytics.record_search(
                query,
                search_type,
                results_count=len(hits),
                max_score=max(scores) if scores else None,
                avg_score=sum(scores) / len(scores) if scores else None,
                response_time_ms=elapsed_ms,
                error=error,
            )
        except Exception as exc:  # analytics must never break a search
            # Not the message: it would quote the statement's parameters, the query included.
            log.warning(
                "could not record a %s search in analytics: %s", search_type, describe_db_error(exc)
            )


def search_page(query: str, hits: list[SearchHit], limit: int, offset: int) -> SearchPage:
    return SearchPage(
        query=query,
        results=[
            SearchResult(
                id=h.id, title=h.title, snippet=h.snippet, rank=h.rank, title_hit=h.title_hit
            )
            for h in hits
        ],
        limit=limit,
        offset=offset,
    )
