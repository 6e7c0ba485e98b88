"""The notes store: one user's notes and the keywords that tag them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select

from ..backends.base import Database
from ..schemas.types import is_false
from ._chacha import ChaChaStore
from ._common import (
    AnyRow,
    check_fields,
    check_paging,
    load_row,
    new_uuid,
    now,
    record_from_row,
    require_live,
    require_text,
    sorted_page,
)
from .changes import content_changed
from .errors import InvalidInput
from .keywords import KeywordTags, clean_keywords
from .search_hits import SearchHit, search_hits, search_rows

NOTE_SORT_KEYS = ("title", "created_at", "last_modified", "version")


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


@dataclass(frozen=True)
class Keyword:
    """A keyword row as clients see it: its id and text, with its sync columns."""

    id: int
    keyword: str
    created_at: datetime | None
    last_modified: datetime
    version: int
    client_id: str
    deleted: bool


class NotesStore(ChaChaStore):
    """Notes and the keywords that tag them."""

    def __init__(self, database: Database, client_id: str = "server") -> None:
        super().__init__(database, client_id)
        self.tags: KeywordTags[str] = KeywordTags(
            database,
            keywords=self._table("keywords"),
            links=self._table("note_keywords"),
            owners=self._table("notes"),
            link_column="note_id",
            key=str,
            new_row=self._new_sync,
            client_id=client_id,
            owner_order=("created_at", "id"),
            stamp_links=True,
        )

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
            self.tags.link(conn, key, words)
            note = self._load(conn, key)
        content_changed(self.database)  # committed: the retrieval indexer embeds it
        return note

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
        notes = self._table("notes")
        stmt = select(notes)
        if not include_deleted:
            stmt = stmt.where(is_false(notes.c.deleted))
        page = sorted_page(stmt, notes, order, NOTE_SORT_KEYS, limit=limit, offset=offset)
        with self.database.begin(write=False) as conn:
            tagged = self.tags.tagged(conn, conn.execute(page).all())
        return [_note(row, words) for row, words in tagged]

    def count_notes(self, include_deleted: bool = False) -> int:
        notes = self._table("notes")
        stmt = select(func.count()).select_from(notes)
        if not include_deleted:
            stmt = stmt.where(is_false(notes.c.deleted))
        with self.database.begin(write=False) as conn:
            return int(conn.execute(stmt).scalar_one())

    def update_note(self, note_id: str, expected_version: int, **changes: Any) -> Note:
        """Change ``title``, ``content``, ``keywords`` and the ``conversation_id`` /
        ``message_id`` links (``None`` clears one) of a note still at *expected_version*."""
        check_fields(
            "notes", changes, {"title", "content", "keywords", "conversation_id", "message_id"}
        )
        words = changes.pop("keywords", None)
        if "title" in changes:
            require_text("notes", "title", changes["title"])
        if "content" in changes and not isinstance(changes["content"], str):
            raise InvalidInput("notes", "content must be a string")
        with self.database.begin(write=True) as conn:
            for link, table in (("conversation_id", "conversations"), ("message_id", "messages")):
                if changes.get(link) is not None:
                    require_live(conn, self._table(table), changes[link])
            self._update(conn, "notes", note_id, changes, expected_version=expected_version)
            if words is not None:
                self.tags.replace(conn, note_id, clean_keywords("keywords", words))
            note = self._load(conn, note_id)
        content_changed(self.database)
        return note

    def soft_delete_note(self, note_id: str, expected_version: int | None = None) -> int:
        return self._soft_delete("notes", note_id, expected_version)

    def restore_note(self, note_id: str, expected_version: int | None = None) -> Note:
        """Undelete the note (a live one is left as it is), if still at *expected_version*."""
        with self.database.begin(write=True) as conn:
            self._restore(conn, "notes", note_id, expected_version)
            return self._load(conn, note_id)

    def search_notes(self, query: str, limit: int = 20, offset: int = 0) -> list[SearchHit]:
        """Live notes matching *query* (FTS5 syntax); title matches first."""
        notes = self._table("notes")
        return search_hits(self.database, notes, "notes_fts", query, limit=limit, offset=offset)

    def find_notes(self, query: str, limit: int = 10, offset: int = 0) -> list[tuple[Note, float]]:
        """Live notes matching *query* (FTS5 syntax), best first, each with its rank."""
        check_paging("notes", limit, offset)
        notes = self._table("notes")
        columns = [c.name for c in notes.c if c.name != "id"]
        with self.database.begin(write=False) as conn:
            matches = search_rows(
                conn,
                self.database,
                notes,
                "notes_fts",
                query,
                columns,
                limit=limit,
                offset=offset,
            )
            words = self.tags.of(conn, [m.row.id for m in matches])
        return [(_note(m.row, words.get(m.row.id, [])), m.rank) for m in matches]

    # -- keywords ---------------------------------------------------------------------------

    def set_note_keywords(self, note_id: str, keywords: Iterable[str]) -> list[str]:
        """Replace the note's keywords; return them as stored (first spelling wins)."""
        return self.tags.set(note_id, keywords)

    def add_keyword(self, keyword: str) -> int:
        """The id of *keyword* (NOCASE, as SQLite compares), created if needed."""
        return self.tags.add(keyword)

    def list_keywords(self) -> list[str]:
        """Every live keyword, sorted case-insensitively."""
        return self.tags.names()

    def notes_with_keyword(self, keyword: str) -> list[str]:
        """Ids of live notes tagged *keyword* (NOCASE match), oldest first."""
        return self.tags.owners_with(keyword)

    def keyword_rows(self, note_ids: Iterable[str]) -> dict[str, list[Keyword]]:
        """The live keyword rows of each note in *note_ids*, by keyword id."""
        keys = list(note_ids)
        if not keys:
            return {}
        kw, links = self._table("keywords"), self._table("note_keywords")
        stmt = (
            select(links.c.note_id, kw)
            .join(kw, kw.c.id == links.c.keyword_id)
            .where(links.c.note_id.in_(keys), is_false(kw.c.deleted))
            .order_by(kw.c.id)
        )
        found: dict[str, list[Keyword]] = {key: [] for key in keys}
        with self.database.begin(write=False) as conn:
            for row in conn.execute(stmt):
                found[row.note_id].append(_keyword(row))
        return found

    def list_keyword_rows(self, limit: int = 100, offset: int = 0) -> list[Keyword]:
        """Live keywords, oldest first (by id: the same order on both backends)."""
        check_paging("keywords", limit, offset)
        kw = self._table("keywords")
        stmt = select(kw).where(is_false(kw.c.deleted)).order_by(kw.c.id).limit(limit)
        with self.database.begin(write=False) as conn:
            return [_keyword(row) for row in conn.execute(stmt.offset(offset))]

    def get_keyword(self, keyword_id: int) -> Keyword:
        with self.database.begin(write=False) as conn:
            return self._load_keyword(conn, keyword_id)

    def create_keyword(self, keyword: str) -> Keyword:
        """The keyword row of *keyword*, created (or revived) if needed."""
        keyword_id = self.tags.add(keyword)
        return self.get_keyword(keyword_id)

    def link_keyword(self, note_id: str, keyword_id: int) -> bool:
        """Tag the live note with the live keyword; False when it already was."""
        links = self._table("note_keywords")
        with self.database.begin(write=True) as conn:
            require_live(conn, self._table("notes"), note_id)
            self._load_keyword(conn, keyword_id)
            inserted = conn.execute(
                self.database.dialect.insert(links)
                .values(note_id=note_id, keyword_id=keyword_id, created_at=now())
                .on_conflict_do_nothing()
            )
            return bool(inserted.rowcount)

    def unlink_keyword(self, note_id: str, keyword_id: int) -> bool:
        """Untag the note; False when it was not tagged with that keyword."""
        links = self._table("note_keywords")
        with self.database.begin(write=True) as conn:
            removed = conn.execute(
                delete(links).where(links.c.note_id == note_id, links.c.keyword_id == keyword_id)
            )
            return bool(removed.rowcount)

    def _load_keyword(self, conn: Connection, keyword_id: int) -> Keyword:
        return _keyword(load_row(conn, self._table("keywords"), keyword_id))

    def _load(self, conn: Connection, note_id: str, *, include_deleted: bool = False) -> Note:
        row = load_row(conn, self._table("notes"), note_id, include_deleted=include_deleted)
        return _note(row, self.tags.of(conn, [note_id]).get(note_id, []))


def _keyword(row: AnyRow) -> Keyword:
    return record_from_row(Keyword, row)


def _note(row: AnyRow, keywords: list[str]) -> Note:
    return record_from_row(Note, row, keywords=keywords)
