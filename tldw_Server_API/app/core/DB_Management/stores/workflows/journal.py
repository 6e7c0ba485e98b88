"""The journal of a run: one row per step attempt, and the gap-free event log.

``event_seq`` is allocated as ``max + 1`` inside the transaction that inserts
the event, after the run's row has been locked (``SELECT ... FOR UPDATE`` on
PostgreSQL; on SQLite every writer holds the database lock from ``BEGIN
IMMEDIATE``), so concurrent writers to one run never produce a gap or a
duplicate. A step's result is written under its claim's fence: a worker that
lost its claim can never record it a second time.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from sqlalchemy import Connection, Table, bindparam, select, update

from ...backends.base import DialectOps, PickedUpdate
from ...instants import utc_now
from ..errors import Conflict
from .base import EventSpec, StoreBase, fence_lock
from .records import Advanced, Fence, RunEnd, StepResult, StepStart, public
from .statuses import RunStatus, StepStatus


@cache
def _fenced_step_end(dialect: DialectOps, runs: Table, steps: Table) -> PickedUpdate:
    """The end of a running step attempt under its claim's fence (see
    :meth:`Journal._end_fenced_step`; built once): the fence's check and lock of the run
    (as :meth:`StoreBase._fence`), and the step's update, in one statement where the
    dialect can."""
    end = (
        update(steps)
        .where(
            steps.c.step_run_id == bindparam("p_step_run_id"),
            steps.c.status == StepStatus.RUNNING,
        )
        .values(
            status=bindparam("p_status"),
            ended_at=bindparam("p_now", type_=steps.c.ended_at.type),
            outputs_json=bindparam("p_outputs", type_=steps.c.outputs_json.type),
            error=bindparam("p_error"),
            locked_by=None,
            lock_expires_at=None,
        )
        .returning(steps.c.step_id, steps.c.attempt)
    )
    return dialect.picked_update(steps, fence_lock(runs), end)


def _with_payload(event: EventSpec, extra: Mapping[str, Any] | None) -> EventSpec:
    """*event* with *extra* added to its payload."""
    kind, payload, step_run_id = event
    return kind, dict(payload) | dict(extra or {}), step_run_id


class Journal(StoreBase):
    """Record step attempts and events of runs, and read them back."""

    def start_step(
        self,
        run_id: str,
        fence: Fence,
        *,
        step_id: str,
        name: str | None = None,
        step_type: str | None = None,
        attempt: int = 1,
        inputs: Any = None,
    ) -> str:
        """Record that a step attempt starts (a ``running`` row and ``step_started``)."""
        start = StepStart(step_id, name, step_type, attempt, inputs)
        now = utc_now()
        with self.database.begin(write=True) as conn:
            row = self._fence(conn, run_id, fence)
            step_run_id, event, step_row = self._new_step(run_id, row.tenant_id, fence, start, now)
            self._append_events(conn, run_id, row.tenant_id, [event], now=now, step_row=step_row)
        return step_run_id

    def _end_step(
        self,
        run_id: str,
        fence: Fence,
        step_run_id: str,
        *,
        status: StepStatus,
        event_type: str,
        outputs: Any = None,
        error: str | None = None,
        event_payload: Mapping[str, Any] | None = None,
    ) -> bool:
        now = utc_now()
        with self.database.begin(write=True) as conn:
            run, event = self._end_fenced_step(
                conn, run_id, fence, step_run_id, status, event_type, now, outputs, error
            )
            events = [_with_payload(event, event_payload)]
            self._append_events(conn, run_id, run["tenant_id"], events, now=now)
            return bool(run["cancel_requested"])

    def _end_fenced_step(
        self,
        conn: Connection,
        run_id: str,
        fence: Fence,
        step_run_id: str,
        status: StepStatus,
        event_type: str,
        now: Any,
        outputs: Any,
        error: str | None,
    ) -> tuple[dict[str, Any], EventSpec]:
        """Check *fence* and lock the run (as :meth:`_fence`), and end its running step
        attempt *step_run_id*: the run's ``tenant_id``, ``cancel_requested`` and
        ``started_at``, and the event that says the step ended.

        Raises :class:`LeaseLost` when the claim is lost, :class:`Conflict` when the step
        attempt is not running.
        """
        ended = _fenced_step_end(self.database.dialect, self.runs, self.steps)(
            conn,
            {
                "p_run_id": run_id,
                "p_worker_id": fence.worker_id,
                "p_attempt": fence.attempt,
                "p_step_run_id": step_run_id,
                "p_status": status,
                "p_now": now,
                "p_outputs": outputs,
                "p_error": error,
            },
        )
        if ended is None:
            self._fence(conn, run_id, fence)  # raises LeaseLost if that is why
            raise Conflict(f"step {step_run_id} of run {run_id} is not running")
        payload = {"step_id": ended["step_id"], "attempt": ended["attempt"]}
        if error is not None:
            payload["error"] = error
        return ended, (event_type, payload, step_run_id)

    def advance(
        self,
        run_id: str,
        fence: Fence,
        step_run_id: str,
        result: StepResult,
        *,
        start: StepStart | None = None,
        succeed_with: Any = None,
    ) -> Advanced:
        """Record a step's *result* (as :meth:`complete_step`) and, in the same transaction,
        what follows it: start the attempt *start*, or end the run as succeeded with the
        outputs *succeed_with*, or neither.

        One transaction per step instead of two; the events go in in one statement. The
        next step is not started when the run's cancellation was asked (``Advanced``
        says so); its end as succeeded is written regardless, as a step boundary would.
        """
        now = utc_now()
        with self.database.begin(write=True) as conn:
            row, ended = self._end_fenced_step(
                conn,
                run_id,
                fence,
                step_run_id,
                StepStatus.SUCCEEDED,
                "step_completed",
                now,
                result.outputs,
                None,
            )
            events: list[EventSpec] = [(kind, note, step_run_id) for kind, note in result.notes]
            events.append(_with_payload(ended, result.event_payload))
            tenant_id = row["tenant_id"]
            cancel, next_id, finished = bool(row["cancel_requested"]), None, False
            step_row = None
            if succeed_with is not None:
                end = RunEnd(RunStatus.SUCCEEDED, outputs=succeed_with)
                events.append(self._close_run(conn, run_id, row["started_at"], end, now=now))
                finished = True
            elif start is not None and not cancel:
                next_id, started, step_row = self._new_step(run_id, tenant_id, fence, start, now)
                events.append(started)
            self._append_events(conn, run_id, tenant_id, events, now=now, step_row=step_row)
        return Advanced(cancel, next_id, finished)

    def complete_step(
        self, run_id: str, fence: Fence, step_run_id: str, result: StepResult
    ) -> bool:
        """Record a step's *result* (once: a lost claim raises :class:`LeaseLost`), after
        the events the step noted, in one transaction; nothing follows it (see
        :meth:`advance`).

        Returns whether cancellation of the run has been requested meanwhile.
        """
        return self.advance(run_id, fence, step_run_id, result).cancel_requested

    def fail_step(
        self,
        run_id: str,
        fence: Fence,
        step_run_id: str,
        error: str,
        *,
        final: bool = True,
        event_payload: Mapping[str, Any] | None = None,
        status: StepStatus = StepStatus.FAILED,
    ) -> bool:
        """Record that a step attempt failed (or, with *status*, was cancelled or abandoned).

        *final* says no further attempt will be made; it is kept in the row's
        outputs so a worker that resumes the run knows it too.
        """
        return self._end_step(
            run_id,
            fence,
            step_run_id,
            status=status,
            event_type="step_failed" if status == StepStatus.FAILED else f"step_{status}",
            outputs={"final": final, "error": error},
            error=error,
            event_payload={"final": final} | dict(event_payload or {}),
        )

    def abandon_running_steps(self, run_id: str, fence: Fence, *, reason: str) -> list[str]:
        """Mark the step attempts a lost worker left ``running`` as ``abandoned``."""
        now = utc_now()
        with self.database.begin(write=True) as conn:
            row = self._fence(conn, run_id, fence)
            left = conn.execute(
                update(self.steps)
                .where(self.steps.c.run_id == run_id, self.steps.c.status == StepStatus.RUNNING)
                .values(status=StepStatus.ABANDONED, ended_at=now, error=reason, locked_by=None)
                .returning(self.steps.c.step_run_id, self.steps.c.step_id, self.steps.c.attempt)
            ).all()
            for step_run_id, step_id, attempt in sorted(left, key=lambda s: s.step_id):
                self._append_event(
                    conn,
                    run_id,
                    row.tenant_id,
                    "step_abandoned",
                    {"step_id": step_id, "attempt": attempt, "reason": reason},
                    step_run_id=step_run_id,
                    now=now,
                )
            return [s.step_run_id for s in left]

    def list_steps(self, run_id: str) -> list[dict[str, Any]]:
        """The step attempts of a run, in the order they started."""
        with self.database.begin(write=False) as conn:
            return self._steps_of(conn, run_id)

    # -------------------------------------------------------------------- events
    def append_event(
        self,
        run_id: str,
        event_type: str,
        payload: Mapping[str, Any] | None = None,
        *,
        step_run_id: str | None = None,
        fence: Fence | None = None,
    ) -> int:
        """Append an event to a run's log and return its ``event_seq`` (gap-free, from 1)."""
        with self.database.begin(write=True) as conn:
            tenant = self._hold_run(conn, run_id, fence)
            return self._append_event(
                conn, run_id, tenant, event_type, payload, step_run_id=step_run_id
            )

    def list_events(
        self, run_id: str, *, after_seq: int = 0, limit: int | None = None
    ) -> list[dict[str, Any]]:
        e = self.events
        query = select(e).where(e.c.run_id == run_id, e.c.event_seq > after_seq)
        query = query.order_by(e.c.event_seq)
        if limit is not None:
            query = query.limit(limit)
        with self.database.begin(write=False) as conn:
            return [public(row) for row in conn.execute(query)]
