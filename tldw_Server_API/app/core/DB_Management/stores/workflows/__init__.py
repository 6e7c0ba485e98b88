"""The Workflows store: definitions, runs, steps, events, artifacts, claims and workers.

One :class:`WorkflowStore` serves both backends through a
:class:`~..backends.base.Database` handle; every public method is one
transaction. The workflow runtime (``app/core/Workflows``) is a client of this
store like any other: it claims runs, heartbeats them and records what happens
through its methods, so several processes (or machines) can run workers
against one database.

Where each part lives
---------------------
=================  ==========================================================
``statuses``       run, step and worker statuses (``StrEnum``: the stored strings)
``records``        claims (``Fence``), leases, held steps, step results, run ends, errors
``base``           the tables, the run lock, the event sequence, the fence check
``definitions``    versioned definitions and who may see them
``runs``           submitting (idempotently), reading, listing, cancelling runs
``queue``          claiming due runs, leases, releasing and finishing them
``decisions``      runs held for a human, and the approval or rejection
``journal``        step attempts and the gap-free event log
``artifacts``      what runs produced
``workers``        the registry of live runtime processes
``monitoring``     the status summary (queue, recent outcomes, workers, pool)
=================  ==========================================================

Guarantees
----------
* **Gap-free event log.** ``event_seq`` is allocated as ``max + 1`` inside the
  transaction that inserts the event, after the run's row has been locked, so
  concurrent writers to one run never produce a gap or a duplicate.
* **Fenced writes.** A claim increments the run's ``attempt``; the pair
  ``(locked_by, attempt)`` is the claim's :class:`Fence`. Every write the
  engine makes on behalf of a claim checks (and refreshes) that fence in the
  same transaction, so a worker that lost its lease (its run was taken over)
  can never record a step result a second time: it gets :class:`LeaseLost`.
* **Claims.** :meth:`WorkflowStore.claim_next_run` takes, in one statement, the
  due run submitted first (by ``queue_seq``): a queued run whose
  ``next_attempt_at`` passed, or a running run whose worker stopped heartbeating
  (its worker's lease and the claim's own first lease both ran out).
* **Wake-ups.** Every write that makes a run due (a submission, a release, a
  decision) announces :data:`RUNS_TOPIC` in its transaction; runtimes listen to
  it (see ``backends/wakes.py``) instead of polling.
"""

from __future__ import annotations

from ..errors import Conflict, NotFound, StoreError
from .base import RUNS_TOPIC, SETTLED_TOPIC
from .definitions import visible_to
from .monitoring import RECENT_WINDOW_SECONDS
from .records import (
    DEFAULT_LEASE_SECONDS,
    DEFAULT_TENANT,
    Advanced,
    Fence,
    HeldStep,
    LeaseLost,
    RunEnd,
    StepResult,
    StepStart,
    WorkerBeat,
    WorkflowStoreError,
)
from .statuses import (
    STEP_WAITING_STATUSES,
    TERMINAL_STATUSES,
    UNAVAILABLE_STEP_TYPE,
    WAITING_STATUSES,
    RunStatus,
    StepStatus,
    WorkerStatus,
)
from .store import WorkflowStore

__all__ = [
    "DEFAULT_LEASE_SECONDS",
    "DEFAULT_TENANT",
    "RECENT_WINDOW_SECONDS",
    "RUNS_TOPIC",
    "SETTLED_TOPIC",
    "STEP_WAITING_STATUSES",
    "TERMINAL_STATUSES",
    "UNAVAILABLE_STEP_TYPE",
    "WAITING_STATUSES",
    "Advanced",
    "Conflict",
    "Fence",
    "HeldStep",
    "LeaseLost",
    "NotFound",
    "RunEnd",
    "RunStatus",
    "StepResult",
    "StepStart",
    "StepStatus",
    "StoreError",
    "WorkerBeat",
    "WorkerStatus",
    "WorkflowStore",
    "WorkflowStoreError",
    "visible_to",
]
