"""Analytics.db: search, feature-usage, performance and error records."""

from __future__ import annotations

import random

from .corpus import default_stamp, flag, hex_digits, json_text, make_words, sha256_hex, time_of
from .sink import Plan, Sink

_SEARCH_TYPES = ("hybrid", "fts", "vector", "keyword")
_FEATURES = ("rag_search", "chat", "notes", "media_ingest", "workflows", "tts", "export")
_COMPONENTS = ("retriever", "reranker", "embedder", "llm", "api", "db")
_DOCUMENT_TYPES = ("pdf", "article", "transcript", "note", "ebook")
_CITATION_STYLES = ("apa", "mla", "chicago", "ieee", "bibtex")
_AB_TESTS = (
    ("reranker-v2", ("control", "cross-encoder")),
    ("chunk-size", ("400", "800")),
    ("hybrid-weight", ("0.3", "0.5", "0.7")),
)
_ERRORS = (
    ("TimeoutError", "network"),
    ("OperationalError", "database"),
    ("HTTPError", "provider"),
    ("ValueError", "input"),
)
_ANALYTICS_COLUMNS: dict[str, str] = {
    "search_analytics": (
        "timestamp, query_hash, query_length, query_complexity, search_type, results_count, "
        "max_score, avg_score, response_time_ms, cache_hit, reranking_used, expansion_used, "
        "filters_used, error_occurred, error_type"
    ),
    "document_performance": (
        "timestamp, document_hash, document_type, chunk_size, retrieval_count, "
        "avg_relevance_score, citation_count, feedback_positive, feedback_negative, last_accessed"
    ),
    "feedback_analytics": (
        "timestamp, session_hash, query_hash, feedback_type, rating, response_quality, "
        "retrieval_accuracy, response_time_acceptable, categories, improvement_areas"
    ),
    "citation_analytics": (
        "timestamp, citation_style, document_count, chunk_count, verification_requested, "
        "format_errors, generation_time_ms"
    ),
    "error_tracking": (
        "timestamp, error_type, error_category, error_hash, component, severity, frequency, "
        "resolved, resolution_time, stack_trace_hash"
    ),
    "system_performance": (
        "timestamp, metric_type, metric_value, component, operation, duration_ms, memory_mb, "
        "cpu_percent"
    ),
    "feature_usage": (
        "timestamp, feature_name, usage_count, success_count, failure_count, "
        "avg_execution_time_ms, last_used"
    ),
    "query_patterns": (
        "pattern_hash, pattern_type, frequency, avg_results_quality, avg_response_time_ms, "
        "first_seen, last_seen"
    ),
    "ab_testing": (
        "timestamp, test_name, variant, session_hash, metric_name, metric_value, conversion"
    ),
    "analytics_events": "timestamp, event_type, query_hash, metrics",
}


def _analytics_stamp(t: float, n: int) -> str | int:
    """``timestamp`` columns are filled by their DEFAULT, except where other tools wrote."""
    if n % 97 == 13:
        return int(t)
    if n % 89 == 7:
        return int(t * 1000)
    return default_stamp(t, n)


