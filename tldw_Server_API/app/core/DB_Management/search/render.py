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
"""

from __future__ import annotations

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


def _ts_lexeme(token: str, prefix: bool = False) -> str:
    quoted = "'" + token.replace("\\", "\\\\").replace("'", "''") + "'"
    return quoted + (":*" if prefix else "")


def _tsquery(query: Query) -> str:
    if isinstance(query, Term):
        return _ts_lexeme(query.token, query.prefix)
    if isinstance(query, Phrase):
        last = len(query.tokens) - 1
        lexemes = (_ts_lexeme(t, query.prefix and i == last) for i, t in enumerate(query.tokens))
        return "(" + " <-> ".join(lexemes) + ")"
    if isinstance(query, And):
        return "(" + " & ".join(_tsquery(item) for item in query.items) + ")"
    if isinstance(query, Or):
        return "(" + " | ".join(_tsquery(item) for item in query.items) + ")"
    if isinstance(query, Not):
        return f"({_tsquery(query.positive)} & !{_tsquery(query.negative)})"
    raise TypeError(f"cannot render {query!r}")


def to_tsquery(query: Query) -> str | None:
    """Text for ``CAST(:q AS tsquery)``, or None when the query matches nothing."""
    return None if isinstance(query, Nothing) else _tsquery(query)


def compile_query(text: str) -> CompiledQuery:
    """Parse user input once and render it for both engines (never raises)."""
    query = parse(text)
    return CompiledQuery(fts5=to_fts5(query), tsquery=to_tsquery(query))
