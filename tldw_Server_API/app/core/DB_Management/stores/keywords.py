"""Keyword tagging, as the Media (items) and ChaChaNotes (notes) databases both do it.

A keyword table (one row per word, matched NOCASE the way SQLite compares, so
'Python' and 'python' are one keyword and the first spelling is kept) and a link
table tying keywords to the rows they tag. :class:`KeywordTags` is that pair for
one kind of owner row; stores hold one and expose its methods under their own names.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection, Table, delete, select

from ..backends.base import Database
from ..schemas.types import is_false
from ._common import AnyRow, now, require_live, update_versioned
from .errors import InvalidInput

K = TypeVar("K")


@dataclass(frozen=True)
class KeywordTags(Generic[K]):
    """The keywords of one kind of owner row (media items, notes).

    *link_column* is the link table's column naming the owner; *key* turns its
    values into the owner's key type; *owner_order* orders
    :meth:`owners_with`; *new_row* gives the sync columns of a new keyword row;
    *stamp_links* sets ``created_at`` on new link rows (where the table has one
    without a default).
    """

    database: Database
    keywords: Table
    links: Table
    owners: Table
    link_column: str
    key: Callable[[Any], K]
    new_row: Callable[[], Mapping[str, Any]]
    client_id: str
    owner_order: tuple[str, ...] = ("id",)
    stamp_links: bool = False

    def add(self, keyword: str) -> int:
        """The id of *keyword* (NOCASE, as SQLite compares), created if needed."""
        words = clean_keywords("keywords", [keyword])
        if not words:
            raise InvalidInput("keywords", f"keyword must be a non-empty string, got {keyword!r}")
        with self.database.begin(write=True) as conn:
            return self._keyword_id(conn, words[0])

    def set(self, owner: K, keywords: Iterable[str]) -> list[str]:
        """Replace the owner's keywords; return them as stored (first spelling wins)."""
        return self._edit(owner, keywords, self.replace)

    def add_to(self, owner: K, keywords: Iterable[str]) -> list[str]:
        """Tag the owner with *keywords* too, keeping the ones it has; return all as stored.

        Only links are inserted, so concurrent edits of one owner never undo each other.
        """
        return self._edit(owner, keywords, self.link)

    def remove_from(self, owner: K, keywords: Iterable[str]) -> list[str]:
        """Untag the owner's *keywords* (NOCASE); return the ones left, as stored."""
        return self._edit(owner, keywords, self._unlink)

    def _edit(
        self, owner: K, keywords: Iterable[str], edit: Callable[[Connection, K, list[str]], object]
    ) -> list[str]:
        """Change a live owner's keywords with *edit* in one transaction; return them as stored."""
        words = clean_keywords("keywords", keywords)
        with self.database.begin(write=True) as conn:
            require_live(conn, self.owners, owner)
            edit(conn, owner, words)
            return self.of(conn, [owner]).get(owner, [])

    def _unlink(self, conn: Connection, owner: K, words: Sequence[str]) -> None:
        found = (_find_keyword(conn, self.database, self.keywords, word) for word in words)
        ids = [key for key, _deleted in filter(None, found)]
        links = self.links
        conn.execute(
            delete(links).where(links.c[self.link_column] == owner, links.c.keyword_id.in_(ids))
        )

    def names(self) -> list[str]:
        """Every live keyword, sorted case-insensitively."""
        kw = self.keywords
        with self.database.begin(write=False) as conn:
            return _sorted(
                conn.execute(select(kw.c.keyword).where(is_false(kw.c.deleted))).scalars()
            )

    def owners_with(self, keyword: str) -> list[K]:
        """Keys of live owners tagged *keyword* (NOCASE match), in *owner_order*."""
        kw, links, owners = self.keywords, self.links, self.owners
        stmt = (
            select(owners.c.id)
            .join(links, links.c[self.link_column] == owners.c.id)
            .join(kw, kw.c.id == links.c.keyword_id)
            .where(self.database.dialect.nocase_equals(kw.c.keyword, keyword.strip()))
            .where(is_false(kw.c.deleted), is_false(owners.c.deleted))
            .order_by(*(owners.c[name] for name in self.owner_order))
        )
        with self.database.begin(write=False) as conn:
            return [self.key(k) for k in conn.execute(stmt).scalars()]

    def link(self, conn: Connection, owner: K, words: Sequence[str]) -> list[int]:
        """Tag *owner* with *words* (creating keywords as needed); return their ids."""
        ids = [self._keyword_id(conn, word) for word in words]
        stamp = {"created_at": now()} if self.stamp_links else {}
        for keyword_id in ids:
            conn.execute(
                self.database.dialect.insert(self.links)
                .values({self.link_column: owner, "keyword_id": keyword_id, **stamp})
                .on_conflict_do_nothing()
            )
        return ids

    def replace(self, conn: Connection, owner: K, words: Sequence[str]) -> None:
        """Make *words* the owner's only keywords."""
        links = self.links
        keep = self.link(conn, owner, words)
        conn.execute(
            delete(links).where(links.c[self.link_column] == owner, links.c.keyword_id.not_in(keep))
        )

    def of(self, conn: Connection, owners: Sequence[K]) -> dict[K, list[str]]:
        """The live keywords of each of *owners* that has any, sorted case-insensitively."""
        if not owners:
            return {}
        kw, links = self.keywords, self.links
        owner_column = links.c[self.link_column]
        rows = conn.execute(
            select(owner_column, kw.c.keyword)
            .join(kw, kw.c.id == links.c.keyword_id)
            .where(owner_column.in_(owners), is_false(kw.c.deleted))
        )
        found: dict[K, list[str]] = {}
        for owner, word in rows:
            found.setdefault(self.key(owner), []).append(word)
        return {k: _sorted(v) for k, v in found.items()}

    def tagged(self, conn: Connection, rows: Sequence[AnyRow]) -> list[tuple[AnyRow, list[str]]]:
        """Each of the owner *rows* with its live keywords (one read for them all)."""
        words = self.of(conn, [row.id for row in rows])
        return [(row, words.get(row.id, [])) for row in rows]

    def _keyword_id(self, conn: Connection, word: str) -> int:
        return _get_or_create(
            conn, self.database, self.keywords, word, self.new_row(), client_id=self.client_id
        )


