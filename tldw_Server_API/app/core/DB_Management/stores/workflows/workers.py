"""The worker registry: which runtime processes are alive, by their heartbeats."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import delete, insert, or_, select, update

from ...instants import utc_now
from .base import StoreBase
from .records import public
from .statuses import WorkerStatus


class Workers(StoreBase):
    """Register, heartbeat and list the workers that execute runs."""

    def register_worker(
        self,
        worker_id: str,
        *,
        hostname: str,
        pid: int,
        concurrency: int = 1,
        prune_after_seconds: float = 86_400,
    ) -> None:
        """Record a live worker (a runtime process); forget workers silent for a day."""
        now = utc_now()
        w = self.workers
        with self.database.begin(write=True) as conn:
            conn.execute(
                delete(w).where(
                    or_(
                        w.c.worker_id == worker_id,
                        w.c.heartbeat_at < now - timedelta(seconds=prune_after_seconds),
                    )
                )
            )
            conn.execute(
                insert(w).values(
                    worker_id=worker_id,
                    hostname=hostname,
                    pid=pid,
                    started_at=now,
                    heartbeat_at=now,
                    status=WorkerStatus.RUNNING,
                    concurrency=concurrency,
                )
            )

    def heartbeat_worker(self, worker_id: str) -> bool:
        """Refresh a worker's heartbeat; False when its row is gone (it was pruned)."""
        w = self.workers
        with self.database.begin(write=True) as conn:
            result = conn.execute(
                update(w)
                .where(w.c.worker_id == worker_id)
                .values(heartbeat_at=utc_now(), status=WorkerStatus.RUNNING)
            )
            return result.rowcount == 1

    def unregister_worker(self, worker_id: str) -> None:
        with self.database.begin(write=True) as conn:
            conn.execute(
                update(self.workers)
                .where(self.workers.c.worker_id == worker_id)
                .values(status=WorkerStatus.STOPPED, heartbeat_at=utc_now())
            )

    def list_workers(self, *, live_within_seconds: float | None = None) -> list[dict[str, Any]]:
        w = self.workers
        query = select(w).order_by(w.c.heartbeat_at.desc())
        if live_within_seconds is not None:
            cutoff = utc_now() - timedelta(seconds=live_within_seconds)
            query = query.where(w.c.status == WorkerStatus.RUNNING, w.c.heartbeat_at >= cutoff)
        with self.database.begin(write=False) as conn:
            return [public(row) for row in conn.execute(query)]
