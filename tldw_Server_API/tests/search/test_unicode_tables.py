"""The generated fold and separator tables agree with a real FTS5 ``unicode61`` tokenizer.

Each code point is probed as ``x<c>y`` in a real FTS5 table and read back with fts5vocab:
either FTS5 splits there (a separator) or it keeps one token whose middle is the fold.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

import pytest

from tldw_Server_API.app.core.DB_Management.search import SQLITE_TOKENIZER, tokenize
from tldw_Server_API.app.core.DB_Management.search._unicode_tables import (
    FOLDS,
    FTS5_DIFFERENCES,
    SEPARATOR_RANGES,
)

LATIN = [*range(0x00C0, 0x0250), *range(0x1E00, 0x1F00)]
ALL = [c for c in range(1, 0x110000) if not 0xD800 <= c <= 0xDFFF]


def fts5_tokens(code_points: Iterable[int]) -> dict[int, list[str]]:
    """The tokens FTS5 makes of ``x<c>y`` for each code point, in order."""
    db = sqlite3.connect(":memory:")
    db.execute(f"CREATE VIRTUAL TABLE t USING fts5(x, tokenize = '{SQLITE_TOKENIZER}')")
    db.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, 'instance')")
    db.executemany(
        "INSERT INTO t(rowid, x) VALUES (?, ?)", ((c, f"x{chr(c)}y") for c in code_points)
    )
    found: dict[int, list[str]] = {}
    for doc, term in db.execute("SELECT doc, term FROM v ORDER BY doc, offset"):
        found.setdefault(doc, []).append(term)
    db.close()
    return found


def _points(runs: Iterable[tuple[int, int]]) -> set[int]:
    return {c for a, b in runs for c in range(a, b + 1)}


def test_latin_with_diacritics_folds_exactly_as_fts5() -> None:
    """Every character of U+00C0-U+024F and U+1E00-U+1EFF, including the mapping constant."""
    for c, tokens in fts5_tokens(LATIN).items():
        assert tokenize(f"x{chr(c)}y") == tokens, f"U+{c:04X}"
        if len(tokens) == 1:
            assert "x" + FOLDS.get(chr(c), chr(c)) + "y" == tokens[0], f"U+{c:04X}"


@pytest.mark.parametrize(
    ("letter", "folded"),
    [
        ("É", "e"),
        ("é", "e"),
        ("Ç", "c"),
        ("Ấ", "a"),  # two diacritics: remove_diacritics 2
        ("ø", "ø"),  # no decomposition: FTS5 keeps these letters
        ("Ø", "ø"),
        ("ß", "ß"),
        ("ẞ", "ß"),
        ("æ", "æ"),
        ("Æ", "æ"),
        ("đ", "đ"),
        ("Đ", "đ"),
        ("ł", "ł"),
        ("Ł", "ł"),
        ("œ", "œ"),
        ("þ", "þ"),
        ("ı", "ı"),
        ("İ", "i"),
        ("ſ", "s"),
        ("Ǡ", "ǡ"),  # FTS5 strips only some stacked diacritics
    ],
)
def test_letters_fold_as_fts5_does(letter: str, folded: str) -> None:
    assert tokenize(f"x{letter}y") == [f"x{folded}y"]
    assert fts5_tokens([ord(letter)])[ord(letter)] == [f"x{folded}y"]


def test_every_code_point_agrees_with_fts5_or_is_a_documented_difference() -> None:
    """The only disagreements are FTS5_DIFFERENCES, and none is a letter of a common script.

    (Superscript digits and vulgar fractions of Latin-1 are among them: FTS5 counts them
    as letters, PostgreSQL's parser in a UTF-8 locale does not.)
    """
    differing = {c for c, tokens in fts5_tokens(ALL).items() if tokenize(f"x{chr(c)}y") != tokens}
    assert differing == _points(FTS5_DIFFERENCES)
    common = [
        range(0x0000, 0x0080),  # ASCII
        range(0x00C0, 0x0250),  # Latin-1 letters, Latin Extended-A/B
        range(0x1E00, 0x1F00),  # Latin Extended Additional
        range(0x0391, 0x03A2),  # Greek capitals
        range(0x03A3, 0x03CF),  # Greek
        range(0x0400, 0x0528),  # Cyrillic
        range(0x05D0, 0x05EB),  # Hebrew letters
        range(0x0621, 0x064B),  # Arabic letters
        range(0x3041, 0x3097),  # Hiragana
        range(0x30A1, 0x30FB),  # Katakana
        range(0x4E00, 0x9FCD),  # CJK unified ideographs
        range(0xAC00, 0xD7A4),  # Hangul syllables
    ]
    assert not differing & {c for block in common for c in block}


def test_folds_are_stable_and_never_produce_separators() -> None:
    separators = _points(SEPARATOR_RANGES)
    for source, folded in FOLDS.items():
        assert ord(source) not in separators
        if folded:
            assert tokenize(folded) == [folded]


def test_odd_python_strings_are_separators() -> None:
    assert tokenize("a\x00b\ud800c\udfffd") == ["a", "b", "c", "d"]
    assert tokenize("") == []
