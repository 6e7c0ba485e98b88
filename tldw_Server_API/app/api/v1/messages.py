"""A chat's messages, as tldw_server's clients call them.

=========================================================  ===================================
``POST   /api/v1/chats/{chat_id}/messages``                 add a message (201)
``GET    /api/v1/chats/{chat_id}/messages``                 its messages, oldest first
``GET    /api/v1/chats/{chat_id}/messages/search?query=``   search them, best first
``GET    /api/v1/messages/{message_id}``                    one message
``PUT    /api/v1/messages/{message_id}``                    edit it (``?expected_version=``)
``DELETE /api/v1/messages/{message_id}``                    soft delete (``?expected_version=``),
                                                            204
=========================================================  ===================================
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, Response, status
from pydantic import BaseModel, Field, model_validator

from ...core.DB_Management.stores import Message
from ..compat import (
    ImageBase64,
    LenientModel,
    OffsetPage,
    VersionQuery,
    decode_image,
    page_fields,
    route,
)
from ..deps import (
    MAX_LIMIT,
    TEXT_ID_PATTERN,
    Analytics,
    Chats,
    Instant,
    Limit,
    Offset,
    RefId,
    SafeStr,
    SearchQuery,
    TextId,
    recorded_search,
)

router = APIRouter(prefix="/api/v1", tags=["messages"])

MessageId = Annotated[str, Path(min_length=1, max_length=200, pattern=TEXT_ID_PATTERN)]
Content = Annotated[SafeStr, Field(min_length=1)]


def _blank(text: str | None) -> bool:
    return not (text and text.strip())


class MessageCreate(LenientModel):
    """tldw_server's ``MessageCreate``: text, an image, or both."""

    role: Literal["user", "assistant", "system"] = Field(description="who wrote it")
    content: Content | None = Field(None, description="required unless image_base64 is given")
    parent_message_id: RefId | None = None
    image_base64: ImageBase64 | None = Field(None, description="an image, standard base64")

    @model_validator(mode="after")
    def _something(self) -> MessageCreate:
        if _blank(self.content) and not self.image_base64:
            raise ValueError("Provide either non-empty content or image_base64.")
        return self


class MessageUpdate(LenientModel):
    """tldw_server's ``MessageUpdate``: new text, a pin state, or both."""

    content: Content | None = None
    pinned: bool | None = Field(None, description="pin or unpin the message")

    @model_validator(mode="after")
    def _something(self) -> MessageUpdate:
        if _blank(self.content) and self.pinned is None:
            raise ValueError("Provide either non-empty content or pinned.")
        return self


class MessageOut(BaseModel):
    id: str
    conversation_id: str
    parent_message_id: str | None
    sender: str
    content: str | None
    timestamp: Instant
    ranking: int | None
    has_image: bool
    pinned: bool
    version: int


class MessageList(OffsetPage):
    messages: list[MessageOut]


class MessageMatches(BaseModel):
    messages: list[MessageOut]
    total: int = Field(description=f"matches in the chat (counted up to {MAX_LIMIT})")
    limit: int
    offset: int


def _message(message: Message) -> MessageOut:
    # Every field MessageOut declares is the message's, but has_image (the image stays out).
    return MessageOut.model_validate(vars(message) | {"has_image": message.image_data is not None})


@route(
    router,
    "POST",
    "/chats/{chat_id}/messages",
    status_code=status.HTTP_201_CREATED,
    response_model=MessageOut,
)
def add_message(chat_id: TextId, body: MessageCreate, store: Chats) -> MessageOut:
    if body.parent_message_id is not None:
        parent = store.get_message(body.parent_message_id)
        if parent.conversation_id != chat_id:
            raise HTTPException(
                status.HTTP_404_NOT_FOUND,
                f"message {body.parent_message_id!r} is not in conversation {chat_id!r}",
            )
    image, mime = decode_image(body.image_base64) if body.image_base64 else (None, None)
    message = store.add_message(
        chat_id,
        body.role,
        None if _blank(body.content) else body.content,
        parent_message_id=body.parent_message_id,
        image_data=image,
        image_mime_type=mime,
    )
    return _message(message)


@route(router, "GET", "/chats/{chat_id}/messages", response_model=MessageList)
def list_messages(
    chat_id: TextId, store: Chats, limit: Limit = 50, offset: Offset = 0
) -> MessageList:
    page = store.list_messages(chat_id, limit=limit, offset=offset)
    total = store.message_counts([chat_id])[chat_id]
    return MessageList(
        messages=[_message(m) for m in page], **page_fields(limit, offset, total, len(page))
    )


@router.get("/chats/{chat_id}/messages/search", response_model=MessageMatches)
def search_messages(
    chat_id: TextId,
    query: SearchQuery,
    store: Chats,
    analytics: Analytics,
    limit: Limit = 50,
    offset: Offset = 0,
) -> MessageMatches:
    # Every match (up to MAX_LIMIT) is read: the total is part of the answer.
    found = recorded_search(
        analytics,
        "messages",
        query,
        lambda: store.find_messages(query, chat_id, limit=MAX_LIMIT),
        score=lambda hit: hit[1],
    )
    page = [_message(m) for m, _ in found[offset : offset + limit]]
    return MessageMatches(messages=page, total=len(found), limit=limit, offset=offset)


@router.get("/messages/{message_id}", response_model=MessageOut)
def get_message(message_id: MessageId, store: Chats) -> MessageOut:
    return _message(store.get_message(message_id))


@router.put("/messages/{message_id}", response_model=MessageOut)
def update_message(
    message_id: MessageId, body: MessageUpdate, store: Chats, expected_version: VersionQuery
) -> MessageOut:
    changes = body.model_dump(exclude_none=True)
    if _blank(body.content):
        changes.pop("content", None)
    return _message(store.update_message(message_id, expected_version, **changes))


@router.delete(
    "/messages/{message_id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response
)
def delete_message(message_id: MessageId, store: Chats, expected_version: VersionQuery) -> Response:
    store.soft_delete_message(message_id, expected_version)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
