"""Conversations ("chats") and their messages.

=========================================================  ===================================
``POST   /api/v1/chats``                                    start a conversation (201)
``GET    /api/v1/chats``                                    list, most recent first
``GET    /api/v1/chats/messages/search?q=``                 full-text search over messages
``GET    /api/v1/chats/{id}``                               one conversation
``PUT    /api/v1/chats/{id}``                               change title / rating (``version``)
``DELETE /api/v1/chats/{id}``                               soft delete (``?version=`` optional)
``POST   /api/v1/chats/{id}/messages``                      add a message (201)
``GET    /api/v1/chats/{id}/messages``                      its messages, oldest first
``GET    /api/v1/chats/{id}/messages/{message_id}``         one message
``PUT    /api/v1/chats/{id}/messages/{message_id}``         edit content / ranking (``version``)
``DELETE /api/v1/chats/{id}/messages/{message_id}``         soft delete a message
=========================================================  ===================================
"""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status
from pydantic import BaseModel, Field

from ...core.DB_Management.stores import (
    ChatStore,
    Conversation,
    InvalidInput,
    Message,
    NotFound,
)
from ..deps import (
    MAX_ID,
    MAX_JSON_INT,
    Analytics,
    Chats,
    ExpectedVersion,
    Instant,
    Limit,
    Name,
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

router = APIRouter(prefix="/api/v1/chats", tags=["chats"])

Rating = Annotated[int, Field(ge=1, le=5)]
MessageId = Annotated[str, Path(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_.:-]+$")]


class ChatCreate(StrictModel):
    title: Annotated[SafeStr, Field(max_length=1000)] | None = None
    character_id: Annotated[int, Field(ge=1, le=MAX_JSON_INT)] | None = None
    rating: Rating | None = None


class ChatUpdate(Versioned):
    title: Annotated[SafeStr, Field(max_length=1000)] | None = None
    rating: Rating | None = None


class ChatOut(BaseModel):
    id: str
    root_id: str
    title: str | None
    character_id: int | None
    parent_conversation_id: str | None
    forked_from_message_id: str | None
    rating: int | None
    created_at: Instant | None
    last_modified: Instant
    version: int


class ChatList(BaseModel):
    items: list[ChatOut]
    limit: int
    offset: int


class ChatDeleted(BaseModel):
    id: str
    deleted: bool = True
    version: int


class MessageCreate(StrictModel):
    sender: Name
    content: SafeStr
    parent_message_id: (
        Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_.:-]+$")] | None
    ) = None
    ranking: Annotated[int, Field(ge=-1_000_000, le=1_000_000)] | None = None


class MessageUpdate(Versioned):
    content: SafeStr | NotNull = None
    ranking: Annotated[int, Field(ge=-1_000_000, le=1_000_000)] | None = None


class MessageOut(BaseModel):
    id: str
    conversation_id: str
    parent_message_id: str | None
    sender: str
    content: str | None
    timestamp: Instant
    ranking: int | None
    image_mime_type: str | None
    version: int


class MessageList(BaseModel):
    conversation_id: str
    items: list[MessageOut]
    limit: int
    offset: int


class MessageDeleted(BaseModel):
    id: str
    conversation_id: str
    deleted: bool = True
    version: int


def _chat(conversation: Conversation) -> ChatOut:
    return ChatOut.model_validate(conversation, from_attributes=True)


def _message(message: Message) -> MessageOut:
    return MessageOut.model_validate(message, from_attributes=True)


def _message_of(store: ChatStore, chat_id: str, message_id: str) -> Message:
    """The message, only when it belongs to *chat_id* (else 404, as if absent)."""
    store.get_conversation(chat_id)
    message = store.get_message(message_id)
    if message.conversation_id != chat_id:
        raise NotFound("messages", message_id, f"not in conversation {chat_id}")
    return message


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ChatOut)
def create_chat(body: ChatCreate, store: Chats, response: Response) -> ChatOut:
    chat = store.create_conversation(body.title, body.character_id, rating=body.rating)
    response.headers["Location"] = f"/api/v1/chats/{chat.id}"
    return _chat(chat)


