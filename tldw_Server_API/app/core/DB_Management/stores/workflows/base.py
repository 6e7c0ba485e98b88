"""What every part of the workflows store shares: its tables, and the few writes that
hold its guarantees (the run lock, the gap-free event log, the claim fence, ending a run)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    Connection,
    Executable,
    Insert,
    Select,
    Table,
    and_,
    bindparam,
    exists,
    func,
    insert,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.sql.elements import ColumnElement

from ...backends.base import Database, DialectOps
from ...instants import to_instant, utc_now
from .._common import AnyRow
from ..errors import NotFound
from .records import DEFAULT_TENANT, UNCLAIMED, Fence, LeaseLost, RunEnd, StepStart, public
from .statuses import RunStatus, StepStatus, WorkerStatus

#: The topic announced whenever a run becomes due (see ``backends/wakes.py``).
RUNS_TOPIC = "workflow_runs"
#: The topic announced whenever a run settles: ends, or waits for a human decision.
SETTLED_TOPIC = "workflow_runs_settled"

#: One event to append: its type, payload and step attempt (None: the run's own event).
EventSpec = tuple[str, Mapping[str, Any], str | None]

#: The event each way of ending a run records.
END_EVENTS = {
    RunStatus.SUCCEEDED: "run_completed",
    RunStatus.FAILED: "run_failed",
    RunStatus.CANCELLED: "run_cancelled",
}


# The statements every step executes are built once per table: SQLAlchemy then finds their
# compiled form by the statement object itself, without building and hashing a new one.


@cache
def _event_insert(events: Table) -> Executable:
    """The event insert of :meth:`StoreBase._append_event` (parameters ``p_*``)."""
    next_seq = (
        select(func.coalesce(func.max(events.c.event_seq), 0) + 1)
        .where(events.c.run_id == bindparam("p_run_id"))
        .scalar_subquery()
    )
    return (
        insert(events)
        .values(
            tenant_id=bindparam("p_tenant_id"),
            run_id=bindparam("p_run_id"),
            step_run_id=bindparam("p_step_run_id"),
            event_seq=next_seq,
            event_type=bindparam("p_event_type"),
            payload_json=bindparam("p_payload", type_=events.c.payload_json.type),
            created_at=bindparam("p_created_at", type_=events.c.created_at.type),
        )
        .returning(events.c.event_seq)
    )


@cache
def _events_insert(events: Table, count: int) -> Insert:
    """*count* events in one ``INSERT ... SELECT``, numbered ``max + 1`` to ``max + count``.

    The maximum is read once, before any row is inserted (PostgreSQL evaluates the
    statement against one snapshot; SQLite first materialises a ``SELECT`` that reads the
    table it inserts into), so the numbers are consecutive. Parameters: ``p_run_id``,
    ``p_tenant_id``, ``p_created_at``, and ``p_type_<i>``, ``p_payload_<i>``,
    ``p_step_<i>`` per event.
    """
    last = (
        select(func.coalesce(func.max(events.c.event_seq), 0))
        .where(events.c.run_id == bindparam("p_run_id"))
        .scalar_subquery()
    )
    text_type = events.c.event_type.type
    rows = [
        select(
            bindparam("p_tenant_id", type_=events.c.tenant_id.type).label("tenant_id"),
            bindparam("p_run_id", type_=events.c.run_id.type).label("run_id"),
            bindparam(f"p_step_{i}", type_=events.c.step_run_id.type).label("step_run_id"),
            (last + (i + 1)).label("event_seq"),
            bindparam(f"p_type_{i}", type_=text_type).label("event_type"),
            bindparam(f"p_payload_{i}", type_=events.c.payload_json.type).label("payload_json"),
            bindparam("p_created_at", type_=events.c.created_at.type).label("created_at"),
        )
        for i in range(count)
    ]
    columns = ["tenant_id", "run_id", "step_run_id", "event_seq", "event_type", "payload_json"]
    return insert(events).from_select([*columns, "created_at"], union_all(*rows))


@cache
def _step_insert(steps: Table) -> Insert:
    """A step attempt's ``running`` row (see :meth:`Journal.start_step`; built once)."""
    instant = steps.c.started_at.type
    return insert(steps).values(
        step_run_id=bindparam("p_step_run_id"),
        tenant_id=bindparam("p_tenant_id"),
        run_id=bindparam("p_run_id"),
        step_id=bindparam("p_step_id"),
        name=bindparam("p_name"),
        type=bindparam("p_type"),
        status=StepStatus.RUNNING,
        attempt=bindparam("p_attempt"),
        started_at=bindparam("p_now", type_=instant),
        inputs_json=bindparam("p_inputs", type_=steps.c.inputs_json.type),
        locked_by=bindparam("p_worker_id"),
        locked_at=bindparam("p_now", type_=instant),
        heartbeat_at=bindparam("p_now", type_=instant),
    )


