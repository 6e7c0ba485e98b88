"""Conversations ("chats"), as tldw_server's clients call them.

=========================================================  ===================================
``POST   /api/v1/chats/``                                   start a conversation (201)
``GET    /api/v1/chats/``                                   list, most recent first
``GET    /api/v1/chats/messages/search?q=``                 search every chat's messages
``GET    /api/v1/chats/{id}``                               one conversation
``PUT    /api/v1/chats/{id}``                               title / rating (``?expected_version=``)
``DELETE /api/v1/chats/{id}``                               soft delete (``?expected_version=``
                                                            optional), 204
=========================================================  ===================================

Its messages are in :mod:`.messages`. Listing and creating answer with or
without the trailing slash.
"""

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response, status
from pydantic import BaseModel, BeforeValidator, Field

from ...core.DB_Management.stores import ChatStore, Conversation
from ...core.DB_Management.stores.chats import CONVERSATION_LABELS, CONVERSATION_STATES
from ..compat import LenientModel, OffsetPage, VersionQuery, page_fields, route
from ..deps import (
    MAX_ID,
    MAX_JSON_INT,
    Analytics,
    Chats,
    ExpectedVersion,
    Instant,
    Limit,
    Offset,
    RefId,
    SafeStr,
    SearchPage,
    SearchQuery,
    TextId,
    recorded_search,
    search_page,
)
from ..updates import NotNull, UpdateBody, changed_fields

router = APIRouter(prefix="/api/v1/chats", tags=["chats"])

Rating = Annotated[int, Field(ge=1, le=5)]
Title = Annotated[SafeStr, Field(max_length=1000)]


Label = Annotated[SafeStr, Field(max_length=1000)]


def _state(value: object) -> object:
    """tldw_server's states compare trimmed and in lower case."""
    return value.strip().lower() if isinstance(value, str) else value


State = Annotated[
    Literal[CONVERSATION_STATES],  # type: ignore[valid-type]
    BeforeValidator(_state),
]


class ChatLabels(LenientModel):
    """The conversation fields of tldw_server's chat schemas besides title and rating."""

    state: State | NotNull = Field(None, description="lifecycle state (default in-progress)")
    topic_label: Label | None = Field(None, description="the conversation's main topic")
    cluster_id: Label | None = Field(None, description="a group for navigation")
    source: Label | None = Field(None, description="where it came from (email, issue...)")
    external_ref: Label | None = Field(None, description="an outside reference or link")


class ChatCreate(ChatLabels):
    title: Title | None = None
    character_id: Annotated[int, Field(ge=1, le=MAX_JSON_INT)] | None = None
    rating: Rating | None = None
    parent_conversation_id: RefId | None = Field(
        None, description="fork of this conversation (in its tree)"
    )
    forked_from_message_id: RefId | None = Field(
        None, description="the message the fork starts after (its conversation is the parent)"
    )


class ChatUpdate(ChatLabels, UpdateBody):
    title: Title | None = None
    rating: Rating | None = None


class ChatOut(BaseModel):
    id: str
    character_id: int | None
    title: str | None
    rating: int | None
    state: str
    topic_label: str | None
    cluster_id: str | None
    source: str | None
    external_ref: str | None
    created_at: Instant | None
    last_modified: Instant
    message_count: int
    version: int
    parent_conversation_id: str | None
    root_id: str
    forked_from_message_id: str | None


class ChatList(OffsetPage):
    chats: list[ChatOut]


def _chats(store: ChatStore, conversations: list[Conversation]) -> list[ChatOut]:
    counts = store.message_counts([c.id for c in conversations])
    # Every field ChatOut declares is the conversation's, but for its message count.
    return [
        ChatOut.model_validate(vars(c) | {"message_count": counts[c.id]}) for c in conversations
    ]


def _chat(store: ChatStore, conversation: Conversation) -> ChatOut:
    return _chats(store, [conversation])[0]


@route(router, "POST", "/", status_code=status.HTTP_201_CREATED, response_model=ChatOut)
def create_chat(body: ChatCreate, store: Chats, response: Response) -> ChatOut:
    labels = body.model_dump(include=set(CONVERSATION_LABELS), exclude_unset=True)
    chat = store.create_conversation(
        body.title,
        body.character_id,
        rating=body.rating,
        labels=labels,
        parent_conversation_id=body.parent_conversation_id,
        forked_from_message_id=body.forked_from_message_id,
    )
    response.headers["Location"] = f"/api/v1/chats/{chat.id}"
    return _chat(store, chat)


@route(router, "GET", "/", response_model=ChatList)
def list_chats(
    store: Chats,
    character_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> ChatList:
    page = store.list_conversations(character_id=character_id, limit=limit, offset=offset)
    total = store.count_conversations(character_id=character_id)
    return ChatList(chats=_chats(store, page), **page_fields(limit, offset, total, len(page)))


@router.get("/messages/search", response_model=SearchPage)
def search_all_messages(
    q: SearchQuery,
    store: Chats,
    analytics: Analytics,
    limit: Limit = 20,
    offset: Offset = 0,
) -> SearchPage:
    """Search the messages of every chat (tldw_server searches one chat at a time)."""
    hits = recorded_search(
        analytics, "messages", q, lambda: store.search_messages(q, limit=limit, offset=offset)
    )
    return search_page(q, hits, limit, offset)


@router.get("/{chat_id}", response_model=ChatOut)
def get_chat(chat_id: TextId, store: Chats) -> ChatOut:
    return _chat(store, store.get_conversation(chat_id))


@router.put("/{chat_id}", response_model=ChatOut)
def update_chat(
    chat_id: TextId, body: ChatUpdate, store: Chats, expected_version: VersionQuery
) -> ChatOut:
    changes = changed_fields(body)
    return _chat(store, store.update_conversation(chat_id, expected_version, **changes))


@router.delete("/{chat_id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
def delete_chat(
    chat_id: TextId, store: Chats, expected_version: ExpectedVersion = None
) -> Response:
    store.soft_delete_conversation(chat_id, expected_version)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
