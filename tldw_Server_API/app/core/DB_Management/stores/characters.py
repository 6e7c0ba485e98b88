"""The characters store: one user's character cards."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select

from ..schemas.chacha import CHARACTER_TEXT_FIELDS
from ..schemas.types import is_false
from ._chacha import ChaChaStore
from ._common import (
    AnyRow,
    check_fields,
    check_paging,
    load_row,
    record_from_row,
    require_text,
)
from .errors import NotFound, Taken

CHARACTER_FIELDS = frozenset({"name", "image", *CHARACTER_TEXT_FIELDS})


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


class CharacterStore(ChaChaStore):
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

    def count_characters(self) -> int:
        """How many live cards there are (the total behind :meth:`list_characters`)."""
        cards = self._table("character_cards")
        stmt = select(func.count()).select_from(cards).where(is_false(cards.c.deleted))
        with self.database.begin(write=False) as conn:
            return int(conn.execute(stmt).scalar_one())

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
            self._update(
                conn, "character_cards", character_id, values, expected_version=expected_version
            )
            return self._load(conn, character_id)

    def delete_character(self, character_id: int, expected_version: int | None = None) -> int:
        """Soft-delete the card; its conversations stay (a hard delete would cascade)."""
        return self._soft_delete("character_cards", character_id, expected_version)

    def restore_character(
        self, character_id: int, expected_version: int | None = None
    ) -> CharacterCard:
        """Undelete the card (a live one is left as it is), if still at *expected_version*."""
        with self.database.begin(write=True) as conn:
            self._restore(conn, "character_cards", character_id, expected_version)
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
        table = self._table("character_cards")
        return _card(load_row(conn, table, card_id, include_deleted=include_deleted))


def _card_text(fields: dict[str, Any]) -> dict[str, str | None]:
    return {
        name: value
        if value is None or isinstance(value, str)
        else json.dumps(value, ensure_ascii=False)
        for name, value in fields.items()
    }


def _card(row: AnyRow) -> CharacterCard:
    fields = {name: getattr(row, name) for name in CHARACTER_TEXT_FIELDS}
    return record_from_row(CharacterCard, row, fields=fields)
