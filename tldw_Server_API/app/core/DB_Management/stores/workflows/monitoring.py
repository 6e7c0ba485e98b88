"""Monitoring: one quick look at the queue, recent outcomes, live workers and the pool,
for ``GET /api/v1/workflows/status``."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select

from ...instants import to_instant, utc_now
from .base import StoreBase
from .records import DEFAULT_LEASE_SECONDS
from .statuses import (
    TERMINAL_STATUSES,
    UNAVAILABLE_STEP_TYPE,
    WAITING_STATUSES,
    RunStatus,
    WorkerStatus,
)

RECENT_WINDOW_SECONDS = 300


def _seconds_between(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return (end - start).total_seconds()


class Monitoring(StoreBase):
    """The status summary of a workflows database."""

    def status_summary(
        self,
        *,
        live_within_seconds: float = DEFAULT_LEASE_SECONDS,
        recent_seconds: int = RECENT_WINDOW_SECONDS,
        pool_settings: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """What ``GET /api/v1/workflows/status`` reports.

        Queue depth and running/waiting counts, runs that ended in the last
        *recent_seconds* (5 minutes; the failed ones also counted apart when their
        definition uses a step type this server does not have), live workers (heartbeat within
        *live_within_seconds*, one lease: a worker silent that long has lost its
        runs) with their last heartbeat, the runtime heartbeat
        (the newest worker heartbeat) and its age, and the connection pool.
        """
        now = utc_now()
        r = self.runs
        since = now - timedelta(seconds=recent_seconds)
        open_statuses = [RunStatus.QUEUED, RunStatus.RUNNING, *WAITING_STATUSES]
        just_ended = and_(r.c.status.in_(TERMINAL_STATUSES), r.c.ended_at >= since)
        due_now = and_(
            r.c.status == RunStatus.QUEUED,
            or_(r.c.next_attempt_at.is_(None), r.c.next_attempt_at <= now),
        )
        # One pass over the runs (the status index) answers every count: the endpoint is
        # polled while the runtime is busy, so each round trip counts (and a glance
        # makes no others).
        per_status = (
            select(
                r.c.status,
                func.count(),
                func.count().filter(due_now),
                func.min(r.c.created_at).filter(r.c.status == RunStatus.QUEUED),
                func.count().filter(r.c.status_reason == UNAVAILABLE_STEP_TYPE),
            )
            .where(or_(r.c.status.in_(open_statuses), just_ended))
            .group_by(r.c.status)
        )
        by_heartbeat = select(self.workers).order_by(self.workers.c.heartbeat_at.desc())
        rows, worker_rows = self.database.glance(
            lambda conn: (conn.execute(per_status).all(), conn.execute(by_heartbeat).all())
        )
        counts = {row[0]: int(row[1]) for row in rows if row[0] in open_statuses}
        recent = {row[0]: int(row[1]) for row in rows if row[0] in TERMINAL_STATUSES}
        unavailable = sum(int(row[4]) for row in rows if row[0] == RunStatus.FAILED)
        due = sum(int(row[2]) for row in rows)
        oldest = min((row[3] for row in rows if row[3] is not None), default=None)
        cutoff = now - timedelta(seconds=live_within_seconds)
        workers = []
        for row in worker_rows:
            beat = to_instant(row.heartbeat_at)
            live = row.status == WorkerStatus.RUNNING and beat is not None and beat >= cutoff
            if live:
                workers.append(
                    {
                        "worker_id": row.worker_id,
                        "hostname": row.hostname,
                        "pid": row.pid,
                        "concurrency": row.concurrency,
                        "started_at": row.started_at,
                        "last_heartbeat_at": beat,
                        "heartbeat_age_seconds": _seconds_between(beat, now),
                    }
                )
        beats = (
            to_instant(row.heartbeat_at)
            for row in worker_rows
            if row.status == WorkerStatus.RUNNING
        )
        newest = max((beat for beat in beats if beat is not None), default=None)
        oldest_at = to_instant(oldest) if oldest is not None else None
        backend = self.database.backend
        settings = dict(pool_settings or backend.pool_settings)
        return {
            "backend": self.database.kind,
            "database": self.database.describe(),
            "generated_at": now,
            "runtime": {
                "heartbeat_at": newest,
                "heartbeat_age_seconds": _seconds_between(newest, now),
                "alive": bool(workers),
            },
            "workers": workers,
            "live_workers": len(workers),
            "queue": {
                RunStatus.QUEUED: counts.get(RunStatus.QUEUED, 0),
                "due": int(due),
                "oldest_queued_at": oldest_at,
                "oldest_queued_age_seconds": _seconds_between(oldest_at, now),
                RunStatus.RUNNING: counts.get(RunStatus.RUNNING, 0),
                "waiting": sum(counts.get(s, 0) for s in WAITING_STATUSES),
                RunStatus.WAITING_HUMAN: counts.get(RunStatus.WAITING_HUMAN, 0),
            },
            "recent": {
                "window_seconds": recent_seconds,
                RunStatus.SUCCEEDED: recent.get(RunStatus.SUCCEEDED, 0),
                RunStatus.FAILED: recent.get(RunStatus.FAILED, 0),
                # Of those failed: runs whose definition uses a step type this server lacks.
                "failed_unavailable_step_type": unavailable,
                RunStatus.CANCELLED: recent.get(RunStatus.CANCELLED, 0),
            },
            "pool": {"settings": settings, "status": backend.pool_status()},
        }
