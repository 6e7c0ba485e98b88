"""The Workflows store: definitions, runs, steps, events, artifacts, claims and workers.

One :class:`WorkflowStore` serves both backends through a
:class:`~..backends.base.Database` handle; every public method is one
transaction. The workflow runtime (``app/core/Workflows``) is a client of this
store like any other: it claims runs, heartbeats them and records what happens
through the methods below, so several processes (or machines) can run workers
against one database.

Guarantees
----------
* **Gap-free event log.** ``event_seq`` is allocated as ``max + 1`` inside the
  transaction that inserts the event, after the run's row has been locked
  (``SELECT ... FOR UPDATE`` on PostgreSQL; on SQLite every writer holds the
  database lock from ``BEGIN IMMEDIATE``). Concurrent writers to one run are
  therefore serialised and never produce a gap or a duplicate.
* **Fenced writes.** A claim increments the run's ``attempt``; the pair
  ``(locked_by, attempt)`` is the claim's :class:`Fence`. Every write the
  engine makes on behalf of a claim checks (and refreshes) that fence in the
  same transaction, so a worker that lost its lease (its run was taken over)
  can never record a step result a second time: it gets :class:`LeaseLost`.
* **Claims.** :meth:`WorkflowStore.claim_next_run` takes, atomically, a running
  run whose lease expired (its worker died) or else the oldest queued run that
  is due (``next_attempt_at`` passed). ``FOR UPDATE SKIP LOCKED`` on PostgreSQL
  lets many workers claim at once without waiting on each other.
"""

from __future__ import annotations

import uuid
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Connection,
    Row,
    and_,
    delete,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError

from ..backends.base import Database
from ..instants import to_instant, utc_now
from ._common import AnyRow
from .errors import NotFound, StoreError

DEFAULT_TENANT = "default"
DEFAULT_LEASE_SECONDS = 10.0
RECENT_WINDOW_SECONDS = 300

QUEUED = "queued"
RUNNING = "running"
SUCCEEDED = "succeeded"
FAILED = "failed"
CANCELLED = "cancelled"
WAITING_HUMAN = "waiting_human"
TERMINAL_STATUSES = (SUCCEEDED, FAILED, CANCELLED)
WAITING_STATUSES = (WAITING_HUMAN, "waiting_approval", "paused")
RUN_STATUSES = (QUEUED, RUNNING, "paused", WAITING_HUMAN, "waiting_approval", *TERMINAL_STATUSES)

# Step rows: one per attempt of a step.
STEP_RUNNING = "running"
STEP_SUCCEEDED = "succeeded"
STEP_FAILED = "failed"
STEP_WAITING = "waiting"
STEP_ABANDONED = "abandoned"  # its worker died or stopped mid-step; the step is run again
STEP_CANCELLED = "cancelled"
#: A step holding its run for a decision: ours say ``waiting``; older servers wrote the
#: run's own waiting status on the step, and their rows arrive that way by migration.
STEP_WAITING_STATUSES = (STEP_WAITING, *WAITING_STATUSES)

#: ``status_reason`` of a run failed because its definition uses a step type this server
#: does not have (counted by :meth:`WorkflowStore.status_summary`).
UNAVAILABLE_STEP_TYPE = "unavailable_step_type"


class WorkflowStoreError(StoreError):
    """Base class of the errors only the workflows store raises."""


class Conflict(WorkflowStoreError):
    """The operation does not apply in the run's current state (e.g. cancel a finished run)."""


class LeaseLost(WorkflowStoreError):
    """The claim this write was made under is no longer held: the run was taken over."""


@dataclass(frozen=True)
class Fence:
    """The identity of one claim: the worker and the run's ``attempt`` it set."""

    worker_id: str
    attempt: int
    lease_seconds: float = DEFAULT_LEASE_SECONDS


@dataclass(frozen=True)
class HeldStep:
    """The step a waiting run is held at, as its definition says (see ``decide_human``)."""

    step_id: str
    name: str | None
    type: str
    attempt: int
    #: The step is itself the wait for a decision (``wait_for_human``), not a step to run.
    awaits_decision: bool


