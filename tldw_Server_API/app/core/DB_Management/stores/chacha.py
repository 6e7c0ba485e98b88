"""The ChaChaNotes stores: one user's notes, characters and chats.

Three small stores over one ChaChaNotes :class:`~..backends.base.Database`:
:class:`NotesStore` (notes and their keywords), :class:`CharacterStore`
(character cards) and :class:`ChatStore` (conversations and messages).
Notes, conversations and messages are keyed by uuid4 text; characters and
keywords by integers. Deletes are soft (``deleted``), logged by the database's
sync triggers as 'delete', and reversible where a restore is offered.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Table, delete, func, insert, select
from sqlalchemy.sql.elements import ColumnElement

from ..backends.base import Database
from ..instants import to_instant
from ..schemas.types import is_false
from ._common import (
    AnyRow,
    SearchHit,
    check_fields,
    check_paging,
    clean_keywords,
    get_or_create_keyword,
    new_uuid,
    now,
    order_clauses,
    require_live,
    require_text,
    search_keys,
    snippet,
    update_versioned,
)
from .errors import InvalidInput, NotFound, Taken

NOTE_SORT_KEYS = ("title", "created_at", "last_modified", "version")
CHARACTER_TEXT_FIELDS = (
    "description",
    "personality",
    "scenario",
    "system_prompt",
    "post_history_instructions",
    "first_message",
    "message_example",
    "creator_notes",
    "alternate_greetings",
    "tags",
    "creator",
    "character_version",
    "extensions",
)
CHARACTER_FIELDS = frozenset({"name", "image", *CHARACTER_TEXT_FIELDS})


class _ChaChaStore:
    """What the three stores share: the database, the client id, new-row sync columns."""

    def __init__(self, database: Database, client_id: str = "server") -> None:
        if database.schema.name != "chacha":
            raise InvalidInput(
                "chacha",
                f"{type(self).__name__} needs a ChaChaNotes database, got {database.schema.title}",
            )
        self.database = database
        self.client_id = client_id

    def _table(self, name: str) -> Table:
        return self.database.table(name)

    def _new_sync(self, *, created: bool = True) -> dict[str, Any]:
        moment = now()
        values: dict[str, Any] = {
            "last_modified": moment,
            "version": 1,
            "client_id": self.client_id,
            "deleted": False,
        }
        if created:
            values["created_at"] = moment
        return values

    def _soft_delete(self, table: str, key: Any, expected_version: int | None) -> int:
        with self.database.begin(write=True) as conn:
            return update_versioned(
                conn,
                self._table(table),
                key,
                {"deleted": True},
                client_id=self.client_id,
                expected_version=expected_version,
            )

    def _restore(self, conn: Connection, table: str, key: Any) -> None:
        """Undelete *key*; a live row is left as it is."""
        tbl = self._table(table)
        deleted = conn.execute(select(tbl.c.deleted).where(tbl.c.id == key)).scalar_one_or_none()
        if deleted is None:
            raise NotFound(table, key)
        if deleted:
            update_versioned(
                conn, tbl, key, {"deleted": False}, client_id=self.client_id, live_only=False
            )


# -- notes --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Note:
    id: str
    title: str
    content: str
    keywords: list[str]
    created_at: datetime | None
    last_modified: datetime
    version: int
    deleted: bool
    client_id: str
    conversation_id: str | None
    message_id: str | None


class NotesStore(_ChaChaStore):
    """Notes and the keywords that tag them."""

    def add_note(
        self,
        title: str,
        content: str,
        keywords: Iterable[str] = (),
        *,
        conversation_id: str | None = None,
        message_id: str | None = None,
        note_id: str | None = None,
    ) -> Note:
        require_text("notes", "title", title)
        if not isinstance(content, str):
            raise InvalidInput("notes", f"content must be a string, got {content!r}")
        words = clean_keywords("keywords", keywords)
        key = note_id or new_uuid()
        with self.database.begin(write=True) as conn:
            if conversation_id is not None:
                require_live(conn, self._table("conversations"), conversation_id)
            if message_id is not None:
                require_live(conn, self._table("messages"), message_id)
            conn.execute(
                insert(self._table("notes")).values(
                    id=key,
                    title=title,
                    content=content,
                    conversation_id=conversation_id,
                    message_id=message_id,
                    **self._new_sync(),
                )
            )
            self._link_keywords(conn, key, words)
            return self._load(conn, key)

    def get_note(self, note_id: str, include_deleted: bool = False) -> Note:
        with self.database.begin(write=False) as conn:
            return self._load(conn, note_id, include_deleted=include_deleted)

    def list_notes(
        self,
        limit: int = 50,
        offset: int = 0,
        include_deleted: bool = False,
        order: str = "-last_modified",
    ) -> list[Note]:
        check_paging("notes", limit, offset)
        notes = self._table("notes")
        stmt = select(notes)
        if not include_deleted:
            stmt = stmt.where(is_false(notes.c.deleted))
        stmt = (
            stmt.order_by(*order_clauses(notes, order, NOTE_SORT_KEYS)).limit(limit).offset(offset)
        )
        with self.database.begin(write=False) as conn:
            rows = conn.execute(stmt).all()
            words = self._keywords_of(conn, [row.id for row in rows])
        return [_note(row, words.get(row.id, [])) for row in rows]

    def count_notes(self, include_deleted: bool = False) -> int:
        notes = self._table("notes")
        stmt = select(func.count()).select_from(notes)
        if not include_deleted:
            stmt = stmt.where(is_false(notes.c.deleted))
        with self.database.begin(write=False) as conn:
            return int(conn.execute(stmt).scalar_one())

    def update_note(self, note_id: str, expected_version: int, **changes: Any) -> Note:
        """Change ``title``, ``content``, ``keywords`` of a note still at *expected_version*."""
        check_fields("notes", changes, {"title", "content", "keywords"})
        words = changes.pop("keywords", None)
        if "title" in changes:
            require_text("notes", "title", changes["title"])
        if "content" in changes and not isinstance(changes["content"], str):
            raise InvalidInput("notes", "content must be a string")
        with self.database.begin(write=True) as conn:
            update_versioned(
                conn,
                self._table("notes"),
                note_id,
                changes,
                client_id=self.client_id,
                expected_version=expected_version,
            )
            if words is not None:
                self._replace_keywords(conn, note_id, clean_keywords("keywords", words))
            return self._load(conn, note_id)

    def soft_delete_note(self, note_id: str, expected_version: int | None = None) -> int:
        return self._soft_delete("notes", note_id, expected_version)

    def restore_note(self, note_id: str) -> Note:
        with self.database.begin(write=True) as conn:
            self._restore(conn, "notes", note_id)
            return self._load(conn, note_id)

    def search_notes(self, query: str, limit: int = 20, offset: int = 0) -> list[SearchHit]:
        """Live notes matching *query* (FTS5 syntax); title matches first."""
        check_paging("notes", limit, offset)
        notes = self._table("notes")
        with self.database.begin(write=False) as conn:
            keys = search_keys(
                conn, self.database, notes, "notes_fts", query, limit=limit, offset=offset
            )
            rows = {
                row.id: row
                for row in conn.execute(
                    select(notes.c.id, notes.c.title, notes.c.content).where(
                        notes.c.id.in_([k for k, _, _ in keys])
                    )
                )
            }
        return [
            SearchHit(key, rows[key].title, snippet(rows[key].content, query), rank, title_hit)
            for key, title_hit, rank in keys
        ]

    # -- keywords ---------------------------------------------------------------------------

    def set_note_keywords(self, note_id: str, keywords: Iterable[str]) -> list[str]:
        """Replace the note's keywords; return them as stored (first spelling wins)."""
        words = clean_keywords("keywords", keywords)
        with self.database.begin(write=True) as conn:
            require_live(conn, self._table("notes"), note_id)
            self._replace_keywords(conn, note_id, words)
            return self._keywords_of(conn, [note_id]).get(note_id, [])

    def add_keyword(self, keyword: str) -> int:
        words = clean_keywords("keywords", [keyword])
        if not words:
            raise InvalidInput("keywords", f"keyword must be a non-empty string, got {keyword!r}")
        with self.database.begin(write=True) as conn:
            return self._keyword_id(conn, words[0])

    def list_keywords(self) -> list[str]:
        kw = self._table("keywords")
        with self.database.begin(write=False) as conn:
            words = conn.execute(select(kw.c.keyword).where(is_false(kw.c.deleted))).scalars()
            return sorted(words, key=lambda w: (w.casefold(), w))

    def notes_with_keyword(self, keyword: str) -> list[str]:
        """Ids of live notes tagged *keyword* (NOCASE match), oldest first."""
        kw, links, notes = (
            self._table("keywords"),
            self._table("note_keywords"),
            self._table("notes"),
        )
        stmt = (
            select(notes.c.id)
            .join(links, links.c.note_id == notes.c.id)
            .join(kw, kw.c.id == links.c.keyword_id)
            .where(self.database.dialect.nocase_equals(kw.c.keyword, keyword.strip()))
            .where(is_false(kw.c.deleted), is_false(notes.c.deleted))
            .order_by(notes.c.created_at, notes.c.id)
        )
        with self.database.begin(write=False) as conn:
            return list(conn.execute(stmt).scalars())

    def _keyword_id(self, conn: Connection, word: str) -> int:
        return get_or_create_keyword(
            conn,
            self.database,
            self._table("keywords"),
            word,
            self._new_sync(),
            client_id=self.client_id,
        )

    def _link_keywords(self, conn: Connection, note_id: str, words: Sequence[str]) -> list[int]:
        ids = [self._keyword_id(conn, word) for word in words]
        for keyword_id in ids:
            conn.execute(
                self.database.dialect.insert(self._table("note_keywords"))
                .values(note_id=note_id, keyword_id=keyword_id, created_at=now())
                .on_conflict_do_nothing()
            )
        return ids

    def _replace_keywords(self, conn: Connection, note_id: str, words: Sequence[str]) -> None:
        links = self._table("note_keywords")
        keep = self._link_keywords(conn, note_id, words)
        conn.execute(
            delete(links).where(links.c.note_id == note_id, links.c.keyword_id.not_in(keep))
        )

    def _keywords_of(self, conn: Connection, note_ids: Sequence[str]) -> dict[str, list[str]]:
        if not note_ids:
            return {}
        kw, links = self._table("keywords"), self._table("note_keywords")
        rows = conn.execute(
            select(links.c.note_id, kw.c.keyword)
            .join(kw, kw.c.id == links.c.keyword_id)
            .where(links.c.note_id.in_(note_ids), is_false(kw.c.deleted))
        )
        found: dict[str, list[str]] = {}
        for note_id, word in rows:
            found.setdefault(note_id, []).append(word)
        return {k: sorted(v, key=lambda w: (w.casefold(), w)) for k, v in found.items()}

    def _load(self, conn: Connection, note_id: str, *, include_deleted: bool = False) -> Note:
        notes = self._table("notes")
        row = conn.execute(select(notes).where(notes.c.id == note_id)).one_or_none()
        if row is None or (row.deleted and not include_deleted):
            raise NotFound("notes", note_id, "it is deleted" if row is not None else "")
        return _note(row, self._keywords_of(conn, [note_id]).get(note_id, []))


