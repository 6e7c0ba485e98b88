"""Runs as their users see them: submitting (idempotently), reading, listing, cancelling."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import func, insert, select, update

from ...instants import utc_now
from ..errors import Conflict, NotFound
from .base import StoreBase
from .definitions import visible_to
from .records import RunEnd, public
from .statuses import STEP_WAITING_STATUSES, TERMINAL_STATUSES, RunStatus, StepStatus


class Runs(StoreBase):
    """Submit, read, list and cancel runs."""

    def submit_run(
        self,
        workflow_id: int,
        inputs: Mapping[str, Any] | None = None,
        *,
        user_id: str,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """Queue a run of *workflow_id*; the same *user_id* and *idempotency_key* return the
        same run."""
        return self.submit_run_with_status(
            workflow_id, inputs, user_id=user_id, idempotency_key=idempotency_key
        )[0]

    def submit_run_with_status(
        self,
        workflow_id: int,
        inputs: Mapping[str, Any] | None = None,
        *,
        user_id: str,
        idempotency_key: str | None = None,
        run_id: str | None = None,
        for_user: str | None = None,
    ) -> tuple[dict[str, Any], bool]:
        """Like :meth:`submit_run`, and whether a new run was created (False: key replayed).

        An idempotency key is the submitting user's own: it only ever finds a run that
        *user_id* submitted, so two users choosing the same key get a run each.

        With *for_user*, a definition not :func:`visible_to` that user is :class:`NotFound`
        (checked in the same transaction: a submission is one short transaction, because
        submissions arrive in bursts while workers use the database; it announces the run,
        which wakes an idle worker once it commits).
        """
        new_id = run_id or str(uuid.uuid4())
        with self.database.begin(write=True) as conn:
            definition = conn.execute(
                select(self.workflows).where(self.workflows.c.id == workflow_id)
            ).first()
            if definition is None or (
                for_user is not None and not visible_to(definition._mapping, for_user)
            ):
                raise NotFound("workflows", workflow_id)
            if idempotency_key is not None:
                self._serialize(conn, f"idempotency:{self.tenant_id}:{user_id}:{idempotency_key}")
                existing = conn.execute(
                    select(self.runs.c.run_id)
                    .where(
                        self.runs.c.tenant_id == self.tenant_id,
                        self.runs.c.user_id == user_id,
                        self.runs.c.idempotency_key == idempotency_key,
                    )
                    .order_by(self.runs.c.created_at)
                    .limit(1)
                ).scalar_one_or_none()
                if existing is not None:
                    return self._get_run(conn, existing), False
            if not definition.is_active:
                raise Conflict(f"workflow {workflow_id} is deactivated")
            now = utc_now()
            run = conn.execute(
                insert(self.runs)
                .values(
                    run_id=new_id,
                    tenant_id=self.tenant_id,
                    workflow_id=workflow_id,
                    status=RunStatus.QUEUED,
                    user_id=user_id,
                    inputs_json=dict(inputs or {}),
                    created_at=now,
                    definition_version=definition.version,
                    definition_snapshot_json=definition.definition_json,
                    idempotency_key=idempotency_key,
                    cancel_requested=0,
                    attempt=0,
                    **self._queue_number(),
                )
                .returning(*self.runs.c)
            ).one()
            self._append_event(
                conn,
                new_id,
                self.tenant_id,
                "run_queued",
                {"workflow_id": workflow_id, "version": definition.version, "user_id": user_id},
                now=now,
            )
            self._announce_due(conn)
            return public(run), True

    def _queue_number(self) -> dict[str, Any]:
        """The new run's place in the queue, when the database does not number it itself."""
        value = self.database.dialect.identity_value(self.runs.c.queue_seq)
        return {} if value is None else {"queue_seq": value}

    def get_run(self, run_id: str) -> dict[str, Any]:
        with self.database.begin(write=False) as conn:
            return self._get_run(conn, run_id)

    def _run_filters(
        self,
        status: str | Iterable[str] | None,
        workflow_id: int | None,
        user_id: str | None,
    ) -> list[Any]:
        r = self.runs
        filters: list[Any] = [r.c.tenant_id == self.tenant_id]
        if isinstance(status, str):
            filters.append(r.c.status == status)
        elif status is not None:
            filters.append(r.c.status.in_(list(status)))
        if workflow_id is not None:
            filters.append(r.c.workflow_id == workflow_id)
        if user_id is not None:
            filters.append(r.c.user_id == user_id)
        return filters

    def list_runs(
        self,
        *,
        status: str | Iterable[str] | None = None,
        workflow_id: int | None = None,
        user_id: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[dict[str, Any]]:
        """Runs, newest first, filtered and paginated."""
        query = (
            select(self.runs)
            .where(*self._run_filters(status, workflow_id, user_id))
            .order_by(self.runs.c.created_at.desc(), self.runs.c.run_id)
            .limit(limit)
            .offset(offset)
        )
        with self.database.begin(write=False) as conn:
            return [public(row) for row in conn.execute(query)]

    def count_runs(
        self,
        *,
        status: str | Iterable[str] | None = None,
        workflow_id: int | None = None,
        user_id: str | None = None,
    ) -> int:
        query = select(func.count()).select_from(self.runs)
        query = query.where(*self._run_filters(status, workflow_id, user_id))
        with self.database.begin(write=False) as conn:
            return int(conn.execute(query).scalar_one())

    def cancel_run(self, run_id: str, *, reason: str = "cancelled by user") -> dict[str, Any]:
        """Cancel a run: at once when nobody executes it, else ask its worker to stop.

        A queued or waiting run becomes ``cancelled`` immediately; a running one
        gets ``cancel_requested`` and its worker finishes it as ``cancelled`` at
        the next step boundary (a ``delay`` step is interrupted). Cancelling a
        finished run raises :class:`Conflict`.
        """
        with self.database.begin(write=True) as conn:
            run = self._lock_run(conn, run_id)
            if run is None:
                raise NotFound("workflow_runs", run_id)
            if run.status in TERMINAL_STATUSES:
                raise Conflict(f"run {run_id} is already {run.status}")
            now = utc_now()
            if run.status == RunStatus.RUNNING:
                if not run.cancel_requested:
                    conn.execute(
                        update(self.runs)
                        .where(self.runs.c.run_id == run_id)
                        .values(cancel_requested=1, status_reason=reason)
                    )
                    self._append_event(
                        conn, run_id, run.tenant_id, "cancel_requested", {"reason": reason}, now=now
                    )
            else:
                waiting = conn.execute(
                    update(self.steps)
                    .where(
                        self.steps.c.run_id == run_id,
                        self.steps.c.status.in_(STEP_WAITING_STATUSES),
                    )
                    .values(status=StepStatus.CANCELLED, ended_at=now, error=reason)
                    .returning(self.steps.c.step_run_id, self.steps.c.step_id)
                ).all()
                for step_run_id, step_id in waiting:
                    self._append_event(
                        conn,
                        run_id,
                        run.tenant_id,
                        "step_cancelled",
                        {"step_id": step_id},
                        step_run_id=step_run_id,
                        now=now,
                    )
                end = RunEnd(RunStatus.CANCELLED, reason=reason, cancel_requested=True)
                self._finish(conn, run, end, now=now)
            return self._get_run(conn, run_id)
