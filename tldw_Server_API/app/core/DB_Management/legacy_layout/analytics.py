"""Analytics.db: the same layout in every server version."""

from __future__ import annotations

# --------------------------------------------------------------------------------------------
# Analytics.db: the spec's types as written (INT, BOOL), every table but query_patterns with a
# defaulted timestamp.
# --------------------------------------------------------------------------------------------

_ANALYTICS_HEAD = """
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    timestamp TIMESTAMP DEFAULT CURRENT_TIMESTAMP,"""

ANALYTICS_DDL = f"""
CREATE TABLE search_analytics ({_ANALYTICS_HEAD}
    query_hash TEXT NOT NULL,
    query_length INT,
    query_complexity TEXT,
    search_type TEXT,
    results_count INT,
    max_score REAL,
    avg_score REAL,
    response_time_ms INT,
    cache_hit BOOL,
    reranking_used BOOL,
    expansion_used BOOL,
    filters_used TEXT,
    error_occurred BOOL DEFAULT FALSE,
    error_type TEXT
);
CREATE TABLE document_performance ({_ANALYTICS_HEAD}
    document_hash TEXT NOT NULL,
    document_type TEXT,
    chunk_size INT,
    retrieval_count INT DEFAULT 0,
    avg_relevance_score REAL,
    citation_count INT DEFAULT 0,
    feedback_positive INT DEFAULT 0,
    feedback_negative INT DEFAULT 0,
    last_accessed TIMESTAMP
);
CREATE TABLE feedback_analytics ({_ANALYTICS_HEAD}
    session_hash TEXT NOT NULL,
    query_hash TEXT NOT NULL,
    feedback_type TEXT,
    rating INT,
    response_quality TEXT,
    retrieval_accuracy TEXT,
    response_time_acceptable BOOL,
    categories TEXT,
    improvement_areas TEXT
);
CREATE TABLE citation_analytics ({_ANALYTICS_HEAD}
    citation_style TEXT,
    document_count INT,
    chunk_count INT,
    verification_requested BOOL,
    format_errors INT DEFAULT 0,
    generation_time_ms INT
);
CREATE TABLE error_tracking ({_ANALYTICS_HEAD}
    error_type TEXT NOT NULL,
    error_category TEXT,
    error_hash TEXT,
    component TEXT,
    severity TEXT,
    frequency INT DEFAULT 1,
    resolved BOOL DEFAULT FALSE,
    resolution_time TIMESTAMP,
    stack_trace_hash TEXT
);
CREATE TABLE system_performance ({_ANALYTICS_HEAD}
    metric_type TEXT NOT NULL,
    metric_value REAL,
    component TEXT,
    operation TEXT,
    duration_ms INT,
    memory_mb REAL,
    cpu_percent REAL
);
CREATE TABLE feature_usage ({_ANALYTICS_HEAD}
    feature_name TEXT NOT NULL,
    usage_count INT DEFAULT 1,
    success_count INT DEFAULT 0,
    failure_count INT DEFAULT 0,
    avg_execution_time_ms INT,
    last_used TIMESTAMP
);
CREATE TABLE query_patterns (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    pattern_hash TEXT UNIQUE NOT NULL,
    pattern_type TEXT,
    frequency INT DEFAULT 1,
    avg_results_quality REAL,
    avg_response_time_ms INT,
    first_seen TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    last_seen TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE ab_testing ({_ANALYTICS_HEAD}
    test_name TEXT NOT NULL,
    variant TEXT NOT NULL,
    session_hash TEXT,
    metric_name TEXT,
    metric_value REAL,
    conversion BOOL
);
CREATE TABLE analytics_events ({_ANALYTICS_HEAD}
    event_type TEXT NOT NULL,
    query_hash TEXT,
    metrics TEXT
);
"""
