"""Vectors survive the SQLite -> PostgreSQL migration.

A SQLite installation's media and notes are embedded with the local model (Media schema
v4's ``chunkembeddings``); the migration tool moves its files to PostgreSQL, counting and
verifying that table like any other, and vector search on the migrated database answers
as the SQLite source did. Users' legacy files carry ``Media.vector_embedding`` blobs of
their own (the legacy layouts have no embedding column on their chunk tables); those
arrive byte for byte. Run on PostgreSQL 15 (exact scan) and 18 (pgvector's HNSW index,
``TLDW_TEST_NO_LOCAL_PG=1``).
"""

from __future__ import annotations

import io
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from rich.console import Console

from tldw_Server_API.app.core.DB_Management.backends.target import PgTarget
from tldw_Server_API.app.core.DB_Management.backends.vector_index import HNSW_COLUMN
from tldw_Server_API.app.core.DB_Management.legacy_layout import LAYOUTS
from tldw_Server_API.app.core.DB_Management.migration.options import SourceFile
from tldw_Server_API.app.core.DB_Management.registry import DatabaseRegistry
from tldw_Server_API.app.core.DB_Management.sample_data import generate
from tldw_Server_API.app.core.DB_Management.schemas.embeddings import TABLE
from tldw_Server_API.app.core.DB_Management.stores import MediaStore, NotesStore
from tldw_Server_API.app.core.DB_Management.stores.embeddings import EmbeddingStore
from tldw_Server_API.app.core.RAG.embed_existing import embed_users
from tldw_Server_API.app.core.RAG.embeddings import WordLlamaProvider
from tldw_Server_API.app.core.RAG.search import RagDocument, RagQuery, Retriever
from tldw_Server_API.tests.conftest import settings_for
from tldw_Server_API.tests.DB_Management.conftest import assert_ok, fetch, run

MEDIA = [
    ("Cats at home", "Cats are small domesticated felines. A kitten purrs and hunts mice."),
    ("Stock market news", "Equity prices fell sharply as investors sold shares.\n\n" * 3),
    ("Volcanoes", "Lava and magma erupt from the crater of a volcano."),
    ("Dogs and cats", "Dogs bark at cats; both pets need food and walks."),
    ("Baking bread", "Flour, water, yeast and salt make a simple loaf. " * 60),
    ("Glaciers", "Ice sheets carve valleys slowly over thousands of years."),
    ("Deserts", "Deserts are hot, dry and sandy; camels cross them."),
]
NOTES = [("Vet visit", "The kitten needs a vaccine."), ("Recipe", "Knead the dough for bread.")]
QUERIES = ["kitten feline", "money and shares", "hot lava", "frozen ice", "bread dough", "pets"]


def _search(registry: DatabaseRegistry, query: str) -> list[RagDocument]:
    retriever = Retriever(registry.media("1"), registry.chacha("1"), WordLlamaProvider())
    q = RagQuery(query, sources=("media_db", "notes"), mode="vector", top_k=20)
    return retriever.search(q).documents


def _embeddings(conn_rows: list[tuple]) -> dict[int, bytes]:
    return {int(row[0]): bytes(row[1]) for row in conn_rows}


@pytest.fixture
def sqlite_installation(tmp_path: Path) -> Iterator[DatabaseRegistry]:
    settings = settings_for("sqlite", tmp_path / "Databases")
    registry = DatabaseRegistry(settings)
    media = MediaStore(registry.media("1"))
    for title, content in MEDIA:
        media.add_media(title, content, "document")
    media.soft_delete(media.search_media("camels")[0].id)  # its chunks leave the index
    notes = NotesStore(registry.chacha("1"))
    for title, content in NOTES:
        notes.add_note(title, content)
    embed_users(settings, ["1"], Console(file=io.StringIO()))
    yield registry
    registry.close()


@pytest.mark.parametrize("server_ran_first", [False, True], ids=["empty-target", "server-ran"])
def test_embedded_installation_migrates_and_searches_the_same(
    sqlite_installation: DatabaseRegistry,
    tmp_path: Path,
    pg_database: PgTarget,
    server_ran_first: bool,
) -> None:
    """*server_ran_first*: the server was started on PostgreSQL and searched before the
    migration (its schemas exist; with pgvector, so does the table's vector column)."""
    source = sqlite_installation
    if server_ran_first:
        started = DatabaseRegistry(settings_for("postgresql", tmp_path / "Early", pg_database))
        try:
            assert _search(started, "kitten") == []
        finally:
            started.close()
    before = {query: _search(source, query) for query in QUERIES}
    with closing(sqlite3.connect(source.settings.user_dir("1") / "Media_DB_v2.db")) as conn:
        stored = _embeddings(conn.execute(f"SELECT id, embedding FROM {TABLE}").fetchall())
        models = {r[0] for r in conn.execute(f"SELECT DISTINCT model FROM {TABLE}")}
    source.close()
    assert len(stored) > len(MEDIA) and models == {WordLlamaProvider.model_id}

    user_dir = source.settings.user_dir("1")
    result = run(
        pg_database,
        SourceFile("media", user_dir / "Media_DB_v2.db", "1"),
        SourceFile("chacha", user_dir / "ChaChaNotes.db", "1"),
    )
    assert_ok(result)
    (table,) = [t for d in result.databases for t in d.tables if t.target.endswith(TABLE)]
    assert (table.source_rows, table.target_rows) == (len(stored), len(stored))
    assert table.verified and table.source_checksum == table.target_checksum
    migrated = _embeddings(fetch(pg_database, f"SELECT id, embedding FROM user_1_media.{TABLE}"))
    assert migrated == stored

    target = DatabaseRegistry(settings_for("postgresql", tmp_path / "PgData", pg_database))
    try:
        for query, expected in before.items():
            found = _search(target, query)
            assert [d.id for d in found] == [d.id for d in expected], query
            assert [d.content for d in found] == [d.content for d in expected]
            for got, want in zip(found, expected, strict=True):
                assert got.score == pytest.approx(want.score, abs=1e-5)
        if EmbeddingStore(target.media("1")).support().method == "hnsw":
            # The migrated rows came without pgvector's column: the first search filled it.
            empty = f"SELECT count(*) FROM user_1_media.{TABLE} WHERE {HNSW_COLUMN} IS NULL"
            assert fetch(pg_database, empty) == [(0,)]
    finally:
        target.close()


@pytest.mark.parametrize("layout", LAYOUTS)
def test_legacy_media_vector_embeddings_arrive_byte_for_byte(
    layout: str, tmp_path: Path, pg_database: PgTarget
) -> None:
    path = tmp_path / "Media_DB_v2.db"
    generate("media", path, size=120, seed=7, layout=layout)
    with closing(sqlite3.connect(path)) as conn:
        blobs = _embeddings(
            conn.execute(
                "SELECT id, vector_embedding FROM Media WHERE vector_embedding IS NOT NULL"
            ).fetchall()
        )
    assert blobs, "the sample must hold some embeddings"
    assert_ok(run(pg_database, SourceFile("media", path, "1")))
    migrated = _embeddings(
        fetch(
            pg_database,
            "SELECT id, vector_embedding FROM user_1_media.media "
            "WHERE vector_embedding IS NOT NULL",
        )
    )
    assert migrated == blobs
