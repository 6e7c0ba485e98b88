"""The SQL ``fts_norm`` and ``fts_vector`` equal Python's tokenizer, in a ``C`` and a UTF-8
database.

PostgreSQL's text-search parser asks the database's ``LC_CTYPE`` what a letter is, and
``lower()`` follows the collation; the search functions must make both irrelevant. So the
same strings (and every code point) are run through two databases created with different
locales, and the normalised text and the resulting tsvectors must be identical.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import psycopg
import pytest

from tldw_Server_API.app.core.DB_Management.search import (
    MAX_INDEXED_CHARS,
    compile_query,
    normalize,
    postgres_search_functions_sql,
    postgres_tsvector_sql,
    tokenize,
)

from .conftest import SCHEMA
from .corpus import TRICKY_STRINGS as STRINGS


def _norm(conn: psycopg.Connection, text: str) -> str:
    row = conn.execute(f"SELECT {SCHEMA}.fts_norm(%s)", (text,)).fetchone()
    assert row is not None
    return str(row[0])


def _vector(conn: psycopg.Connection, text: str) -> list[tuple[str, list[int]]]:
    """(lexeme, positions) of the one-column search vector of *text*."""
    rows = conn.execute(
        f"SELECT lexeme, positions FROM unnest({SCHEMA}.fts_vector(ARRAY[%s], 'D')) "
        'ORDER BY lexeme COLLATE "C"',
        (text,),
    ).fetchall()
    return [(str(lexeme), list(positions)) for lexeme, positions in rows]


def _expected_vector(text: str) -> list[tuple[str, list[int]]]:
    positions: dict[str, list[int]] = {}
    for i, token in enumerate(tokenize(text[:MAX_INDEXED_CHARS]), start=1):
        positions.setdefault(token, []).append(i)
    return sorted(positions.items(), key=lambda item: item[0].encode("utf-8"))


def test_the_two_databases_really_differ_in_locale(
    databases: dict[str, psycopg.Connection],
) -> None:
    """The parser and lower() disagree between the locales: why neither is used."""
    raw = {
        name: conn.execute(
            "SELECT lower('ÉCOLE'), tsvector_to_array(to_tsvector('simple', 'x²y 🤔z'))"
        ).fetchone()
        for name, conn in databases.items()
    }
    assert raw["C"] != raw["C.UTF-8"]


@pytest.mark.parametrize("text", STRINGS)
def test_fts_norm_is_locale_independent(
    text: str, databases: dict[str, psycopg.Connection]
) -> None:
    for conn in databases.values():
        assert _norm(conn, text) == normalize(text)
        assert _vector(conn, text) == _expected_vector(text)


def test_every_code_point_is_normalised_and_parsed_alike(
    databases: dict[str, psycopg.Connection],
) -> None:
    """All of Unicode, in chunks of ``x<c>y`` words: text and lexemes agree everywhere."""
    points = [chr(c) for c in range(1, 0x110000) if not 0xD800 <= c <= 0xDFFF]
    step = 20_000
    for start in range(0, len(points), step):
        chunk = "".join(f"x{ch}y " for ch in points[start : start + step])
        expected_text = normalize(chunk)
        expected_lexemes = sorted(set(tokenize(chunk)))
        for name, conn in databases.items():
            row = conn.execute(
                f"SELECT {SCHEMA}.fts_norm(%s), "
                f"tsvector_to_array({SCHEMA}.fts_vector(ARRAY[%s], 'D'))",
                (chunk, chunk),
            ).fetchone()
            assert row is not None
            assert row[0] == expected_text, (name, hex(ord(points[start])))
            assert sorted(row[1]) == expected_lexemes, (name, hex(ord(points[start])))


def test_fts_norm_handles_null_and_truncates(databases: dict[str, psycopg.Connection]) -> None:
    conn = databases["C"]
    row = conn.execute(f"SELECT {SCHEMA}.fts_norm(NULL)").fetchone()
    assert row == ("",)
    text = "a" * (MAX_INDEXED_CHARS - 1) + " tail"
    assert _norm(conn, text) == "a" * (MAX_INDEXED_CHARS - 1) + " "


def test_query_text_reaches_the_index_unchanged(
    databases: dict[str, psycopg.Connection],
) -> None:
    """The tsquery text is cast, not parsed: each token stays that one lexeme in any locale."""
    for text in STRINGS:
        tsquery = compile_query(" OR ".join(tokenize(text))).tsquery
        if tsquery is None:
            continue
        for conn in databases.values():
            row = conn.execute("SELECT %s::tsquery::text", (tsquery,)).fetchone()
            assert row is not None
            assert set(re.findall(r"'((?:[^']|'')*)'", row[0])) == set(tokenize(text))


# -- the generated column never fails --------------------------------------------------


def _letters(count: int) -> list[str]:
    """Distinct 4-byte letters (CJK Extension B): the costliest characters for a tsvector."""
    return [chr(0x20000 + i) for i in range(count)]


def _hostile(chars: int) -> str:
    """Distinct two-letter words of 4-byte letters: 4 bytes of tsvector per character."""
    letters = _letters(600)
    words = (a + b for a in letters for b in letters)
    text = " ".join(next(words) for _ in range(chars // 3 + 1))
    return text[:chars]


@pytest.fixture
def docs(databases: dict[str, psycopg.Connection]) -> Iterator[psycopg.Connection]:
    conn = databases["C.UTF-8"]
    expression = postgres_tsvector_sql(SCHEMA, [("title", "A"), ("body", "B")])
    conn.execute(
        f"CREATE TABLE {SCHEMA}.docs (id int PRIMARY KEY, title text, body text, "
        f"search tsvector GENERATED ALWAYS AS ({expression}) STORED)"
    )
    yield conn
    conn.execute(f"DROP TABLE {SCHEMA}.docs")


def test_the_hostile_document_would_overflow_without_the_limit(
    databases: dict[str, psycopg.Connection],
) -> None:
    conn = databases["C.UTF-8"]
    with pytest.raises(psycopg.errors.ProgramLimitExceeded):
        conn.execute("SELECT to_tsvector('simple', %s)", (_hostile(2 * MAX_INDEXED_CHARS),))


def test_huge_hostile_documents_insert(docs: psycopg.Connection) -> None:
    hostile = _hostile(2 * MAX_INDEXED_CHARS)
    docs.execute(
        f"INSERT INTO {SCHEMA}.docs VALUES (1, %s, %s), (2, 'small', %s), (3, %s, NULL)",
        (hostile, hostile, hostile, hostile),
    )
    counts = docs.execute(f"SELECT length(search) FROM {SCHEMA}.docs ORDER BY id").fetchall()
    assert [count > 80_000 for (count,) in counts] == [True, True, True]


def test_huge_plain_document_is_searchable_up_to_the_limit(docs: psycopg.Connection) -> None:
    words = " ".join(f"word{i}" for i in range(400_000))  # about 3.7 MB
    docs.execute(f"INSERT INTO {SCHEMA}.docs VALUES (1, 'Big', %s)", (words,))

    def found(word: str) -> bool:
        query = compile_query(word).tsquery
        row = docs.execute(
            f"SELECT count(*) FROM {SCHEMA}.docs WHERE search @@ %s::tsquery",
            (query,),
        ).fetchone()
        return row == (1,)

    assert found("word0") and found("big") and found("word20000")
    assert not found("word399999")  # beyond the documented limit


def test_columns_share_the_budget_and_do_not_join(docs: psycopg.Connection) -> None:
    docs.execute(
        f"INSERT INTO {SCHEMA}.docs VALUES (1, %s, 'needle'), (2, 'eiffel tower', 'the end')",
        ("t " * MAX_INDEXED_CHARS,),
    )

    def ids(text: str) -> list[int]:
        rows = docs.execute(
            f"SELECT id FROM {SCHEMA}.docs WHERE search @@ %s::tsquery ORDER BY id",
            (compile_query(text).tsquery,),
        ).fetchall()
        return [r[0] for r in rows]

    assert ids("needle") == []  # the long title used the whole budget
    assert ids('"tower the"') == []  # a phrase does not run from title into body
    assert ids('"the end"') == [2]


def test_tsvector_sql_shape() -> None:
    sql = postgres_tsvector_sql("s", [("title", "A"), ("content", "B")])
    assert sql == """"s".fts_vector(ARRAY["title", "content"]::text[], 'AB')"""
    trigger = postgres_tsvector_sql("s", [("title", "A")], row="NEW")
    assert trigger == """"s".fts_vector(ARRAY[NEW."title"]::text[], 'A')"""
    with pytest.raises(ValueError):
        postgres_tsvector_sql("s", [("title", "E")])
    with pytest.raises(ValueError):
        postgres_tsvector_sql("s", [])


def test_function_sql_is_ascii_and_immutable() -> None:
    norm, vector = postgres_search_functions_sql('we"ird')
    assert norm.startswith('CREATE OR REPLACE FUNCTION "we""ird".fts_norm(text) RETURNS text')
    assert vector.startswith(
        'CREATE OR REPLACE FUNCTION "we""ird".fts_vector(texts text[], weights text)'
    )
    for sql in (norm, vector):
        assert sql.isascii()
        assert "IMMUTABLE PARALLEL SAFE" in sql
