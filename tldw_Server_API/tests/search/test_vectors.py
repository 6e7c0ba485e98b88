"""The Python search vector equals PostgreSQL's, in a ``C`` and a UTF-8 database, or declines.

Where :class:`VectorBuilder` gives a vector, it must be the very vector the search
expression (and so the search trigger) computes from the same values: the migration
stores it in place of PostgreSQL's. Where PostgreSQL would do something the builder
does not model, it must decline, so the load lets PostgreSQL compute that row.
"""

from __future__ import annotations

from collections.abc import Sequence

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tldw_Server_API.app.core.DB_Management.search import MAX_INDEXED_CHARS, postgres_tsvector_sql
from tldw_Server_API.app.core.DB_Management.search._unicode_tables import FOLDS
from tldw_Server_API.app.core.DB_Management.search.tokenizer import _SEPARATORS
from tldw_Server_API.app.core.DB_Management.search.vectors import VectorBuilder

from .conftest import SCHEMA
from .corpus import TRICKY_STRINGS

WEIGHTS = {1: ("A",), 2: ("A", "B"), 3: ("A", "B", "D")}


def _postgres(conn: psycopg.Connection, values: Sequence[str | None]) -> str:
    """The vector text of PostgreSQL's own expression over *values*."""
    names = [f"c{i}" for i in range(len(values))]
    expression = postgres_tsvector_sql(SCHEMA, list(zip(names, WEIGHTS[len(values)], strict=True)))
    row = conn.execute(
        f"SELECT ({expression})::text FROM (SELECT "
        + ", ".join(f"%s::text AS {n}" for n in names)
        + ") AS r",
        list(values),
    ).fetchone()
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


def _assert_same_or_declined(
    databases: dict[str, psycopg.Connection], values: Sequence[str | None]
) -> None:
    for name, conn in databases.items():
        ours = _ours(conn, values)
        if ours is not None:
            assert ours == _postgres(conn, values), (name, values)


@pytest.mark.parametrize("text", TRICKY_STRINGS)
def test_one_column_vector_matches_postgres(
    text: str, databases: dict[str, psycopg.Connection]
) -> None:
    _assert_same_or_declined(databases, [text])


@pytest.mark.parametrize("text", TRICKY_STRINGS)
def test_title_and_body_vector_matches_postgres(
    text: str, databases: dict[str, psycopg.Connection]
) -> None:
    _assert_same_or_declined(databases, [text[:12], text])
    _assert_same_or_declined(databases, [None, text])
    _assert_same_or_declined(databases, [text, "", text])


def test_plain_text_is_not_declined(databases: dict[str, psycopg.Connection]) -> None:
    values = ["Café au lait", "Straße, École and 東京: the café's menu (2024) costs 12 euros"]
    conn = databases["C.UTF-8"]
    assert _ours(conn, values) == _postgres(conn, values)


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
    declined = 0
    for start in range(0, len(points), step):
        chunk = " ".join(f"q{i}{ch}z{i}" for i, ch in enumerate(points[start : start + step]))
        for conn in databases.values():
            ours = _ours(conn, ["Title", chunk])
            if ours is None:
                declined += 1
            else:
                assert ours == _postgres(conn, ["Title", chunk]), hex(ord(points[start]))
    assert declined == 0  # no chunk reaches a limit, and no fold leaves a capital


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
def test_random_text_vectors_match_postgres_or_decline(
    values: list[str | None], databases: dict[str, psycopg.Connection]
) -> None:
    _assert_same_or_declined(databases, values)


@pytest.mark.parametrize(
    "text",
    [
        "1e5x",  # the parser reads the number 1e5, then the word x
        "see 12e3e4",
        "a" * 2048,  # PostgreSQL drops words this long
        "слово " + "ж" * 1024,  # 2,048 bytes of UTF-8
        "word " * 256,  # more positions for one word than PostgreSQL keeps
        "w " * 16_382,  # positions past PostgreSQL's last
        "a" * (MAX_INDEXED_CHARS + 1),  # beyond the indexed part of a document
    ],
)
def test_the_builder_declines_what_only_postgres_can_say(text: str) -> None:
    assert VectorBuilder(["B"])([text]) is None


@pytest.mark.parametrize(
    "text",
    [
        "1e5",
        "e5 x1e5",
        "a" * 2047,
        "слово " + "ж" * 1023,
        "word " * 255,
        "ж " * 255,
        " ".join(f"w{i}" for i in range(16_382)),
    ],
)
def test_the_builder_accepts_the_edges_postgres_keeps_as_they_are(
    text: str, databases: dict[str, psycopg.Connection]
) -> None:
    conn = databases["C"]
    ours = _ours(conn, [text])
    assert ours is not None
    assert ours == _postgres(conn, [text])


def test_folding_never_creates_or_removes_a_separator() -> None:
    """Why folding word by word equals folding the text first (as fts_norm does)."""
    assert not any(_SEPARATORS.fullmatch(key) for key in FOLDS)
    assert not any(_SEPARATORS.search(value) for value in FOLDS.values() if value)


def test_ascii_words_are_exactly_letters_and_digits() -> None:
    """The builder's ASCII fast path splits at every other ASCII character."""
    ascii_separators = {chr(c) for c in range(128) if _SEPARATORS.fullmatch(chr(c))}
    assert ascii_separators == {chr(c) for c in range(128) if not chr(c).isalnum()}


def test_a_lone_surrogate_takes_the_full_split_instead_of_failing() -> None:
    build = VectorBuilder(["A"])

    assert build(["caf\udce9 ok"]) == build(["caf ok"])


def test_every_code_point_starting_a_word_matches_postgres_or_declines(
    databases: dict[str, psycopg.Connection],
) -> None:
    """Every non-separator, as the first letter of a word (a UTF-8 locale drops marks there).

    One row per code point, all rows in one statement per database.
    """
    texts = [
        f"{chr(c)}z"
        for c in range(0x80, 0x110000)
        if not 0xD800 <= c <= 0xDFFF and not _SEPARATORS.fullmatch(chr(c))
    ]
    build = VectorBuilder(["A"])
    ours = [build([text]) for text in texts]
    expression = postgres_tsvector_sql(SCHEMA, [("t", "A")])
    for name, conn in databases.items():
        rows = conn.execute(
            f"SELECT ({expression})::text, v::tsvector::text"
            " FROM unnest(%s::text[], %s::text[]) AS r(t, v)",
            (texts, ours),
        ).fetchall()
        differing = [
            text
            for text, (theirs, mine) in zip(texts, rows, strict=True)
            if mine not in (None, theirs)
        ]
        assert differing == [], (name, [hex(ord(t[0])) for t in differing[:20]])
    assert ours.count(None) < len(texts) // 10  # letters are not declined


@pytest.mark.parametrize("mark", ["\u07fd", "\u1acf", "\u1abe"])
def test_a_word_starting_with_a_mark_is_left_to_postgres(mark: str) -> None:
    assert VectorBuilder(["A"])([f"see {mark}word"]) is None
