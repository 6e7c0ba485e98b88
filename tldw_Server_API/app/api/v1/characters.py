"""Character cards.

=================================================  ==========================================
``POST   /api/v1/characters``                       create a card (201); names are unique
``GET    /api/v1/characters``                       list, by name (``limit``, ``offset``)
``GET    /api/v1/characters/{id}``                  one card
``PUT    /api/v1/characters/{id}``                  change it; ``version`` required (409 if stale)
``DELETE /api/v1/characters/{id}``                  soft delete (``?version=`` optional)
``POST   /api/v1/characters/{id}/restore``          undo a delete
=================================================  ==========================================

``tags``, ``alternate_greetings`` and ``extensions`` may be given as JSON
(lists, objects); they are stored, and returned, as JSON text. The image
travels as base64 (``image_base64``).
"""

import base64
import binascii
from typing import Annotated, Any

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, Field, field_validator

from ...core.DB_Management.stores import CharacterCard, InvalidInput
from ...core.text import JsonObject
from ..deps import (
    Characters,
    ExpectedVersion,
    Instant,
    IntId,
    Limit,
    Name,
    NotNull,
    Offset,
    SafeStr,
    StrictModel,
    Versioned,
)

router = APIRouter(prefix="/api/v1/characters", tags=["characters"])

MAX_IMAGE_BASE64 = 15 * 1024 * 1024
#: Standard base64 (``+`` and ``/``, padded), as the schema states it.
BASE64_PATTERN = r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"
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
    image_base64: (
        Annotated[str, Field(max_length=MAX_IMAGE_BASE64, pattern=BASE64_PATTERN)] | None
    ) = None

    @field_validator("image_base64")
    @classmethod
    def _decodable(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError):
                raise ValueError("must be standard base64") from None
        return value


class CharacterCreate(CharacterFields):
    name: Name


class CharacterUpdate(Versioned, CharacterFields):
    name: Name | NotNull = None


class CharacterOut(BaseModel):
    id: int
    name: str
    version: int
    created_at: Instant | None
    last_modified: Instant
    fields: dict[str, str | None]
    image_base64: str | None


class CharacterList(BaseModel):
    items: list[CharacterOut]
    limit: int
    offset: int


class CharacterDeleted(BaseModel):
    id: int
    deleted: bool = True
    version: int


def _out(card: CharacterCard) -> CharacterOut:
    return CharacterOut(
        id=card.id,
        name=card.name,
        version=card.version,
        created_at=card.created_at,
        last_modified=card.last_modified,
        fields=dict(card.fields),
        image_base64=base64.b64encode(card.image).decode("ascii") if card.image else None,
    )


def _values(body: CharacterFields, *, exclude: set[str]) -> dict[str, Any]:
    values = body.model_dump(exclude_unset=True, exclude=exclude | {"image_base64"})
    if "image_base64" in body.model_fields_set:
        encoded = body.image_base64
        values["image"] = base64.b64decode(encoded) if encoded is not None else None
    return values


@router.post("", status_code=status.HTTP_201_CREATED, response_model=CharacterOut)
def create_character(body: CharacterCreate, store: Characters, response: Response) -> CharacterOut:
    values = _values(body, exclude={"name"})
    image = values.pop("image", None)
    card = store.add_character(body.name, image=image, **values)
    response.headers["Location"] = f"/api/v1/characters/{card.id}"
    return _out(card)


@router.get("", response_model=CharacterList)
def list_characters(store: Characters, limit: Limit = 100, offset: Offset = 0) -> CharacterList:
    cards = store.list_characters(limit=limit, offset=offset)
    return CharacterList(items=[_out(c) for c in cards], limit=limit, offset=offset)


@router.get("/{character_id}", response_model=CharacterOut)
def get_character(character_id: IntId, store: Characters) -> CharacterOut:
    return _out(store.get_character(character_id))


@router.put("/{character_id}", response_model=CharacterOut)
def update_character(character_id: IntId, body: CharacterUpdate, store: Characters) -> CharacterOut:
    values = _values(body, exclude={"version"})
    if "name" in values and values["name"] is None:
        raise InvalidInput("character_cards", "name cannot be null")
    if not values:
        raise InvalidInput(
            "character_cards", "nothing to change: give at least one field besides version"
        )
    return _out(store.update_character(character_id, body.version, **values))


@router.delete("/{character_id}", response_model=CharacterDeleted)
def delete_character(
    character_id: IntId, store: Characters, version: ExpectedVersion = None
) -> CharacterDeleted:
    return CharacterDeleted(id=character_id, version=store.delete_character(character_id, version))


@router.post("/{character_id}/restore", response_model=CharacterOut)
def restore_character(character_id: IntId, store: Characters) -> CharacterOut:
    return _out(store.restore_character(character_id))
