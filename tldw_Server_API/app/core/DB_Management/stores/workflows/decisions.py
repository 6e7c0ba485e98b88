"""Runs held for a human: parking a run at a step that needs a decision, and recording
the approval or rejection that lets it go on (or fails it)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from ...instants import utc_now
from .._common import AnyRow
from ..errors import Conflict, NotFound
from .base import StoreBase
from .records import UNCLAIMED, Fence, HeldStep, RunEnd
from .statuses import STEP_WAITING_STATUSES, WAITING_STATUSES, RunStatus, StepStatus


class Decisions(StoreBase):
    """Park runs for a human decision and record the decision."""

    def park_for_human(
        self,
        run_id: str,
        fence: Fence,
        step_run_id: str,
        *,
        prompt: str | None = None,
        details: Mapping[str, Any] | None = None,
        status: RunStatus = RunStatus.WAITING_HUMAN,
    ) -> None:
        """Leave a run waiting (*status*: ``waiting_human`` or ``waiting_approval``) until
        :meth:`decide_human`; its lock is released."""
        if status not in WAITING_STATUSES:
            raise ValueError(f"{status!r} is not a waiting status")
        now = utc_now()
        with self.database.begin(write=True) as conn:
            row = self._fence(conn, run_id, fence)
            result = conn.execute(
                update(self.steps)
                .where(
                    self.steps.c.step_run_id == step_run_id,
                    self.steps.c.status == StepStatus.RUNNING,
                )
                .values(
                    status=StepStatus.WAITING,
                    outputs_json={"prompt": prompt, **dict(details or {})},
                )
            )
            if result.rowcount != 1:
                raise Conflict(f"step {step_run_id} is not running")
            self._announce_settled(conn)
            conn.execute(
                update(self.runs)
                .where(self.runs.c.run_id == run_id)
                .values(
                    status=status,
                    status_reason=prompt or "waiting for a human decision",
                    **UNCLAIMED,
                )
            )
            self._append_event(
                conn,
                run_id,
                row.tenant_id,
                f"run_{status}",
                {"prompt": prompt, **dict(details or {})},
                step_run_id=step_run_id,
                now=now,
            )

    def decide_human(
        self,
        run_id: str,
        *,
        approved: bool,
        decided_by: str,
        comment: str | None = None,
        payload: Mapping[str, Any] | None = None,
        fail_run: bool = False,
        held: HeldStep | None = None,
    ) -> dict[str, Any]:
        """Record a human's approval or rejection of a waiting run (any of ``WAITING_STATUSES``).

        The run is held at its newest waiting step row. A run that arrived by
        migration may have no such row (older servers did not always write one):
        *held* then names the step its definition has it at, as the engine found
        it. A step that awaits a decision gets it: it succeeds (approval, the
        decision is its output) or fails (rejection). Approving a run held before
        any other kind of step (a paused run) resumes it, and the step runs when a
        worker continues the run; rejecting it fails that step.

        Approval requeues the run, and so does a rejection the definition handles;
        a rejection it does not handle (*fail_run*) fails the run at once.
        """
        now = utc_now()
        with self.database.begin(write=True) as conn:
            run = self._lock_run(conn, run_id)
            if run is None:
                raise NotFound("workflow_runs", run_id)
            if run.status not in WAITING_STATUSES:
                raise Conflict(f"run {run_id} is {run.status}, not waiting for a human decision")
            step = conn.execute(
                select(self.steps.c.step_run_id, self.steps.c.step_id, self.steps.c.attempt)
                .where(
                    self.steps.c.run_id == run_id,
                    self.steps.c.status.in_(STEP_WAITING_STATUSES),
                )
                .order_by(self.steps.c.started_at.desc())
                .limit(1)
            ).first()
            if step is None and held is not None and (held.awaits_decision or not approved):
                step = self._record_held_step(conn, run, held, now)
            decision = {
                "approved": approved,
                "decided_by": decided_by,
                "comment": comment,
                "payload": dict(payload or {}),
            }
            error = (
                None
                if approved
                else f"rejected by {decided_by}" + (f": {comment}" if comment else "")
            )
            self._append_event(
                conn,
                run_id,
                run.tenant_id,
                "human_approved" if approved else "human_rejected",
                decision,
                step_run_id=step.step_run_id if step is not None else None,
                now=now,
            )
            if step is not None:
                self._decide_step(conn, run, step, decision, error, now)
            if fail_run and not approved:
                rejected = RunEnd(RunStatus.FAILED, error=error, reason="rejected")
                self._finish(conn, run, rejected, now=now)
            else:
                conn.execute(
                    update(self.runs)
                    .where(self.runs.c.run_id == run_id)
                    .values(
                        status=RunStatus.QUEUED,
                        status_reason="approved" if approved else "rejected",
                        next_attempt_at=None,
                    )
                )
                self._announce_due(conn)
            return self._get_run(conn, run_id)

    def _record_held_step(
        self, conn: Connection, run: AnyRow, held: HeldStep, now: datetime
    ) -> AnyRow:
        """A waiting row for the step a migrated run is held at, which it arrived without."""
        s = self.steps
        return conn.execute(
            insert(s)
            .values(
                step_run_id=str(uuid.uuid4()),
                tenant_id=run.tenant_id,
                run_id=run.run_id,
                step_id=held.step_id,
                name=held.name,
                type=held.type,
                status=StepStatus.WAITING,
                attempt=held.attempt,
                started_at=now,
            )
            .returning(s.c.step_run_id, s.c.step_id, s.c.attempt)
        ).one()

    def _decide_step(
        self,
        conn: Connection,
        run: AnyRow,
        step: AnyRow,
        decision: Mapping[str, Any],
        error: str | None,
        now: datetime,
    ) -> None:
        """End the waiting *step* with the *decision*: succeeded, or (with *error*) failed."""
        approved = error is None
        conn.execute(
            update(self.steps)
            .where(self.steps.c.step_run_id == step.step_run_id)
            .values(
                status=StepStatus.SUCCEEDED if approved else StepStatus.FAILED,
                ended_at=now,
                outputs_json=dict(decision) if approved else dict(decision) | {"final": True},
                error=error,
            )
        )
        self._append_event(
            conn,
            run.run_id,
            run.tenant_id,
            "step_completed" if approved else "step_failed",
            {"step_id": step.step_id, "attempt": step.attempt, "final": True}
            | ({"error": error} if error else {}),
            step_run_id=step.step_run_id,
            now=now,
        )
