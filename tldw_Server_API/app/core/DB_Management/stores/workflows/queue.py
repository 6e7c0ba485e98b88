"""The workers' side of the run queue: claiming a due run, holding it while the worker
heartbeats, and giving it back (to retry later) or ending it.

A claim increments the run's ``attempt``; the pair ``(locked_by, attempt)`` is
the claim's :class:`~.records.Fence`, which every write made for the claim
checks. ``FOR UPDATE SKIP LOCKED`` on PostgreSQL (the dialect's ``claim``) lets
many workers claim at once without waiting on each other; on SQLite, writers take
turns (``BEGIN IMMEDIATE``).

A claim is held while its worker's row in ``workflow_workers`` has a live lease
(``Workers.heartbeat_worker``: one write per worker, whatever number of runs it
executes), and at first for ``lease_seconds`` by the run's own ``lease_expires_at``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Executable, Table, bindparam, func, select, update

from ...backends.base import DialectOps, PickedUpdate
from ...instants import utc_now
from .base import EventSpec, StoreBase, due, is_open
from .records import DEFAULT_LEASE_SECONDS, UNCLAIMED, Fence, RunEnd, StepStart, public
from .statuses import RunStatus


@cache
def _claim(dialect: DialectOps, runs: Table, workers: Table) -> PickedUpdate:
    """The claim of :meth:`Queue.claim_next_run` (built once; parameters ``p_now``,
    ``p_worker_id``, ``p_lease_expires_at``)."""
    r = runs
    now = bindparam("p_now", type_=r.c.locked_at.type)
    pick = (
        select(
            r.c.run_id,
            r.c.status.label("was_status"),
            r.c.locked_by.label("was_locked_by"),
            r.c.started_at.label("was_started_at"),
        )
        .where(is_open(r), due(r, workers, now))
        .order_by(r.c.queue_seq)
        .limit(1)
    )
    values = {
        "status": RunStatus.RUNNING,
        "locked_by": bindparam("p_worker_id", type_=r.c.locked_by.type),
        "locked_at": now,
        "lease_expires_at": bindparam("p_lease_expires_at", type_=r.c.lease_expires_at.type),
        "heartbeat_at": now,
        "attempt": func.coalesce(r.c.attempt, 0) + 1,
        "next_attempt_at": None,
        "started_at": func.coalesce(r.c.started_at, now),
    }
    return dialect.picked_update(r, dialect.claim(pick), update(r).values(**values).returning(*r.c))


@cache
def _workflow_row(workflows: Table) -> Executable:
    """The workflow row ``p_id`` (built once)."""
    return select(workflows).where(workflows.c.id == bindparam("p_id"))


class Queue(StoreBase):
    """Claim, release and finish runs on behalf of a worker."""

    def claim_next_run(
        self,
        worker_id: str,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        *,
        first_step: Callable[[Mapping[str, Any]], StepStart | None] | None = None,
    ) -> dict[str, Any] | None:
        """Atomically take the due run submitted first for *worker_id*; ``None`` when none is.

        One statement claims on PostgreSQL (``UPDATE ... FROM (SELECT ... ORDER BY
        queue_seq LIMIT 1 FOR UPDATE SKIP LOCKED) ... RETURNING``; see the dialect's
        ``picked_update``); the same transaction reads what the engine needs first and records
        the claim's event (with the first step's start, see below). It takes a ``queued`` run whose
        ``next_attempt_at`` has passed, or a ``running`` one whose worker stopped
        heartbeating, whichever was submitted first. The run becomes ``running``,
        locked by *worker_id*; its ``lease_expires_at`` (now + *lease_seconds*)
        keeps the claim until the worker's own heartbeat does. Its ``attempt`` grows
        by one (the claim's fence). The returned run has a ``claim`` entry:
        ``{"reason": "new" | "resumed" | "taken_over", "previous_worker": ..., "fence": ...,
        "steps": ..., "workflow": ...}``: with the run's step attempts (as ``list_steps``) and
        its workflow's row (None when it has none), read in the claim's transaction.

        *first_step*, given the claimed run (with its ``claim``), may name the step attempt
        to start: it is then started in the claim's transaction too, and its id is the
        claim's ``step_run_id`` (else None).
        """
        r = self.runs
        claim = _claim(self.database.dialect, r, self.workers)
        with self.database.begin(write=True) as conn:
            now = utc_now()
            params = {
                "p_now": now,
                "p_worker_id": worker_id,
                "p_lease_expires_at": now + timedelta(seconds=lease_seconds),
            }
            row = claim(conn, params)
            if row is None:
                return None
            claimed = public({c.name: row[c.name] for c in r.c})
            attempt = int(claimed["attempt"])
            if row["was_status"] == RunStatus.RUNNING:
                reason, event = "taken_over", "run_taken_over"
            elif row["was_started_at"] is None:
                reason, event = "new", "run_started"
            else:
                reason, event = "resumed", "run_resumed"
            payload: dict[str, Any] = {"worker_id": worker_id, "attempt": attempt}
            if reason == "taken_over":
                payload["previous_worker"] = row["was_locked_by"]
            if claimed["status_reason"] and reason == "resumed":
                payload["after"] = claimed["status_reason"]
            events: list[EventSpec] = [(event, payload, None)]
            # What the engine reads first, read here: one transaction fewer per run.
            steps = self._steps_of(conn, claimed["run_id"])
            workflow = None
            if claimed["workflow_id"] is not None:
                found = conn.execute(
                    _workflow_row(self.workflows), {"p_id": claimed["workflow_id"]}
                ).first()
                workflow = None if found is None else public(found)
            fence = Fence(worker_id, attempt, lease_seconds)
            claimed["claim"] = {
                "reason": reason,
                "previous_worker": row["was_locked_by"] if reason == "taken_over" else None,
                "fence": fence,
                "steps": steps,
                "workflow": workflow,
                "step_run_id": None,
            }
            start = first_step(claimed) if first_step is not None else None
            step_row = None
            if start is not None:
                step_run_id, started, step_row = self._new_step(
                    claimed["run_id"], claimed["tenant_id"], fence, start, now
                )
                claimed["claim"]["step_run_id"] = step_run_id
                events.append(started)
            self._append_events(
                conn, claimed["run_id"], claimed["tenant_id"], events, now=now, step_row=step_row
            )
        return claimed

    def held_runs(self, worker_id: str) -> dict[str, bool]:
        """The runs *worker_id* holds, each with whether its cancellation was asked."""
        r = self.runs
        query = select(r.c.run_id, r.c.cancel_requested).where(
            r.c.locked_by == worker_id, r.c.status == RunStatus.RUNNING
        )
        with self.database.begin(write=False) as conn:
            return {str(run_id): bool(cancel) for run_id, cancel in conn.execute(query)}

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
            if next_attempt_at is None or next_attempt_at <= utc_now():
                self._announce_due(conn)  # (a later retry is found by the heartbeats when due)
            conn.execute(
                update(self.runs)
                .where(self.runs.c.run_id == run_id)
                .values(
                    status=RunStatus.QUEUED,
                    status_reason=reason,
                    **UNCLAIMED,
                    next_attempt_at=next_attempt_at,
                )
            )
            body = dict(payload or {}) | {"reason": reason}
            if next_attempt_at is not None:
                body["next_attempt_at"] = next_attempt_at.isoformat()
            self._append_event(conn, run_id, row.tenant_id, "run_released", body)

    def finish_run(self, run_id: str, fence: Fence, end: RunEnd) -> dict[str, Any]:
        """End a claimed run as *end* says: ``succeeded``, ``failed`` or ``cancelled``."""
        now = utc_now()
        with self.database.begin(write=True) as conn:
            row = self._fence(conn, run_id, fence)
            self._finish(conn, row, end, now=now)
            return self._get_run(conn, run_id)
