"""The Analytics database (one per server): searches, events and performance records.

The layout is our users' ``Analytics.db`` (content-schema.md), plus (version 4)
a nullable ``user_id`` on searches and events: whose they are in a multi-user
server (rows from users' files have none). Measured
durations are ``double precision`` where their files declare INT: the rows
hold fractions (SQLite keeps them), and a target column must never be
stricter than the values it receives.
"""

from __future__ import annotations

from sqlalchemy import Column, Index, MetaData, Table, Text

from .spec import DatabaseSchema, version_table
from .types import AUTOINCREMENT, NOW, Double, Flag, Instant, Int, Json, Key
from .upgrades import foreign_key_index_upgrade, layout_upgrade

metadata = MetaData()


def _record(name: str, *columns: Column) -> Table:
    """An analytics table: an id, a timestamp defaulting to now, and its own columns."""
    return Table(
        name,
        metadata,
        Column("id", Key, primary_key=True),
        Column("timestamp", Instant, server_default=NOW),
        *columns,
        **AUTOINCREMENT,
    )


search_analytics = _record(
    "search_analytics",
    Column("query_hash", Text, nullable=False),
    Column("query_length", Int),
    Column("query_complexity", Text),
    Column("search_type", Text),
    Column("results_count", Int),
    Column("max_score", Double),
    Column("avg_score", Double),
    Column("response_time_ms", Double),  # INT in their files, fractions in their rows
    Column("cache_hit", Flag),
    Column("reranking_used", Flag),
    Column("expansion_used", Flag),
    Column("filters_used", Text),
    Column("error_occurred", Flag, server_default="0"),
    Column("error_type", Text),
    Column("user_id", Text),  # ours (version 4): who searched; NULL in users' files
)
document_performance = _record(
    "document_performance",
    Column("document_hash", Text, nullable=False),
    Column("document_type", Text),
    Column("chunk_size", Int),
    Column("retrieval_count", Int, server_default="0"),
    Column("avg_relevance_score", Double),
    Column("citation_count", Int, server_default="0"),
    Column("feedback_positive", Int, server_default="0"),
    Column("feedback_negative", Int, server_default="0"),
    Column("last_accessed", Instant),
)
feedback_analytics = _record(
    "feedback_analytics",
    Column("session_hash", Text, nullable=False),
    Column("query_hash", Text, nullable=False),
    Column("feedback_type", Text),
    Column("rating", Int),
    Column("response_quality", Text),
    Column("retrieval_accuracy", Text),
    Column("response_time_acceptable", Flag),
    Column("categories", Text),
    Column("improvement_areas", Text),
)
citation_analytics = _record(
    "citation_analytics",
    Column("citation_style", Text),
    Column("document_count", Int),
    Column("chunk_count", Int),
    Column("verification_requested", Flag),
    Column("format_errors", Int, server_default="0"),
    Column("generation_time_ms", Double),
)
error_tracking = _record(
    "error_tracking",
    Column("error_type", Text, nullable=False),
    Column("error_category", Text),
    Column("error_hash", Text),
    Column("component", Text),
    Column("severity", Text),
    Column("frequency", Int, server_default="1"),
    Column("resolved", Flag, server_default="0"),
    Column("resolution_time", Instant),
    Column("stack_trace_hash", Text),
)
system_performance = _record(
    "system_performance",
    Column("metric_type", Text, nullable=False),
    Column("metric_value", Double),
    Column("component", Text),
    Column("operation", Text),
    Column("duration_ms", Double),
    Column("memory_mb", Double),
    Column("cpu_percent", Double),
)
feature_usage = _record(
    "feature_usage",
    Column("feature_name", Text, nullable=False),
    Column("usage_count", Int, server_default="1"),
    Column("success_count", Int, server_default="0"),
    Column("failure_count", Int, server_default="0"),
    Column("avg_execution_time_ms", Double),
    Column("last_used", Instant),
)
query_patterns = Table(
    "query_patterns",
    metadata,
    Column("id", Key, primary_key=True),
    Column("pattern_hash", Text, nullable=False, unique=True),
    Column("pattern_type", Text),
    Column("frequency", Int, server_default="1"),
    Column("avg_results_quality", Double),
    Column("avg_response_time_ms", Double),
    Column("first_seen", Instant, server_default=NOW),
    Column("last_seen", Instant, server_default=NOW),
    **AUTOINCREMENT,
)
ab_testing = _record(
    "ab_testing",
    Column("test_name", Text, nullable=False),
    Column("variant", Text, nullable=False),
    Column("session_hash", Text),
    Column("metric_name", Text),
    Column("metric_value", Double),
    Column("conversion", Flag),
)
analytics_events = _record(
    "analytics_events",
    Column("event_type", Text, nullable=False),
    Column("query_hash", Text),
    Column("metrics", Json),
    Column("user_id", Text),  # ours (version 4)
)

tldw_schema = version_table(metadata)

INDEXES = (
    Index("ix_search_analytics_timestamp", search_analytics.c.timestamp),
    Index(
        "ix_analytics_events_type_time", analytics_events.c.event_type, analytics_events.c.timestamp
    ),
)

#: Each user's summary reads only their rows (version 4).
USER_INDEXES = tuple(
    Index(f"ix_{table.name}_user_time", table.c.user_id, table.c.timestamp)
    for table in (search_analytics, analytics_events)
)

SCHEMA = DatabaseSchema(
    name="analytics",
    title="Analytics",
    metadata=metadata,
    version=4,
    per_user=False,
    sqlite_file="Analytics.db",
    upgrades=(
        foreign_key_index_upgrade(2, INDEXES),
        layout_upgrade(
            3,
            "the full Analytics layout of our users' files",
            tables=(citation_analytics, query_patterns, ab_testing),
        ),
        layout_upgrade(
            4,
            "whose searches and events they are (user_id), for per-user summaries",
            columns=(search_analytics.c.user_id, analytics_events.c.user_id),
            indexes=USER_INDEXES,
        ),
    ),
)

__all__ = ["SCHEMA", "metadata"]
