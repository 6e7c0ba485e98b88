"""The worker registry: which runtime processes are alive, by their heartbeats."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import and_, delete, func, insert, or_, select, update

from ...instants import utc_now
from .base import StoreBase
from .records import DEFAULT_LEASE_SECONDS, WorkerBeat, public
from .statuses import RunStatus, WorkerStatus


class Workers(StoreBase):
    """Register, heartbeat and list the workers that execute runs."""

    def register_worker(
        self,
        worker_id: str,
        *,
        hostname: str,
        pid: int,
        concurrency: int = 1,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
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
                    lease_expires_at=now + timedelta(seconds=lease_seconds),
                    status=WorkerStatus.RUNNING,
                    concurrency=concurrency,
                )
            )

    def heartbeat_worker(
        self, worker_id: str, lease_seconds: float = DEFAULT_LEASE_SECONDS
    ) -> WorkerBeat:
        """Extend *worker_id*'s lease, and with it the claims of all its runs: one statement.

        It also counts the worker's runs (and those asked to cancel) and tells whether
        a run is due, so that a worker learns what changed without another query (see
        :class:`~.records.WorkerBeat`). ``registered`` is False when its row is gone
        (it was pruned).
        """
        w, r = self.workers, self.runs
        now = utc_now()
        mine = and_(r.c.locked_by == worker_id, r.c.status == RunStatus.RUNNING)
        held = select(func.count()).where(mine).scalar_subquery()
        cancelling = select(func.count()).where(mine, r.c.cancel_requested != 0).scalar_subquery()
        statement = (
            update(w)
            .where(w.c.worker_id == worker_id)
            .values(
                heartbeat_at=now,
                lease_expires_at=now + timedelta(seconds=lease_seconds),
                status=WorkerStatus.RUNNING,
            )
            .returning(
                held.label("held"),
                cancelling.label("cancelling"),
                self._claimable(now).label("claimable"),
            )
        )
        with self.database.begin(write=True) as conn:
            row = conn.execute(statement).first()
        if row is None:
            return WorkerBeat(registered=False)
        return WorkerBeat(True, int(row.held), int(row.cancelling), bool(row.claimable))

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