@dataclass(frozen=True)
class Lease:
    """What :meth:`WorkflowStore.heartbeat` learnt: whether the lease is still held."""

    held: bool
    cancel_requested: bool = False
    lease_expires_at: datetime | None = None

    def __bool__(self) -> bool:
        return self.held


_JSON_FIELDS = {
    "definition_json": "definition",
    "inputs_json": "inputs",
    "outputs_json": "outputs",
    "definition_snapshot_json": "definition_snapshot",
    "payload_json": "payload",
    "metadata_json": "metadata",
}


def _public(row: AnyRow | Mapping[str, Any]) -> dict[str, Any]:
    """A row as a plain dict; ``*_json`` columns appear under their name without the suffix."""
    mapping = row._mapping if isinstance(row, Row) else row
    out: dict[str, Any] = {}
    for key, value in mapping.items():
        out[_JSON_FIELDS.get(key, key)] = value
    if "cancel_requested" in out:
        out["cancel_requested"] = bool(out["cancel_requested"])
    if "is_active" in out:
        out["is_active"] = bool(out["is_active"])
    return out


def visible_to(definition: Mapping[Any, Any], user_id: str) -> bool:
    """Whether *user_id* may see and run *definition*: their own, or not private."""
    return definition["owner_id"] == user_id or definition["visibility"] != "private"


