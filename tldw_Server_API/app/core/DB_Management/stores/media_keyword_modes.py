"""Editing an item's keywords the three ways clients ask: add, remove, or set them all.

Keywords compare NOCASE (as SQLite's ``NOCASE`` does, ASCII letters only): adding
``Alpha`` to an item tagged ``alpha`` changes nothing, and removing ``ALPHA``
removes it. The item's :class:`~.keywords.KeywordTags` does the writing.
"""

from __future__ import annotations

from collections.abc import Iterable

from .media import MediaStore

#: ``add`` keeps the item's keywords and adds new ones; ``remove`` drops the ones named;
#: ``set`` replaces them all.
KEYWORD_MODES = ("add", "remove", "set")


def edit_keywords(
    store: MediaStore, media_id: int, keywords: Iterable[str], mode: str = "add"
) -> list[str]:
    """Apply *keywords* to the item in *mode*; return its keywords as stored afterwards.

    Each mode is one transaction, and ``add``/``remove`` touch only the keywords
    named, so two edits of one item at the same instant both take effect.
    """
    if mode == "set":
        return store.tags.set(media_id, keywords)
    if mode == "add":
        return store.tags.add_to(media_id, keywords)
    if mode == "remove":
        return store.tags.remove_from(media_id, keywords)
    raise ValueError(f"mode must be one of {', '.join(KEYWORD_MODES)}, got {mode!r}")


def find_keywords(store: MediaStore, query: str | None = None, limit: int = 100) -> list[str]:
    """Keywords in use containing *query* (any case), sorted, at most *limit* of them."""
    needle = (query or "").strip().casefold()
    words = store.list_keywords()
    if needle:
        words = [word for word in words if needle in word.casefold()]
    return words[:limit]


__all__ = ["KEYWORD_MODES", "edit_keywords", "find_keywords"]
