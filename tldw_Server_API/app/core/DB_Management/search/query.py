"""The search query language: FTS5-style text parsed once into a small, safe AST.

What users type::

    cafe tower          both words (implicit AND; ``AND`` may be written too)
    "eiffel tower"      a phrase (a doubled quote inside is a literal quote, as in FTS5)
    tow*  "eiffel tow"* prefix of the (last) word
    paris OR london     either; AND binds tighter: ``a b OR c`` is ``(a b) OR c``
    -london  NOT london exclude; applies to the next word, phrase or (group)
    (a OR b) c          parentheses group

``OR``, ``AND`` and ``NOT`` are operators only in capitals (as in FTS5); ``or`` is a word.
A typed word is split with :func:`.tokenizer.tokenize`, so ``e-mail`` and ``foo_bar``
become the phrases ``e mail`` and ``foo bar``, exactly as both indexes store them.

Deliberate differences from FTS5's own parser, so that anything typed is safe and means
the same on both engines: ``NOT`` is a unary exclusion (FTS5 reads ``a NOT b c`` as
``a NOT (b c)``, here it is ``a c`` without ``b``); ``-word`` excludes (FTS5: column
filter); ``NEAR``, ``col:term`` and ``^term`` have no special meaning (``col:term`` is the
phrase ``col term``, ``^`` is a separator). Garbage degrades to the words it contains:
stray operators, unbalanced quotes and parentheses are ignored, never an error.
A query with nothing positive to match (empty, only punctuation, only exclusions) parses to
:class:`Nothing`, which renders to None: "no results".

Limits (excess is dropped, which only widens the match): the first
:data:`MAX_QUERY_CHARS` characters are read, at most :data:`MAX_QUERY_TERMS` words or
phrases, :data:`MAX_PHRASE_TOKENS` tokens per phrase, :data:`MAX_DEPTH` nested
parentheses (deeper ones are ignored), and words longer than
:data:`.tokenizer.MAX_TOKEN_BYTES` UTF-8 bytes (which PostgreSQL cannot index) are dropped.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from dataclasses import dataclass
from typing import Final, TypeAlias

from .tokenizer import MAX_TOKEN_BYTES, fold_and_split, tokenize

MAX_QUERY_CHARS: Final = 2048
MAX_QUERY_TERMS: Final = 32
MAX_PHRASE_TOKENS: Final = 32
MAX_DEPTH: Final = 8

_OPERATORS: Final = frozenset({"AND", "OR", "NOT"})


@dataclass(frozen=True)
class Term:
    """One token; ``prefix`` matches every token starting with it."""

    token: str
    prefix: bool = False


@dataclass(frozen=True)
class Phrase:
    """Consecutive tokens (at least two); ``prefix`` applies to the last one."""

    tokens: tuple[str, ...]
    prefix: bool = False


@dataclass(frozen=True)
class And:
    items: tuple[Query, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Query, ...]


@dataclass(frozen=True)
class Not:
    """Documents matching ``positive`` and not ``negative``."""

    positive: Query
    negative: Query


@dataclass(frozen=True)
class Nothing:
    """Matches no document (renders to None)."""


Query: TypeAlias = Term | Phrase | And | Or | Not | Nothing


# -- lexing -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Lexeme:
    kind: str  # "(", ")", "-", "AND", "OR", "NOT", "operand"
    operand: Query | None = None


def _scan(text: str) -> Iterator[_Lexeme]:
    """Split raw text into parentheses, operators, exclusion marks and operands."""
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch in "()":
            yield _Lexeme(ch)
            i += 1
        elif ch == '"':
            i = yield from _scan_quoted(text, i + 1)
        elif ch == "-":
            while i < n and text[i] == "-":
                i += 1
            if i < n and not text[i].isspace():
                yield _Lexeme("-")
        else:
            i = yield from _scan_word(text, i)


def _scan_quoted(text: str, i: int) -> Generator[_Lexeme, None, int]:
    """A phrase up to the closing quote (or the end); ``""`` inside is a literal quote."""
    parts: list[str] = []
    n = len(text)
    while i < n:
        close = text.find('"', i)
        if close < 0:
            parts.append(text[i:])
            i = n
            break
        parts.append(text[i:close])
        if close + 1 < n and text[close + 1] == '"':
            parts.append('"')
            i = close + 2
            continue
        i = close + 1
        break
    prefix = i < n and text[i] == "*"
    while i < n and text[i] == "*":
        i += 1
    yield _Lexeme("operand", _operand(tokenize("".join(parts)), prefix))
    return i


def _scan_word(text: str, i: int) -> Generator[_Lexeme, None, int]:
    """A bare word: an operator in capitals, else its tokens (``foo*`` marks a prefix)."""
    n = len(text)
    start = i
    while i < n and not text[i].isspace() and text[i] not in '()"':
        i += 1
    word = text[start:i]
    if word in _OPERATORS:
        yield _Lexeme(word)
        return i
    stem = word.rstrip("*")
    folded = fold_and_split(stem)
    prefix = len(stem) < len(word) and folded != "" and not folded.endswith(" ")
    yield _Lexeme("operand", _operand(tokenize(stem), prefix))
    return i


def _operand(tokens: list[str], prefix: bool) -> Query | None:
    """A Term or Phrase from tokens, dropping what PostgreSQL could not index."""
    kept = tuple(t for t in tokens if len(t.encode("utf-8")) <= MAX_TOKEN_BYTES)
    kept = kept[:MAX_PHRASE_TOKENS]
    truncated = len(kept) < len(tokens)
    if not kept:
        return None
    if len(kept) == 1:
        return Term(kept[0], prefix and not truncated)
    return Phrase(kept, prefix and not truncated)


def _lex(text: str) -> list[_Lexeme]:
    """Scan, then enforce the limits and balance the parentheses (never raises)."""
    lexemes: list[_Lexeme] = []
    depth = skipped = terms = 0
    for lexeme in _scan(text[:MAX_QUERY_CHARS]):
        if lexeme.kind == "operand":
            if lexeme.operand is None:
                continue
            terms += 1
            if terms > MAX_QUERY_TERMS:
                break
        elif lexeme.kind == "(":
            if depth >= MAX_DEPTH:
                skipped += 1
                continue
            depth += 1
        elif lexeme.kind == ")":
            if skipped:
                skipped -= 1
                continue
            if depth == 0:
                continue
            depth -= 1
        lexemes.append(lexeme)
    return lexemes


# -- parsing ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Part:
    """A parsed sub-expression: what it requires and what it excludes."""

    positive: Query | None
    negatives: tuple[Query, ...] = ()

    def finish(self) -> Query | None:
        if self.positive is None:
            return None
        if not self.negatives:
            return self.positive
        negative = self.negatives[0] if len(self.negatives) == 1 else Or(self.negatives)
        return Not(self.positive, negative)


class _Parser:
    """Recursive descent over balanced lexemes; recursion depth is bounded by MAX_DEPTH."""

    def __init__(self, lexemes: list[_Lexeme]) -> None:
        self._lexemes = lexemes
        self._pos = 0

    def _peek(self) -> str | None:
        return self._lexemes[self._pos].kind if self._pos < len(self._lexemes) else None

    def parse_or(self) -> _Part:
        branches = [self.parse_and()]
        while self._peek() == "OR":
            self._pos += 1
            branches.append(self.parse_and())
        if len(branches) == 1:
            return branches[0]
        finished = [q for q in (b.finish() for b in branches) if q is not None]
        return _Part(_combine(Or, finished))

    def parse_and(self) -> _Part:
        positives: list[Query] = []
        negatives: list[Query] = []
        while self._peek() not in (None, ")", "OR"):
            if self._peek() == "AND":
                self._pos += 1
                continue
            negated, part = self.parse_unary()
            if negated:
                finished = part.finish()
                if finished is not None:
                    negatives.append(finished)
                continue
            if part.positive is not None:
                positives.append(part.positive)
            negatives.extend(part.negatives)
        return _Part(_combine(And, positives), tuple(negatives))

    def parse_unary(self) -> tuple[bool, _Part]:
        negated = False
        while self._peek() in ("NOT", "-"):
            negated = True
            self._pos += 1
        kind = self._peek()
        if kind is None or kind in (")", "OR", "AND"):
            return negated, _Part(None)
        lexeme = self._lexemes[self._pos]
        self._pos += 1
        if kind == "(":
            inner = self.parse_or()
            if self._peek() == ")":
                self._pos += 1
            return negated, inner
        return negated, _Part(lexeme.operand)


def _combine(kind: type[And] | type[Or], items: list[Query]) -> Query | None:
    """One item stands alone; nested nodes of the same kind are flattened."""
    flat: list[Query] = []
    for item in items:
        flat.extend(item.items if isinstance(item, kind) else (item,))
    if not flat:
        return None
    return flat[0] if len(flat) == 1 else kind(tuple(flat))


def parse(text: str) -> Query:
    """Parse user input; never raises, returns :class:`Nothing` when nothing can match."""
    parser = _Parser(_lex(text if isinstance(text, str) else ""))
    query = parser.parse_or().finish()
    return Nothing() if query is None else query
