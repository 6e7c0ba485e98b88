"""The PostgreSQL half of the index: ``fts_norm``, ``fts_vector`` and the vector expression.

PostgreSQL indexes exactly the words FTS5 ``unicode61 remove_diacritics 2`` makes (see
:mod:`.tokenizer`), and its own text-search parser takes no part. A row's vector is
``fts_vector(ARRAY[columns], weights)``, which

1. cuts the columns to the shared :data:`MAX_INDEXED_CHARS` budget (earlier columns first);
2. normalises each column with ``fts_norm(text)``: ``translate()`` with the measured fold
   table (FTS5's case fold and diacritic removal, e.g. ``É``→``e``, ``Ø``→``ø``; combining
   diacritics dropped), ``lower(... COLLATE "C")`` for ASCII (the ``C`` collation keeps
   the database locale away), and ``regexp_replace()`` of every run of separators (an
   explicit class of code points, never ``[[:punct:]]``) by one space;
3. numbers the words (one position per word, and a position holding :data:`GAP_LEXEME`
   between two columns, so that a phrase never runs from one column into the next, as in
   FTS5) and casts the text ``'word':position+weight ...`` to ``tsvector``.

Queries are cast the same way (``text::tsquery``, never ``to_tsquery``). So a word such as
``fine🙂`` or ``x²`` reaches the index as one lexeme, exactly as FTS5 stores it, in every
locale and on every server version: the parser (whose idea of a letter is the C library's)
would have split it. The migration's :mod:`.vectors` writes the same text in Python, and
``tsvector`` input (the same server code on both paths) merges, sorts and clips it.

The SQL is pure ASCII (``E'\\uXXXX'`` escapes); the database encoding must be UTF8.

Limits, all PostgreSQL's own (FTS5 has none of them), so large documents can differ:

* **260,000 characters per row** (:data:`MAX_INDEXED_CHARS`): later columns get what the
  earlier ones left (the title rarely uses much); the rest of a longer document is not
  searchable on PostgreSQL. Why this number: a tsvector must stay under 1 MB (1,048,575
  bytes of lexemes and positions), and the worst case is 4 bytes per input character
  (every word distinct and made of 4-byte letters: ``n`` letters + 1 separator cost ``4n``
  bytes of lexeme + 2 bytes of position count + 2 bytes of position). 4 x 260,000 plus the
  column gaps stays below the limit, so an insert never fails, however large or hostile the
  document (measured: 262,144 characters of such text already exceed it by 5 bytes; see
  tests/search/test_fts_norm.py).
* **Positions stop at 16,383** and each word keeps at most 256 positions (``tsvector``
  input clips them): a phrase that only occurs beyond roughly the 16,000th word of a row
  (about 100 KB of English) is missed on PostgreSQL; plain words there are still found.
* **Words longer than** :data:`MAX_TOKEN_BYTES` **(2,046) bytes** are not indexed (their
  position stays taken, as in FTS5): PostgreSQL 18 refuses longer words in a ``tsvector``,
  earlier versions one byte more. The query side drops such terms (see :mod:`.query`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Final

from ..backends.pg_sql import quote_ident
from .generate_tables import code_point_runs
from .tokenizer import FOLDS, MAX_INDEXED_CHARS, MAX_TOKEN_BYTES, SEPARATOR_RANGES, regex_escape

_WEIGHTS: Final = frozenset("ABCD")

#: The lexeme at the position between two columns: ``-`` is a separator, so no query asks
#: for it.
GAP_LEXEME: Final = "-"


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


def _bracket(runs: Iterable[tuple[int, int]]) -> str:
    """``E'[...]'``: a regex bracket expression of code-point ranges, escaped in ASCII."""
    body = "".join(_escape(a) if a == b else f"{_escape(a)}-{_escape(b)}" for a, b in runs)
    return f"E'[{body}]'"


def _escape(code_point: int) -> str:
    """:func:`.tokenizer.regex_escape`, its backslash doubled for the ``E'...'`` literal."""
    return regex_escape(code_point).replace("\\", "\\\\")


def postgres_search_functions_sql(schema: str) -> tuple[str, str]:
    """``CREATE OR REPLACE FUNCTION`` of ``fts_norm(text)`` and ``fts_vector(text[], text)``
    in *schema*, in that order (the second calls the first)."""
    return _fts_norm_function_sql(schema), _fts_vector_function_sql(schema)


def _fts_norm_function_sql(schema: str) -> str:
    """``"<schema>".fts_norm(text)``: the text folded, each run of separators one space.

    translate() compares each character with every entry of its "from" string, so the full
    table (1,300 entries) would cost seconds per large document. The function first
    collects the distinct foldable characters the document actually contains (one fast
    regex scan), folds just those with the full table, and translates the document with
    that small table: the same result, about as fast as the separator regex itself.
    """

    source, target = _translate_args()
    foldable = _bracket(code_point_runs(ord(ch) for ch in FOLDS))
    separators = _bracket(SEPARATOR_RANGES)[:-1] + "+'"
    return f"""CREATE OR REPLACE FUNCTION {quote_ident(schema)}.fts_norm(text) RETURNS text
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


