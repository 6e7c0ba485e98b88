"""Fixtures for the search tests: the corpus loaded into real FTS5 and real PostgreSQL."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator

import psycopg
import pytest

from tldw_Server_API.app.core.DB_Management.backends.target import PgTarget

from .corpus import build_postgres, build_sqlite


@pytest.fixture(scope="module")
def sqlite_corpus() -> Iterator[sqlite3.Connection]:
    db = build_sqlite()
    yield db
    db.close()


@pytest.fixture(scope="module")
def pg_corpus(pg_target: PgTarget) -> Iterator[tuple[psycopg.Connection, str]]:
    """(connection, schema) with the corpus in a uniquely named schema, dropped afterwards."""
    schema = f"search_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_target.conninfo()) as conn:
        build_postgres(conn, schema)
        yield conn, schema
        conn.rollback()
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        conn.commit()
