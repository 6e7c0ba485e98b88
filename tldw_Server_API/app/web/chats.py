"""The Chats pages, read only: the signed-in user's characters and conversations, and a
conversation's messages (the stores behind ``/api/v1/characters`` and ``/api/v1/chats``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request, Response

from ..api.deps import MAX_ID, TextId
from ..core.DB_Management.stores import NotFound
from .guards import SignedIn
from .pages import page_router, render
from .user_pages import PAGE_SIZE, PageNumber, list_page, not_found, offset_of, user_stores

router = page_router()

CharacterFilter = Annotated[int | None, Query(ge=1, le=MAX_ID)]
#: Characters listed beside the conversations (a user has a handful; the API pages more).
MAX_CHARACTERS = 200
#: Messages shown of one conversation.
MAX_MESSAGES = 1000


@router.get("/chats", response_model=None)
def chats_page(
    request: Request, session: SignedIn, character: CharacterFilter = None, page: PageNumber = 1
) -> Response:
    with user_stores(request, session) as stores:
        chats = stores.chats
        characters = stores.characters.list_characters(limit=MAX_CHARACTERS)
        conversations = chats.list_conversations(
            character_id=character, limit=PAGE_SIZE, offset=offset_of(page)
        )
        total = chats.count_conversations(character_id=character)
        counts = chats.message_counts([c.id for c in conversations])
    names = {card.id: card.name for card in characters}
    return list_page(
        request,
        session,
        "chats.html",
        conversations,
        page=page,
        params={"character": character},
        total=total,
        characters=characters,
        names=names,
        character=character,
        counts=counts,
    )


@router.get("/chats/{conversation_id}", response_model=None)
def conversation_page(request: Request, conversation_id: TextId, session: SignedIn) -> Response:
    with user_stores(request, session) as stores:
        try:
            conversation = stores.chats.get_conversation(conversation_id)
            messages = stores.chats.list_messages(conversation_id, limit=MAX_MESSAGES)
            card = (
                stores.characters.get_character(conversation.character_id)
                if conversation.character_id is not None
                else None
            )
        except NotFound:
            raise not_found(
                session, "Conversation not found", "There is no such conversation among yours."
            ) from None
    return render(
        request,
        "conversation.html",
        session,
        conversation=conversation,
        messages=messages,
        character=card,
    )


__all__ = ["router"]
