"""The Python search vector equals PostgreSQL's, in a ``C`` and a UTF-8 database.

:class:`VectorBuilder` must give the very vector the search expression (and so the search
trigger) computes from the same values: the migration stores it in place of PostgreSQL's.
It declines (the load then lets PostgreSQL compute the row) only rows longer than the
indexed budget. Run on PostgreSQL 15 and 18 (``TLDW_TEST_NO_LOCAL_PG=1``): the servers
differ in the longest word a tsvector takes.
"""

from __future__ import annotations

from collections.abc import Sequence

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tldw_Server_API.app.core.DB_Management.search import MAX_INDEXED_CHARS, postgres_tsvector_sql
from tldw_Server_API.app.core.DB_Management.search._unicode_tables import FOLDS
from tldw_Server_API.app.core.DB_Management.search.tokenizer import SEPARATORS
from tldw_Server_API.app.core.DB_Management.search.vectors import VectorBuilder

from .conftest import SCHEMA
from .corpus import TRICKY_STRINGS

WEIGHTS = {1: ("A",), 2: ("A", "B"), 3: ("A", "B", "D")}


def _expression(values: Sequence[str | None]) -> tuple[str, list[str | None]]:
    """PostgreSQL's own vector expression over *values*, as a subquery and its parameters."""
    names = [f"c{i}" for i in range(len(values))]
    expression = postgres_tsvector_sql(SCHEMA, list(zip(names, WEIGHTS[len(values)], strict=True)))
    columns = ", ".join(f"%s::text AS {n}" for n in names)
    return f"({expression})::text FROM (SELECT {columns}) AS r", list(values)


def _postgres(conn: psycopg.Connection, values: Sequence[str | None]) -> str:
    """The vector text of PostgreSQL's own expression over *values*."""
    expression, params = _expression(values)
    row = conn.execute(f"SELECT {expression}", params).fetchone()
    assert row is not None
    return str(row[0])


def _ours(conn: psycopg.Connection, values: Sequence[str | None]) -> str | None:
    """The builder's vector, as PostgreSQL reads and prints it back (None if declined)."""
    text = VectorBuilder(WEIGHTS[len(values)])(values)
    if text is None:
        return None
    row = conn.execute("SELECT %s::tsvector::text", (text,)).fetchone()
    assert row is not None
    return str(row[0])


def _assert_same(databases: dict[str, psycopg.Connection], values: Sequence[str | None]) -> None:
    """The builder's vector (built once) reads back as PostgreSQL's own, in every database."""
    ours = VectorBuilder(WEIGHTS[len(values)])(values)
    assert ours is not None, values
    expression, params = _expression(values)
    for name, conn in databases.items():
        # One round trip: PostgreSQL's vector and ours as PostgreSQL reads and prints it back.
        row = conn.execute(f"SELECT %s::tsvector::text, {expression}", [ours, *params]).fetchone()
        assert row is not None
        assert row[0] == row[1], (name, values)


@pytest.mark.parametrize("text", TRICKY_STRINGS)
def test_one_column_vector_matches_postgres(
    text: str, databases: dict[str, psycopg.Connection]
) -> None:
    _assert_same(databases, [text])


@pytest.mark.parametrize("text", TRICKY_STRINGS)
def test_title_and_body_vector_matches_postgres(
    text: str, databases: dict[str, psycopg.Connection]
) -> None:
    _assert_same(databases, [text[:12], text])
    _assert_same(databases, [None, text])
    _assert_same(databases, [text, "", text])


def test_plain_text_matches_postgres(databases: dict[str, psycopg.Connection]) -> None:
    _assert_same(
        databases,
        ["Café au lait", "Straße, École and 東京: the café's menu (2024) costs 12 euros"],
    )


def test_empty_columns_keep_their_gaps(databases: dict[str, psycopg.Connection]) -> None:
    conn = databases["C"]
    assert _ours(conn, [None, None]) == _postgres(conn, [None, None]) == "'-':1"
    assert _ours(conn, ["", "x", ""]) == _postgres(conn, ["", "x", ""])


def test_every_code_point_in_words_matches_postgres(
    databases: dict[str, psycopg.Connection],
) -> None:
    """All of Unicode, in words ``q<i><c>z<i>`` (distinct even where ``<c>`` splits them)."""
    points = [chr(c) for c in range(1, 0x110000) if not 0xD800 <= c <= 0xDFFF]
    step = 5_000
    for start in range(0, len(points), step):
        chunk = " ".join(f"q{i}{ch}z{i}" for i, ch in enumerate(points[start : start + step]))
        _assert_same(databases, ["Title", chunk])