def _seconds_between(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return (end - start).total_seconds()


class WorkflowStore:
    """Definitions, runs, steps, events, artifacts and workers of one workflows database."""

    def __init__(self, database: Database, *, tenant_id: str = DEFAULT_TENANT) -> None:
        self.database = database
        self.tenant_id = tenant_id
        self.workflows = database.table("workflows")
        self.runs = database.table("workflow_runs")
        self.steps = database.table("workflow_steps")
        self.events = database.table("workflow_events")
        self.artifacts = database.table("workflow_artifacts")
        self.workers = database.table("workflow_workers")

    # ------------------------------------------------------------------ helpers
    def _serialize(self, conn: Connection, token: str) -> None:
        """Serialise writers that share *token* until the transaction ends.

        SQLite writers already hold the database lock (``BEGIN IMMEDIATE``); on
        PostgreSQL a transaction-scoped advisory lock does it.
        """
        if self.database.kind == "postgresql":
            key = zlib.crc32(f"tldw:workflows:{token}".encode())
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})

    def _lock_run(self, conn: Connection, run_id: str) -> AnyRow | None:
        """Lock the run's row for the rest of the transaction and return it."""
        return conn.execute(
            select(self.runs).where(self.runs.c.run_id == run_id).with_for_update()
        ).first()

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
        events = self.events
        next_seq = (
            select(func.coalesce(func.max(events.c.event_seq), 0) + 1)
            .where(events.c.run_id == run_id)
            .scalar_subquery()
        )
        inserted = conn.execute(
            insert(events)
            .values(
                tenant_id=tenant_id,
                run_id=run_id,
                step_run_id=step_run_id,
                event_seq=next_seq,
                event_type=event_type,
                payload_json=dict(payload or {}),
                created_at=now or utc_now(),
            )
            .returning(events.c.event_seq)
        ).scalar_one()
        return int(inserted)

    def _fence(self, conn: Connection, run_id: str, fence: Fence) -> AnyRow:
        """Check that *fence* still holds the run (and lock and refresh its lease), or raise."""
        now = utc_now()
        result = conn.execute(
            update(self.runs)
            .where(
                self.runs.c.run_id == run_id,
                self.runs.c.locked_by == fence.worker_id,
                self.runs.c.attempt == fence.attempt,
                self.runs.c.status == RUNNING,
            )
            .values(
                heartbeat_at=now,
                lease_expires_at=now + timedelta(seconds=fence.lease_seconds),
            )
        )
        if result.rowcount != 1:
            raise LeaseLost(f"run {run_id}: claim {fence.worker_id}#{fence.attempt} is lost")
        row = conn.execute(
            select(
                self.runs.c.tenant_id,
                self.runs.c.cancel_requested,
                self.runs.c.started_at,
            ).where(self.runs.c.run_id == run_id)
        ).one()
        return row

    # -------------------------------------------------------------- definitions
    def create_definition(
        self,
        name: str,
        definition: Mapping[str, Any],
        *,
        owner_id: str,
        description: str | None = None,
        tags: Sequence[str] | str | None = None,
        visibility: str = "private",
    ) -> dict[str, Any]:
        """Store *definition* under *name*: version 1, or the next version of the owner's
        definition of that name (names are per owner: two users' "payroll" are two
        workflows, each with its own versions)."""
        tag_text = ",".join(tags) if isinstance(tags, list | tuple) else tags
        for _ in range(5):
            try:
                with self.database.begin(write=True) as conn:
                    self._serialize(conn, f"definition:{self.tenant_id}:{owner_id}:{name}")
                    latest = conn.execute(
                        select(func.max(self.workflows.c.version)).where(
                            self.workflows.c.tenant_id == self.tenant_id,
                            self.workflows.c.owner_id == owner_id,
                            self.workflows.c.name == name,
                        )
                    ).scalar_one()
                    version = int(latest or 0) + 1
                    now = utc_now()
                    body = dict(definition) | {"name": name, "version": version}
                    new_id = conn.execute(
                        insert(self.workflows)
                        .values(
                            tenant_id=self.tenant_id,
                            name=name,
                            version=version,
                            owner_id=owner_id,
                            visibility=visibility,
                            description=description,
                            tags=tag_text,
                            definition_json=body,
                            created_at=now,
                            updated_at=now,
                            is_active=1,
                        )
                        .returning(self.workflows.c.id)
                    ).scalar_one()
                return self.get_definition(int(new_id))
            except IntegrityError:  # a concurrent creator took this version: take the next
                continue
        raise Conflict(f"could not allocate a version for workflow {name!r}")

    def get_definition(self, workflow_id: int) -> dict[str, Any]:
        with self.database.begin(write=False) as conn:
            row = conn.execute(
                select(self.workflows).where(self.workflows.c.id == workflow_id)
            ).first()
        if row is None:
            raise NotFound("workflows", workflow_id)
        return _public(row)

    def get_definition_by_name(
        self, name: str, version: int | None = None, *, owner_id: str
    ) -> dict[str, Any]:
        """The given version of *owner_id*'s *name*, or its newest active version."""
        query = select(self.workflows).where(
            self.workflows.c.tenant_id == self.tenant_id,
            self.workflows.c.owner_id == owner_id,
            self.workflows.c.name == name,
        )
        if version is None:
            query = query.where(self.workflows.c.is_active == 1)
        else:
            query = query.where(self.workflows.c.version == version)
        with self.database.begin(write=False) as conn:
            row = conn.execute(query.order_by(self.workflows.c.version.desc()).limit(1)).first()
        if row is None:
            raise NotFound("workflows", name, f"version {version or 'latest active'}")
        return _public(row)

    def list_definitions(
        self,
        *,
        name: str | None = None,
        owner_id: str | None = None,
        include_inactive: bool = False,
        latest_only: bool = False,
        limit: int = 100,
        offset: int = 0,
    ) -> list[dict[str, Any]]:
        """Definitions by name, newest version first. *owner_id* keeps the owner's and the
        ones :func:`visible_to` everyone. A name's versions are its owner's: *latest_only*
        keeps the newest version of each owner's name."""
        w = self.workflows
        query = select(w).where(w.c.tenant_id == self.tenant_id)
        if name is not None:
            query = query.where(w.c.name == name)
        if owner_id is not None:
            query = query.where(or_(w.c.owner_id == owner_id, w.c.visibility != "private"))
        if not include_inactive:
            query = query.where(w.c.is_active == 1)
        if latest_only:
            newer = w.alias("newer")
            newer_exists = (
                select(newer.c.id)
                .where(
                    newer.c.tenant_id == w.c.tenant_id,
                    newer.c.owner_id == w.c.owner_id,
                    newer.c.name == w.c.name,
                    newer.c.version > w.c.version,
                )
                .exists()
            )
            if not include_inactive:
                newer_exists = (
                    select(newer.c.id)
                    .where(
                        newer.c.tenant_id == w.c.tenant_id,
                        newer.c.owner_id == w.c.owner_id,
                        newer.c.name == w.c.name,
                        newer.c.version > w.c.version,
                        newer.c.is_active == 1,
                    )
                    .exists()
                )
            query = query.where(~newer_exists)
        query = query.order_by(w.c.name, w.c.owner_id, w.c.version.desc())
        query = query.limit(limit).offset(offset)
        with self.database.begin(write=False) as conn:
            return [_public(row) for row in conn.execute(query)]

    def deactivate_definition(self, workflow_id: int) -> dict[str, Any]:
        """Hide a definition version from new runs (existing runs keep their snapshot)."""
        with self.database.begin(write=True) as conn:
            result = conn.execute(
                update(self.workflows)
                .where(self.workflows.c.id == workflow_id)
                .values(is_active=0, updated_at=utc_now())
            )
            if result.rowcount != 1:
                raise NotFound("workflows", workflow_id)
        return self.get_definition(workflow_id)

    # ---------------------------------------------------------------------- runs
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
        (checked in the same transaction: a submission is one transaction of five round
        trips, because submissions arrive in bursts while workers use the database).
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
                    status=QUEUED,
                    user_id=user_id,
                    inputs_json=dict(inputs or {}),
                    created_at=now,
                    definition_version=definition.version,
                    definition_snapshot_json=definition.definition_json,
                    idempotency_key=idempotency_key,
                    cancel_requested=0,
                    attempt=0,
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
            return _public(run), True

    def _get_run(self, conn: Connection, run_id: str) -> dict[str, Any]:
        row = conn.execute(select(self.runs).where(self.runs.c.run_id == run_id)).first()
        if row is None:
            raise NotFound("workflow_runs", run_id)
        return _public(row)

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
            return [_public(row) for row in conn.execute(query)]

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
            if run.status == RUNNING:
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
                    .values(status=STEP_CANCELLED, ended_at=now, error=reason)
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
                self._finish(conn, run, CANCELLED, now=now, reason=reason, cancel_requested=True)
            return self._get_run(conn, run_id)

    def _finish(
        self,
        conn: Connection,
        run: AnyRow,
        status: str,
        *,
        now: datetime,
        outputs: Any = None,
        error: str | None = None,
        reason: str | None = None,
        cancel_requested: bool | None = None,
    ) -> None:
        values: dict[str, Any] = {
            "status": status,
            "ended_at": now,
            "locked_by": None,
            "locked_at": None,
            "lease_expires_at": None,
            "next_attempt_at": None,
        }
        started = to_instant(run.started_at) if run.started_at is not None else None
        if started is not None:
            values["duration_ms"] = int((now - started).total_seconds() * 1000)
        if outputs is not None:
            values["outputs_json"] = outputs
        if error is not None:
            values["error"] = error
        if reason is not None:
            values["status_reason"] = reason
        if cancel_requested is not None:
            values["cancel_requested"] = int(cancel_requested)
        conn.execute(update(self.runs).where(self.runs.c.run_id == run.run_id).values(**values))
        event = {SUCCEEDED: "run_completed", FAILED: "run_failed", CANCELLED: "run_cancelled"}[
            status
        ]
        payload: dict[str, Any] = {"status": status}
        if error is not None:
            payload["error"] = error
        if reason is not None:
            payload["reason"] = reason
        self._append_event(conn, run.run_id, run.tenant_id, event, payload, now=now)

    # --------------------------------------------------------------------- claims
    def _due_conditions(self, now: datetime) -> list[Any]:
        """What makes a run claimable, in the order claims prefer them."""
        r = self.runs
        return [
            and_(
                r.c.status == RUNNING,
                or_(r.c.lease_expires_at.is_(None), r.c.lease_expires_at < now),
            ),
            and_(
                r.c.status == QUEUED,
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
            if run.status == RUNNING:
                reason = "taken_over"
            elif run.started_at is None:
                reason = "new"
            else:
                reason = "resumed"
            conn.execute(
                update(r)
                .where(r.c.run_id == run_id)
                .values(
                    status=RUNNING,
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
                .where(r.c.run_id == run_id, r.c.locked_by == worker_id, r.c.status == RUNNING)
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
                    status=QUEUED,
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
        status: str,
        *,
        outputs: Any = None,
        error: str | None = None,
        reason: str | None = None,
    ) -> dict[str, Any]:
        """End a claimed run as ``succeeded``, ``failed`` or ``cancelled``."""
        if status not in TERMINAL_STATUSES:
            raise ValueError(f"{status!r} is not a final status")
        with self.database.begin(write=True) as conn:
            self._fence(conn, run_id, fence)
            run = conn.execute(select(self.runs).where(self.runs.c.run_id == run_id)).one()
            self._finish(
                conn, run, status, now=utc_now(), outputs=outputs, error=error, reason=reason
            )
            return self._get_run(conn, run_id)

    def park_for_human(
        self,
        run_id: str,
        fence: Fence,
        step_run_id: str,
        *,
        prompt: str | None = None,
        details: Mapping[str, Any] | None = None,
        status: str = WAITING_HUMAN,
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
                    self.steps.c.status == STEP_RUNNING,
                )
                .values(status=STEP_WAITING, outputs_json={"prompt": prompt, **dict(details or {})})
            )
            if result.rowcount != 1:
                raise Conflict(f"step {step_run_id} is not running")
            conn.execute(
                update(self.runs)
                .where(self.runs.c.run_id == run_id)
                .values(
                    status=status,
                    status_reason=prompt or "waiting for a human decision",
                    locked_by=None,
                    locked_at=None,
                    lease_expires_at=None,
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
                self._finish(conn, run, FAILED, now=now, error=error, reason="rejected")
            else:
                conn.execute(
                    update(self.runs)
                    .where(self.runs.c.run_id == run_id)
                    .values(
                        status=QUEUED,
                        status_reason="approved" if approved else "rejected",
                        next_attempt_at=None,
                    )
                )
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
                status=STEP_WAITING,
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
                status=STEP_SUCCEEDED if approved else STEP_FAILED,
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

    # --------------------------------------------------------------------- steps
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
        step_run_id = str(uuid.uuid4())
        now = utc_now()
        with self.database.begin(write=True) as conn:
            row = self._fence(conn, run_id, fence)
            conn.execute(
                insert(self.steps).values(
                    step_run_id=step_run_id,
                    tenant_id=row.tenant_id,
                    run_id=run_id,
                    step_id=step_id,
                    name=name,
                    type=step_type,
                    status=STEP_RUNNING,
                    attempt=attempt,
                    started_at=now,
                    inputs_json=inputs,
                    locked_by=fence.worker_id,
                    locked_at=now,
                    heartbeat_at=now,
                )
            )
            self._append_event(
                conn,
                run_id,
                row.tenant_id,
                "step_started",
                {"step_id": step_id, "type": step_type, "attempt": attempt},
                step_run_id=step_run_id,
                now=now,
            )
        return step_run_id

    def _end_step(
        self,
        run_id: str,
        fence: Fence,
        step_run_id: str,
        *,
        status: str,
        event_type: str,
        outputs: Any = None,
        error: str | None = None,
        event_payload: Mapping[str, Any] | None = None,
        notes: Sequence[tuple[str, Mapping[str, Any]]] = (),
    ) -> bool:
        now = utc_now()
        with self.database.begin(write=True) as conn:
            row = self._fence(conn, run_id, fence)
            step = conn.execute(
                update(self.steps)
                .where(
                    self.steps.c.step_run_id == step_run_id,
                    self.steps.c.run_id == run_id,
                    self.steps.c.status == STEP_RUNNING,
                )
                .values(
                    status=status,
                    ended_at=now,
                    outputs_json=outputs,
                    error=error,
                    locked_by=None,
                    lock_expires_at=None,
                )
                .returning(self.steps.c.step_id, self.steps.c.attempt)
            ).first()
            if step is None:
                raise Conflict(f"step {step_run_id} of run {run_id} is not running")
            payload = {"step_id": step.step_id, "attempt": step.attempt}
            if error is not None:
                payload["error"] = error
            payload |= dict(event_payload or {})
            for note_type, note in notes:
                self._append_event(
                    conn, run_id, row.tenant_id, note_type, note, step_run_id=step_run_id, now=now
                )
            self._append_event(
                conn, run_id, row.tenant_id, event_type, payload, step_run_id=step_run_id, now=now
            )
            return bool(row.cancel_requested)

    def complete_step(
        self,
        run_id: str,
        fence: Fence,
        step_run_id: str,
        outputs: Any,
        *,
        event_payload: Mapping[str, Any] | None = None,
        notes: Sequence[tuple[str, Mapping[str, Any]]] = (),
    ) -> bool:
        """Record a step's result (once: a lost claim raises :class:`LeaseLost`), after
        the events the step noted (*notes*: type and payload), in one transaction.

        Returns whether cancellation of the run has been requested meanwhile.
        """
        return self._end_step(
            run_id,
            fence,
            step_run_id,
            status=STEP_SUCCEEDED,
            event_type="step_completed",
            outputs=outputs,
            event_payload=event_payload,
            notes=notes,
        )

    def fail_step(
        self,
        run_id: str,
        fence: Fence,
        step_run_id: str,
        error: str,
        *,
        final: bool = True,
        event_payload: Mapping[str, Any] | None = None,
        status: str = STEP_FAILED,
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
            event_type="step_failed" if status == STEP_FAILED else f"step_{status}",
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
                .where(self.steps.c.run_id == run_id, self.steps.c.status == STEP_RUNNING)
                .values(status=STEP_ABANDONED, ended_at=now, error=reason, locked_by=None)
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
        s, e = self.steps, self.events
        started_seq = (
            select(func.min(e.c.event_seq))
            .where(
                e.c.run_id == run_id,
                e.c.step_run_id == s.c.step_run_id,
                e.c.event_type == "step_started",
            )
            .scalar_subquery()
        )
        with self.database.begin(write=False) as conn:
            rows = conn.execute(
                select(s)
                .where(s.c.run_id == run_id)
                .order_by(s.c.started_at, started_seq, s.c.attempt, s.c.step_run_id)
            ).all()
        return [_public(row) for row in rows]

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
            if fence is not None:
                tenant = self._fence(conn, run_id, fence).tenant_id
            else:
                run = self._lock_run(conn, run_id)
                if run is None:
                    raise NotFound("workflow_runs", run_id)
                tenant = run.tenant_id
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
            return [_public(row) for row in conn.execute(query)]

    # ----------------------------------------------------------------- artifacts
    def add_artifact(
        self,
        run_id: str,
        *,
        type: str,
        uri: str,
        step_run_id: str | None = None,
        size_bytes: int | None = None,
        mime_type: str | None = None,
        checksum_sha256: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        fence: Fence | None = None,
    ) -> dict[str, Any]:
        """Record an artifact of a run (and an ``artifact_created`` event)."""
        artifact_id = str(uuid.uuid4())
        now = utc_now()
        with self.database.begin(write=True) as conn:
            if fence is not None:
                tenant = self._fence(conn, run_id, fence).tenant_id
            else:
                run = self._lock_run(conn, run_id)
                if run is None:
                    raise NotFound("workflow_runs", run_id)
                tenant = run.tenant_id
            conn.execute(
                insert(self.artifacts).values(
                    artifact_id=artifact_id,
                    tenant_id=tenant,
                    run_id=run_id,
                    step_run_id=step_run_id,
                    type=type,
                    uri=uri,
                    size_bytes=size_bytes,
                    mime_type=mime_type,
                    checksum_sha256=checksum_sha256,
                    metadata_json=dict(metadata or {}),
                    created_at=now,
                )
            )
            self._append_event(
                conn,
                run_id,
                tenant,
                "artifact_created",
                {"artifact_id": artifact_id, "type": type, "uri": uri},
                step_run_id=step_run_id,
                now=now,
            )
            row = conn.execute(
                select(self.artifacts).where(self.artifacts.c.artifact_id == artifact_id)
            ).one()
        return _public(row)

    def list_artifacts(self, run_id: str) -> list[dict[str, Any]]:
        a = self.artifacts
        with self.database.begin(write=False) as conn:
            rows = conn.execute(
                select(a).where(a.c.run_id == run_id).order_by(a.c.created_at, a.c.artifact_id)
            ).all()
        return [_public(row) for row in rows]

    # ------------------------------------------------------------------- workers
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
                    status="running",
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
                .values(heartbeat_at=utc_now(), status="running")
            )
            return result.rowcount == 1

    def unregister_worker(self, worker_id: str) -> None:
        with self.database.begin(write=True) as conn:
            conn.execute(
                update(self.workers)
                .where(self.workers.c.worker_id == worker_id)
                .values(status="stopped", heartbeat_at=utc_now())
            )

    def list_workers(self, *, live_within_seconds: float | None = None) -> list[dict[str, Any]]:
        w = self.workers
        query = select(w).order_by(w.c.heartbeat_at.desc())
        if live_within_seconds is not None:
            cutoff = utc_now() - timedelta(seconds=live_within_seconds)
            query = query.where(w.c.status == "running", w.c.heartbeat_at >= cutoff)
        with self.database.begin(write=False) as conn:
            return [_public(row) for row in conn.execute(query)]

    # -------------------------------------------------------------------- status
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
        open_statuses = [QUEUED, RUNNING, *WAITING_STATUSES]
        just_ended = and_(r.c.status.in_(TERMINAL_STATUSES), r.c.ended_at >= since)
        due_now = and_(
            r.c.status == QUEUED,
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
                func.min(r.c.created_at).filter(r.c.status == QUEUED),
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
        unavailable = sum(int(row[4]) for row in rows if row[0] == FAILED)
        due = sum(int(row[2]) for row in rows)
        oldest = min((row[3] for row in rows if row[3] is not None), default=None)
        cutoff = now - timedelta(seconds=live_within_seconds)
        workers = []
        for row in worker_rows:
            beat = to_instant(row.heartbeat_at)
            live = row.status == "running" and beat is not None and beat >= cutoff
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
        beats = (to_instant(row.heartbeat_at) for row in worker_rows if row.status == "running")
        newest = max((beat for beat in beats if beat is not None), default=None)
        oldest_at = to_instant(oldest) if oldest is not None else None
        backend = self.database.backend
        settings = dict(pool_settings or getattr(backend, "pool_settings", {}) or {})
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
                "queued": counts.get(QUEUED, 0),
                "due": int(due),
                "oldest_queued_at": oldest_at,
                "oldest_queued_age_seconds": _seconds_between(oldest_at, now),
                "running": counts.get(RUNNING, 0),
                "waiting": sum(counts.get(s, 0) for s in WAITING_STATUSES),
                "waiting_human": counts.get(WAITING_HUMAN, 0),
            },
            "recent": {
                "window_seconds": recent_seconds,
                "succeeded": recent.get(SUCCEEDED, 0),
                "failed": recent.get(FAILED, 0),
                # Of those failed: runs whose definition uses a step type this server lacks.
                "failed_unavailable_step_type": unavailable,
                "cancelled": recent.get(CANCELLED, 0),
            },
            "pool": {"settings": settings, "status": backend.pool_status()},
        }


__all__ = [
    "CANCELLED",
    "DEFAULT_LEASE_SECONDS",
    "FAILED",
    "QUEUED",
    "RUNNING",
    "STEP_WAITING_STATUSES",
    "SUCCEEDED",
    "TERMINAL_STATUSES",
    "UNAVAILABLE_STEP_TYPE",
    "WAITING_HUMAN",
    "WAITING_STATUSES",
    "Conflict",
    "Fence",
    "HeldStep",
    "Lease",
    "LeaseLost",
    "NotFound",
    "StoreError",
    "WorkflowStore",
    "WorkflowStoreError",
]
