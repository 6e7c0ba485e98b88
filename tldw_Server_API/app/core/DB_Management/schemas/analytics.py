"""The Analytics database (one per server): searches, events and performance records."""

from __future__ import annotations

from sqlalchemy import Column, Index, MetaData, Table, Text, text

from .spec import DatabaseSchema, VersionRecord
from .types import Double, Flag, Instant, Int, Json, Key
from .upgrades import foreign_key_index_upgrade

metadata = MetaData()
_AUTO = {"sqlite_autoincrement": True}


def _record(name: str, *columns: Column) -> Table:
    """An analytics table: an id, a timestamp defaulting to now, and its own columns."""
    return Table(
        name,
        metadata,
        Column("id", Key, primary_key=True),
        Column("timestamp", Instant, server_default=text("CURRENT_TIMESTAMP")),
        *columns,
        **_AUTO,
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
    Column("response_time_ms", Double),
    Column("cache_hit", Flag),
    Column("reranking_used", Flag),
    Column("expansion_used", Flag),
    Column("filters_used", Text),
    Column("error_occurred", Flag, server_default="0"),
    Column("error_type", Text),
)
document_performance = _record(
    "document_performance",
    Column("document_id", Text, nullable=False),
    Column("query_hash", Text),
    Column("retrieval_rank", Int),
    Column("relevance_score", Double),
    Column("was_clicked", Flag),
    Column("dwell_time_ms", Int),
    Column("chunk_count", Int),
)
feedback_analytics = _record(
    "feedback_analytics",
    Column("query_hash", Text),
    Column("document_id", Text),
    Column("feedback_type", Text, nullable=False),
    Column("rating", Int),
    Column("helpful", Flag),
    Column("comment_length", Int),
    Column("details", Text),
)
error_tracking = _record(
    "error_tracking",
    Column("error_type", Text, nullable=False),
    Column("component", Text),
    Column("severity", Text),
    Column("error_hash", Text),
    Column("count", Int, server_default="1"),
    Column("details", Text),
)
system_performance = _record(
    "system_performance",
    Column("metric_name", Text, nullable=False),
    Column("metric", Double),
    Column("unit", Text),
    Column("component", Text),
    Column("details", Text),
)
feature_usage = _record(
    "feature_usage",
    Column("feature_name", Text, nullable=False),
    Column("count", Int, server_default="1"),
    Column("success", Flag),
    Column("user_segment", Text),
    Column("details", Text),
)
analytics_events = _record(
    "analytics_events",
    Column("event_type", Text, nullable=False),
    Column("query_hash", Text),
    Column("metrics", Json),
)

schema_version = Table(
    "schema_version", metadata, Column("version", Int, primary_key=True, autoincrement=False)
)

INDEXES = (
    Index("ix_search_analytics_timestamp", search_analytics.c.timestamp),
    Index(
        "ix_analytics_events_type_time", analytics_events.c.event_type, analytics_events.c.timestamp
    ),
)

SCHEMA = DatabaseSchema(
    name="analytics",
    title="Analytics",
    metadata=metadata,
    version=2,
    version_record=VersionRecord("schema_version"),
    per_user=False,
    sqlite_file="Analytics.db",
    upgrades=(foreign_key_index_upgrade(2, INDEXES),),
)

__all__ = ["SCHEMA", "metadata"]