@cache
def _step_and_events_insert(
    dialect: DialectOps, steps: Table, events: Table, count: int
) -> Insert | None:
    """A step attempt's row and *count* events in one statement, where the dialect has one."""
    return dialect.write_together(_step_insert(steps), _events_insert(events, count))


@cache
def fence_lock(runs: Table) -> Select[Any]:
    """The fence check of :meth:`StoreBase._fence`: the run ``p_run_id`` still held by the
    claim ``p_worker_id``/``p_attempt``, locked (its key first, for ``picked_update``)."""
    return (
        select(runs.c.run_id, runs.c.tenant_id, runs.c.cancel_requested, runs.c.started_at)
        .where(
            runs.c.run_id == bindparam("p_run_id"),
            runs.c.locked_by == bindparam("p_worker_id"),
            runs.c.attempt == bindparam("p_attempt"),
            runs.c.status == RunStatus.RUNNING,
        )
        .with_for_update()
    )


@cache
def _steps_of_run(steps: Table, events: Table) -> Executable:
    """The step attempts of run ``p_run_id`` in the order they started (built once)."""
    s, e = steps, events
    run_id = bindparam("p_run_id", type_=s.c.run_id.type)
    started_seq = (
        select(func.min(e.c.event_seq))
        .where(
            e.c.run_id == run_id,
            e.c.step_run_id == s.c.step_run_id,
            e.c.event_type == "step_started",
        )
        .scalar_subquery()
    )
    return (
        select(s)
        .where(s.c.run_id == run_id)
        .order_by(s.c.started_at, started_seq, s.c.attempt, s.c.step_run_id)
    )


@cache
def _run_end(runs: Table, columns: frozenset[str]) -> Executable:
    """The end of run ``p_run_id``: unclaimed, with *columns* set from the parameters
    ``p_<column>`` (see :meth:`StoreBase._close_run`; built once per set of columns)."""
    values = {name: bindparam(f"p_{name}", type_=runs.c[name].type) for name in columns}
    return (
        update(runs)
        .where(runs.c.run_id == bindparam("p_run_id"))
        .values(**values, **UNCLAIMED, next_attempt_at=None)
    )


def _events_params(
    run_id: str, tenant_id: str, events: list[EventSpec], now: datetime
) -> dict[str, Any]:
    """The parameters of :func:`_events_insert` for *events*."""
    params: dict[str, Any] = {"p_run_id": run_id, "p_tenant_id": tenant_id, "p_created_at": now}
    for i, (event_type, payload, step_run_id) in enumerate(events):
        params[f"p_type_{i}"] = event_type
        params[f"p_payload_{i}"] = dict(payload)
        params[f"p_step_{i}"] = step_run_id
    return params


def is_open(runs: Table) -> ColumnElement[bool]:
    """Queued or running (two comparisons: an ``IN`` list is rendered anew per statement)."""
    return or_(runs.c.status == RunStatus.QUEUED, runs.c.status == RunStatus.RUNNING)


def orphaned(runs: Table, workers: Table, now: Any) -> ColumnElement[bool]:
    """A running run nobody keeps alive at *now* (an instant, or a parameter for one): its
    worker's lease and its claim's first lease both ran out (or it has neither: a run that
    arrived by migration while running)."""
    r, w = runs, workers
    live_worker = exists().where(
        w.c.worker_id == r.c.locked_by,
        w.c.status == WorkerStatus.RUNNING,
        w.c.lease_expires_at > now,
    )
    return and_(
        r.c.status == RunStatus.RUNNING,
        or_(r.c.lease_expires_at.is_(None), r.c.lease_expires_at < now),
        ~live_worker,
    )


