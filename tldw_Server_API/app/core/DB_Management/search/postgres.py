"""The PostgreSQL half of the index: ``fts_norm`` and the search-vector expression.

``fts_norm(text)`` makes PostgreSQL tokenise like FTS5 ``unicode61 remove_diacritics 2``
(see :mod:`.tokenizer`), in three locale-independent steps:

1. ``translate()`` with the measured fold table (FTS5's case fold and diacritic removal for
   every script, e.g. ``É``→``e``, ``Ø``→``ø``, ``ẞ``→``ß``; combining diacritics dropped);
2. ``lower(... COLLATE "C")`` for ASCII: the ``C`` collation keeps ``lower()`` away from the
   database locale (a Turkish locale would turn ``I`` into ``ı``; the ``C`` locale would not
   touch ``É`` at all; the fold table already did every non-ASCII letter);
3. ``regexp_replace()`` of every run of separators by one space, with an explicit class of
   code points (no ``[[:punct:]]``, whose meaning depends on the locale). All non-ASCII
   code points PostgreSQL's parser would not treat as letters in a UTF-8 locale are in the
   class, so in the ``C`` locale (where it treats every non-ASCII character as a letter)
   the parser splits at the same places.

The SQL is pure ASCII (``E'\\uXXXX'`` escapes); the database encoding must be UTF8.

Limits, all PostgreSQL's own (FTS5 has none of them), so large documents can differ:

* **260,000 characters per row** (:data:`MAX_INDEXED_CHARS`): ``fts_norm`` reads only the
  first 260,000 characters of its argument, and the search-vector expression shares that budget
  between the columns of one index (earlier columns first; the title rarely uses much). The
  rest of a longer document is not searchable on PostgreSQL. Why this number: a tsvector
  must stay under 1 MB (1,048,575 bytes of lexemes and positions), and the worst case is
  4 bytes per input character (every word distinct and made of 4-byte letters: ``n``
  letters + 1 separator cost ``4n`` bytes of lexeme + 2 bytes of position count + 2 bytes
  of position). 4 x 260,000 plus the column gaps stays below the limit, so an insert never
  fails, however large or hostile the document (measured: 262,144 characters of such text
  already exceed it by 5 bytes; see tests/search/test_fts_norm.py).
* **Positions stop at 16,383** and each word keeps at most 256 positions: a phrase that
  only occurs beyond roughly the 16,000th word of a row (about 100 KB of English) is missed
  on PostgreSQL; plain words there are still found.
* **Words longer than 2,047 bytes** are not indexed by PostgreSQL; the query side drops
  such terms (see :mod:`.query`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Final

from ._unicode_tables import FOLDS, SEPARATOR_RANGES
from .tokenizer import MAX_INDEXED_CHARS

_WEIGHTS: Final = frozenset("ABCD")

#: One position holding ``-``, which fold_and_split() never leaves in a token.
COLUMN_GAP: Final = "'-:1'::tsvector"


def _sql_char(ch: str) -> str:
    """One character inside an ``E'...'`` literal, escaped unless it is plain ASCII."""
    code = ord(ch)
    if 0x20 <= code < 0x7F and ch not in "'\\":
        return ch
    return f"\\U{code:08X}" if code > 0xFFFF else f"\\u{code:04X}"


def _e_literal(text: str) -> str:
    return "E'" + "".join(_sql_char(ch) for ch in text) + "'"


def _translate_args() -> tuple[str, str]:
    """The whole fold table as translate()'s from/to strings (dropped characters last)."""
    replaced = sorted(ch for ch, fold in FOLDS.items() if fold)
    dropped = sorted(ch for ch, fold in FOLDS.items() if not fold)
    source = "".join(replaced) + "".join(dropped)
    target = "".join(FOLDS[ch] for ch in replaced)
    return _e_literal(source), _e_literal(target)


def _runs(code_points: Iterable[int]) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    for c in sorted(code_points):
        if runs and runs[-1][1] == c - 1:
            runs[-1] = (runs[-1][0], c)
        else:
            runs.append((c, c))
    return runs


