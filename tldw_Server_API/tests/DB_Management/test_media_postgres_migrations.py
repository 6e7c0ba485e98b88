"""An older PostgreSQL Media schema (version 1) is upgraded in place, exactly once.

Version 1 is the layout without our rules: no search vectors, no version or
sync-log triggers, no foreign-key indexes. Rows written into it by another
client (with explicit ids, as a restore or an older server would) must survive
the upgrade, become searchable, obey the version rule, and not collide with
the ids of new rows.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tldw_Server_API.app.core.config import Settings
from tldw_Server_API.app.core.DB_Management.backends.target import PgTarget
from tldw_Server_API.app.core.DB_Management.registry import DatabaseRegistry
from tldw_Server_API.app.core.DB_Management.schemas.manager import downgrade_to
from tldw_Server_API.app.core.DB_Management.schemas.media import FOREIGN_KEY_INDEXES, SCHEMA
from tldw_Server_API.app.core.DB_Management.stores import MediaStore
from tldw_Server_API.tests.conftest import settings_for

NS = "user_1_media"
V1_ROWS = """
INSERT INTO media (id, url, title, type, content, author, is_trash, chunking_status,
                   vector_processing, content_hash, uuid, last_modified, version, client_id,
                   deleted)
VALUES
 (3, 'https://a.example/1', 'Volcanoes of Iceland', 'article', 'Magma chambers under the ridge.',
  'Ada', false, 'completed', 0, 'h3', '00000000-0000-4000-8000-000000000003',
  '2025-10-08T12:34:56.789Z', 4, 'SERVER_API_V1', false),
 (7, NULL, 'Glaciers', 'pdf', 'Ice sheets retreat; volcanoes melt them from below.',
  NULL, false, 'pending', 0, 'h7', '00000000-0000-4000-8000-000000000007',
  '2025-10-09T08:00:00Z', 1, 'webui-7f3a9c', false),
 (12, NULL, 'Deleted volcano note', 'article', 'volcanoes', NULL, false, 'pending', 0, 'h12',
  '00000000-0000-4000-8000-000000000012', '2025-10-10T00:00:00Z', 2, 'SERVER_API_V1', true);
INSERT INTO keywords (id, keyword, uuid, last_modified, version, client_id, deleted)
VALUES (5, 'Geology', '00000000-0000-4000-8000-0000000000a5', '2025-10-08T00:00:00Z', 1, 'x',
        false);
INSERT INTO mediakeywords (id, media_id, keyword_id) VALUES (9, 3, 5);
INSERT INTO claims (id, media_id, chunk_index, claim_text, extractor, extractor_version,
                    chunk_hash, created_at, uuid, last_modified, version, client_id, deleted)
VALUES (20, 3, 0, 'Iceland sits on a mid-ocean ridge', 'llm', '1', 'c', '2025-10-08 12:00:00',
        '00000000-0000-4000-8000-0000000000c1', '2025-10-08T12:00:00Z', 1, 'x', false);