def _fts_vector_function_sql(schema: str) -> str:
    """``"<schema>".fts_vector(texts text[], weights text)``: a row's search vector.

    Column ``k`` is cut to what the earlier columns left of the budget, normalised and
    split at its single spaces; its words take the positions after the earlier columns
    and their gaps, with weight ``weights[k]``. Words over :data:`MAX_TOKEN_BYTES` bytes
    are left out but keep their positions.

    PL/pgSQL rather than SQL: the session keeps its plans, which makes a small row cost
    about as much as ``to_tsvector`` did (an SQL function of this shape is 20 times slower).
    """

    ns = quote_ident(schema)
    return f"""CREATE OR REPLACE FUNCTION {ns}.fts_vector(texts text[], weights text)
RETURNS pg_catalog.tsvector
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $fts_vector$
DECLARE
    entries text[] := '{{}}';
    words text[];
    start bigint := 0;
    budget integer := {MAX_INDEXED_CHARS};
BEGIN
    FOR k IN 1 .. coalesce(pg_catalog.cardinality(texts), 0) LOOP
        IF k > 1 THEN
            start := start + 1;
            entries := entries || ('''{GAP_LEXEME}'':' || start);
        END IF;
        words := pg_catalog.string_to_array(pg_catalog.btrim({ns}.fts_norm(
            pg_catalog.left(coalesce(texts[k], ''), budget))), ' ');
        budget := greatest(0, budget - coalesce(pg_catalog.char_length(texts[k]), 0));
        entries := entries || ARRAY(
            SELECT '''' || u.word || ''':' || (start + u.n) || pg_catalog.substr(weights, k, 1)
            FROM pg_catalog.unnest(words) WITH ORDINALITY AS u(word, n)
            WHERE pg_catalog.octet_length(u.word) <= {MAX_TOKEN_BYTES});
        start := start + pg_catalog.cardinality(words);
    END LOOP;
    RETURN pg_catalog.array_to_string(entries, ' ')::pg_catalog.tsvector;
END
$fts_vector$"""


def postgres_tsvector_sql(
    schema: str, weighted_columns: Sequence[tuple[str, str]], *, row: str | None = None
) -> str:
    """The search-vector expression: ``fts_vector`` over the columns, in index order.

    Columns are referenced by name, or as fields of *row* (``NEW`` in a trigger).
    """
    if not weighted_columns:
        raise ValueError("a search index needs at least one column")
    for _, weight in weighted_columns:
        if weight not in _WEIGHTS:
            raise ValueError(f"tsvector weight must be one of A-D, got {weight!r}")

    prefix = "" if row is None else f"{row}."
    columns = ", ".join(prefix + quote_ident(column) for column, _ in weighted_columns)
    weights = "".join(weight for _, weight in weighted_columns)
    return f"{quote_ident(schema)}.fts_vector(ARRAY[{columns}]::text[], '{weights}')"
