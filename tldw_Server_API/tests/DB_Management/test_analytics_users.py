"""Analytics version 4: searches and events carry their user; rows from users' files none."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from tldw_Server_API.app.core.DB_Management.registry import DatabaseRegistry, sqlite_path
from tldw_Server_API.app.core.DB_Management.sample_data import generate
from tldw_Server_API.app.core.DB_Management.schemas import SCHEMAS
from tldw_Server_API.app.core.DB_Management.stores import AnalyticsStore
from tldw_Server_API.tests.conftest import settings_for


def upgraded_users_file(data_dir: Path) -> tuple[DatabaseRegistry, Path]:
    """A user's Analytics.db with sample rows, opened (so upgraded) by the server."""
    path = sqlite_path(settings_for("sqlite", data_dir), SCHEMAS["analytics"], None)
    generate("analytics", path, size=30, seed=3)
    registry = DatabaseRegistry(settings_for("sqlite", data_dir))
    registry.open("analytics", None)
    return registry, path


def test_the_upgrade_adds_a_user_column_and_index_and_leaves_old_rows_without_a_user(
    tmp_path: Path,
) -> None:
    registry, path = upgraded_users_file(tmp_path)
    registry.close()

    with closing(sqlite3.connect(path)) as conn:
        for table in ("search_analytics", "analytics_events"):
            columns = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
            assert "user_id" in columns, table
            owned = conn.execute(f"SELECT count(*) FROM {table} WHERE user_id IS NOT NULL")
            assert owned.fetchone()[0] == 0, table
        indexes = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    assert {"ix_search_analytics_user_time", "ix_analytics_events_user_time"} <= indexes


def test_after_the_upgrade_old_rows_count_only_with_the_unowned(tmp_path: Path) -> None:
    registry, _ = upgraded_users_file(tmp_path)
    try:
        everyone = AnalyticsStore(registry.analytics()).summarize()["searches"]
        alice = AnalyticsStore(registry.analytics(), user_id="alice")
        alice.record_search("mine", "fts", 1, 1.0, 1.0, 2.0)

        assert everyone > 0
        assert alice.summarize()["searches"] == 1
        assert alice.summarize(with_unowned=True)["searches"] == everyone + 1
    finally:
        registry.close()


def test_a_store_for_a_user_records_that_user(registry: DatabaseRegistry) -> None:
    store = AnalyticsStore(registry.analytics(), user_id="bob")
    store.record_search("q", "fts", 0, None, None, 1.0)
    store.record_event("rerank", {"ms": 1})
    other = AnalyticsStore(registry.analytics(), user_id="carol")

    assert store.summarize()["searches"] == 1
    assert store.summarize()["events_by_type"] == {"rerank": 1}
    assert other.summarize()["searches"] == 0 and other.summarize()["events_by_type"] == {}
