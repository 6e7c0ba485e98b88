"""The workers' side of the run queue: claiming a due run, holding it by a lease, and
giving it back (to retry later) or ending it.

A claim increments the run's ``attempt``; the pair ``(locked_by, attempt)`` is
the claim's :class:`~.records.Fence`, which every write made for the claim
checks. ``FOR UPDATE SKIP LOCKED`` on PostgreSQL (the dialect's ``claim``) lets
many workers claim at once without waiting on each other.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update

from ...instants import utc_now
from .base import StoreBase
from .records import DEFAULT_LEASE_SECONDS, Fence, Lease
from .statuses import TERMINAL_STATUSES, RunStatus


class Queue(StoreBase):
    """Claim, heartbeat, release and finish runs on behalf of a worker."""

    def _due_conditions(self, now: datetime) -> list[Any]:
        """What makes a run claimable, in the order claims prefer them."""
        r = self.runs
        return [
            and_(
                r.c.status == RunStatus.RUNNING,
                or_(r.c.lease_expires_at.is_(None), r.c.lease_expires_at < now),
            ),
            and_(
                r.c.status == RunStatus.QUEUED,
                or_(r.c.next_attempt_at.is_(None), r.c.next_attempt_at <= now),
            ),
        ]

    def _due_query(self, now: datetime) -> Any:
        return select(self.runs.c.run_id).where(or_(*self._due_conditions(now)))

    def claim_next_run(
        self, worker_id: str, lease_seconds: float = DEFAULT_LEASE_SECONDS
    ) -> dict[str, Any] | None:
        """Atomically take one run for *worker_id*, or return ``None`` when none is due.

        First a ``running`` run whose lease expired (or that has no lease: a run
        that arrived by migration while it was running), then the oldest ``queued``
        run whose ``next_attempt_at`` has passed. The run becomes ``running``,
        locked by *worker_id* until ``now + lease_seconds``; its ``attempt`` grows
        by one (the claim's fence). The returned run has a ``claim`` entry:
        ``{"reason": "new" | "resumed" | "taken_over", "previous_worker": ...}``.
        """
        r = self.runs
        # An idle worker polls: look (read-only, no lock taken) before trying to claim.
        with self.database.begin(write=False) as conn:
            if conn.execute(self._due_query(utc_now()).limit(1)).first() is None:
                return None
        with self.database.begin(write=True) as conn:
            now = utc_now()
            run_id = None
            for condition in self._due_conditions(now):
                query = select(r.c.run_id).where(condition)
                query = query.order_by(r.c.created_at, r.c.run_id).limit(1)
                run_id = conn.execute(self.database.dialect.claim(query)).scalar_one_or_none()
                if run_id is not None:
                    break
            if run_id is None:
                return None
            run = conn.execute(select(r).where(r.c.run_id == run_id)).one()
            attempt = int(run.attempt or 0) + 1
            if run.status == RunStatus.RUNNING:
                reason = "taken_over"
            elif run.started_at is None:
                reason = "new"
            else:
                reason = "resumed"
            conn.execute(
                update(r)
                .where(r.c.run_id == run_id)
                .values(
                    status=RunStatus.RUNNING,
                    locked_by=worker_id,
                    locked_at=now,
                    lease_expires_at=now + timedelta(seconds=lease_seconds),
                    heartbeat_at=now,
                    attempt=attempt,
                    next_attempt_at=None,
                    started_at=run.started_at or now,
                )
            )
            event = {"new": "run_started", "resumed": "run_resumed", "taken_over": "run_taken_over"}
            payload: dict[str, Any] = {"worker_id": worker_id, "attempt": attempt}
            if reason == "taken_over":
                payload["previous_worker"] = run.locked_by
            if run.status_reason and reason == "resumed":
                payload["after"] = run.status_reason
            self._append_event(conn, run_id, run.tenant_id, event[reason], payload, now=now)
            claimed = self._get_run(conn, run_id)
        claimed["claim"] = {
            "reason": reason,
            "previous_worker": run.locked_by if reason == "taken_over" else None,
            "fence": Fence(worker_id, attempt, lease_seconds),
        }
        return claimed

    def heartbeat(
        self, worker_id: str, run_id: str, lease_seconds: float = DEFAULT_LEASE_SECONDS
    ) -> Lease:
        """Extend the lease *worker_id* holds on *run_id*; a false result means it is lost."""
        now = utc_now()
        expires = now + timedelta(seconds=lease_seconds)
        r = self.runs
        with self.database.begin(write=True) as conn:
            result = conn.execute(
                update(r)
                .where(
                    r.c.run_id == run_id,
                    r.c.locked_by == worker_id,
                    r.c.status == RunStatus.RUNNING,
                )
                .values(heartbeat_at=now, lease_expires_at=expires)
            )
            if result.rowcount != 1:
                return Lease(held=False)
            cancel = conn.execute(
                select(r.c.cancel_requested).where(r.c.run_id == run_id)
            ).scalar_one()
        return Lease(held=True, cancel_requested=bool(cancel), lease_expires_at=expires)

    def is_cancel_requested(self, run_id: str) -> bool:
        with self.database.begin(write=False) as conn:
            value = conn.execute(
                select(self.runs.c.cancel_requested).where(self.runs.c.run_id == run_id)
            ).scalar_one_or_none()
        return bool(value)

    # --------------------------------------------------------- fenced run updates
    def release_run(
        self,
        run_id: str,
        fence: Fence,
        *,
        next_attempt_at: datetime | None = None,
        reason: str = "released",
        payload: Mapping[str, Any] | None = None,
    ) -> None:
        """Give a claimed run back to the queue (a retry after backoff, or a worker stopping)."""
        with self.database.begin(write=True) as conn:
            row = self._fence(conn, run_id, fence)
            conn.execute(
                update(self.runs)
                .where(self.runs.c.run_id == run_id)
                .values(
                    status=RunStatus.QUEUED,
                    status_reason=reason,
                    locked_by=None,
                    locked_at=None,
                    lease_expires_at=None,
                    next_attempt_at=next_attempt_at,
                )
            )
            body = dict(payload or {}) | {"reason": reason}
            if next_attempt_at is not None:
                body["next_attempt_at"] = next_attempt_at.isoformat()
            self._append_event(conn, run_id, row.tenant_id, "run_released", body)

    def finish_run(
        self,
        run_id: str,
        fence: Fence,
        status: RunStatus,
        *,
        outputs: Any = None,
        error: str | None = None,
        reason: str | None = None,
    ) -> dict[str, Any]:
        """End a claimed run as ``succeeded``, ``failed`` or ``cancelled``."""
        if status not in TERMINAL_STATUSES:
            raise ValueError(f"{status!r} is not a final status")
        status = RunStatus(status)
        with self.database.begin(write=True) as conn:
            self._fence(conn, run_id, fence)
            run = conn.execute(select(self.runs).where(self.runs.c.run_id == run_id)).one()
            self._finish(
                conn, run, status, now=utc_now(), outputs=outputs, error=error, reason=reason
            )
            return self._get_run(conn, run_id)