def _note(row: AnyRow, keywords: list[str]) -> Note:
    return Note(
        id=row.id,
        title=row.title,
        content=row.content,
        keywords=keywords,
        created_at=row.created_at,
        last_modified=row.last_modified,
        version=int(row.version),
        deleted=bool(row.deleted),
        client_id=row.client_id,
        conversation_id=row.conversation_id,
        message_id=row.message_id,
    )


# -- characters ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CharacterCard:
    id: int
    name: str
    fields: dict[str, str | None]
    image: bytes | None
    created_at: datetime | None
    last_modified: datetime
    version: int
    deleted: bool
    client_id: str

    def __getattr__(self, name: str) -> Any:
        # card.description, card.tags...: the text fields read like attributes.
        fields = self.__dict__.get("fields", {})
        if name in fields:
            return fields[name]
        raise AttributeError(name)


class CharacterStore(_ChaChaStore):
    """Character cards. Text fields given as lists or dicts are stored as JSON text."""

    def add_character(
        self, name: str, *, image: bytes | None = None, **fields: Any
    ) -> CharacterCard:
        require_text("character_cards", "name", name)
        check_fields("character_cards", fields, CHARACTER_TEXT_FIELDS)
        cards = self._table("character_cards")
        with self.database.begin(write=True) as conn:
            self._check_name_free(conn, name)
            card_id = conn.execute(
                insert(cards)
                .values(name=name, image=image, **_card_text(fields), **self._new_sync())
                .returning(cards.c.id)
            ).scalar_one()
            return self._load(conn, card_id)

    def get_character(self, character_id: int, include_deleted: bool = False) -> CharacterCard:
        with self.database.begin(write=False) as conn:
            return self._load(conn, character_id, include_deleted=include_deleted)

    def get_character_by_name(self, name: str) -> CharacterCard:
        cards = self._table("character_cards")
        with self.database.begin(write=False) as conn:
            card_id = conn.execute(
                select(cards.c.id).where(cards.c.name == name, is_false(cards.c.deleted))
            ).scalar_one_or_none()
            if card_id is None:
                raise NotFound("character_cards", name)
            return self._load(conn, card_id)

    def list_characters(self, limit: int = 100, offset: int = 0) -> list[CharacterCard]:
        check_paging("character_cards", limit, offset)
        cards = self._table("character_cards")
        stmt = (
            select(cards)
            .where(is_false(cards.c.deleted))
            .order_by(cards.c.name, cards.c.id)
            .limit(limit)
            .offset(offset)
        )
        with self.database.begin(write=False) as conn:
            return [_card(row) for row in conn.execute(stmt)]

    def update_character(
        self, character_id: int, expected_version: int, **changes: Any
    ) -> CharacterCard:
        check_fields("character_cards", changes, CHARACTER_FIELDS)
        values = _card_text({k: v for k, v in changes.items() if k in CHARACTER_TEXT_FIELDS})
        if "name" in changes:
            values["name"] = require_text("character_cards", "name", changes["name"])
        if "image" in changes:
            values["image"] = changes["image"]
        with self.database.begin(write=True) as conn:
            if "name" in values:
                self._check_name_free(conn, str(values["name"]), character_id)
            update_versioned(
                conn,
                self._table("character_cards"),
                character_id,
                values,
                client_id=self.client_id,
                expected_version=expected_version,
            )
            return self._load(conn, character_id)

    def delete_character(self, character_id: int, expected_version: int | None = None) -> int:
        """Soft-delete the card; its conversations stay (a hard delete would cascade)."""
        return self._soft_delete("character_cards", character_id, expected_version)

    def restore_character(self, character_id: int) -> CharacterCard:
        with self.database.begin(write=True) as conn:
            self._restore(conn, "character_cards", character_id)
            return self._load(conn, character_id)

    def _check_name_free(self, conn: Connection, name: str, card_id: int | None = None) -> None:
        cards = self._table("character_cards")
        holder = conn.execute(select(cards.c.id).where(cards.c.name == name)).scalar_one_or_none()
        if holder is not None and holder != card_id:
            raise Taken(
                "character_cards", f"name {name!r} already belongs to character id {holder}"
            )

    def _load(
        self, conn: Connection, card_id: int, *, include_deleted: bool = False
    ) -> CharacterCard:
        cards = self._table("character_cards")
        row = conn.execute(select(cards).where(cards.c.id == card_id)).one_or_none()
        if row is None or (row.deleted and not include_deleted):
            raise NotFound("character_cards", card_id, "it is deleted" if row is not None else "")
        return _card(row)


