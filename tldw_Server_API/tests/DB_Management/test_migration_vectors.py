"""Search vectors arrive with the rows; whatever path a row takes, it gets PostgreSQL's vector.

The feed builds the vectors in Python (in helper processes on a large database),
declines the rows longer than the indexed budget, and the load checks a sample of the
rest against PostgreSQL's own expression, recomputing all of them on any difference.
Each test compares the migrated vectors with what the search trigger computes from the
same row; run on PostgreSQL 15 and 18 (``TLDW_TEST_NO_LOCAL_PG=1``).
"""

from __future__ import annotations

import logging
import sqlite3
from contextlib import closing
from pathlib import Path

import psycopg
import pytest

from tldw_Server_API.app.core.DB_Management.backends.target import PgTarget
from tldw_Server_API.app.core.DB_Management.migration import feed
from tldw_Server_API.app.core.DB_Management.search import MAX_INDEXED_CHARS, vectors

from .conftest import assert_ok, fetch, media, media_row, run

VECTORS = "SELECT id, search_vector::text FROM user_1_media.media ORDER BY id"


def _trigger_vectors(target: PgTarget) -> list[tuple[int, str]]:
    """Every media row's vector as the search trigger computes it (an UPDATE fires it)."""
    with psycopg.connect(target.conninfo()) as conn:
        conn.execute("UPDATE user_1_media.media SET title = title, version = version + 1")
        rows = conn.execute(VECTORS).fetchall()
        conn.rollback()
    return rows


def _fill(path: Path, contents: list[str]) -> None:
    with closing(sqlite3.connect(path)) as conn:
        for media_id, content in enumerate(contents, 1):
            media_row(conn, media_id, title=f"Title {media_id} ÉCOLE", content=content)
        conn.commit()


def test_vectors_built_by_helper_processes_are_postgres_own(
    media_file: Path, pg_target: PgTarget, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(feed, "HELPERS_FROM_ROWS", 0)  # helpers even for a small file
    _fill(media_file, [f"東京 café {i} Straße «naïve» e-mail 3.14 🎉x" for i in range(60)])
    assert_ok(run(pg_target, media(media_file), jobs=2))
    assert fetch(pg_target, VECTORS) == _trigger_vectors(pg_target)


def test_rows_the_builder_declines_get_vectors_from_postgres(
    media_file: Path, pg_target: PgTarget
) -> None:
    declined = ["word " * (MAX_INDEXED_CHARS // 5 + 1)]
    assert all(vectors.VectorBuilder(["A", "B"])(["t", c]) is None for c in declined)
    _fill(media_file, [*declined, "plain text"])
    assert_ok(run(pg_target, media(media_file), jobs=0))
    migrated = fetch(pg_target, VECTORS)
    assert all(vector for _, vector in migrated)
    assert migrated == _trigger_vectors(pg_target)


def test_words_postgresql_cannot_index_migrate_as_the_trigger_indexes_them(
    media_file: Path, pg_target: PgTarget
) -> None:
    """Over-long words (2,047 bytes: PostgreSQL 18 refuses them, 15 does not) are left out,
    and the rest of the row is searchable."""
    contents = [
        "before " + "x" * 2047 + " after",
        "слово " + "ж" * 1024 + " end",
        "y" * 5000,
        "1e5x and 12e3e4",
        "word " * 300,
        "fine🙂 x² ½ \u1acfmark",
    ]
    _fill(media_file, contents)
    assert_ok(run(pg_target, media(media_file), jobs=0))
    migrated = fetch(pg_target, VECTORS)
    assert migrated == _trigger_vectors(pg_target)
    assert "'after'" in migrated[0][1] and "xxx" not in migrated[0][1]


def test_a_wrong_vector_in_the_sample_makes_postgres_recompute_all(
    media_file: Path,
    pg_target: PgTarget,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A builder that disagreed with the server (an unknown locale, say) costs time, not
    correctness."""
    monkeypatch.setattr(vectors.VectorBuilder, "__call__", lambda self, values: "'wrong':1")
    _fill(media_file, [f"content {i}" for i in range(30)])
    with caplog.at_level(logging.WARNING):
        assert_ok(run(pg_target, media(media_file), jobs=0))
    migrated = fetch(pg_target, VECTORS)
    assert "'wrong'" not in "".join(vector for _, vector in migrated)
    assert migrated == _trigger_vectors(pg_target)
    assert "recomputing them all" in caplog.text


def test_a_negative_jobs_count_is_a_usage_error(
    media_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tldw_Server_API.app.core.DB_Management.migration_tools import run_cli

    assert run_cli(["--content-sqlite", str(media_file), "--jobs", "-1"], env={}) == 2
    assert "--jobs must be 0 or more" in capsys.readouterr().err
