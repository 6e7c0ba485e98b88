"""The shared test corpus and the helpers that load and query it on both engines.

Why one corpus for both: the point of the tests is that a query finds the same document
ids on SQLite FTS5 and on PostgreSQL, so both are built from exactly these rows.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

import psycopg

from tldw_Server_API.app.core.DB_Management.search import (
    SQLITE_TOKENIZER,
    compile_query,
    postgres_search_functions_sql,
    postgres_tsvector_sql,
)

#: (id, title, body)
Row = tuple[int, str, str | None]

#: A None body exercises NULL columns.
CORPUS: tuple[Row, ...] = (
    (1, "Café culture", "The best café in Paris serves espresso."),
    (2, "CAFÉ REVIEW", "A CAFÉ WITH LOUD MUSIC."),
    (3, "École normale", "L'école est fermée le dimanche."),
    (4, "ÉCOLE POLYTECHNIQUE", "Engineering school admissions."),
    (5, "Cafe without accent", "Plain cafe spelled in ASCII."),
    (6, "東京タワー", "東京タワーは東京の観光名所です。"),
    (7, "北京", "北京 is the capital of China."),
    (8, "Contact", "Write to alice@example.com or bob@example.org for details."),
    (9, "C++ templates", "Modern C++ and C# compared."),
    (10, "Snake case", "Use foo_bar for variables and FooBar for classes."),
    (11, "Pi", "The value 3.14 approximates pi; 2.71 is e."),
    (12, "Hyphenation", "A well-known state-of-the-art e-mail client."),
    (13, "Emoji party", "Party time 🎉 with cake 🍰 and fun 😀"),
    (14, "Mixed Case", "iPhone and MacBook and PostgreSQL and SQLite"),
    (15, "Eiffel Tower", "The Eiffel Tower is in Paris, France."),
    (16, "Tower Bridge", "Tower Bridge crosses the Thames in London."),
    (17, "London calling", "A song about London."),
    (18, "Paris and London", "Trains connect Paris with London."),
    (19, "Towering trees", "Redwoods tower over the forest."),
    (20, "Naïve résumé", "The naïve candidate sent a résumé."),
    (21, "Naive resume", "Plain ASCII naive resume."),
    (22, "Straße", "Die Straße ist lang. STRASSE in capitals."),
    (23, "Øresund", "The Øresund bridge links Denmark and Sweden."),
    (24, "Łódź", "Łódź is a city in Poland."),
    (25, "Ångström", "A unit of length: ångström."),
    (26, "Release notes", "Version 2024 released on 2024-05-01 with 100% coverage."),
    (27, "Quotes", 'He said "hello world" and left.'),
    (28, "SQL injection", "'; DROP TABLE users; -- is a classic attack."),
    (29, "Paths", "See /usr/local/bin and C:\\Windows\\System32."),
    (30, "Links", "Visit https://www.example.com/path?q=search&lang=en today."),
    (31, "Hello", "hello world program"),
    (32, "World peace", "world without war"),
    (33, "Αθήνα", "Η Αθήνα είναι η πρωτεύουσα. ΑΘΗΝΑ"),
    (34, "Москва", "Москва — столица России. МОСКВА"),
    (35, "서울", "서울 is the capital of Korea."),
    (36, "القاهرة", "القاهرة عاصمة مصر"),
    (37, "Database systems", "PostgreSQL tsvector and SQLite FTS5 full-text search."),
    (38, "Prefix test", "prefix prefixes prefixed preface"),
    (39, "Operators as words", "NEAR and OR and NOT are words here."),
    (40, "Whitespace\tand\nnewlines", "multi\nline\ttext with    spaces"),
    (41, "Tower", None),
    (42, "Numbers", "Call 555-0100 or 555 0199; ratio 1:2"),
    # Symbols inside words: FTS5 keeps what Unicode 6.1 did not assign (U+1F642, U+1F914),
    # letters, numbers and private use; it splits at 6.1 symbols (U+1F680, U+20AC).
    (
        43,
        "Status fine🙂",
        "Deploy went fine🙂 after 🤔thinking; rocket🚀 launch, x² ½ ①™ ᏣᎳᎩ \ue000pua €uro",
    ),
    (44, "Fine", "fine without emoji; 🙂 alone"),
)

COLUMNS: tuple[tuple[str, str], ...] = (("title", "A"), ("body", "B"))


def build_sqlite(rows: Iterable[Row]) -> sqlite3.Connection:
    """An in-memory content table with an FTS5 external-content index, as the app uses."""
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE docs (id INTEGER PRIMARY KEY, title TEXT, body TEXT)")
    db.execute(
        "CREATE VIRTUAL TABLE docs_fts USING fts5(title, body, content='docs', "
        f"content_rowid='id', tokenize='{SQLITE_TOKENIZER}')"
    )
    for row in rows:
        db.execute("INSERT INTO docs (id, title, body) VALUES (?, ?, ?)", row)
        db.execute("INSERT INTO docs_fts (rowid, title, body) VALUES (?, ?, ?)", row)
    return db


def build_postgres(conn: psycopg.Connection, schema: str, rows: Iterable[Row]) -> None:
    """The same rows in *schema* with the generated, GIN-indexed tsvector column."""
    conn.execute(f'CREATE SCHEMA "{schema}"')
    for function in postgres_search_functions_sql(schema):
        conn.execute(function)
    expression = postgres_tsvector_sql(schema, list(COLUMNS))
    conn.execute(
        f'CREATE TABLE "{schema}".docs (id integer PRIMARY KEY, title text, body text, '
        f"search tsvector GENERATED ALWAYS AS ({expression}) STORED)"
    )
    conn.execute(f'CREATE INDEX ON "{schema}".docs USING gin (search)')
    with conn.cursor() as cur:
        cur.executemany(f'INSERT INTO "{schema}".docs (id, title, body) VALUES (%s, %s, %s)', rows)
    conn.commit()


def sqlite_ids(db: sqlite3.Connection, text: str) -> list[int] | None:
    """Ids matching *text* on FTS5, or None when the query compiles to "no results"."""
    fts5 = compile_query(text).fts5
    if fts5 is None:
        return None
    rows = db.execute("SELECT rowid FROM docs_fts WHERE docs_fts MATCH ?", (fts5,)).fetchall()
    return sorted(r[0] for r in rows)


def postgres_ids(conn: psycopg.Connection, schema: str, text: str) -> list[int] | None:
    """Ids matching *text* on PostgreSQL, or None when the query compiles to "no results"."""
    tsquery = compile_query(text).tsquery
    if tsquery is None:
        return None
    rows = conn.execute(
        f'SELECT id FROM "{schema}".docs WHERE search @@ %s::tsquery', (tsquery,)
    ).fetchall()
    conn.commit()
    return sorted(r[0] for r in rows)


#: Strings where locales, scripts and PostgreSQL's parser could disagree.
TRICKY_STRINGS = [
    "",
    "Café CAFÉ cafe\u0301 École ÉCOLE",
    "İstanbul ISTANBUL ıi Iİ",  # a Turkish locale would lower I to ı
    "Straße STRASSE ẞ Øre Łódź Ærø đ þ ð œ",
    "Ἀθῆναι ΑΘΗΝΑ Москва МОСКВА Ꭰꭰ ᲐᲑ",  # Greek, Cyrillic, Cherokee, Georgian Mtavruli
    "東京タワー 北京、上海。서울 القاهرة עברית हिन्दी ไทย",
    "alice@example.com https://x.org/a?b=c&d C++ C# foo_bar 3.14 1e5 -42 v1.2.3 e-mail",
    "<b>tag</b> &amp; &#x41; /usr/bin ~user $HOME 100%",
    "emoji 🎉🍰😀🤔👍🏽 x² ½ ① ™ © ° € ₿ \u200b\u200d\ufeff\u202e",
    "tabs\tand\nnew\r\nlines\u2028\u2029\u3000ideographic\u00a0nbsp",
    "\ue000private\U000f0000use \U0001d400math \U00020000ext-b",
    "Ⓐ ｆｕｌｌｗｉｄｔｈ ＡＢＣ ｶﾀｶﾅ ﬁ ﬀ ǅ ǈ",
    # Separators inside what an ASCII-only split sees as one word:
    "«Naïve»Word em—dash ‘curly’quotes…ellipsis x y a　b Tokyo東京、Osaka",
]
