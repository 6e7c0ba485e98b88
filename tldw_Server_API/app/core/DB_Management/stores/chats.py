"""The chats store: one user's conversations (optionally forked) and their messages."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, insert, select
from sqlalchemy.sql.elements import ColumnElement

from ..instants import to_instant
from ..schemas.types import is_false, to_flag
from ._chacha import ChaChaStore
from ._common import (
    AnyRow,
    check_fields,
    check_paging,
    load_row,
    new_uuid,
    record_from_row,
    require_live,
    require_text,
)
from .changes import content_changed
from .errors import InvalidInput, NotFound
from .search_hits import SearchHit, search_hits, search_rows


@dataclass(frozen=True)
class Conversation:
    id: str
    root_id: str
    title: str | None
    character_id: int | None
    parent_conversation_id: str | None
    forked_from_message_id: str | None
    rating: int | None
    created_at: datetime | None
    last_modified: datetime
    version: int
    deleted: bool
    state: str = "in-progress"
    topic_label: str | None = None
    cluster_id: str | None = None
    source: str | None = None
    external_ref: str | None = None


#: A conversation's lifecycle states (tldw_server's), the first the default.
CONVERSATION_STATES = ("in-progress", "resolved", "backlog", "non-viable")
#: A conversation's labels besides its title and rating, set at creation or by an update.
CONVERSATION_LABELS = ("state", "topic_label", "cluster_id", "source", "external_ref")


@dataclass(frozen=True)
class Message:
    id: str
    conversation_id: str
    parent_message_id: str | None
    sender: str
    content: str | None
    timestamp: datetime
    ranking: int | None
    image_data: bytes | None
    image_mime_type: str | None
    version: int
    deleted: bool
    pinned: bool = False


class ChatStore(ChaChaStore):
    """Conversations (optionally with a character, optionally forked) and their messages."""

    def create_conversation(
        self,
        title: str | None = None,
        character_id: int | None = None,
        *,
        rating: int | None = None,
        labels: Mapping[str, str | None] | None = None,
        parent_conversation_id: str | None = None,
        forked_from_message_id: str | None = None,
    ) -> Conversation:
        """A new conversation: its own root (``root_id`` = its id), or, with a parent
        conversation or a message it is forked from, in that conversation's tree.

        *labels* sets any of :data:`CONVERSATION_LABELS` (``state`` defaults to
        ``in-progress``). A message must belong to the parent when both are given.
        """
        _check_rating(rating)
        given = _check_labels(dict(labels or {}))
        key = new_uuid()
        with self.database.begin(write=True) as conn:
            if character_id is not None:
                require_live(conn, self._table("character_cards"), character_id)
            root = key
            if forked_from_message_id is not None:
                source = self._load_message(conn, forked_from_message_id).conversation_id
                if parent_conversation_id not in (None, source):
                    raise NotFound(
                        "messages", forked_from_message_id, "it is not in the parent conversation"
                    )
                parent_conversation_id = source
            if parent_conversation_id is not None:
                root = self._load_conversation(conn, parent_conversation_id).root_id
                given |= {
                    "parent_conversation_id": parent_conversation_id,
                    "forked_from_message_id": forked_from_message_id,
                }
            self._insert_conversation(conn, key, root, title, character_id, rating, **given)
            return self._load_conversation(conn, key)

    def fork_conversation(self, message_id: str, title: str | None = None) -> Conversation:
        """A new conversation branching off *message_id*, in the same tree (same root).

        The fork starts empty: its history up to the fork point is the parent's
        messages up to ``forked_from_message_id``.
        """
        messages, conversations = self._table("messages"), self._table("conversations")
        key = new_uuid()
        with self.database.begin(write=True) as conn:
            parent = conn.execute(
                select(conversations)
                .join(messages, messages.c.conversation_id == conversations.c.id)
                .where(messages.c.id == message_id, is_false(messages.c.deleted))
                .where(is_false(conversations.c.deleted))
            ).one_or_none()
            if parent is None:
                raise NotFound("messages", message_id)
            self._insert_conversation(
                conn,
                key,
                parent.root_id,
                title if title is not None else parent.title,
                parent.character_id,
                None,
                parent_conversation_id=parent.id,
                forked_from_message_id=message_id,
            )
            return self._load_conversation(conn, key)

    def get_conversation(self, conversation_id: str, include_deleted: bool = False) -> Conversation:
        with self.database.begin(write=False) as conn:
            return self._load_conversation(conn, conversation_id, include_deleted=include_deleted)

    def list_conversations(
        self, character_id: int | None = None, limit: int = 50, offset: int = 0
    ) -> list[Conversation]:
        """Live conversations, most recently changed first."""
        check_paging("conversations", limit, offset)
        conversations = self._table("conversations")
        stmt = select(conversations).where(is_false(conversations.c.deleted))
        if character_id is not None:
            stmt = stmt.where(conversations.c.character_id == character_id)
        stmt = stmt.order_by(conversations.c.last_modified.desc(), conversations.c.id)
        with self.database.begin(write=False) as conn:
            rows = conn.execute(stmt.limit(limit).offset(offset))
            return [_conversation(row) for row in rows]

    def count_conversations(self, character_id: int | None = None) -> int:
        """How many live conversations :meth:`list_conversations` pages through."""
        conversations = self._table("conversations")
        stmt = (
            select(func.count()).select_from(conversations).where(is_false(conversations.c.deleted))
        )
        if character_id is not None:
            stmt = stmt.where(conversations.c.character_id == character_id)
        with self.database.begin(write=False) as conn:
            return int(conn.execute(stmt).scalar_one())

    def message_counts(self, conversation_ids: list[str]) -> dict[str, int]:
        """The number of live messages in each of *conversation_ids* (0 when none)."""
        counts = dict.fromkeys(conversation_ids, 0)
        if not conversation_ids:
            return counts
        messages = self._table("messages")
        stmt = (
            select(messages.c.conversation_id, func.count())
            .where(messages.c.conversation_id.in_(conversation_ids), is_false(messages.c.deleted))
            .group_by(messages.c.conversation_id)
        )
        with self.database.begin(write=False) as conn:
            counts.update({key: int(n) for key, n in conn.execute(stmt)})
        return counts

    def update_conversation(
        self, conversation_id: str, expected_version: int, **changes: Any
    ) -> Conversation:
        check_fields("conversations", changes, {"title", "rating", *CONVERSATION_LABELS})
        if "rating" in changes:
            _check_rating(changes["rating"])
        _check_labels(changes)
        with self.database.begin(write=True) as conn:
            self._update(
                conn, "conversations", conversation_id, changes, expected_version=expected_version
            )
            return self._load_conversation(conn, conversation_id)

    def soft_delete_conversation(
        self, conversation_id: str, expected_version: int | None = None
    ) -> int:
        return self._soft_delete("conversations", conversation_id, expected_version)

    def add_message(
        self,
        conversation_id: str,
        sender: str,
        content: str | None,
        *,
        parent_message_id: str | None = None,
        timestamp: datetime | None = None,
        image_data: bytes | None = None,
        image_mime_type: str | None = None,
        ranking: int | None = None,
        pinned: bool = False,
    ) -> Message:
        require_text("messages", "sender", sender)
        if content is None and image_data is None:
            raise InvalidInput("messages", "a message needs content or an image")
        key = new_uuid()
        with self.database.begin(write=True) as conn:
            require_live(conn, self._table("conversations"), conversation_id)
            if parent_message_id is not None:
                require_live(conn, self._table("messages"), parent_message_id)
            sync = self._new_sync(created=False)
            conn.execute(
                insert(self._table("messages")).values(
                    id=key,
                    conversation_id=conversation_id,
                    parent_message_id=parent_message_id,
                    sender=sender,
                    content=content,
                    image_data=image_data,
                    image_mime_type=image_mime_type,
                    timestamp=to_instant(timestamp)
                    if timestamp
                    else self._next_message_time(conn, conversation_id, sync["last_modified"]),
                    ranking=ranking,
                    pinned=pinned,
                    **sync,
                )
            )
            message = self._load_message(conn, key)
        content_changed(self.database)  # committed: the retrieval indexer embeds it
        return message

    def _next_message_time(self, conn: Connection, conversation_id: str, now: datetime) -> datetime:
        """*now*, or 1 ms past the conversation's newest message when that is not earlier.

        Messages are listed by timestamp: two written within one millisecond must
        still come back in the order they were written.
        """
        messages = self._table("messages")
        newest = conn.execute(
            select(func.max(messages.c.timestamp)).where(
                messages.c.conversation_id == conversation_id
            )
        ).scalar()
        latest = to_instant(newest) if newest is not None else None
        if latest is not None and latest >= now:
            return latest + timedelta(milliseconds=1)
        return now

    def get_message(self, message_id: str) -> Message:
        with self.database.begin(write=False) as conn:
            return self._load_message(conn, message_id)

    def list_messages(
        self, conversation_id: str, limit: int = 500, offset: int = 0
    ) -> list[Message]:
        """The conversation's live messages, oldest first."""
        check_paging("messages", limit, offset)
        messages = self._table("messages")
        stmt = (
            select(messages)
            .where(messages.c.conversation_id == conversation_id, is_false(messages.c.deleted))
            .order_by(messages.c.timestamp, messages.c.id)
            .limit(limit)
            .offset(offset)
        )
        with self.database.begin(write=False) as conn:
            require_live(conn, self._table("conversations"), conversation_id)
            return [_message(row) for row in conn.execute(stmt)]

    def find_messages(
        self, query: str, conversation_id: str, limit: int = 50, offset: int = 0
    ) -> list[tuple[Message, float]]:
        """Live messages of the live conversation matching *query* (FTS5 syntax), best first,
        each with its rank."""
        check_paging("messages", limit, offset)
        messages = self._table("messages")
        columns = [c.name for c in messages.c if c.name != "id"]
        with self.database.begin(write=False) as conn:
            require_live(conn, self._table("conversations"), conversation_id)
            matches = search_rows(
                conn,
                self.database,
                messages,
                "messages_fts",
                query,
                columns,
                limit=limit,
                offset=offset,
                where=[messages.c.conversation_id == conversation_id],
            )
        return [(_message(m.row), m.rank) for m in matches]

    def update_message(self, message_id: str, expected_version: int, **changes: Any) -> Message:
        check_fields("messages", changes, {"content", "ranking", "pinned"})
        with self.database.begin(write=True) as conn:
            self._update(conn, "messages", message_id, changes, expected_version=expected_version)
            message = self._load_message(conn, message_id)
        content_changed(self.database)
        return message

    def soft_delete_message(self, message_id: str, expected_version: int | None = None) -> int:
        return self._soft_delete("messages", message_id, expected_version)

    def search_messages(
        self,
        query: str,
        conversation_id: str | None = None,
        limit: int = 20,
        offset: int = 0,
    ) -> list[SearchHit]:
        """Live messages of live conversations matching *query*; ``title`` is the sender."""
        messages, conversations = self._table("messages"), self._table("conversations")
        live = select(conversations.c.id).where(is_false(conversations.c.deleted))
        where: list[ColumnElement[bool]] = [messages.c.conversation_id.in_(live)]
        if conversation_id is not None:
            where.append(messages.c.conversation_id == conversation_id)
        return search_hits(
            self.database,
            messages,
            "messages_fts",
            query,
            title="sender",
            limit=limit,
            offset=offset,
            where=where,
        )

    def _insert_conversation(
        self,
        conn: Connection,
        key: str,
        root_id: str,
        title: str | None,
        character_id: int | None,
        rating: int | None,
        **more: str | None,
    ) -> None:
        conn.execute(
            insert(self._table("conversations")).values(
                id=key,
                root_id=root_id,
                title=title,
                character_id=character_id,
                rating=rating,
                **more,
                **self._new_sync(),
            )
        )

    def _load_conversation(
        self, conn: Connection, key: str, *, include_deleted: bool = False
    ) -> Conversation:
        table = self._table("conversations")
        return _conversation(load_row(conn, table, key, include_deleted=include_deleted))

    def _load_message(self, conn: Connection, key: str) -> Message:
        return _message(load_row(conn, self._table("messages"), key))


def _check_rating(rating: int | None) -> None:
    if rating is not None and (not isinstance(rating, int) or not 1 <= rating <= 5):
        raise InvalidInput(
            "conversations", f"rating must be an integer from 1 to 5, got {rating!r}"
        )


def _check_labels(labels: dict[str, Any]) -> dict[str, Any]:
    """*labels* with a valid ``state`` (trimmed, lower case); a null state is refused."""
    unknown = sorted(set(labels) - set(CONVERSATION_LABELS) - {"title", "rating"})
    if unknown:
        raise InvalidInput("conversations", f"unknown fields {unknown}")
    if "state" in labels:
        state = labels["state"]
        normal = state.strip().lower() if isinstance(state, str) else state
        if normal not in CONVERSATION_STATES:
            raise InvalidInput(
                "conversations",
                f"state must be one of {', '.join(CONVERSATION_STATES)}, got {state!r}",
            )
        labels["state"] = normal
    return labels


def _conversation(row: AnyRow) -> Conversation:
    return record_from_row(Conversation, row, state=row.state or CONVERSATION_STATES[0])


def _message(row: AnyRow) -> Message:
    return record_from_row(Message, row, pinned=bool(to_flag(row.pinned)))