def _card_text(fields: dict[str, Any]) -> dict[str, str | None]:
    return {
        name: value
        if value is None or isinstance(value, str)
        else json.dumps(value, ensure_ascii=False)
        for name, value in fields.items()
    }


def _card(row: AnyRow) -> CharacterCard:
    return CharacterCard(
        id=int(row.id),
        name=row.name,
        fields={name: getattr(row, name) for name in CHARACTER_TEXT_FIELDS},
        image=row.image,
        created_at=row.created_at,
        last_modified=row.last_modified,
        version=int(row.version),
        deleted=bool(row.deleted),
        client_id=row.client_id,
    )


# -- conversations and messages -------------------------------------------------------------


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


class ChatStore(_ChaChaStore):
    """Conversations (optionally with a character, optionally forked) and their messages."""

    def create_conversation(
        self,
        title: str | None = None,
        character_id: int | None = None,
        *,
        rating: int | None = None,
    ) -> Conversation:
        """A new conversation; it is its own root (``root_id`` = its id)."""
        _check_rating(rating)
        key = new_uuid()
        with self.database.begin(write=True) as conn:
            if character_id is not None:
                require_live(conn, self._table("character_cards"), character_id)
            self._insert_conversation(conn, key, key, title, character_id, rating)
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

    def update_conversation(
        self, conversation_id: str, expected_version: int, **changes: Any
    ) -> Conversation:
        check_fields("conversations", changes, {"title", "rating"})
        if "rating" in changes:
            _check_rating(changes["rating"])
        with self.database.begin(write=True) as conn:
            update_versioned(
                conn,
                self._table("conversations"),
                conversation_id,
                changes,
                client_id=self.client_id,
                expected_version=expected_version,
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
                    **sync,
                )
            )
            return self._load_message(conn, key)

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

    def update_message(self, message_id: str, expected_version: int, **changes: Any) -> Message:
        check_fields("messages", changes, {"content", "ranking"})
        with self.database.begin(write=True) as conn:
            update_versioned(
                conn,
                self._table("messages"),
                message_id,
                changes,
                client_id=self.client_id,
                expected_version=expected_version,
            )
            return self._load_message(conn, message_id)

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
        check_paging("messages", limit, offset)
        messages, conversations = self._table("messages"), self._table("conversations")
        live = select(conversations.c.id).where(is_false(conversations.c.deleted))
        where: list[ColumnElement[bool]] = [messages.c.conversation_id.in_(live)]
        if conversation_id is not None:
            where.append(messages.c.conversation_id == conversation_id)
        with self.database.begin(write=False) as conn:
            keys = search_keys(
                conn,
                self.database,
                messages,
                "messages_fts",
                query,
                limit=limit,
                offset=offset,
                where=where,
            )
            rows = {
                row.id: row
                for row in conn.execute(
                    select(messages.c.id, messages.c.sender, messages.c.content).where(
                        messages.c.id.in_([k for k, _, _ in keys])
                    )
                )
            }
        return [
            SearchHit(key, rows[key].sender, snippet(rows[key].content, query), rank, title_hit)
            for key, title_hit, rank in keys
        ]

    def _insert_conversation(
        self,
        conn: Connection,
        key: str,
        root_id: str,
        title: str | None,
        character_id: int | None,
        rating: int | None,
        **links: str | None,
    ) -> None:
        conn.execute(
            insert(self._table("conversations")).values(
                id=key,
                root_id=root_id,
                title=title,
                character_id=character_id,
                rating=rating,
                **links,
                **self._new_sync(),
            )
        )

    def _load_conversation(
        self, conn: Connection, key: str, *, include_deleted: bool = False
    ) -> Conversation:
        conversations = self._table("conversations")
        row = conn.execute(select(conversations).where(conversations.c.id == key)).one_or_none()
        if row is None or (row.deleted and not include_deleted):
            raise NotFound("conversations", key, "it is deleted" if row is not None else "")
        return _conversation(row)

    def _load_message(self, conn: Connection, key: str) -> Message:
        messages = self._table("messages")
        row = conn.execute(select(messages).where(messages.c.id == key)).one_or_none()
        if row is None or row.deleted:
            raise NotFound("messages", key, "it is deleted" if row is not None else "")
        return _message(row)


