"""Editing an item's keywords the three ways clients ask: add, remove, or set them all.

Keywords compare NOCASE (as SQLite's ``NOCASE`` does, ASCII letters only): adding
``Alpha`` to an item tagged ``alpha`` changes nothing, and removing ``ALPHA``
removes it. :meth:`MediaStore.set_keywords` does the writing, so the stored
result is what a plain "set" of the same list would store.
"""

from __future__ import annotations

from collections.abc import Iterable

from ._common import ascii_casefold, clean_keywords
from .media import MediaStore

#: ``add`` keeps the item's keywords and adds new ones; ``remove`` drops the ones named;
#: ``set`` replaces them all.
KEYWORD_MODES = ("add", "remove", "set")


def edit_keywords(
    store: MediaStore, media_id: int, keywords: Iterable[str], mode: str = "add"
) -> list[str]:
    """Apply *keywords* to the item in *mode*; return its keywords as stored afterwards.

    ``add`` and ``remove`` read the item's keywords and write the result in a second
    transaction: two edits of one item's keywords at the same instant may lose one.
    """
    if mode not in KEYWORD_MODES:
        raise ValueError(f"mode must be one of {', '.join(KEYWORD_MODES)}, got {mode!r}")
    words = clean_keywords("keywords", keywords)
    if mode == "set":
        return store.set_keywords(media_id, words)
    current = store.get_media(media_id).keywords
    if mode == "add":
        return store.set_keywords(media_id, [*current, *words])
    dropped = {ascii_casefold(word) for word in words}
    return store.set_keywords(media_id, [w for w in current if ascii_casefold(w) not in dropped])


def find_keywords(store: MediaStore, query: str | None = None, limit: int = 100) -> list[str]:
    """Keywords in use containing *query* (any case), sorted, at most *limit* of them."""
    needle = (query or "").strip().casefold()
    words = store.list_keywords()
    if needle:
        words = [word for word in words if needle in word.casefold()]
    return words[:limit]


__all__ = ["KEYWORD_MODES", "edit_keywords", "find_keywords"]
