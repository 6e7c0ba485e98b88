"""The search vector PostgreSQL would compute for a row, computed in Python.

The migration hands PostgreSQL each row's finished vector (``tsvector`` text) with the
row, so the server only parses it: folding and splitting the text, by far the most
expensive part of storing a searchable row, moves to the client, which does it with
caches PostgreSQL cannot use (a word is folded once per run, not once per row).

:class:`VectorBuilder` is the twin of ``fts_vector`` (see :mod:`.postgres`): it writes
the same ``'word':position+weight`` entries from the same words (:mod:`.tokenizer` and
``fts_norm`` share one table), leaves out the same over-long words at the same
positions, and the server's ``tsvector`` input, the last step on both paths, merges,
sorts and clips them alike. So the vector does not depend on the server's version or
locale, and the builder declines (returns ``None``, and the load lets PostgreSQL compute
that row) only rows whose indexed columns hold more than
:data:`.tokenizer.MAX_INDEXED_CHARS` characters: rare, and cut by the server.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final

from .postgres import GAP_LEXEME
from .tokenizer import (
    BMP_SEPARATORS,
    FOLD_TABLE,
    MAX_INDEXED_CHARS,
    MAX_TOKEN_BYTES,
    NON_ASCII_SEPARATOR,
    SEPARATORS,
)

#: The highest position a tsvector holds; its input clips larger ones to it.
MAX_POSITION: Final = 16383

_ASCII_SEPARATORS: Final = re.compile(r"[^0-9a-z]+")
#: UTF-8 bytes with ASCII letters lowered, ASCII separators made spaces, the rest kept.
_ASCII_SPACED: Final = bytes(
    b
    if b >= 0x80 or chr(b).isdigit() or "a" <= chr(b) <= "z"
    else b + 32
    if "A" <= chr(b) <= "Z"
    else 0x20
    for b in range(256)
)
_RESPLIT: Final = "\x01"
_CACHE_LIMIT: Final = 200_000


class _FoldedWords(dict[str | bytes, str]):
    """word (text, or UTF-8 bytes: splitting bytes is faster) -> what it becomes in the
    vector, computed on first sight: a lookup is C-fast."""

    def __missing__(self, word: str | bytes) -> str:
        if len(self) > _CACHE_LIMIT:
            self.clear()
        folded = self[word] = _fold(word.decode() if isinstance(word, bytes) else word)
        return folded


def _fold(word: str) -> str:
    """What *word* becomes in the vector: its folded form, ``""`` (nothing), or _RESPLIT
    if it holds a non-ASCII separator (so it was not one word after all)."""
    if not word.isascii() and NON_ASCII_SEPARATOR.search(word):
        return _RESPLIT
    return word.translate(FOLD_TABLE)


class VectorBuilder:
    """Builds the ``tsvector`` text of rows of one search index (columns in index order).

    The text lists every word at its position (``'cat':1A 'sat':2A 'cat':3A``), which
    PostgreSQL's ``tsvector`` input merges into one entry per word: Python never
    groups or sorts, every step is one C-level call over the whole column.
    One builder per table and thread: it caches every word it has folded.
    """

    def __init__(self, weights: Sequence[str]) -> None:
        if not weights or any(w not in "ABCD" or len(w) != 1 for w in weights):
            raise ValueError(f"weights must be letters A-D, got {weights!r}")
        self._weights = tuple(weights)
        self._folded = _FoldedWords()
        self._after = {w: _after_word(w) for w in set(weights) | {"D"}}

    def __call__(self, values: Sequence[str | None]) -> str | None:
        """The vector's text for one row's column *values*, or ``None`` if declined."""
        if sum(len(v) for v in values if v) > MAX_INDEXED_CHARS:
            return None
        parts: list[str] = []  # word, what follows it, word, ...
        offset = 0
        for number, (value, weight) in enumerate(zip(values, self._weights, strict=True)):
            if number:
                offset += 1
                parts += (GAP_LEXEME, self._after["D"][min(offset, MAX_POSITION)])
            words = self._words(value) if value else []
            parts += _entries(words, self._after[weight], offset)
            offset += len(words)
        return "'" + "".join(parts)[:-2] if parts else ""

    def _words(self, text: str) -> list[str]:
        """The folded words of one column, in order (over-long ones included)."""
        if text.isascii():
            return list(filter(None, _ASCII_SEPARATORS.split(text.lower())))
        # Fastest: split the UTF-8 bytes at ASCII separators. A word that still holds a
        # separator (« », an em dash, a no-break space, U+1F389) sends the column through
        # the split at BMP separators, and one holding an astral separator through the
        # full split.
        fold = self._folded.__getitem__
        try:
            words = list(filter(None, map(fold, _split_at_ascii_separators(text))))
        except UnicodeEncodeError:  # a lone surrogate: not UTF-8
            words = [_RESPLIT]
        if _RESPLIT in words:
            words = list(filter(None, map(fold, BMP_SEPARATORS.split(text))))
        if _RESPLIT in words:
            words = list(filter(None, map(fold, SEPARATORS.split(text))))
        return words


def _entries(words: list[str], after: list[str], offset: int) -> list[str]:
    """Word, ``':<position><weight> '``, word, ...: *words* at the positions after *offset*.

    Positions past :data:`MAX_POSITION` are written as it (``tsvector`` input clips them
    so), and words PostgreSQL cannot hold are left out, their positions staying taken.
    """
    positions = after[offset + 1 : offset + 1 + len(words)]
    if len(positions) < len(words):
        positions += [after[MAX_POSITION]] * (len(words) - len(positions))
    # A word of up to MAX_TOKEN_BYTES // 4 characters fits whatever its characters are.
    if words and max(map(len, words)) > MAX_TOKEN_BYTES // 4:
        return [
            part
            for word, position in zip(words, positions, strict=True)
            if len(word.encode()) <= MAX_TOKEN_BYTES
            for part in (word, position)
        ]
    entries = [""] * (2 * len(words))
    entries[::2] = words
    entries[1::2] = positions
    return entries


def _split_at_ascii_separators(text: str) -> list[bytes]:
    """*text* as UTF-8 words, split at ASCII separators (and only there).

    ASCII letters come out lowered, which folding would have done; a lone surrogate
    raises :class:`UnicodeEncodeError`.
    """
    return text.encode().translate(_ASCII_SPACED).split()


_BUILDERS: dict[tuple[str, ...], VectorBuilder] = {}


def build_vectors(weights: Sequence[str], rows: Sequence[Sequence[str | None]]) -> list[str | None]:
    """The vector text (or ``None``) of each row's column values: one call per batch.

    A plain function of picklable arguments, so a helper process can run it; the
    builder (and its cache of folded words) lives as long as the process does.
    """
    key = tuple(weights)
    build = _BUILDERS.get(key)
    if build is None:
        build = _BUILDERS[key] = VectorBuilder(key)
    return [build(values) for values in rows]


def _after_word(weight: str) -> list[str]:
    """``after[p]``: what follows a word at position *p* (``':12B '``; D is implicit)."""
    suffix = "" if weight == "D" else weight
    return [f"':{p}{suffix} '" for p in range(MAX_POSITION + 1)]