def _sorted(words: Iterable[str]) -> list[str]:
    return sorted(words, key=lambda w: (w.casefold(), w))


def clean_keywords(table: str, keywords: Iterable[str]) -> list[str]:
    """Strip, drop blanks and NOCASE duplicates, keep the caller's order and spelling."""
    seen: set[str] = set()
    kept: list[str] = []
    for raw in keywords:
        if not isinstance(raw, str):
            raise InvalidInput(table, f"a keyword must be a string, got {raw!r}")
        word = raw.strip()
        folded = ascii_casefold(word)
        if word and folded not in seen:
            seen.add(folded)
            kept.append(word)
    return kept


def ascii_casefold(text: str) -> str:
    """SQLite NOCASE in Python: fold A-Z only ('ÉCOLE' and 'école' stay different)."""
    return text.translate(_ASCII_LOWER)


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def _get_or_create(
    conn: Connection,
    database: Database,
    table: Table,
    word: str,
    new_row: Mapping[str, Any],
    *,
    client_id: str,
) -> int:
    """The id of *word* in *table*, inserting (or reviving a soft-deleted) row if needed.

    Matching is NOCASE on both backends. The insert does nothing on a conflict
    (another writer got there first), and the lookup after it finds that row.
    """
    found = _find_keyword(conn, database, table, word)
    if found is None:
        insert = database.dialect.insert(table).values(keyword=word, **new_row)
        conn.execute(insert.on_conflict_do_nothing())
        found = _find_keyword(conn, database, table, word)
    if found is None:  # pragma: no cover - the insert or a concurrent one made it
        raise InvalidInput(table.name, f"keyword {word!r} could not be stored")
    key, deleted = found
    if deleted:
        update_versioned(conn, table, key, {"deleted": False}, client_id=client_id, live_only=False)
    return key


def _find_keyword(
    conn: Connection, database: Database, table: Table, word: str
) -> tuple[int, bool] | None:
    row = conn.execute(
        select(table.c.id, table.c.deleted).where(
            database.dialect.nocase_equals(table.c.keyword, word)
        )
    ).first()
    return None if row is None else (int(row.id), bool(row.deleted))
