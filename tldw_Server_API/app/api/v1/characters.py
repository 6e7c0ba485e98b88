"""Character cards, as tldw_server's clients call them.

=====================================================  ======================================
``POST   /api/v1/characters/``                          create a card (201); names are unique
``GET    /api/v1/characters/``                          a list, by name (``limit``, ``offset``)
``GET    /api/v1/characters/query``                     a page (``page``, ``page_size``)
``GET    /api/v1/characters/{id}``                      one card
``PUT    /api/v1/characters/{id}``                      change it (``?expected_version=``)
``DELETE /api/v1/characters/{id}``                      soft delete (``?expected_version=``)
``POST   /api/v1/characters/{id}/restore``              undo a delete (``?expected_version=``)
=====================================================  ======================================

``tags`` and ``alternate_greetings`` (lists of strings) and ``extensions`` (an
object) are stored as JSON text and returned as JSON again; a value that was
stored as plain text comes back as that text. The image travels as base64
(``image_base64``); ``image_present`` says whether a card has one.
"""

import base64
import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status
from pydantic import BaseModel

from ...core.DB_Management.stores import CharacterCard
from ...core.text import JsonObject
from ..compat import ImageBase64, OffsetPagination, VersionQuery, offset_pagination, route
from ..deps import (
    Characters,
    Instant,
    IntId,
    Limit,
    Name,
    Offset,
    SafeStr,
    StrictModel,
)
from ..updates import NotNull, UpdateBody, changed_fields

router = APIRouter(prefix="/api/v1/characters", tags=["characters"])

JsonText = SafeStr | list[SafeStr] | JsonObject


class CharacterFields(StrictModel):
    description: SafeStr | None = None
    personality: SafeStr | None = None
    scenario: SafeStr | None = None
    system_prompt: SafeStr | None = None
    post_history_instructions: SafeStr | None = None
    first_message: SafeStr | None = None
    message_example: SafeStr | None = None
    creator_notes: SafeStr | None = None
    alternate_greetings: JsonText | None = None
    tags: JsonText | None = None
    creator: SafeStr | None = None
    character_version: SafeStr | None = None
    extensions: JsonText | None = None
    image_base64: ImageBase64 | None = None


class CharacterCreate(CharacterFields):
    name: Name


class CharacterUpdate(CharacterFields, UpdateBody):
    name: Name | NotNull = None


#: Fields holding JSON: returned parsed when the stored text is JSON of that kind.
JSON_FIELDS = {"alternate_greetings": list, "tags": list, "extensions": dict}


class CharacterOut(BaseModel):
    id: int
    name: str
    description: str | None
    personality: str | None
    scenario: str | None
    system_prompt: str | None
    post_history_instructions: str | None
    first_message: str | None
    message_example: str | None
    creator_notes: str | None
    alternate_greetings: list[Any] | str | None
    tags: list[Any] | str | None
    creator: str | None
    character_version: str | None
    extensions: dict[str, Any] | str | None
    image_base64: str | None
    image_present: bool
    version: int
    created_at: Instant | None
    last_modified: Instant


class CharacterPage(BaseModel):
    items: list[CharacterOut]
    total: int
    page: int
    page_size: int
    has_more: bool
    next_offset: int | None
    pagination: OffsetPagination


class CharacterDeleted(BaseModel):
    message: str
    character_id: int


def _json_or_text(name: str, text: str | None) -> Any:
    kind = JSON_FIELDS.get(name)
    if kind is None or text is None:
        return text
    try:
        value = json.loads(text)
    except ValueError:
        return text
    return value if isinstance(value, kind) else text


def _out(card: CharacterCard) -> CharacterOut:
    fields = {name: _json_or_text(name, text) for name, text in card.fields.items()}
    return CharacterOut(
        id=card.id,
        name=card.name,
        version=card.version,
        created_at=card.created_at,
        last_modified=card.last_modified,
        image_base64=base64.b64encode(card.image).decode("ascii") if card.image else None,
        image_present=bool(card.image),
        **fields,
    )


def _stored(values: dict[str, Any]) -> dict[str, Any]:
    """A body's fields as the store takes them: the image as bytes instead of base64."""
    if "image_base64" in values:
        encoded = values.pop("image_base64")
        values["image"] = base64.b64decode(encoded) if encoded is not None else None
    return values


@route(router, "POST", "/", status_code=status.HTTP_201_CREATED, response_model=CharacterOut)
def create_character(body: CharacterCreate, store: Characters, response: Response) -> CharacterOut:
    values = _stored(body.model_dump(exclude_unset=True, exclude={"name"}))
    image = values.pop("image", None)
    card = store.add_character(body.name, image=image, **values)
    response.headers["Location"] = f"/api/v1/characters/{card.id}"
    return _out(card)


@route(router, "GET", "/", response_model=list[CharacterOut])
def list_characters(
    store: Characters, limit: Limit = 100, offset: Offset = 0
) -> list[CharacterOut]:
    return [_out(c) for c in store.list_characters(limit=limit, offset=offset)]


@route(router, "GET", "/query", response_model=CharacterPage)
def query_characters(
    store: Characters,
    page: Annotated[int, Query(ge=1, le=1_000_000, description="1-based page number")] = 1,
    page_size: Annotated[int, Query(ge=1, le=100, description="cards per page, 1-100")] = 25,
) -> CharacterPage:
    offset = (page - 1) * page_size
    cards = [_out(c) for c in store.list_characters(limit=page_size, offset=offset)]
    pagination = offset_pagination(page_size, offset, store.count_characters(), len(cards))
    return CharacterPage(
        items=cards,
        total=pagination.total,
        page=page,
        page_size=page_size,
        has_more=pagination.has_more,
        next_offset=pagination.next_offset,
        pagination=pagination,
    )


@router.get("/{character_id}", response_model=CharacterOut)
def get_character(character_id: IntId, store: Characters) -> CharacterOut:
    return _out(store.get_character(character_id))


@router.put("/{character_id}", response_model=CharacterOut)
def update_character(
    character_id: IntId, body: CharacterUpdate, store: Characters, expected_version: VersionQuery
) -> CharacterOut:
    values = _stored(changed_fields(body))
    return _out(store.update_character(character_id, expected_version, **values))


@router.delete("/{character_id}", response_model=CharacterDeleted)
def delete_character(
    character_id: IntId, store: Characters, expected_version: VersionQuery
) -> CharacterDeleted:
    name = store.get_character(character_id).name
    store.delete_character(character_id, expected_version)
    return CharacterDeleted(
        message=f"Character {name!r} (ID: {character_id}) soft-deleted.", character_id=character_id
    )


@router.post("/{character_id}/restore", response_model=CharacterOut)
def restore_character(
    character_id: IntId, store: Characters, expected_version: VersionQuery
) -> CharacterOut:
    return _out(store.restore_character(character_id, expected_version))
