"""Fixtures for the search tests: the corpus loaded into real FTS5 and real PostgreSQL."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterable, Iterator
from contextlib import closing, contextmanager

import psycopg
import pytest

from tldw_Server_API.app.core.DB_Management.backends.target import PgTarget
from tldw_Server_API.app.core.DB_Management.search import postgres_search_functions_sql

from .corpus import CORPUS, Row, build_postgres, build_sqlite
from .user_text import user_documents

#: Documents shaped like users' text (see user_text.py), the second corpus of the parity tests.
USER_DOCUMENTS = user_documents(seed=20251008, count=150)

#: The schema holding fts_norm in the locale databases.
SCHEMA = "fts"


@contextmanager
def postgres_corpus(
    server: PgTarget, rows: Iterable[Row]
) -> Iterator[tuple[psycopg.Connection, str]]:
    """(connection, schema) with *rows* in a uniquely named schema, dropped afterwards."""
    schema = f"search_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server.conninfo()) as conn:
        build_postgres(conn, schema, rows)
        yield conn, schema
        conn.rollback()
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        conn.commit()


@pytest.fixture(scope="module")
def sqlite_corpus() -> Iterator[sqlite3.Connection]:
    with closing(build_sqlite(CORPUS)) as db:
        yield db


@pytest.fixture(scope="module")
def pg_corpus(pg_target: PgTarget) -> Iterator[tuple[psycopg.Connection, str]]:
    with postgres_corpus(pg_target, CORPUS) as corpus:
        yield corpus


@pytest.fixture(scope="module")
def sqlite_user_corpus() -> Iterator[sqlite3.Connection]:
    with closing(build_sqlite(USER_DOCUMENTS)) as db:
        yield db


@pytest.fixture(scope="module")
def pg_user_corpus(pg_target: PgTarget) -> Iterator[tuple[psycopg.Connection, str]]:
    with postgres_corpus(pg_target, USER_DOCUMENTS) as corpus:
        yield corpus


LOCALES = {"C": "C", "C.UTF-8": "C.UTF-8"}


@contextmanager
def locale_database(server: PgTarget, ctype: str) -> Iterator[psycopg.Connection]:
    """A new database whose LC_CTYPE and LC_COLLATE are *ctype*, with fts_norm installed."""
    name = f"tldw_fts_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server.conninfo(), autocommit=True) as admin:
        admin.execute(
            f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8' "
            f"LC_COLLATE '{ctype}' LC_CTYPE '{ctype}'"
        )
    try:
        with psycopg.connect(server.with_database(name).conninfo(), autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {SCHEMA}")
            for function in postgres_search_functions_sql(SCHEMA):
                conn.execute(function)
            yield conn
    finally:
        with psycopg.connect(server.conninfo(), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def databases(pg_server: PgTarget) -> Iterator[dict[str, psycopg.Connection]]:
    """One connection per locale; C.UTF-8 is skipped where the OS lacks it."""
    with locale_database(pg_server, "C") as c_conn:
        try:
            context = locale_database(pg_server, "C.UTF-8")
            utf8_conn = context.__enter__()
        except psycopg.Error:
            pytest.skip("the server has no C.UTF-8 locale")
        try:
            yield {"C": c_conn, "C.UTF-8": utf8_conn}
        finally:
            context.__exit__(None, None, None)
