"""Render a parsed :class:`.query.Query` for SQLite FTS5 and for PostgreSQL tsquery.

Both renderings are fully parenthesised with explicit operators, so neither engine's
precedence rules matter (FTS5 even rejects an implicit AND after a parenthesis, and binds
juxtaposed words tighter than ``NOT``). Every token is quoted: no user text can reach
either engine as syntax. Tokens are already folded and hold only token characters (never
a quote or a backslash, which are separators), so FTS5's tokenizer finds exactly that one
token inside the quotes, and PostgreSQL takes it as it is: the tsquery text is cast
(``text::tsquery``), which leaves lexemes alone, where ``to_tsquery`` would run the
text-search parser over them and split ``fine🙂`` in a UTF-8 locale.

=============  ==========================  ==============================
AST            FTS5 MATCH                  ``::tsquery``
=============  ==========================  ==============================
Term           ``"tok"``  ``"tok"*``       ``'tok'``  ``'tok':*``
Phrase         ``"a b"``  ``"a b"*``       ``('a' <-> 'b')``  ``('a' <-> 'b':*)``
And            ``(x AND y)``               ``(x & y)``
Or             ``(x OR y)``                ``(x | y)``
Not            ``(x NOT y)``               ``(x & !y)``
Nothing        None                        None
=============  ==========================  ==============================

A search confined to some columns of an index (:func:`restriction`) puts an FTS5 column
filter before the whole expression (``{"title"} : (...)``) and labels every tsquery lexeme
with those columns' weights (``'tok':A``, ``'tok':*A``): in both engines an exclusion then
means "not in those columns".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .query import And, Not, Nothing, Or, Phrase, Query, Term, parse


@dataclass(frozen=True)
class CompiledQuery:
    """A query rendered for both engines; None means "no results" (do not query)."""

    fts5: str | None
    tsquery: str | None


def _fts5_string(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _fts5(query: Query) -> str:
    if isinstance(query, Term):
        return _fts5_string(query.token) + ("*" if query.prefix else "")
    if isinstance(query, Phrase):
        return _fts5_string(" ".join(query.tokens)) + ("*" if query.prefix else "")
    if isinstance(query, And):
        return "(" + " AND ".join(_fts5(item) for item in query.items) + ")"
    if isinstance(query, Or):
        return "(" + " OR ".join(_fts5(item) for item in query.items) + ")"
    if isinstance(query, Not):
        return f"({_fts5(query.positive)} NOT {_fts5(query.negative)})"
    raise TypeError(f"cannot render {query!r}")


def to_fts5(query: Query) -> str | None:
    """An FTS5 MATCH expression, or None when the query matches nothing."""
    return None if isinstance(query, Nothing) else _fts5(query)


def _ts_lexeme(token: str, prefix: bool = False, weights: str = "") -> str:
    quoted = "'" + token.replace("\\", "\\\\").replace("'", "''") + "'"
    label = ("*" if prefix else "") + weights
    return quoted + (":" + label if label else "")


def _tsquery(query: Query, weights: str = "") -> str:
    if isinstance(query, Term):
        return _ts_lexeme(query.token, query.prefix, weights)
    if isinstance(query, Phrase):
        last = len(query.tokens) - 1
        lexemes = (
            _ts_lexeme(t, query.prefix and i == last, weights) for i, t in enumerate(query.tokens)
        )
        return "(" + " <-> ".join(lexemes) + ")"
    if isinstance(query, And):
        return "(" + " & ".join(_tsquery(item, weights) for item in query.items) + ")"
    if isinstance(query, Or):
        return "(" + " | ".join(_tsquery(item, weights) for item in query.items) + ")"
    if isinstance(query, Not):
        return f"({_tsquery(query.positive, weights)} & !{_tsquery(query.negative, weights)})"
    raise TypeError(f"cannot render {query!r}")


def to_tsquery(query: Query, weights: str = "") -> str | None:
    """Text for ``CAST(:q AS tsquery)``, or None when the query matches nothing.

    With *weights* (e.g. ``"A"``) every lexeme matches only words of those weights.
    """
    return None if isinstance(query, Nothing) else _tsquery(query, weights)


def restriction(
    index_columns: Sequence[tuple[str, str]], columns: Sequence[str] | None
) -> tuple[tuple[str, ...], str]:
    """The FTS5 columns and tsquery weights that confine a search to *columns* of an index.

    *index_columns* pairs each indexed column with its weight (its place in PostgreSQL's
    vector). ``None`` (or every column) is no restriction: ``((), "")``. A column the index
    lacks, or one whose weight another column shares (PostgreSQL could not tell them
    apart), is a :class:`ValueError`.
    """
    known = dict(index_columns)
    chosen = tuple(dict.fromkeys(columns or ()))
    for name in chosen:
        if name not in known:
            raise ValueError(f"the search index has no column {name!r}")
    if not chosen or set(chosen) == set(known):
        return (), ""
    weights = "".join(sorted({known[name] for name in chosen}))
    shared = [n for n, w in index_columns if w in weights and n not in chosen]
    if shared:
        raise ValueError(f"cannot search {', '.join(chosen)} apart from {', '.join(shared)}")
    return chosen, weights


def compile_query(text: str, *, columns: Sequence[str] = (), weights: str = "") -> CompiledQuery:
    """Parse user input once and render it for both engines (never raises).

    *columns* (FTS5) and *weights* (tsquery), as :func:`restriction` gives them, confine the
    match to those columns; both engines then find the same rows.
    """
    query = parse(text)
    fts5 = to_fts5(query)
    if fts5 is not None and columns:
        fts5 = "{" + " ".join(_fts5_string(c) for c in columns) + "} : " + fts5
    return CompiledQuery(fts5=fts5, tsquery=to_tsquery(query, weights))
