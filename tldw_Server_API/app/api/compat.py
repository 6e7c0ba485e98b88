"""What the routes that speak tldw_server's contract share.

Our users' clients (tldw_server's web frontend, its browser extension, their
scripts) call ``/api/v1/notes/`` with the trailing slash and ``/notes/search``
without it. :func:`route` answers a path both ways, directly: a redirect would
turn a ``POST`` into a ``307`` that some clients do not follow with the body.

Offset-paged lists carry :class:`OffsetPagination` (``pagination``) and its
``has_more`` / ``next_offset`` aliases at the top level, as tldw_server's do.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Header, Query
from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from .deps import MAX_ID, StrictModel

Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


#: Standard base64 (``+`` and ``/``, padded), as the schema states it.
BASE64_PATTERN = r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"
MAX_IMAGE_BASE64 = 15 * 1024 * 1024


def _decodable(value: str) -> str:
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("must be standard base64") from None
    return value


#: An image sent as base64 (a character's picture, a message's image).
ImageBase64 = Annotated[
    str,
    Field(max_length=MAX_IMAGE_BASE64, pattern=BASE64_PATTERN),
    AfterValidator(_decodable),
]

#: What an image's first bytes say it is.
_IMAGE_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF8", "image/gif"),
    (b"RIFF", "image/webp"),
)


def decode_image(value: str) -> tuple[bytes, str]:
    """The bytes of an :data:`ImageBase64` and their media type (``image/png`` when unknown)."""
    data = base64.b64decode(value, validate=True)
    mime = next((m for magic, m in _IMAGE_MAGIC if data.startswith(magic)), "image/png")
    return data, mime


class LenientModel(StrictModel):
    """A request body whose tldw_server model ignores unknown fields: so do we.

    tldw_server's notes, chats and messages models are plain pydantic models, which drop
    fields they do not declare; its clients rely on that (they send display state such
    as a note's ``attachments`` along). Numbers stay numbers, as in :class:`StrictModel`.
    """

    model_config = ConfigDict(extra="ignore")


def route(
    router: APIRouter, method: str, path: str, **options: Any
) -> Callable[[Endpoint], Endpoint]:
    """Register *path* (in the schema) and its trailing-slash twin (hidden) for *method*."""
    twin = path[:-1] if path.endswith("/") else f"{path}/"

    def register(endpoint: Endpoint) -> Endpoint:
        router.add_api_route(path, endpoint, methods=[method], **options)
        router.add_api_route(twin, endpoint, methods=[method], include_in_schema=False, **options)
        return endpoint

    return register


class OffsetPagination(BaseModel):
    """Where an offset-paged list stands: its window, the total, and what comes next."""

    mode: Literal["offset"] = "offset"
    limit: int
    offset: int
    total: int
    has_more: bool
    next_offset: int | None = Field(description="the offset of the next page; null on the last")


def offset_pagination(limit: int, offset: int, total: int, count: int) -> OffsetPagination:
    """The pagination of a page of *count* rows at *offset* out of *total*."""
    has_more = offset + count < total
    return OffsetPagination(
        limit=limit,
        offset=offset,
        total=total,
        has_more=has_more,
        next_offset=offset + count if has_more else None,
    )


class OffsetPage(BaseModel):
    """The fields every offset-paged list carries besides its rows."""

    total: int
    limit: int
    offset: int
    has_more: bool
    next_offset: int | None
    pagination: OffsetPagination


def page_fields(limit: int, offset: int, total: int, count: int) -> dict[str, Any]:
    """:class:`OffsetPage`'s fields for a page of *count* rows at *offset* out of *total*."""
    pagination = offset_pagination(limit, offset, total, count)
    return {
        "total": total,
        "limit": limit,
        "offset": offset,
        "has_more": pagination.has_more,
        "next_offset": pagination.next_offset,
        "pagination": pagination,
    }


#: The ``expected-version`` header: required where tldw_server requires it (PUT, DELETE).
VersionHeader = Annotated[
    int,
    Header(ge=1, le=MAX_ID, description="the version you read; 409 if the row moved on"),
]
#: The same header where it may be left out (PATCH: the update then applies to any version).
#: Its schema is an integer (a header cannot carry ``null``): absent is the only "none".
OptionalVersionHeader = Annotated[
    Annotated[int, Field(ge=1, le=MAX_ID)] | SkipJsonSchema[None],
    Header(description="the version you read; 409 if the row moved on"),
]
#: ``?expected_version=``: required where tldw_server requires it.
VersionQuery = Annotated[
    int,
    Query(ge=1, le=MAX_ID, description="the version you read; 409 if the row moved on"),
]
