"""The query language: what user text parses to, and that rendering is always safe."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from tldw_Server_API.app.core.DB_Management.search import (
    MAX_DEPTH,
    MAX_PHRASE_TOKENS,
    MAX_QUERY_TERMS,
    SQLITE_TOKENIZER,
    And,
    CompiledQuery,
    Not,
    Nothing,
    Or,
    Phrase,
    Term,
    compile_query,
    parse,
    to_fts5,
    to_tsquery,
)


def t(token: str, prefix: bool = False) -> Term:
    return Term(token, prefix)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("cafe", t("cafe")),
        ("Café", t("cafe")),
        ("cafe tower", And((t("cafe"), t("tower")))),
        ("cafe AND tower", And((t("cafe"), t("tower")))),
        ('"Eiffel Tower"', Phrase(("eiffel", "tower"))),
        ('"eiffel tow"*', Phrase(("eiffel", "tow"), prefix=True)),
        ("tow*", t("tow", prefix=True)),
        ("tow**", t("tow", prefix=True)),
        ("tow.*", t("tow")),  # the star is not attached to a word
        ("e-mail", Phrase(("e", "mail"))),
        ("e-mail*", Phrase(("e", "mail"), prefix=True)),
        ("a b OR c", Or((And((t("a"), t("b"))), t("c")))),
        ("a OR b c", Or((t("a"), And((t("b"), t("c")))))),
        ("a OR b OR c", Or((t("a"), t("b"), t("c")))),
        ("(a OR b) c", And((Or((t("a"), t("b"))), t("c")))),
        ("a -b", Not(t("a"), t("b"))),
        ("-b a", Not(t("a"), t("b"))),
        ("a NOT b c", Not(And((t("a"), t("c"))), t("b"))),
        ("a -b -c", Not(t("a"), Or((t("b"), t("c"))))),
        ('a -"b c"', Not(t("a"), Phrase(("b", "c")))),
        ("a -(b OR c)", Not(t("a"), Or((t("b"), t("c"))))),
        ("a (-b -c)", Not(t("a"), Or((t("b"), t("c"))))),
        ("a OR -b", t("a")),
        ("--a b", Not(t("b"), t("a"))),
        ("NOT NOT a b", Not(t("b"), t("a"))),
        ("-(-a) b", t("b")),
        ("((a))", t("a")),
        ("a-", t("a")),
        ("or and not", And((t("or"), t("and"), t("not")))),
        ('"OR"', t("or")),
        ('"a""b"', Phrase(("a", "b"))),
        ("col:term", Phrase(("col", "term"))),
        ("", Nothing()),
        ("-a", Nothing()),
        ("NOT a", Nothing()),
        ("OR AND NOT", Nothing()),
        ("()", Nothing()),
        ("!!!", Nothing()),
    ],
)
def test_parse(text: str, expected: object) -> None:
    assert parse(text) == expected


def test_rendering() -> None:
    query = parse('(paris OR "eiffel tow"*) -london')
    assert to_fts5(query) == '(("paris" OR "eiffel tow"*) NOT "london")'
    assert to_tsquery(query) == "(('paris' | ('eiffel' <-> 'tow':*)) & !'london')"
    assert compile_query("") == CompiledQuery(fts5=None, tsquery=None)
    assert compile_query("a -b") == CompiledQuery(fts5='("a" NOT "b")', tsquery="('a' & !'b')")


def test_rendering_quotes_whatever_the_token() -> None:
    """Tokens from tokenize() have no quotes, but a hand-made AST must still be safe."""
    odd = And((Term('a"b'), Term("it's\\")))
    assert to_fts5(odd) == '("a""b" AND "it\'s\\")'
    assert to_tsquery(odd) == "('a\"b' & 'it''s\\\\')"


def test_limits() -> None:
    many = parse(" ".join(f"w{i}" for i in range(100)))
    assert isinstance(many, And) and len(many.items) == MAX_QUERY_TERMS
    long_phrase = parse('"' + " ".join(f"w{i}" for i in range(100)) + '"*')
    assert isinstance(long_phrase, Phrase)
    assert len(long_phrase.tokens) == MAX_PHRASE_TOKENS and not long_phrase.prefix
    deep = parse("(" * 50 + "a OR b" + ")" * 50 + " c")
    assert deep == And((Or((t("a"), t("b"))), t("c")))
    assert MAX_DEPTH < 50
    assert parse("x" * 3000) == Nothing()  # longer than PostgreSQL can index
    assert parse("Ж" * 1000) == t("ж" * 1000)  # 2000 bytes of UTF-8 is fine, but...
    assert parse("ж" * 1024 + " ok") == t("ok")  # ... 2048 bytes is dropped


def test_fts5_precedence_is_why_we_parenthesise(fts5: sqlite3.Connection) -> None:
    """Facts about FTS5's own parser, checked on the real thing."""
    rows = {1: "a", 2: "b", 3: "c", 4: "b c", 5: "a c"}
    fts5.executemany("INSERT INTO t(rowid, x) VALUES (?, ?)", rows.items())

    def match(expression: str) -> list[int]:
        return sorted(
            r[0] for r in fts5.execute("SELECT rowid FROM t WHERE t MATCH ?", (expression,))
        )

    assert match("a OR b c") == [1, 4, 5]  # AND binds tighter than OR, as in our parser
    assert match("a NOT b c") == [1, 5]  # FTS5: a NOT (b c); ours would be a c NOT b
    with pytest.raises(sqlite3.OperationalError):
        match("(a OR b) c")  # FTS5 rejects an implicit AND after a parenthesis
    assert match(str(to_fts5(parse("(a OR b) c")))) == [4, 5]
    assert match(str(to_fts5(parse("a NOT b c")))) == [5]


@pytest.fixture
def fts5() -> Iterator[sqlite3.Connection]:
    db = sqlite3.connect(":memory:")
    db.execute(f"CREATE VIRTUAL TABLE t USING fts5(x, y, tokenize = '{SQLITE_TOKENIZER}')")
    yield db
    db.close()


def _balanced(text: str) -> bool:
    depth = 0
    for ch in text:
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth < 0:
            return False
    return depth == 0


QUERY_ALPHABET = st.sampled_from(list("abc OR AND NOT -*()\"'^:{}+.,;\\\x00é東😀 "))


@hsettings(max_examples=500, deadline=None)
@given(text=st.one_of(st.text(), st.text(QUERY_ALPHABET, max_size=40)))
def test_any_text_compiles_to_valid_fts5(text: str) -> None:
    """Never raises; the FTS5 text is accepted by SQLite (as a whole and column-filtered)."""
    compiled = compile_query(text)
    assert (compiled.fts5 is None) == (compiled.tsquery is None)
    if compiled.fts5 is None or compiled.tsquery is None:
        return
    assert _balanced(compiled.tsquery)
    db = sqlite3.connect(":memory:")
    db.execute(f"CREATE VIRTUAL TABLE t USING fts5(x, y, tokenize = '{SQLITE_TOKENIZER}')")
    db.execute("INSERT INTO t(x, y) VALUES ('a b c', 'é 東')")
    db.execute("SELECT rowid FROM t WHERE t MATCH ?", (compiled.fts5,)).fetchall()
    db.execute("SELECT rowid FROM t WHERE t MATCH ?", (f"{{x}} : ({compiled.fts5})",)).fetchall()
    db.close()
