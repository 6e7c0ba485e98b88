"""One tokenisation for both engines: FTS5's ``unicode61 remove_diacritics 2``, measured.

SQLite indexes with :data:`SQLITE_TOKENIZER`. PostgreSQL indexes the words of
``fts_norm(text)``, which folds and splits exactly as :func:`normalize` does here, and
builds its ``tsvector`` from those words itself (see :mod:`.postgres`): PostgreSQL's
text-search parser never sees the text, so neither its idea of a letter (which the C
library and the locale decide) nor its own token types (e-mail addresses, URLs, numbers)
play any part, on any server version.

This module owns the rule: :data:`FOLDS` and :data:`SEPARATOR_RANGES` (the tables),
:data:`FOLD_TABLE` and :func:`fold` (folding), :data:`SEPARATORS`,
:data:`BMP_SEPARATORS` and :data:`NON_ASCII_SEPARATOR` (splitting), and
:func:`regex_escape`; :mod:`.vectors` and :mod:`.postgres` (``fts_norm``) build on
those names. The rule is FTS5's alone and lives in ``unicode_tables.json`` (loaded by
``_unicode_tables.py``), read off a real FTS5 by ``generate_tables.py``: letters, digits
and private-use characters are token characters,
and so is every code point Unicode 6.1 had not assigned yet (most emoji: ``fine🙂`` is
one word), while 6.1's symbols and punctuation split words (``party🎉`` is the word
``party``, as U+1F389 is a 6.1 symbol; ``™``, ``©``, ``€`` split words likewise).
Python's own :mod:`unicodedata` plays no part.
"""

from __future__ import annotations

import re
from typing import Final

from ._unicode_tables import FOLDS, SEPARATOR_RANGES

__all__ = [
    "BMP_SEPARATORS",
    "FOLDS",
    "FOLD_TABLE",
    "MAX_INDEXED_CHARS",
    "MAX_TOKEN_BYTES",
    "NON_ASCII_SEPARATOR",
    "SEPARATORS",
    "SEPARATOR_RANGES",
    "SQLITE_TOKENIZER",
    "fold",
    "fold_and_split",
    "normalize",
    "regex_escape",
    "tokenize",
]

#: The FTS5 tokenizer every SQLite search table must be created with.
SQLITE_TOKENIZER: Final = "unicode61 remove_diacritics 2"

#: Characters of one column that get indexed by PostgreSQL (``fts_norm`` truncates there).
MAX_INDEXED_CHARS: Final = 260_000

#: The longest word (UTF-8 bytes) that every supported PostgreSQL accepts in a tsvector or a
#: tsquery: 2,047 up to PostgreSQL 17, 2,046 from 18. Longer words are left out of the
#: PostgreSQL index (their position stays taken, as in FTS5) and dropped from queries.
MAX_TOKEN_BYTES: Final = 2046


def regex_escape(code_point: int) -> str:
    """A regex escape that names the code point without embedding it (Python ``re`` and
    PostgreSQL's regular expressions read it alike)."""
    return f"\\U{code_point:08X}" if code_point > 0xFFFF else f"\\u{code_point:04X}"


def _bracket(runs: list[tuple[int, int]]) -> str:
    return "[" + "".join(f"{regex_escape(a)}-{regex_escape(b)}" for a, b in runs) + "]"


# Runs of separators, plus NUL and lone surrogates (Python strings may carry them).
# ``re`` tests a class of BMP code points with one table lookup but a class that also
# holds astral ranges by scanning every range, for every character: so the astral half
# is a second class, tried only on astral characters (ten times faster on text that is
# mostly letters), and text without astral characters can skip it altogether.
_RUNS: Final = [(0x0000, 0x0000), *SEPARATOR_RANGES, (0xD800, 0xDFFF)]
_BMP_CLASS: Final = _bracket([(a, min(b, 0xFFFF)) for a, b in _RUNS if a <= 0xFFFF])
_ASTRAL_CLASS: Final = _bracket([(max(a, 0x10000), b) for a, b in _RUNS if b > 0xFFFF])
#: A run of separators (the word rule): what splits text into words.
SEPARATORS: Final = re.compile(f"(?:{_BMP_CLASS}|(?=[\\U00010000-\\U0010FFFF]){_ASTRAL_CLASS})+")
#: A run of separators below U+10000: :data:`SEPARATORS` for text without astral characters.
BMP_SEPARATORS: Final = re.compile(f"{_BMP_CLASS}+")
#: One separator that is not ASCII: a word holding one must be split further.
NON_ASCII_SEPARATOR: Final = re.compile(f"(?![\\x00-\\x7f]){_BMP_CLASS}|{_ASTRAL_CLASS}")
#: ``str.translate`` table of the folding: :data:`FOLDS` plus A-Z lowered.
FOLD_TABLE: Final = str.maketrans(
    {**FOLDS, **{chr(c): chr(c + 32) for c in range(ord("A"), ord("Z") + 1)}}
)


def fold(text: str) -> str:
    """*text* folded (lower case, no diacritics), its separators left in place."""
    return text.translate(FOLD_TABLE)


def fold_and_split(text: str) -> str:
    """Fold every character and turn each run of separators into one space."""
    return SEPARATORS.sub(" ", fold(text))


def normalize(text: str) -> str:
    """The Python twin of the SQL ``fts_norm``: what PostgreSQL hands to its parser."""
    return fold_and_split(text[:MAX_INDEXED_CHARS])


def tokenize(text: str) -> list[str]:
    """The tokens both indexes hold for *text* (folded: lower case, no diacritics)."""
    return [token for token in fold_and_split(text).split(" ") if token]
