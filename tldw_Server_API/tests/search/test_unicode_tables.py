"""The generated fold and separator tables are a real FTS5 ``unicode61`` tokenizer's rule.

Each code point is probed as ``x<c>y`` in a real FTS5 table and read back with fts5vocab:
either FTS5 splits there (a separator) or it keeps one token whose middle is the fold.
:func:`tokenize` (and so ``fts_norm`` and the vector builder, which share its tables) must
agree on every code point.
"""

from __future__ import annotations

import sqlite3
import tomllib
from collections.abc import Iterable
from fnmatch import fnmatch
from pathlib import Path

import pytest

from tldw_Server_API.app.core.DB_Management.search import SQLITE_TOKENIZER, tokenize
from tldw_Server_API.app.core.DB_Management.search._unicode_tables import (
    DATA_FILE,
    FOLDS,
    SEPARATOR_RANGES,
)
from tldw_Server_API.app.core.DB_Management.search.generate_tables import (
    OUTPUT,
    Tables,
    render_data,
)

REPO = Path(__file__).resolve().parents[3]

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


def test_every_code_point_agrees_with_fts5() -> None:
    differing = [
        f"U+{c:04X}" for c, tokens in fts5_tokens(ALL).items() if tokenize(f"x{chr(c)}y") != tokens
    ]
    assert differing == []


@pytest.mark.parametrize(
    ("char", "kept"),
    [
        ("\U0001f642", True),  # slightly smiling face: Unicode 7.0, unassigned in FTS5's 6.1
        ("\U0001f914", True),  # thinking face, 8.0
        ("\U0001f3fd", True),  # skin tone modifier, 8.0
        ("\u20bf", True),  # bitcoin sign, 10.0
        ("\ue000", True),  # private use (Co)
        ("\U000f0001", True),  # supplementary private use
        ("\u00b2", True),  # superscript two (No)
        ("\u00bd", True),  # vulgar fraction one half (No)
        ("\u2460", True),  # circled digit one (No)
        ("\u13e3", True),  # Cherokee letter (Lu), not folded in 6.1
        ("\U0001f389", False),  # party popper: a 6.0 symbol (So)
        ("\U0001f600", False),  # grinning face, 6.1 (So)
        ("\U0001f680", False),  # rocket, 6.0 (So)
        ("\u2122", False),  # trade mark sign (So)
        ("\u20ac", False),  # euro sign (Sc)
        ("\u2192", False),  # rightwards arrow (Sm)
        ("\u200d", False),  # zero width joiner (Cf)
        ("\u00a0", False),  # no-break space (Zs)
        ("'", False),
        ("\\", False),  # quote and backslash split words: tsvector text needs no escapes
    ],
)
def test_fts5_keeps_or_splits_at_a_symbol_by_its_unicode_61_category(char: str, kept: bool) -> None:
    """Letters, numbers, private use and what 6.1 had not assigned are token characters."""
    fts5 = fts5_tokens([ord(char)])[ord(char)]
    assert fts5 == ([f"x{char}y"] if kept else ["x", "y"])
    assert tokenize(f"x{char}y") == fts5


def test_folds_are_stable_and_never_produce_separators() -> None:
    separators = _points(SEPARATOR_RANGES)
    for source, folded in FOLDS.items():
        assert ord(source) not in separators
        if folded:
            assert tokenize(folded) == [folded]


def test_odd_python_strings_are_separators() -> None:
    assert tokenize("a\x00b\ud800c\udfffd") == ["a", "b", "c", "d"]
    assert tokenize("") == []


def test_the_data_file_is_what_the_generator_writes() -> None:
    """The tables read at import are exactly the generator's rendering of them (a hand edit
    or a stale format shows here)."""
    tables = Tables(list(SEPARATOR_RANGES), {ord(k): v for k, v in FOLDS.items()})
    assert OUTPUT.name == DATA_FILE
    assert render_data(tables) == OUTPUT.read_text(encoding="ascii")


def test_the_data_file_ships_with_the_package() -> None:
    """An installed package must hold the tables: pyproject declares them package data."""
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    package_data = pyproject["tool"]["setuptools"]["package-data"]
    patterns = package_data["tldw_Server_API.app.core.DB_Management.search"]
    assert any(fnmatch(DATA_FILE, pattern) for pattern in patterns)