def _check_rating(rating: int | None) -> None:
    if rating is not None and (not isinstance(rating, int) or not 1 <= rating <= 5):
        raise InvalidInput(
            "conversations", f"rating must be an integer from 1 to 5, got {rating!r}"
        )


def _conversation(row: AnyRow) -> Conversation:
    return Conversation(
        id=row.id,
        root_id=row.root_id,
        title=row.title,
        character_id=row.character_id,
        parent_conversation_id=row.parent_conversation_id,
        forked_from_message_id=row.forked_from_message_id,
        rating=row.rating,
        created_at=row.created_at,
        last_modified=row.last_modified,
        version=int(row.version),
        deleted=bool(row.deleted),
    )


def _message(row: AnyRow) -> Message:
    return Message(
        id=row.id,
        conversation_id=row.conversation_id,
        parent_message_id=row.parent_message_id,
        sender=row.sender,
        content=row.content,
        timestamp=row.timestamp,
        ranking=row.ranking,
        image_data=row.image_data,
        image_mime_type=row.image_mime_type,
        version=int(row.version),
        deleted=bool(row.deleted),
    )


__all__ = [
    "CharacterCard",
    "CharacterStore",
    "ChatStore",
    "Conversation",
    "Message",
    "Note",
    "NotesStore",
    "SearchHit",
]
