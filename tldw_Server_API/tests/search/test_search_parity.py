"""The same query finds the same documents on SQLite FTS5 and on PostgreSQL.

Each query runs against the corpus on both real engines; the id lists must be equal and,
for the queries that mean something, equal to what a reader of the corpus expects.
``[]`` means "no results", whether the query compiled to None or matched nothing.
"""

from __future__ import annotations

import sqlite3

import psycopg
import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from tldw_Server_API.app.core.DB_Management.search import Nothing, parse, tokenize

from .conftest import USER_DOCUMENTS
from .corpus import CORPUS, postgres_ids, sqlite_ids
from .user_text import typed_words

TOWER = [15, 16, 19, 41]
CAFE = [1, 2, 5]

#: (query, expected ids)
CASES: list[tuple[str, list[int]]] = [
    # words, case and accents in both directions
    ("cafe", CAFE),
    ("café", CAFE),
    ("CAFÉ", CAFE),
    ("Cafe", CAFE),
    ("ecole", [3, 4]),
    ("École", [3, 4]),
    ("ÉCOLE", [3, 4]),
    ("fermée", [3]),
    ("FERMEE", [3]),
    ("naïve résumé", [20, 21]),
    ("naive resume", [20, 21]),
    ("straße", [22]),
    ("STRASSE", [22]),
    ("Øresund", [23]),
    ("oresund", []),  # ø has no decomposition: FTS5 keeps it
    ("ŁÓDŹ", [24]),
    ("lodz", []),  # ł likewise
    ("ÅNGSTRÖM", [25]),
    ("angstrom", [25]),
    ("IPHONE", [14]),
    ("Mixed CASE", [14]),
    ("postgresql", [14, 37]),
    ("a", [2, 12, 17, 20, 24, 25, 28]),
    ("e", [11, 12]),
    ("and", [9, 10, 13, 14, 18, 23, 27, 29, 37, 39, 40]),
    # non-Latin scripts
    ("東京タワー", [6]),
    ("東京", []),  # unicode61 keeps a run of CJK as one token
    ("東京*", [6]),
    ("北京", [7]),
    ("αθηνα", [33]),
    ("ΑΘΗΝΑ", [33]),
    ("Αθήνα", [33]),
    ("москва", [34]),
    ("МОСКВА", [34]),
    ("россии", [34]),
    ("서울", [35]),
    ("القاهرة", [36]),
    # phrases (never across columns) and prefixes
    ('"eiffel tower"', [15]),
    ('"hello world"', [27, 31]),
    ('"multi line"', [40]),
    ('"tower the"', []),  # title "Eiffel Tower", body "The Eiffel ...": columns do not join
    ('"tower bridge"*', [16]),
    ('"eiffel tow"*', [15]),
    ("tow*", TOWER),
    ("prefixes", [38]),
    ("pref*", [38]),
    ("naïve*", [20, 21]),
    ("Øre*", [23]),
    # punctuation inside words becomes a phrase, as in the index
    ("alice@example.com", [8]),
    ("example", [8, 30]),
    ("https://www.example.com", [30]),
    ("C++", [9, 29]),
    ("foo_bar", [10]),
    ("foobar", [10]),
    ("3.14", [11]),
    ("e-mail", [12]),
    ("well-known", [12]),
    ("state-of-the-art", [12]),
    ("2024", [26]),
    ("2024-05-01", [26]),
    ("100%", [26]),
    ("555-0100", [42]),
    ("C:\\Windows\\System32", [29]),
    ("see:usr", [29]),
    ("party 🎉", [13]),
    # symbols and emoji inside words: one token, as FTS5 stores it
    ("fine🙂", [43]),
    ("FINE🙂", [43]),
    ("fine", [44]),
    ("fine*", [43, 44]),
    ("🙂", [44]),
    ('"went fine🙂"', [43]),
    ("🤔thinking", [43]),
    ("thinking", []),
    ("rocket🚀", [43]),  # U+1F680 is a Unicode 6.1 symbol: a separator
    ("½", [43]),
    ("①", [43]),
    ("ᏣᎳᎩ", [43]),
    ("ꮳꮃꭹ", []),  # FTS5 (Unicode 6.1) has no lower-case Cherokee to fold to
    ("\ue000pua", [43]),
    ("€uro", [43]),
    ("emoji", [13, 44]),
    # operators and precedence
    ("tower", TOWER),
    ("tower -eiffel", [16, 19, 41]),
    ("tower NOT bridge", [15, 19, 41]),
    ("NOT bridge tower", [15, 19, 41]),
    ("paris OR london", [1, 15, 16, 17, 18]),
    ("paris london", [18]),
    ("paris AND london", [18]),
    ("tower OR london paris", [15, 16, 18, 19, 41]),  # AND binds tighter than OR
    ("london paris OR tower", [15, 16, 18, 19, 41]),
    ("(tower OR london) paris", [15, 18]),
    ("(paris OR london) -(tower OR song)", [1, 18]),
    ("paris (-tower -song)", [1, 18]),
    ("naive -résumé", []),
    ("hello -world", []),
    ("world -hello", [32]),
    ("tower AND paris", [15]),
    ("tower OR", TOWER),
    ("OR tower", TOWER),
    ("- tower", TOWER),
    ('"OR"', [8, 39, 42]),
    ("or", [8, 39, 42]),
    ("not", [39]),
    ("NEAR", [39]),
    # nothing positive: no results
    ("", []),
    ("   ", []),
    ("-paris", []),
    ("NOT london", []),
    ("--tower", []),
    ("🎉", []),
    ("***", []),
    ("OR OR", []),
    ("NOT", []),
    ("AND", []),
    ("(((", []),
    ("()", []),
    ("-", []),
    ("\x00", []),
    # hostile input degrades to its words
    ('"unbalanced', []),
    ('"eiffel tower', [15]),
    ("(((cafe", CAFE),
    ("cafe)))", CAFE),
    ("cafe\x00", CAFE),
    ("'; DROP TABLE x; --", []),
    ("'; DROP TABLE users; --", [28]),
    ("a NEAR b", []),
    ("NEAR(cafe paris)", []),  # NEAR is a word here, and no document has it with these
    ("col:term", []),
    ("title:tower", []),
    ("^tower", TOWER),
    ("tower^", TOWER),
    ("{title}: tower", []),  # the word "title" AND tower
    ("tower:*", TOWER),
    ("tower *", TOWER),
    ('"" tower ""', TOWER),
    ('tow""er', []),  # a quote splits the word: "tow" AND "er"
    ("tower\\", TOWER),
    ("tower " * 2000, TOWER),  # 10 KB of text
    ("x" * 10_000, []),  # one word too long for PostgreSQL: dropped
    ("\u200b\ufeff\u0301\U0001f600\u202e", []),
    ("\ud800 tower \udfff", TOWER),  # lone surrogates are separators
    ("x²", [43]),
    ("x", []),
    ("\u202etower\u202c \ufd3e\ufd3f", TOWER),
    ("%s %d {0} $1 :q ?", []),
    ("\\x27 OR 1=1", []),  # x27 OR the phrase "1 1"
]


