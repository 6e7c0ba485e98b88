"""Search analytics on both backends: recorded without the query text, summarised correctly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from tldw_Server_API.app.core.DB_Management.registry import DatabaseRegistry
from tldw_Server_API.app.core.DB_Management.stores import AnalyticsStore, InvalidInput, query_hash

T0 = datetime(2025, 10, 8, 12, 0, tzinfo=UTC)


@pytest.fixture
def analytics(registry: DatabaseRegistry) -> AnalyticsStore:
    return AnalyticsStore(registry.analytics())


def test_a_search_is_recorded_by_hash_never_by_text(analytics: AnalyticsStore) -> None:
    query = "private medical question"
    record = analytics.record_search(query, "fts", 3, 0.9, 0.5, 12.5)
    table = analytics.searches
    with analytics.database.begin(write=False) as conn:
        row = conn.execute(select(table).where(table.c.id == record)).one()
    assert row.query_hash == query_hash(query) and len(row.query_hash) == 64
    assert query not in repr(tuple(row))
    assert (row.query_length, row.query_complexity, row.results_count) == (24, "simple", 3)
    assert (row.max_score, row.avg_score, row.response_time_ms) == (0.9, 0.5, 12.5)
    assert row.cache_hit is False and row.error_occurred is False


def test_queries_differing_in_case_and_spacing_share_a_hash() -> None:
    assert query_hash("Eiffel  Tower ") == query_hash("eiffel tower")
    assert query_hash("eiffel tower") != query_hash("eiffel towers")


def test_summarize_counts_averages_and_rates(analytics: AnalyticsStore) -> None:
    analytics.record_search("a", "fts", 1, 1.0, 1.0, 10.0)
    analytics.record_search("b", "fts", 2, 1.0, 0.5, 20.0, cache_hit=True)
    analytics.record_search("c", "vector", 0, None, None, 60.0, error=TimeoutError("slow"))
    analytics.record_search("d", "hybrid", 5, 0.8, 0.4, 30.0, error="RerankerDown")
    summary = analytics.summarize()
    assert summary["searches"] == 4
    assert summary["avg_response_time_ms"] == pytest.approx(30.0)
    assert (summary["errors"], summary["error_rate"]) == (2, 0.5)
    assert summary["cache_hit_rate"] == 0.25
    assert summary["top_search_types"] == [("fts", 2), ("hybrid", 1), ("vector", 1)]


def test_an_error_records_its_type(analytics: AnalyticsStore) -> None:
    record = analytics.record_search("q", "fts", 0, None, None, 5.0, error=ValueError("boom"))
    table = analytics.searches
    with analytics.database.begin(write=False) as conn:
        row = conn.execute(select(table).where(table.c.id == record)).one()
    assert (row.error_occurred, row.error_type) == (True, "ValueError")


def test_events_are_counted_by_type_with_their_metrics(analytics: AnalyticsStore) -> None:
    metrics = {"latency_ms": 12.5, "stages": ["embed", "rerank"], "ok": True, "note": "ünï"}
    event = analytics.record_event("rerank", metrics, query_hash=query_hash("q"))
    analytics.record_event("rerank", {"latency_ms": 3})
    analytics.record_event("cache_evict", {})
    table = analytics.events
    with analytics.database.begin(write=False) as conn:
        stored = conn.execute(select(table.c.metrics).where(table.c.id == event)).scalar_one()
    assert stored == metrics
    assert analytics.summarize()["events_by_type"] == {"rerank": 2, "cache_evict": 1}


def test_summarize_since_only_counts_later_records(analytics: AnalyticsStore) -> None:
    analytics.record_search("old", "fts", 1, 1.0, 1.0, 100.0, timestamp=T0 - timedelta(days=2))
    analytics.record_search("new", "fts", 1, 1.0, 1.0, 10.0, timestamp=T0 + timedelta(hours=1))
    analytics.record_event("old", {}, timestamp=T0 - timedelta(days=2))
    analytics.record_event("new", {}, timestamp=T0 + timedelta(minutes=5))
    summary = analytics.summarize(since=T0)
    assert summary["searches"] == 1 and summary["avg_response_time_ms"] == 10.0
    assert summary["events_by_type"] == {"new": 1}


def test_an_empty_summary_has_zero_rates(analytics: AnalyticsStore) -> None:
    summary = analytics.summarize()
    assert (summary["searches"], summary["error_rate"], summary["cache_hit_rate"]) == (0, 0.0, 0.0)
    assert summary["avg_response_time_ms"] is None
    assert summary["top_search_types"] == [] and summary["events_by_type"] == {}


def test_negative_counts_are_invalid_input(analytics: AnalyticsStore) -> None:
    with pytest.raises(InvalidInput, match="search_analytics: results_count"):
        analytics.record_search("q", "fts", -1, None, None, 1.0)
