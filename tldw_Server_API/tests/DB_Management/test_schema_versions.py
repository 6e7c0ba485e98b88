"""Schema versions: recorded on every database, legacy files upgraded losslessly, once,
and a database newer than this software refused."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from tldw_Server_API.app.core.config import Settings
from tldw_Server_API.app.core.DB_Management.legacy_layout import LEGACY_FTS, LEGACY_TABLES
from tldw_Server_API.app.core.DB_Management.registry import DatabaseRegistry, sqlite_path
from tldw_Server_API.app.core.DB_Management.sample_data import generate
from tldw_Server_API.app.core.DB_Management.schemas import SCHEMAS
from tldw_Server_API.app.core.DB_Management.schemas.manager import SchemaError, read_version
from tldw_Server_API.app.core.DB_Management.schemas.types import Flag
from tldw_Server_API.app.core.DB_Management.stores import MediaStore, NotesStore
from tldw_Server_API.tests.conftest import settings_for

SIZES = {"media": 40, "chacha": 16, "analytics": 60, "workflows": 12}
FTS_SHADOWS = ("", "_data", "_idx", "_docsize", "_config", "_content")
RENAMED = {"workflow_step_runs": "workflow_steps"}
Rows = dict[str, list[dict[str, Any]]]


# -- helpers -------------------------------------------------------------------------------


def _legacy_file(data_dir: Path, kind: str) -> Path:
    """A legacy SQLite file of *kind* where the server expects it, filled with sample rows."""
    path = sqlite_path(settings_for("sqlite", data_dir), SCHEMAS[kind], "1")
    generate(kind, path, size=SIZES[kind], seed=7)
    return path


def _fts_tables(kind: str) -> set[str]:
    return {f"{fts}{suffix}".lower() for fts in LEGACY_FTS[kind] for suffix in FTS_SHADOWS}


def _rows(path: Path, skip: set[str] = frozenset()) -> Rows:  # type: ignore[assignment]
    """Every row of every table (lower-cased names), as column -> value dicts."""
    with closing(sqlite3.connect(path)) as conn:
        conn.row_factory = sqlite3.Row
        names = [
            r[0]
            for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if r[0].lower() not in skip
        ]
        return {
            name.lower(): sorted(
                (dict(row) for row in conn.execute(f'SELECT * FROM "{name}"')), key=repr
            )
            for name in names
        }


def _schema_sql(path: Path) -> list[tuple[str, str, str]]:
    with closing(sqlite3.connect(path)) as conn:
        return sorted(conn.execute("SELECT type, name, coalesce(sql, '') FROM sqlite_master"))


def _flag_columns(kind: str) -> dict[str, set[str]]:
    return {
        table.name: {c.name for c in table.columns if isinstance(c.type, Flag)}
        for table in SCHEMAS[kind].metadata.tables.values()
    }


def _same_value(before: Any, after: Any, is_flag: bool) -> bool:
    if before == after:
        return True
    words = {"true": 1, "false": 0}
    return is_flag and isinstance(before, str) and words.get(before) == after


def _open(data_dir: Path, kind: str) -> tuple[DatabaseRegistry, str]:
    registry = DatabaseRegistry(settings_for("sqlite", data_dir))
    registry.open(kind, "1")
    owner = "1" if SCHEMAS[kind].per_user else None
    return registry, registry.states[(kind, owner)].outcome


# -- every database records its version --------------------------------------------------


def test_every_database_records_its_version(registry: DatabaseRegistry) -> None:
    for database in registry.open_all():
        with database.begin(write=False) as conn:
            assert (
                read_version(conn, database.schema, database.namespace) == database.schema.version
            )
        assert database.version == database.schema.version
    assert {state.outcome for state in registry.states.values()} == {"created"}


def test_reopening_a_fresh_installation_reports_current(
    registry: DatabaseRegistry, settings: Settings
) -> None:
    registry.open_all()
    again = DatabaseRegistry(settings)
    try:
        again.open_all()
        assert {state.outcome for state in again.states.values()} == {"current"}
    finally:
        again.close()


def test_a_database_newer_than_this_software_is_refused(
    registry: DatabaseRegistry, settings: Settings
) -> None:
    media = registry.media()
    version_table = media.table("tldw_schema")
    with media.begin() as conn:
        conn.execute(update(version_table).values(version=99))
    later = DatabaseRegistry(settings)
    try:
        with pytest.raises(
            SchemaError,
            match=r"Media schema version 99 is newer than this "
            rf"software's \({media.schema.version}\); upgrade tldw_server first",
        ):
            later.media()
    finally:
        later.close()


# -- legacy SQLite files ------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["media", "chacha", "analytics", "workflows"])
def test_a_legacy_file_is_upgraded_without_losing_a_value(tmp_path: Path, kind: str) -> None:
    path = _legacy_file(tmp_path, kind)
    before = _rows(path, _fts_tables(kind))
    registry, outcome = _open(tmp_path, kind)
    registry.close()
    assert outcome == "upgraded"
    after = _rows(path, _fts_tables(kind))
    flags = _flag_columns(kind)
    assert {t.lower() for t in LEGACY_TABLES[kind]} <= set(before)
    for table, rows in before.items():
        if table in ("schema_version", "db_schema_version"):
            continue
        new_name = RENAMED.get(table, table)
        assert len(after[new_name]) == len(rows), table
        kept = [{k: row[k] for k in rows[0]} for row in after[new_name]] if rows else []
        matched = sorted(
            kept, key=lambda r: repr({k: r[k] for k in r if k not in flags.get(new_name, ())})
        )
        expected = sorted(
            rows, key=lambda r: repr({k: r[k] for k in r if k not in flags.get(new_name, ())})
        )
        for old, new in zip(expected, matched, strict=True):
            for column, value in old.items():
                assert _same_value(value, new[column], column in flags.get(new_name, ())), (
                    f"{table}.{column}: {value!r} became {new[column]!r}"
                )


def test_the_upgrade_rewrites_hand_written_booleans_only(tmp_path: Path) -> None:
    path = _legacy_file(tmp_path, "media")
    with closing(sqlite3.connect(path)) as conn:
        texts = conn.execute(
            "SELECT count(*) FROM Media WHERE typeof(is_trash) = 'text'"
        ).fetchone()
    assert texts[0] > 0, "the sample should hold some 'true'/'false' flags"
    _open(tmp_path, "media")[0].close()
    with closing(sqlite3.connect(path)) as conn:
        kinds = {r[0] for r in conn.execute("SELECT DISTINCT typeof(is_trash) FROM Media")}
    assert kinds == {"integer"}


@pytest.mark.parametrize(
    ("kind", "their_record"),
    [
        ("media", "SELECT version FROM schema_version"),
        ("chacha", "SELECT * FROM db_schema_version"),
    ],
)
def test_the_users_own_version_record_is_kept_as_it_was(
    tmp_path: Path, kind: str, their_record: str
) -> None:
    path = _legacy_file(tmp_path, kind)
    with closing(sqlite3.connect(path)) as conn:
        before = conn.execute(their_record).fetchall()
    _open(tmp_path, kind)[0].close()
    with closing(sqlite3.connect(path)) as conn:
        assert conn.execute(their_record).fetchall() == before
        ours = conn.execute("SELECT schema_name, version FROM tldw_schema").fetchall()
    assert ours == [(kind, SCHEMAS[kind].version)]


def test_a_copy_of_the_file_is_kept_before_the_upgrade(tmp_path: Path) -> None:
    path = _legacy_file(tmp_path, "media")
    before = _rows(path)
    _open(tmp_path, "media")[0].close()
    copies = list(path.parent.glob(f"{path.name}.before-tldw-v*.bak"))
    assert len(copies) == 1
    assert _rows(copies[0]) == before


def test_no_copy_is_made_when_nothing_is_upgraded(tmp_path: Path) -> None:
    path = _legacy_file(tmp_path, "media")
    _open(tmp_path, "media")[0].close()
    _open(tmp_path, "media")[0].close()
    assert len(list(path.parent.glob("*.bak"))) == 1


def test_camelcase_tables_keep_their_names_and_still_work(tmp_path: Path) -> None:
    path = _legacy_file(tmp_path, "media")
    registry, _ = _open(tmp_path, "media")
    try:
        store = MediaStore(registry.media())
        live = store.count_media()
        item = store.add_media("Brand new item", "written after the upgrade", "article")
        assert store.get_media(item.id).title == "Brand new item"
        assert store.count_media() == live + 1
    finally:
        registry.close()
    with closing(sqlite3.connect(path)) as conn:
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert {"Media", "MediaChunks", "Keywords"} <= names
        assert conn.execute("SELECT max(id) FROM Media").fetchone()[0] == item.id


def test_search_works_after_the_upgrade(tmp_path: Path) -> None:
    path = _legacy_file(tmp_path, "media")
    with closing(sqlite3.connect(path)) as conn:
        media_id, title = conn.execute(
            "SELECT id, title FROM Media WHERE deleted = 0 AND is_trash IN (0, 'false') "
            "ORDER BY id LIMIT 1"
        ).fetchone()
    registry, _ = _open(tmp_path, "media")
    try:
        hits = MediaStore(registry.media()).search_media(f'"{title}"', limit=100)
        assert media_id in [h.id for h in hits]
        assert next(h for h in hits if h.id == media_id).title_hit
    finally:
        registry.close()


def test_note_search_works_after_the_upgrade(tmp_path: Path) -> None:
    path = _legacy_file(tmp_path, "chacha")
    with closing(sqlite3.connect(path)) as conn:
        note_id, title = conn.execute(
            "SELECT id, title FROM notes WHERE deleted = 0 ORDER BY id LIMIT 1"
        ).fetchone()
    registry, _ = _open(tmp_path, "chacha")
    try:
        hits = NotesStore(registry.chacha()).search_notes(f'"{title}"', limit=100)
        assert note_id in [h.id for h in hits]
    finally:
        registry.close()


@pytest.mark.parametrize("kind", ["media", "chacha", "workflows"])
def test_reopening_an_upgraded_file_changes_nothing(tmp_path: Path, kind: str) -> None:
    path = _legacy_file(tmp_path, kind)
    _open(tmp_path, kind)[0].close()
    schema, rows = _schema_sql(path), _rows(path)
    registry, outcome = _open(tmp_path, kind)
    registry.close()
    assert outcome == "current"
    assert _schema_sql(path) == schema
    assert _rows(path) == rows


@pytest.mark.parametrize("their_version", [1, 6, 23, 99])
def test_a_users_file_opens_whatever_version_their_server_recorded(
    tmp_path: Path, their_version: int
) -> None:
    path = _legacy_file(tmp_path, "media")
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("UPDATE schema_version SET version = ?", (their_version,))
    registry, outcome = _open(tmp_path, "media")
    try:
        assert outcome == "upgraded"
        assert MediaStore(registry.media()).count_media() > 0
    finally:
        registry.close()
