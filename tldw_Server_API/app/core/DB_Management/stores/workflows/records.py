"""The values the workflows store hands out and takes: claims, leases, held steps, steps'
results, runs' ends, rows as dicts, and the errors only this store raises."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row

from .._common import AnyRow
from ..errors import StoreError
from .statuses import TERMINAL_STATUSES, RunStatus

DEFAULT_TENANT = "default"
DEFAULT_LEASE_SECONDS = 10.0
#: A run's claim columns as they stand when no worker holds it (released, parked or ended).
UNCLAIMED: dict[str, None] = {"locked_by": None, "locked_at": None, "lease_expires_at": None}


class WorkflowStoreError(StoreError):
    """Base class of the errors only the workflows store raises."""


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
class StepStart:
    """A step attempt to start (see ``Journal.start_step`` and ``Journal.advance``)."""

    step_id: str
    name: str | None = None
    type: str | None = None
    attempt: int = 1
    inputs: Any = None


@dataclass(frozen=True, slots=True)
class StepResult:
    """What a step attempt produced, as ``Journal.advance`` records it.

    ``outputs`` is the attempt's output; ``event_payload``, what its ``step_completed``
    event says besides the step and attempt; ``notes``, the events the step noted while
    it ran (type and payload), recorded before that one.
    """

    outputs: Any
    event_payload: Mapping[str, Any] | None = None
    notes: Sequence[tuple[str, Mapping[str, Any]]] = ()


@dataclass(frozen=True, slots=True)
class RunEnd:
    """How a run ends: its final ``status`` (one of ``TERMINAL_STATUSES``) and what the
    run's row and its end event keep of it.

    ``outputs`` and ``error`` are the run's; ``reason`` becomes its ``status_reason``;
    ``cancel_requested``, when not None, is written too (a cancellation that found
    nobody executing the run). A field left None leaves its column as it is.
    """

    status: RunStatus
    outputs: Any = None
    error: str | None = None
    reason: str | None = None
    cancel_requested: bool | None = None

    def __post_init__(self) -> None:
        if self.status not in TERMINAL_STATUSES:
            raise ValueError(f"{self.status!r} is not a final status")
        object.__setattr__(self, "status", RunStatus(self.status))  # (a plain string given)


@dataclass(frozen=True)
class Advanced:
    """What ``Journal.advance`` did after recording a step's result.

    ``cancel_requested`` says the run's cancellation was asked (the next step was then not
    started); ``next_step_run_id`` is the step attempt it started, if any; ``finished``,
    that it ended the run as succeeded.
    """

    cancel_requested: bool
    next_step_run_id: str | None = None
    finished: bool = False


@dataclass(frozen=True)
class WorkerBeat:
    """What a worker's heartbeat (``WorkflowStore.heartbeat_worker``) learnt, in one statement.

    ``held`` and ``cancelling`` count the runs the worker holds, and those of them
    whose cancellation was asked; ``claimable`` says whether some run is due now.
    A worker that finds ``held`` unlike the runs it executes, or ``cancelling``,
    asks :meth:`~.queue.Queue.held_runs` which ones.
    """

    registered: bool
    held: int = 0
    cancelling: int = 0
    claimable: bool = False


_JSON_FIELDS = {
    "definition_json": "definition",
    "inputs_json": "inputs",
    "outputs_json": "outputs",
    "definition_snapshot_json": "definition_snapshot",
    "payload_json": "payload",
    "metadata_json": "metadata",
}


def public(row: AnyRow | Mapping[str, Any]) -> dict[str, Any]:
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


__all__ = [
    "DEFAULT_LEASE_SECONDS",
    "DEFAULT_TENANT",
    "Advanced",
    "Fence",
    "HeldStep",
    "LeaseLost",
    "RunEnd",
    "StepResult",
    "StepStart",
    "WorkerBeat",
    "WorkflowStoreError",
    "public",
]