def _bracket(runs: Iterable[tuple[int, int]]) -> str:
    """``E'[...]'``: a regex bracket expression of code-point ranges, escaped in ASCII."""
    body = "".join(_escape(a) if a == b else f"{_escape(a)}-{_escape(b)}" for a, b in runs)
    return f"E'[{body}]'"


def _escape(code_point: int) -> str:
    """A regex escape, its backslash doubled for the ``E'...'`` literal around it."""
    return f"\\\\U{code_point:08X}" if code_point > 0xFFFF else f"\\\\u{code_point:04X}"


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def postgres_fts_norm_function_sql(schema: str) -> str:
    """``CREATE OR REPLACE FUNCTION "<schema>".fts_norm(text)``: see the module docstring.

    translate() compares each character with every entry of its "from" string, so the full
    table (1,600+ entries) would cost seconds per large document. The function first
    collects the distinct foldable characters the document actually contains (one fast
    regex scan), folds just those with the full table, and translates the document with
    that small table: the same result, about as fast as the separator regex itself.
    """
    source, target = _translate_args()
    foldable = _bracket(_runs(ord(ch) for ch in FOLDS))
    separators = _bracket(SEPARATOR_RANGES)[:-1] + "+'"
    return f"""CREATE OR REPLACE FUNCTION {_quote_ident(schema)}.fts_norm(text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $fts_norm$
SELECT pg_catalog.regexp_replace(
    pg_catalog.lower(
        pg_catalog.translate(doc.t, coalesce(used.src, ''), coalesce(used.dst, ''))
        COLLATE pg_catalog."C"),
    {separators},
    ' ', 'g')
FROM (SELECT pg_catalog.substr(coalesce($1, ''), 1, {MAX_INDEXED_CHARS}) AS t) AS doc
CROSS JOIN LATERAL (
    SELECT pg_catalog.string_agg(f.c, '' ORDER BY f.dst = '', f.c COLLATE pg_catalog."C")
               AS src,
           pg_catalog.string_agg(f.dst, '' ORDER BY f.dst = '', f.c COLLATE pg_catalog."C")
               AS dst
    FROM (
        SELECT u.c, pg_catalog.translate(u.c,
            {source},
            {target}) AS dst
        FROM (SELECT DISTINCT m.hit[1] AS c
              FROM pg_catalog.regexp_matches(doc.t,
                  {foldable},
                  'g') AS m(hit)) AS u
    ) AS f
) AS used
$fts_norm$"""


def postgres_tsvector_sql(
    schema: str, weighted_columns: Sequence[tuple[str, str]], *, row: str | None = None
) -> str:
    """The search-vector expression: one weighted ``to_tsvector`` per column.

    Columns are referenced by name, or as fields of *row* (``NEW`` in a trigger).

    Each column gets what is left of the shared :data:`MAX_INDEXED_CHARS` budget after the
    columns before it, so the whole vector stays under PostgreSQL's 1 MB limit. Between two
    columns sits :data:`COLUMN_GAP`, a lexeme no query can produce, so that (as in FTS5) a
    phrase never runs from the end of one column into the start of the next.
    """
    if not weighted_columns:
        raise ValueError("a search index needs at least one column")
    parts: list[str] = []
    earlier: list[str] = []
    for column, weight in weighted_columns:
        if weight not in _WEIGHTS:
            raise ValueError(f"tsvector weight must be one of A-D, got {weight!r}")
        reference = _quote_ident(column) if row is None else f"{row}.{_quote_ident(column)}"
        value = f"coalesce({reference}, '')"
        norm = f"{_quote_ident(schema)}.fts_norm({_budget(value, earlier)})"
        parts.append(f"setweight(to_tsvector('simple'::regconfig, {norm}), '{weight}')")
        earlier.append(value)
    return f" || {COLUMN_GAP} || ".join(parts)


def _budget(value: str, earlier: list[str]) -> str:
    """*value* cut to the characters the earlier columns left over (the first is uncut)."""
    if not earlier:
        return value
    used = " + ".join(f"char_length({e})" for e in earlier)
    return f"left({value}, greatest(0, {MAX_INDEXED_CHARS} - ({used})))"