def due(runs: Table, workers: Table, now: Any) -> ColumnElement[bool]:
    """What makes a run claimable at *now*: queued and due, or orphaned (see :func:`orphaned`)."""
    queued = and_(
        runs.c.status == RunStatus.QUEUED,
        or_(runs.c.next_attempt_at.is_(None), runs.c.next_attempt_at <= now),
    )
    return or_(queued, orphaned(runs, workers, now))


class StoreBase:
    """The tables of one workflows database, and the writes every part builds on."""

    def __init__(self, database: Database, *, tenant_id: str = DEFAULT_TENANT) -> None:
        self.database = database
        self.tenant_id = tenant_id
        self.workflows = database.table("workflows")
        self.runs = database.table("workflow_runs")
        self.steps = database.table("workflow_steps")
        self.events = database.table("workflow_events")
        self.artifacts = database.table("workflow_artifacts")
        self.workers = database.table("workflow_workers")

    def _serialize(self, conn: Connection, token: str) -> None:
        """Serialise the writers that share *token* until the transaction ends."""
        self.database.dialect.serialize(conn, f"workflows:{token}")

    def _lock_run(self, conn: Connection, run_id: str) -> AnyRow | None:
        """Lock the run's row for the rest of the transaction and return it."""
        return conn.execute(
            select(self.runs).where(self.runs.c.run_id == run_id).with_for_update()
        ).first()

    def _hold_run(self, conn: Connection, run_id: str, fence: Fence | None) -> str:
        """Lock the run for this write, through *fence* when a claim makes it; its tenant."""
        if fence is not None:
            return str(self._fence(conn, run_id, fence).tenant_id)
        run = self._lock_run(conn, run_id)
        if run is None:
            raise NotFound("workflow_runs", run_id)
        return str(run.tenant_id)

    def _append_event(
        self,
        conn: Connection,
        run_id: str,
        tenant_id: str,
        event_type: str,
        payload: Mapping[str, Any] | None = None,
        *,
        step_run_id: str | None = None,
        now: datetime | None = None,
    ) -> int:
        """Insert one event with the next ``event_seq``; the run's row must be locked.

        One round trip: the insert computes the sequence itself.
        """
        inserted = conn.execute(
            _event_insert(self.events),
            {
                "p_tenant_id": tenant_id,
                "p_run_id": run_id,
                "p_step_run_id": step_run_id,
                "p_event_type": event_type,
                "p_payload": dict(payload or {}),
                "p_created_at": now or utc_now(),
            },
        ).scalar_one()
        return int(inserted)

    def _append_events(
        self,
        conn: Connection,
        run_id: str,
        tenant_id: str,
        events: list[EventSpec],
        *,
        now: datetime,
        step_row: Mapping[str, Any] | None = None,
    ) -> None:
        """Insert *events*, in order, with the next ``event_seq`` values: one statement
        (the run's row must be locked, as for :meth:`_append_event`); and first the step
        attempt's row *step_row* (see :meth:`_new_step`), in the same statement where the
        dialect can."""
        if step_row is not None:
            dialect = self.database.dialect
            together = _step_and_events_insert(dialect, self.steps, self.events, len(events))
            if together is not None:
                params = _events_params(run_id, tenant_id, events, now)
                conn.execute(together, {**step_row, **params})
                return
            conn.execute(_step_insert(self.steps), step_row)
        if len(events) == 1:
            event_type, payload, step_run_id = events[0]
            self._append_event(
                conn, run_id, tenant_id, event_type, payload, step_run_id=step_run_id, now=now
            )
            return
        params = _events_params(run_id, tenant_id, events, now)
        conn.execute(_events_insert(self.events, len(events)), params)

    def _new_step(
        self, run_id: str, tenant_id: str, fence: Fence, start: StepStart, now: Any
    ) -> tuple[str, EventSpec, dict[str, Any]]:
        """The ``running`` row of *start*, for :meth:`_append_events` to insert: its id, its
        ``step_started`` event, and the row's parameters."""
        step_run_id = str(uuid.uuid4())
        row = {
            "p_step_run_id": step_run_id,
            "p_tenant_id": tenant_id,
            "p_run_id": run_id,
            "p_step_id": start.step_id,
            "p_name": start.name,
            "p_type": start.type,
            "p_attempt": start.attempt,
            "p_now": now,
            "p_inputs": start.inputs,
            "p_worker_id": fence.worker_id,
        }
        payload = {"step_id": start.step_id, "type": start.type, "attempt": start.attempt}
        return step_run_id, ("step_started", payload, step_run_id), row

    def _fence(self, conn: Connection, run_id: str, fence: Fence) -> AnyRow:
        """Check that *fence* still holds the run, and lock its row, in one statement; or raise.

        The claim's liveness is its worker's heartbeat (``heartbeat_worker``), so a
        fenced write need not refresh anything on the run.
        """
        row = conn.execute(
            fence_lock(self.runs),
            {"p_run_id": run_id, "p_worker_id": fence.worker_id, "p_attempt": fence.attempt},
        ).first()
        if row is None:
            raise LeaseLost(f"run {run_id}: claim {fence.worker_id}#{fence.attempt} is lost")
        return row

    def _announce_due(self, conn: Connection) -> None:
        """Wake the idle workers (of any process that listens) once this transaction commits:
        a run is due."""
        self.database.announce(conn, RUNS_TOPIC)

    def _announce_settled(self, conn: Connection) -> None:
        """Wake whoever waits for runs to settle (``?mode=sync``) once this transaction
        commits: a run ended or waits for a human."""
        self.database.announce(conn, SETTLED_TOPIC)

    def _claimable(self, now: datetime) -> Any:
        """Whether some run is due: a scalar subquery (for the worker heartbeat)."""
        return exists().where(is_open(self.runs), due(self.runs, self.workers, now))

    def _steps_of(self, conn: Connection, run_id: str) -> list[dict[str, Any]]:
        """The step attempts of a run, in the order they started (see ``list_steps``)."""
        rows = conn.execute(_steps_of_run(self.steps, self.events), {"p_run_id": run_id})
        return [public(row) for row in rows]

    def _get_run(self, conn: Connection, run_id: str) -> dict[str, Any]:
        row = conn.execute(select(self.runs).where(self.runs.c.run_id == run_id)).first()
        if row is None:
            raise NotFound("workflow_runs", run_id)
        return public(row)

    def _finish(self, conn: Connection, run: AnyRow, end: RunEnd, *, now: datetime) -> None:
        """End *run* (locked) as *end* says, and say so in its log."""
        event = self._close_run(conn, run.run_id, run.started_at, end, now=now)
        self._append_events(conn, run.run_id, run.tenant_id, [event], now=now)

    def _close_run(
        self, conn: Connection, run_id: str, started_at: Any, end: RunEnd, *, now: datetime
    ) -> EventSpec:
        """Write the end of run *run_id* (locked) as *end* says; the event that says so, for
        the caller to append with the others of its transaction."""
        values: dict[str, Any] = {"status": end.status, "ended_at": now}
        started = to_instant(started_at) if started_at is not None else None
        if started is not None:
            values["duration_ms"] = int((now - started).total_seconds() * 1000)
        if end.outputs is not None:
            values["outputs_json"] = end.outputs
        if end.error is not None:
            values["error"] = end.error
        if end.reason is not None:
            values["status_reason"] = end.reason
        if end.cancel_requested is not None:
            values["cancel_requested"] = int(end.cancel_requested)
        params = {f"p_{name}": value for name, value in values.items()}
        conn.execute(_run_end(self.runs, frozenset(values)), {"p_run_id": run_id, **params})
        self._announce_settled(conn)
        payload: dict[str, Any] = {"status": end.status}
        if end.error is not None:
            payload["error"] = end.error
        if end.reason is not None:
            payload["reason"] = end.reason
        return END_EVENTS[end.status], payload, None


__all__ = [
    "END_EVENTS",
    "RUNS_TOPIC",
    "SETTLED_TOPIC",
    "EventSpec",
    "StoreBase",
    "due",
    "fence_lock",
    "is_open",
]