class _AnalyticsGenerator:
    """One search per ordinal, with the document, feedback, citation, error, usage and
    experiment rows around it; the query patterns seen are summarised at the end.

    Every optional row kind is also written for the first search, so even a tiny sample
    fills every table.
    """

    def __init__(self, sink: Sink, rng: random.Random, size: int) -> None:
        self.sink, self.rng, self.size = sink, rng, size
        self.n = 0
        queries = (
            " ".join(make_words(rng, 1 + int(rng.random() * 6))) for _ in range(max(10, size // 5))
        )
        self.queries = [(sha256_hex(q)[:16], len(q)) for q in queries]
        # pattern hash -> [pattern type, searches, summed quality, summed ms, first, last]
        self.patterns: dict[str, list] = {}
        self.sessions = [hex_digits(rng, 16) for _ in range(max(4, size // 20))]
        sink.tables(_ANALYTICS_COLUMNS)

    def _tick(self) -> int:
        self.n += 1
        return self.n

    def write(self, ordinal: int) -> None:
        rng = self.rng
        first = ordinal == 1
        t = time_of(rng, ordinal, self.size)
        query_hash, length = rng.choice(self.queries)
        self._search(t, query_hash, length)
        for _ in range(int(rng.random() * 4) or int(first)):
            self._document(t + 1)
        if rng.random() < 0.1 or first:
            self._feedback(t + 30, query_hash)
        if rng.random() < 0.15 or first:
            self._citation(t + 5)
        if rng.random() < 0.05 or first:
            self._error(t + 1)
        if ordinal % 5 == 0 or first:
            self._system(t)
        if rng.random() < 0.15 or first:
            self._feature(t)
        if rng.random() < 0.1 or first:
            self._experiment(t)
        if rng.random() < 0.3 or first:
            metrics = {
                "latency_ms": round(rng.random() * 900, 1),
                "tokens": int(rng.random() * 4000),
            }
            row = (
                _analytics_stamp(t, self._tick()),
                rng.choice(("search", "rerank", "answer")),
                query_hash,
                json_text(metrics),
            )
            self.sink.add("analytics_events", row)

    def _search(self, t: float, query_hash: str, length: int) -> None:
        rng = self.rng
        n = self._tick()
        error = rng.random() < 0.03
        results = 0 if error else int(rng.random() * 50)
        max_score = rng.random() if results else None
        filters = (
            json_text({"media_type": rng.choice(("pdf", "video", "any"))})
            if rng.random() < 0.3
            else None
        )
        complexity = rng.choice(("simple", "moderate", "complex"))
        elapsed = int(20 + rng.random() * 1500)
        self.sink.add(
            "search_analytics",
            (
                _analytics_stamp(t, n),
                query_hash,
                length,
                complexity,
                rng.choice(_SEARCH_TYPES),
                results,
                max_score,
                max_score * (0.4 + rng.random() * 0.5) if max_score is not None else None,
                elapsed,
                flag(rng.random() < 0.25, n),
                flag(rng.random() < 0.5, n + 1),
                flag(rng.random() < 0.2, n + 2),
                filters,
                flag(error, n + 3),
                rng.choice(("timeout", "db_error", "llm_error")) if error else None,
            ),
        )
        self._seen_pattern(complexity, length, max_score or 0.0, elapsed, t)

    def _seen_pattern(self, kind: str, length: int, quality: float, ms: int, t: float) -> None:
        """Searches of one shape (complexity and length bucket) share a pattern."""
        key = sha256_hex(f"{kind}:{length // 10}")[:32]
        pattern = self.patterns.setdefault(key, [kind, 0, 0.0, 0, t, t])
        pattern[1] += 1
        pattern[2] += quality
        pattern[3] += ms
        pattern[5] = t

    def _document(self, t: float) -> None:
        rng = self.rng
        n = self._tick()
        retrieved = 1 + int(rng.random() * 40)
        row = (
            _analytics_stamp(t, n),
            sha256_hex(str(1 + int(rng.random() * 20000)))[:32],
            rng.choice(_DOCUMENT_TYPES),
            rng.choice((256, 512, 1024)),
            retrieved,
            round(rng.random(), 4),
            int(rng.random() * retrieved / 2),
            int(rng.random() * 4),
            int(rng.random() * 2),
            _analytics_stamp(t + 60, n + 1),
        )
        self.sink.add("document_performance", row)

    def _feedback(self, t: float, query_hash: str) -> None:
        rng = self.rng
        n = self._tick()
        kind = rng.choice(("thumbs", "rating", "comment"))
        row = (
            _analytics_stamp(t, n),
            rng.choice(self.sessions),
            query_hash,
            kind,
            1 + int(rng.random() * 5) if kind == "rating" else None,
            rng.choice(("good", "acceptable", "poor")),
            rng.choice(("accurate", "partial", "wrong", None)),
            flag(rng.random() < 0.8, n),
            json_text(sorted(set(rng.choices(("relevance", "speed", "citations", "tone"), k=2)))),
            json_text(["speed"] if rng.random() < 0.3 else []),
        )
        self.sink.add("feedback_analytics", row)

    def _citation(self, t: float) -> None:
        rng = self.rng
        n = self._tick()
        documents = 1 + int(rng.random() * 8)
        row = (
            _analytics_stamp(t, n),
            rng.choice(_CITATION_STYLES),
            documents,
            documents + int(rng.random() * 12),
            flag(rng.random() < 0.3, n),
            int(rng.random() < 0.1),
            int(5 + rng.random() * 400),
        )
        self.sink.add("citation_analytics", row)

    def _error(self, t: float) -> None:
        rng = self.rng
        n = self._tick()
        error_type, category = rng.choice(_ERRORS)
        resolved = rng.random() < 0.4
        row = (
            _analytics_stamp(t, n),
            error_type,
            category,
            hex_digits(rng, 16),
            rng.choice(_COMPONENTS),
            rng.choice(("warning", "error", "critical")),
            1 + int(rng.random() * 20),
            flag(resolved, n),
            _analytics_stamp(t + 86400 * rng.random() * 5, n + 1) if resolved else None,
            hex_digits(rng, 16) if rng.random() < 0.8 else None,
        )
        self.sink.add("error_tracking", row)

    def _system(self, t: float) -> None:
        rng = self.rng
        metric, scale = rng.choice(
            (("latency", 2000.0), ("throughput", 50.0), ("queue_depth", 30.0))
        )
        row = (
            _analytics_stamp(t, self._tick()),
            metric,
            round(rng.random() * scale, 3),
            rng.choice(_COMPONENTS),
            rng.choice(("search", "embed", "rerank", "ingest")),
            int(rng.random() * 3000),
            round(200 + rng.random() * 7800, 1),
            round(rng.random() * 100, 1),
        )
        self.sink.add("system_performance", row)

    def _feature(self, t: float) -> None:
        rng = self.rng
        n = self._tick()
        uses = 1 + int(rng.random() * 10)
        failures = int(rng.random() * 2)
        row = (
            _analytics_stamp(t, n),
            rng.choice(_FEATURES),
            uses,
            uses - failures,
            failures,
            int(5 + rng.random() * 2000),
            _analytics_stamp(t + 30, n + 1),
        )
        self.sink.add("feature_usage", row)

    def _experiment(self, t: float) -> None:
        rng = self.rng
        n = self._tick()
        test, variants = rng.choice(_AB_TESTS)
        row = (
            _analytics_stamp(t, n),
            test,
            rng.choice(variants),
            rng.choice(self.sessions),
            rng.choice(("ndcg@10", "click_through", "answer_rating")),
            round(rng.random(), 4),
            flag(rng.random() < 0.2, n),
        )
        self.sink.add("ab_testing", row)

    def finish(self) -> None:
        """One query_patterns row per pattern seen (pattern_hash is UNIQUE)."""
        for key, (kind, count, quality, ms, first, last) in self.patterns.items():
            n = self._tick()
            row = (
                key,
                kind,
                count,
                round(quality / count, 4),
                int(ms / count),
                _analytics_stamp(first, n),
                _analytics_stamp(last, n + 1),
            )
            self.sink.add("query_patterns", row)


def generate_analytics(sink: Sink, rng: random.Random, size: int, plan: Plan) -> None:
    gen = _AnalyticsGenerator(sink, rng, size)
    for ordinal in range(1, size + 1):
        gen.write(ordinal)
    gen.finish()
