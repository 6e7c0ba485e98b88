"""The search vector PostgreSQL would compute for a row, computed in Python.

The migration hands PostgreSQL each row's finished vector (``tsvector`` text) with the
row, so the server only parses it: folding, splitting and parsing the text, by far the
most expensive part of storing a searchable row, moves to the client, which does it
with caches PostgreSQL cannot use (a word is folded once per run, not once per row).

:class:`VectorBuilder` is the twin of :func:`.postgres.postgres_tsvector_sql` for the
rows it accepts: ``to_tsvector('simple', fts_norm(column))`` per column, weighted,
joined by :data:`.postgres.COLUMN_GAP`. After ``fts_norm`` the parser only sees words of
letters and digits between single spaces, and each word is one lexeme at the next
position. The builder declines (returns ``None``, and the load lets PostgreSQL compute
that row's vector) wherever PostgreSQL would do anything else:

* a word of digits, ``e``, digits and more (``1e5x``): the parser reads a number in it;
* a word of 2,048 bytes or more (dropped by PostgreSQL);
* a word ``lower()`` could still change in some locale (the fold left a capital);
* a word starting with a mark, a format character or an unassigned code point: in a
  UTF-8 locale the parser keeps such a character inside a word but drops it at the start
  of one (in the ``C`` locale it keeps it everywhere);
* more than 16,382 positions (PostgreSQL clips them) or a word more than 255 times
  (PostgreSQL keeps the first 255 or 256 positions, depending on where they are);
* more than :data:`.tokenizer.MAX_INDEXED_CHARS` characters in the indexed columns.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from typing import Final

from .tokenizer import (
    _ASTRAL_CLASS,
    _BMP_CLASS,
    _BMP_SEPARATORS,
    _FOLD_TABLE,
    _SEPARATORS,
    MAX_INDEXED_CHARS,
    MAX_TOKEN_BYTES,
)

#: The highest position PostgreSQL stores as it is (``MAXENTRYPOS - 1``).
MAX_POSITION: Final = 16383
#: The most positions PostgreSQL keeps for one lexeme in any case (``MAXNUMPOS - 1``).
MAX_REPEATS: Final = 255
#: The lexeme between two columns (see ``COLUMN_GAP``).
GAP_LEXEME: Final = "-"

_ASCII_SEPARATORS: Final = re.compile(r"[^0-9a-z]+")
# A word starting like 12e3 and going on (12e3x): the parser splits it after the number.
_NUMBER_WITH_EXPONENT: Final = re.compile(r"[0-9]+e[0-9]+[^0-9]")
_ASCII_NUMBER_WITH_EXPONENT: Final = re.compile(r"(?<![0-9a-z])[0-9]+e[0-9]+[a-z]")
_NON_ASCII_SEPARATOR: Final = re.compile(f"(?![\\x00-\\x7f]){_BMP_CLASS}|{_ASTRAL_CLASS}")
#: UTF-8 bytes with ASCII letters lowered, ASCII separators made spaces, the rest kept.
_ASCII_SPACED: Final = bytes(
    b
    if b >= 0x80 or chr(b).isdigit() or "a" <= chr(b) <= "z"
    else b + 32
    if "A" <= chr(b) <= "Z"
    else 0x20
    for b in range(256)
)
_DECLINE: Final = "\x00"
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
    """What *word* becomes in the vector: its folded form, ``""`` (nothing), _DECLINE, or
    _RESPLIT if it holds a non-ASCII separator (so it was not one word after all)."""
    if not word.isascii() and _NON_ASCII_SEPARATOR.search(word):
        return _RESPLIT
    folded = word.translate(_FOLD_TABLE)
    if not folded:
        return ""
    if (
        folded.lower() != folded
        or _NUMBER_WITH_EXPONENT.match(folded)
        or (not folded.isascii() and unicodedata.category(folded[0])[0] in "MC")
        or (len(folded) * 4 > MAX_TOKEN_BYTES and len(folded.encode()) > MAX_TOKEN_BYTES)
    ):
        return _DECLINE
    return folded


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
                parts += (GAP_LEXEME, self._after["D"][offset])
            words = self._words(value) if value else []
            if words is None or offset + len(words) > MAX_POSITION - 1:
                return None
            column = [""] * (2 * len(words))
            column[::2] = words
            column[1::2] = self._after[weight][offset + 1 : offset + 1 + len(words)]
            parts += column
            offset += len(words)
        if offset > MAX_REPEATS and _repeats_too_often(parts[::2]):
            return None
        return "'" + "".join(parts)[:-2] if parts else ""

    def _words(self, text: str) -> list[str] | None:
        """The folded words of one column, or ``None`` if PostgreSQL must see them itself."""
        if text.isascii():
            lowered = text.lower()
            if _ASCII_NUMBER_WITH_EXPONENT.search(lowered):
                return None
            words = list(filter(None, _ASCII_SEPARATORS.split(lowered)))
        else:
            # Fastest: split the UTF-8 bytes at ASCII separators. A word that still holds
            # a separator (« », an em dash, a no-break space, an emoji) sends the column
            # through the split at BMP separators, and one holding an astral separator
            # through the full split.
            fold = self._folded.__getitem__
            try:
                words = list(filter(None, map(fold, _split_at_ascii_separators(text))))
            except UnicodeEncodeError:  # a lone surrogate: not UTF-8
                words = [_RESPLIT]
            if _RESPLIT in words:
                words = list(filter(None, map(fold, _BMP_SEPARATORS.split(text))))
            if _RESPLIT in words:
                words = list(filter(None, map(fold, _SEPARATORS.split(text))))
            # _fold declined every word PostgreSQL would drop as too long.
            return None if _DECLINE in words else words
        if len(text) > MAX_TOKEN_BYTES and max(map(len, words), default=0) > MAX_TOKEN_BYTES:
            return None
        return words


def _split_at_ascii_separators(text: str) -> list[bytes]:
    """*text* as UTF-8 words, split at ASCII separators (and only there).

    ASCII letters come out lowered, which folding would have done; a lone surrogate
    raises :class:`UnicodeEncodeError`.
    """
    return text.encode().translate(_ASCII_SPACED).split()


def _repeats_too_often(words: list[str]) -> bool:
    """Whether a word is in *words* more than :data:`MAX_REPEATS` times.

    Counting is for the rare list with that many repeats: ``k`` of one word make
    ``k - 1`` repeats, and a set finds how many there are three times faster.
    """
    if len(words) - len(set(words)) < MAX_REPEATS:
        return False
    return max(Counter(words).values()) > MAX_REPEATS


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