"""


def _connect(target: PgTarget) -> psycopg.Connection:
    conn = psycopg.connect(target.conninfo(), autocommit=True)
    conn.execute(f'SET search_path TO "{NS}"')
    return conn


def _catalog(target: PgTarget) -> dict[str, Any]:
    """Tables, columns, constraints, indexes, triggers, functions and sequences of the schema."""
    queries = {
        "columns": """SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod),
                             a.attnotnull, pg_get_expr(d.adbin, d.adrelid)
                      FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
                      JOIN pg_namespace n ON n.oid = c.relnamespace
                      LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
                      WHERE n.nspname = %(ns)s AND c.relkind = 'r' AND a.attnum > 0
                        AND NOT a.attisdropped ORDER BY 1, 2""",
        "constraints": """SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)
                          FROM pg_constraint WHERE connamespace = %(ns)s::regnamespace
                          ORDER BY 1, 2""",
        "indexes": """SELECT indexname, indexdef FROM pg_indexes
                      WHERE schemaname = %(ns)s ORDER BY 1""",
        "triggers": """SELECT tgname, pg_get_triggerdef(t.oid) FROM pg_trigger t
                       JOIN pg_class c ON c.oid = t.tgrelid
                       WHERE c.relnamespace = %(ns)s::regnamespace AND NOT t.tgisinternal
                       ORDER BY 1, 2""",
        "functions": """SELECT proname, md5(prosrc) FROM pg_proc
                        WHERE pronamespace = %(ns)s::regnamespace ORDER BY 1""",
        "sequences": """SELECT sequencename, last_value FROM pg_sequences
                        WHERE schemaname = %(ns)s ORDER BY 1""",
    }
    with _connect(target) as conn:
        return {k: conn.execute(q, {"ns": NS}).fetchall() for k, q in queries.items()}


def _data(target: PgTarget) -> dict[str, list[str]]:
    """Every row of every table as JSON text (the derived search vector left out)."""
    with _connect(target) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = %s ORDER BY 1", (NS,)
            )
        ]
        return {
            t: sorted(
                r[0]
                for r in conn.execute(
                    f"SELECT (to_jsonb(t) - 'search_vector')::text FROM \"{t}\" t"
                )
            )
            for t in tables
        }


@pytest.fixture
def settings(pg_database: PgTarget, tmp_path: Path) -> Settings:
    return settings_for("postgresql", tmp_path / "Databases", pg_database)


@pytest.fixture
def version_1(settings: Settings, pg_database: PgTarget) -> Iterator[PgTarget]:
    """A Media schema stepped back to version 1 and filled by another client."""
    registry = DatabaseRegistry(settings)
    try:
        downgrade_to(registry.media(), 1)
    finally:
        registry.close()
    with _connect(pg_database) as conn:
        conn.execute(V1_ROWS)
    yield pg_database


def _open(settings: Settings) -> tuple[DatabaseRegistry, str]:
    registry = DatabaseRegistry(settings)
    registry.media()
    return registry, registry.states[("media", "1")].outcome


def test_version_1_has_none_of_our_rules(version_1: PgTarget) -> None:
    catalog = _catalog(version_1)
    assert catalog["triggers"] == []
    ours = {i.name for i in FOREIGN_KEY_INDEXES} | {f"ix_{s.name}" for s in SCHEMA.search}
    assert ours.isdisjoint(name for name, _ in catalog["indexes"])
    assert ("search_vector",) not in {(c[1],) for c in catalog["columns"]}
    with _connect(version_1) as conn:
        recorded = conn.execute("SELECT schema_name, version FROM tldw_schema").fetchall()
    assert recorded == [("media", 1)]


def test_an_older_schema_is_upgraded_with_every_row_intact(
    version_1: PgTarget, settings: Settings
) -> None:
    before = _data(version_1)
    registry, outcome = _open(settings)
    registry.close()
    assert outcome == "upgraded"
    after = _data(version_1)
    current = json.dumps({"version": SCHEMA.version, "schema_name": "media"})
    assert after.pop("tldw_schema") == [current]
    before.pop("tldw_schema")
    for table, rows in before.items():
        assert _as_before(after[table], rows) == sorted(map(json.loads, rows), key=repr), table


def _as_before(after: list[str], before: list[str]) -> list[dict[str, Any]]:
    """*after*'s rows with only the columns *before*'s rows had (later versions add some)."""
    columns = set(json.loads(before[0])) if before else set()
    kept = [{k: v for k, v in json.loads(row).items() if k in columns} for row in after]
    return sorted(kept, key=repr)


def test_upgraded_rows_are_searchable(version_1: PgTarget, settings: Settings) -> None:
    registry, _ = _open(settings)
    try:
        store = MediaStore(registry.media())
        hits = store.search_media("volcanoes")
        assert [(h.id, h.title_hit) for h in hits] == [(3, True), (7, False)]
        assert [c.id for c in store.claims.search("ridge")] == [20]
        assert store.get_media(3).keywords == ["Geology"]
    finally:
        registry.close()


def test_upgraded_rows_obey_the_version_rule(version_1: PgTarget, settings: Settings) -> None:
    _open(settings)[0].close()
    with _connect(version_1) as conn, pytest.raises(psycopg.errors.CheckViolation, match="version"):
        conn.execute("UPDATE media SET title = 'x' WHERE id = 3")
    with _connect(version_1) as conn:
        conn.execute("UPDATE media SET title = 'x', version = version + 1 WHERE id = 3")
        logged = conn.execute(
            "SELECT entity, entity_uuid, operation, version FROM sync_log"
        ).fetchall()
    assert logged == [("Media", "00000000-0000-4000-8000-000000000003", "update", 5)]


def test_upgrade_creates_the_foreign_key_and_search_indexes(
    version_1: PgTarget, settings: Settings
) -> None:
    _open(settings)[0].close()
    indexes = dict(_catalog(version_1)["indexes"])
    for index in FOREIGN_KEY_INDEXES:
        assert index.name in indexes
    for search in SCHEMA.search:
        assert "USING gin (search_vector)" in indexes[f"ix_{search.name}"]


def test_reopening_an_upgraded_schema_changes_nothing(
    version_1: PgTarget, settings: Settings
) -> None:
    _open(settings)[0].close()
    catalog, data = _catalog(version_1), _data(version_1)
    registry, outcome = _open(settings)
    registry.close()
    assert outcome == "current"
    assert _catalog(version_1) == catalog
    assert _data(version_1) == data


def test_new_ids_continue_after_the_upgraded_rows(version_1: PgTarget, settings: Settings) -> None:
    registry, _ = _open(settings)
    try:
        store = MediaStore(registry.media())
        assert store.add_media("New", "after the upgrade", "article").id == 13
        assert store.add_keyword("Volcanology") == 6
        assert store.claims.add(13, ["claim"])[0].id == 21
    finally:
        registry.close()


def test_every_integer_key_has_a_serial_sequence(version_1: PgTarget, settings: Settings) -> None:
    _open(settings)[0].close()
    generated = [t for t in SCHEMA.metadata.sorted_tables if t.autoincrement_column is not None]
    assert {t.name for t in generated} >= {"media", "keywords", "claims", "sync_log"}
    with _connect(version_1) as conn:
        for table in generated:
            column = table.autoincrement_column.name
            sequence = conn.execute(
                "SELECT pg_get_serial_sequence(%s, %s)", (f'"{NS}"."{table.name}"', column)
            ).fetchone()[0]
            assert sequence is not None, f"{table.name}.{column} has no sequence"