@router.get("", response_model=ChatList)
def list_chats(
    store: Chats,
    character_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> ChatList:
    chats = store.list_conversations(character_id=character_id, limit=limit, offset=offset)
    return ChatList(items=[_chat(c) for c in chats], limit=limit, offset=offset)


@router.get("/messages/search", response_model=SearchPage)
def search_messages(
    q: SearchQuery,
    store: Chats,
    analytics: Analytics,
    conversation_id: Annotated[
        str | None, Query(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_.:-]+$")
    ] = None,
    limit: Limit = 20,
    offset: Offset = 0,
) -> SearchPage:
    hits = recorded_search(
        analytics,
        "messages",
        q,
        lambda: store.search_messages(
            q, conversation_id=conversation_id, limit=limit, offset=offset
        ),
    )
    return search_page(q, hits, limit, offset)


@router.get("/{chat_id}", response_model=ChatOut)
def get_chat(chat_id: TextId, store: Chats) -> ChatOut:
    return _chat(store.get_conversation(chat_id))


@router.put("/{chat_id}", response_model=ChatOut)
def update_chat(chat_id: TextId, body: ChatUpdate, store: Chats) -> ChatOut:
    changes = body.model_dump(exclude_unset=True, exclude={"version"})
    if not changes:
        raise InvalidInput(
            "conversations", "nothing to change: give title and/or rating besides version"
        )
    return _chat(store.update_conversation(chat_id, body.version, **changes))


@router.delete("/{chat_id}", response_model=ChatDeleted)
def delete_chat(chat_id: TextId, store: Chats, version: ExpectedVersion = None) -> ChatDeleted:
    return ChatDeleted(id=chat_id, version=store.soft_delete_conversation(chat_id, version))


@router.post("/{chat_id}/messages", status_code=status.HTTP_201_CREATED, response_model=MessageOut)
def add_message(chat_id: TextId, body: MessageCreate, store: Chats) -> MessageOut:
    if body.parent_message_id is not None:
        _message_of(store, chat_id, body.parent_message_id)
    message = store.add_message(
        chat_id,
        body.sender,
        body.content,
        parent_message_id=body.parent_message_id,
        ranking=body.ranking,
    )
    return _message(message)


@router.get("/{chat_id}/messages", response_model=MessageList)
def list_messages(
    chat_id: TextId, store: Chats, limit: Limit = 500, offset: Offset = 0
) -> MessageList:
    messages = store.list_messages(chat_id, limit=limit, offset=offset)
    return MessageList(
        conversation_id=chat_id, items=[_message(m) for m in messages], limit=limit, offset=offset
    )


@router.get("/{chat_id}/messages/{message_id}", response_model=MessageOut)
def get_message(chat_id: TextId, message_id: MessageId, store: Chats) -> MessageOut:
    return _message(_message_of(store, chat_id, message_id))


@router.put("/{chat_id}/messages/{message_id}", response_model=MessageOut)
def update_message(
    chat_id: TextId, message_id: MessageId, body: MessageUpdate, store: Chats
) -> MessageOut:
    _message_of(store, chat_id, message_id)
    changes = body.model_dump(exclude_unset=True, exclude={"version"})
    if "content" in changes and changes["content"] is None:
        raise InvalidInput("messages", "content cannot be null")
    if not changes:
        raise InvalidInput("messages", "nothing to change: give content and/or ranking")
    return _message(store.update_message(message_id, body.version, **changes))


@router.delete("/{chat_id}/messages/{message_id}", response_model=MessageDeleted)
def delete_message(
    chat_id: TextId, message_id: MessageId, store: Chats, version: ExpectedVersion = None
) -> MessageDeleted:
    _message_of(store, chat_id, message_id)
    return MessageDeleted(
        id=message_id,
        conversation_id=chat_id,
        version=store.soft_delete_message(message_id, version),
    )