_ALPHABET = st.sampled_from(
    list("abcxyzE019e ")
    + list(" \t\n.,;:-_'\"\\/@#&<>()[]{}!?+*%$")
    + list("ÉéçñßØæÅıİǅﬁ²½①ẞ")
    + list("αΣσςΑМосква東京タワー서울عברिไ")
    + [
        "\u0301",
        "\u200b",
        "\u00a0",
        "\u3000",
        "🎉",
        "👍",
        "\U0001f3fd",
        "\U0001d400",
        "\U00020000",
        "\ue000",
    ]
)
_STORABLE = st.characters(exclude_categories=("Cs",), exclude_characters="\x00")
_TEXT = st.text(_ALPHABET, max_size=80) | st.text(_STORABLE, max_size=40)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(values=st.lists(st.none() | _TEXT, min_size=1, max_size=3))
def test_random_text_vectors_match_postgres(
    values: list[str | None], databases: dict[str, psycopg.Connection]
) -> None:
    _assert_same(databases, values)


@pytest.mark.parametrize(
    "values",
    [
        ["a" * (MAX_INDEXED_CHARS + 1)],
        ["t" * MAX_INDEXED_CHARS, "x"],  # the budget is shared by the columns
    ],
)
def test_the_builder_declines_rows_beyond_the_indexed_budget(values: list[str]) -> None:
    assert VectorBuilder(["A", "B"][: len(values)])(values) is None


@pytest.mark.parametrize(
    "text",
    [
        "1e5x see 12e3e4 1e5",  # the parser would read numbers in these
        "a" * 2046,  # the longest word every server keeps
        "a" * 2047,  # PostgreSQL 15 would keep it, 18 refuses it: left out on both
        "a" * 2048,
        "слово " + "ж" * 1023,  # 2,046 bytes of UTF-8
        "слово " + "ж" * 1024,  # 2,048 bytes
        "🙂" * 511 + "ab",  # 2,046 bytes of mostly 4-byte characters
        "🙂" * 512,  # 2,048 bytes
        "word " * 255,
        "word " * 256,
        "word " * 300,  # more positions for one word than a tsvector keeps
        "ж " * 300,
        "w " * 16_382,
        "w " * 17_000,  # positions past the last
        " ".join(f"w{i}" for i in range(16_382)),
        " ".join(f"w{i}" for i in range(17_000)),
        "see \u07fdword \u1acfword \u1abeword",  # marks starting a word
        "İstanbul ISTANBUL Ꭰꭰ ᲐᲑ fine🙂 x² ½ ①",
    ],
)
def test_the_builder_matches_postgres_at_its_limits(
    text: str, databases: dict[str, psycopg.Connection]
) -> None:
    _assert_same(databases, [text])
    _assert_same(databases, ["title", text])


def test_an_over_long_word_is_left_out_and_keeps_its_position(
    databases: dict[str, psycopg.Connection],
) -> None:
    """As in FTS5, the words around it are not adjacent: a phrase cannot bridge the gap."""
    values = ["a " + "x" * 2047 + " b"]
    assert VectorBuilder(["A"])(values) == "'a':1A 'b':3A"
    for conn in databases.values():
        assert _postgres(conn, values) == "'a':1A 'b':3A"


def test_a_symbol_unicode_61_did_not_know_stays_inside_the_word(
    databases: dict[str, psycopg.Connection],
) -> None:
    """U+1F642 (Unicode 7.0) is a token character for FTS5; the C.UTF-8 parser would split."""
    for conn in databases.values():
        assert (
            _postgres(conn, ["fine\U0001f642 party\U0001f389"]) == "'fine\U0001f642':1A 'party':2A"
        )


def test_folding_never_creates_or_removes_a_separator() -> None:
    """Why folding word by word equals folding the text first (as fts_norm does)."""
    assert not any(SEPARATORS.fullmatch(key) for key in FOLDS)
    assert not any(SEPARATORS.search(value) for value in FOLDS.values() if value)


def test_ascii_words_are_exactly_letters_and_digits() -> None:
    """The builder's ASCII fast path splits at every other ASCII character."""
    ascii_separators = {chr(c) for c in range(128) if SEPARATORS.fullmatch(chr(c))}
    assert ascii_separators == {chr(c) for c in range(128) if not chr(c).isalnum()}


def test_a_lone_surrogate_takes_the_full_split_instead_of_failing() -> None:
    build = VectorBuilder(["A"])

    assert build(["caf\udce9 ok"]) == build(["caf ok"])


def test_every_code_point_starting_a_word_matches_postgres(
    databases: dict[str, psycopg.Connection],
) -> None:
    """Every token character as the first of a word (the parser would drop some there)."""
    starts = [
        chr(c)
        for c in range(0x80, 0x110000)
        if not 0xD800 <= c <= 0xDFFF and not SEPARATORS.fullmatch(chr(c))
    ]
    step = 5_000
    for first in range(0, len(starts), step):
        chunk = " ".join(f"{ch}z{i}" for i, ch in enumerate(starts[first : first + step]))
        _assert_same(databases, [chunk])