def _ids(result: list[int] | None) -> list[int]:
    return [] if result is None else result


@pytest.mark.parametrize(("query", "expected"), CASES, ids=[repr(q)[:40] for q, _ in CASES])
def test_both_backends_find_the_expected_documents(
    query: str,
    expected: list[int],
    sqlite_corpus: sqlite3.Connection,
    pg_corpus: tuple[psycopg.Connection, str],
) -> None:
    conn, schema = pg_corpus
    on_sqlite = sqlite_ids(sqlite_corpus, query)
    on_postgres = postgres_ids(conn, schema, query)
    assert on_sqlite == on_postgres
    assert _ids(on_sqlite) == expected


def test_the_table_is_large_enough() -> None:
    assert len(CASES) >= 40
    assert len(CORPUS) >= 40


def test_corpus_tokens_are_the_same_in_both_indexes(
    sqlite_corpus: sqlite3.Connection, pg_corpus: tuple[psycopg.Connection, str]
) -> None:
    """tokenize() predicts both indexes exactly, document by document, position by position."""
    conn, schema = pg_corpus
    sqlite_corpus.execute(
        "CREATE VIRTUAL TABLE IF NOT EXISTS docs_vocab USING fts5vocab(docs_fts, 'instance')"
    )
    vocab = sqlite_corpus.execute("SELECT doc, col, offset, term FROM docs_vocab")
    fts5: dict[tuple[int, str], list[tuple[int, str]]] = {}
    for doc, col, offset, term in vocab:
        fts5.setdefault((doc, col), []).append((offset, term))
    for doc_id, title, body in CORPUS:
        for col, text in (("title", title), ("body", body or "")):
            found = [term for _, term in sorted(fts5.get((doc_id, col), []))]
            assert found == tokenize(text), (doc_id, col)
        rows = conn.execute(
            f'SELECT lexeme, positions, weights FROM unnest((SELECT search FROM "{schema}".docs '
            "WHERE id = %s))",
            (doc_id,),
        ).fetchall()
        assert {r[0]: (list(r[1]), list(r[2])) for r in rows} == _expected_vector(title, body)


