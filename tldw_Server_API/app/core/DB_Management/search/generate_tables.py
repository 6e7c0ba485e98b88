"""Regenerate ``_unicode_tables.py`` from a real FTS5 ``unicode61`` tokenizer.

Run::

    python -m tldw_Server_API.app.core.DB_Management.search.generate_tables

FTS5's ``unicode61 remove_diacritics 2`` is the one rule both indexes follow: SQLite applies
it itself, and PostgreSQL gets its words from ``fts_norm`` (these tables rendered as SQL),
never from its own text-search parser, whose idea of a letter depends on the server's C
library and locale. Why measured rather than derived from :mod:`unicodedata`: ``unicode61``
uses its own frozen Unicode 6.1 tables. Letters, numbers and private-use code points are
token characters, as are code points unassigned in 6.1 (most emoji are: U+1F642 keeps
``fine\U0001f642`` one token), while the 6.1 symbols and punctuation (U+1F389, U+2122, ...)
separate tokens, and so do some marks such as U+0305. :mod:`unicodedata` only explains the
folds (the NFD base letter is printed next to each fold where FTS5 differs from it).
"""

from __future__ import annotations

import sqlite3
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

SQLITE_TOKENIZER = "unicode61 remove_diacritics 2"
MAX_CODE_POINT = 0x10FFFF
SURROGATES = range(0xD800, 0xE000)
OUTPUT = Path(__file__).with_name("_unicode_tables.py")


@dataclass(frozen=True)
class Fts5Behaviour:
    """What FTS5 does with each code point met between two letters."""

    separators: frozenset[int]
    folds: dict[int, str]  # token characters FTS5 rewrites ("" = dropped diacritic)


@dataclass(frozen=True)
class Tables:
    """The generated constants, in the form ``_unicode_tables.py`` stores them."""

    separators: list[tuple[int, int]]
    folds: dict[int, str]


def all_code_points() -> Iterator[int]:
    """Every code point that can appear in PostgreSQL text (no NUL, no surrogates)."""
    return (c for c in range(1, MAX_CODE_POINT + 1) if c not in SURROGATES)


def probe_fts5() -> Fts5Behaviour:
    """Index ``x<c>y`` for every code point and read the tokens back with fts5vocab."""
    db = sqlite3.connect(":memory:")
    db.execute(f"CREATE VIRTUAL TABLE t USING fts5(x, tokenize = '{SQLITE_TOKENIZER}')")
    db.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, 'instance')")
    db.executemany(
        "INSERT INTO t(rowid, x) VALUES (?, ?)", ((c, f"x{chr(c)}y") for c in all_code_points())
    )
    tokens: dict[int, list[str]] = {}
    for doc, term in db.execute("SELECT doc, term FROM v ORDER BY doc, offset"):
        tokens.setdefault(doc, []).append(term)
    separators: set[int] = set()
    folds: dict[int, str] = {}
    for c in all_code_points():
        found = tokens[c]
        if found == ["x", "y"]:
            separators.add(c)
        elif len(found) == 1 and found[0][0] == "x" and found[0][-1] == "y":
            if found[0][1:-1] != chr(c):
                folds[c] = found[0][1:-1]
        else:
            raise RuntimeError(f"unexpected FTS5 tokens for U+{c:04X}: {found!r}")
    return Fts5Behaviour(frozenset(separators), folds)


def nfd_base(c: int) -> str:
    """The unicodedata view of a fold: lower-cased first character of the NFD form."""
    return unicodedata.normalize("NFD", chr(c))[0].lower()


def build_tables(fts5: Fts5Behaviour) -> Tables:
    """FTS5's separators (NUL and surrogates are left to the users) and its folds."""
    _check_closed(fts5.folds, set(fts5.separators))
    return Tables(code_point_runs(fts5.separators), fts5.folds)


def _check_closed(folds: dict[int, str], separators: set[int]) -> None:
    """Folding twice must change nothing, and no fold may produce a separator."""
    for c, fold in folds.items():
        if fold and (ord(fold) in separators or ord(fold) in folds):
            raise RuntimeError(f"fold of U+{c:04X} is not stable: {fold!r}")


def code_point_runs(points: Iterable[int]) -> list[tuple[int, int]]:
    """Collapse code points into inclusive (first, last) runs, in order."""
    runs: list[tuple[int, int]] = []
    for c in sorted(points):
        if runs and runs[-1][1] == c - 1:
            runs[-1] = (runs[-1][0], c)
        else:
            runs.append((c, c))
    return runs


def _py_str(text: str) -> str:
    """A double-quoted, pure-ASCII Python literal (as ruff format would write it)."""
    return '"' + "".join(_py_char(ch) for ch in text) + '"'


def _py_char(ch: str) -> str:
    code = ord(ch)
    if 0x20 <= code < 0x7F and ch not in '"\\':
        return ch
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def _name(c: int) -> str:
    return unicodedata.name(chr(c), f"U+{c:04X}")


def _render_ranges(name: str, doc: str, runs: list[tuple[int, int]]) -> list[str]:
    lines = [f"#: {doc}", f"{name}: tuple[tuple[int, int], ...] = ("]
    lines += [f"    (0x{a:04X}, 0x{b:04X}),  # {_name(a)[:70]}" for a, b in runs]
    return [*lines, ")", ""]


def render_module(tables: Tables) -> str:
    """The Python source of ``_unicode_tables.py``."""
    lines = [
        '"""GENERATED by generate_tables.py from a real FTS5 tokenizer: do not edit.',
        "",
        "See the generator for how each table was measured.",
        '"""',
        "",
    ]
    lines += _render_ranges(
        "SEPARATOR_RANGES",
        "Code points that separate tokens (besides NUL and surrogates, handled by the users).",
        tables.separators,
    )
    lines += [
        "#: Token characters rewritten before splitting: FTS5's case fold + diacritic removal",
        "#: (``remove_diacritics 2``).",
        "#: An empty value drops the character (a combining diacritic inside a word).",
        "FOLDS: dict[str, str] = {",
    ]
    for c, fold in sorted(tables.folds.items()):
        base = nfd_base(c)
        note = "" if fold == base else f" (NFD base {_py_str(base)})"
        entry = f"    {_py_str(chr(c))}: {_py_str(fold)},  # "
        lines.append(entry + _name(c)[: 100 - len(entry) - len(note)] + note)
    lines += ["}", ""]
    return "\n".join(lines)


def main() -> int:
    tables = build_tables(probe_fts5())
    OUTPUT.write_text(render_module(tables), encoding="utf-8")
    print(f"wrote {OUTPUT}: {len(tables.separators)} separator runs, {len(tables.folds)} folds")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
