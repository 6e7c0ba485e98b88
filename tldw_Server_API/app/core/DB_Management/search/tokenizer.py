"""One tokenisation for both engines: FTS5 ``unicode61 remove_diacritics 2``, measured.

SQLite indexes with :data:`SQLITE_TOKENIZER`. PostgreSQL indexes
``to_tsvector('simple', fts_norm(text))`` where ``fts_norm`` folds and splits exactly as
:func:`normalize` does here, so the PostgreSQL parser only ever sees runs of letters and
digits separated by single spaces and has nothing left to interpret (e-mail addresses,
URLs, hyphenated words, XML tags all arrive as plain words).

The tables in ``_unicode_tables.py`` were read off a real FTS5 and a real PostgreSQL by
``generate_tables.py``. Where the two cannot agree the PostgreSQL side wins, because
PostgreSQL's parser asks the C library what a letter is and ``fts_norm`` must give the same
index in every locale; those code points are listed in ``FTS5_DIFFERENCES`` (superscript
digits, vulgar fractions, circled numbers, emoji and other symbols newer than Unicode 6.1,
private-use and unassigned code points, and a few capitals that FTS5 does not fold, such as
Cherokee). Inside a word FTS5 keeps those as letters; here they split words.

One difference remains between locales: a word that starts with a combining mark (or a
code point the C library does not know) after a separator, such as U+1ACF in ``a ᫏b``,
loses that character in a UTF-8 locale and keeps it in the ``C`` locale (the parser
accepts zero-width characters only inside a word). Such text is rare enough that the
tables leave it alone; the migration's vector builder lets PostgreSQL index it.
"""

from __future__ import annotations

import re
from typing import Final

from ._unicode_tables import FOLDS, SEPARATOR_RANGES

#: The FTS5 tokenizer every SQLite search table must be created with.
SQLITE_TOKENIZER: Final = "unicode61 remove_diacritics 2"

#: Characters of one column that get indexed by PostgreSQL (``fts_norm`` truncates there).
MAX_INDEXED_CHARS: Final = 260_000

#: PostgreSQL drops longer words from a tsvector and rejects them in a tsquery.
MAX_TOKEN_BYTES: Final = 2047


def _escape(code_point: int) -> str:
    """A regex escape that names the code point without embedding it."""
    return f"\\U{code_point:08X}" if code_point > 0xFFFF else f"\\u{code_point:04X}"


def _bracket(runs: list[tuple[int, int]]) -> str:
    return "[" + "".join(f"{_escape(a)}-{_escape(b)}" for a, b in runs) + "]"


# Runs of separators, plus NUL and lone surrogates (Python strings may carry them).
# ``re`` tests a class of BMP code points with one table lookup but a class that also
# holds astral ranges by scanning every range, for every character: so the astral half
# is a second class, tried only on astral characters (ten times faster on text that is
# mostly letters), and text without astral characters can skip it altogether.
_RUNS: Final = [(0x0000, 0x0000), *SEPARATOR_RANGES, (0xD800, 0xDFFF)]
_BMP_CLASS: Final = _bracket([(a, min(b, 0xFFFF)) for a, b in _RUNS if a <= 0xFFFF])
_ASTRAL_CLASS: Final = _bracket([(max(a, 0x10000), b) for a, b in _RUNS if b > 0xFFFF])
_SEPARATORS: Final = re.compile(f"(?:{_BMP_CLASS}|(?=[\\U00010000-\\U0010FFFF]){_ASTRAL_CLASS})+")
_BMP_SEPARATORS: Final = re.compile(f"{_BMP_CLASS}+")
_FOLD_TABLE: Final = str.maketrans(
    {**FOLDS, **{chr(c): chr(c + 32) for c in range(ord("A"), ord("Z") + 1)}}
)


def fold_and_split(text: str) -> str:
    """Fold every character and turn each run of separators into one space."""
    return _SEPARATORS.sub(" ", text.translate(_FOLD_TABLE))


def normalize(text: str) -> str:
    """The Python twin of the SQL ``fts_norm``: what PostgreSQL hands to its parser."""
    return fold_and_split(text[:MAX_INDEXED_CHARS])


def tokenize(text: str) -> list[str]:
    """The tokens both indexes hold for *text* (folded: lower case, no diacritics)."""
    return [token for token in fold_and_split(text).split(" ") if token]