def _expected_vector(title: str, body: str | None) -> dict[str, tuple[list[int], list[str]]]:
    """Title tokens weighted A, the column gap ``-`` (D), then body tokens weighted B."""
    title_tokens, body_tokens = tokenize(title), tokenize(body or "")
    placed = [(t, i, "A") for i, t in enumerate(title_tokens, 1)]
    placed.append(("-", len(title_tokens) + 1, "D"))
    placed += [(t, len(title_tokens) + 1 + i, "B") for i, t in enumerate(body_tokens, 1)]
    vector: dict[str, tuple[list[int], list[str]]] = {}
    for token, position, weight in placed:
        positions, weights = vector.setdefault(token, ([], []))
        positions.append(position)
        weights.append(weight)
    return vector


USER_WORDS = typed_words(USER_DOCUMENTS)
#: Corpus tokens and words as users typed them (emoji, symbols and scripts inside words).
WORDS = sorted(
    {t for _, title, body in CORPUS for t in tokenize(f"{title} {body or ''}")} | set(USER_WORDS)
)
OPERATORS = ["OR", "AND", "NOT", "-", "(", ")", '"', "*", " "]


@st.composite
def word_queries(draw: st.DrawFn) -> str:
    """Queries built from those words, their prefixes and the operators."""
    parts: list[str] = []
    for _ in range(draw(st.integers(1, 8))):
        choice = draw(st.integers(0, 3))
        if choice == 0:
            parts.append(draw(st.sampled_from(OPERATORS)))
        else:
            word = draw(st.sampled_from(WORDS))
            if choice == 1:
                word = word[: draw(st.integers(1, len(word)))] + "*"
            parts.append(word)
    return " ".join(parts)


def test_the_user_shaped_documents_hold_symbols_inside_words() -> None:
    """The second corpus really has what the first one lacked: emoji glued to words."""
    glued = [w for w in USER_WORDS if any(not c.isalnum() for c in w) and len(tokenize(w)) == 1]
    assert len(glued) > 50
    assert any("🙂" in w and w != "🙂" for w in USER_WORDS)


def test_every_typed_user_word_finds_its_documents_on_both_backends(
    sqlite_user_corpus: sqlite3.Connection, pg_user_corpus: tuple[psycopg.Connection, str]
) -> None:
    """Each word of a document, typed as a query, finds that document, alike on both."""
    conn, schema = pg_user_corpus
    sources: dict[str, set[int]] = {}
    for doc_id, title, body in USER_DOCUMENTS:
        for word in typed_words([(doc_id, title, body)]):
            sources.setdefault(word, set()).add(doc_id)
    missing: list[tuple[str, list[int] | None, list[int] | None]] = []
    for word, doc_ids in sorted(sources.items()):
        on_sqlite = sqlite_ids(sqlite_user_corpus, word)
        on_postgres = postgres_ids(conn, schema, word)
        searchable = not isinstance(parse(word), Nothing)
        if on_sqlite != on_postgres or (searchable and not doc_ids <= set(on_sqlite or [])):
            missing.append((word, on_sqlite, on_postgres))
    assert missing == []


Corpora = list[tuple[sqlite3.Connection, tuple[psycopg.Connection, str]]]


@pytest.fixture(scope="module")
def corpora(
    sqlite_corpus: sqlite3.Connection,
    pg_corpus: tuple[psycopg.Connection, str],
    sqlite_user_corpus: sqlite3.Connection,
    pg_user_corpus: tuple[psycopg.Connection, str],
) -> Corpora:
    """The reference corpus and the user-shaped one, each on both engines."""
    return [(sqlite_corpus, pg_corpus), (sqlite_user_corpus, pg_user_corpus)]


def _assert_same_ids(corpora: Corpora, query: str) -> None:
    for sqlite_db, (conn, schema) in corpora:
        assert sqlite_ids(sqlite_db, query) == postgres_ids(conn, schema, query)


@hsettings(max_examples=300, deadline=None)
@given(query=word_queries())
def test_random_word_queries_agree(query: str, corpora: Corpora) -> None:
    _assert_same_ids(corpora, query)


@hsettings(max_examples=300, deadline=None)
@given(query=st.text(max_size=60))
def test_random_text_is_safe_and_agrees(query: str, corpora: Corpora) -> None:
    """Any text: no exception from either engine, and the same ids."""
    _assert_same_ids(corpora, query)
