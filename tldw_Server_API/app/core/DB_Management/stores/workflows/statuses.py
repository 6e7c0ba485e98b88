"""What state a run, a step attempt or a worker is in: the strings the database stores.

Each status is a :class:`enum.StrEnum` member, so it *is* the stored string
(``RunStatus.QUEUED == "queued"``) and reads and writes rows unchanged; the
tuples below group the ones a rule treats alike.
"""

from __future__ import annotations

from enum import StrEnum


class RunStatus(StrEnum):
    """Where a run is: in the queue, executing, held for a decision, or ended."""

    QUEUED = "queued"
    RUNNING = "running"
    #: Held before a step until someone resumes it (written by older servers).
    PAUSED = "paused"
    WAITING_HUMAN = "waiting_human"
    WAITING_APPROVAL = "waiting_approval"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class StepStatus(StrEnum):
    """Where one attempt of a step is (a step row is one attempt)."""

    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    #: Holding its run for a human decision.
    WAITING = "waiting"
    #: Its worker died or stopped mid-step; the step is run again.
    ABANDONED = "abandoned"
    CANCELLED = "cancelled"


class WorkerStatus(StrEnum):
    """Whether a registered runtime process is still at work."""

    RUNNING = "running"
    STOPPED = "stopped"


#: A run in one of these is over: nothing will change it again.
TERMINAL_STATUSES: tuple[RunStatus, ...] = (
    RunStatus.SUCCEEDED,
    RunStatus.FAILED,
    RunStatus.CANCELLED,
)
#: A run in one of these is held until a human approves or rejects it.
WAITING_STATUSES: tuple[RunStatus, ...] = (
    RunStatus.WAITING_HUMAN,
    RunStatus.WAITING_APPROVAL,
    RunStatus.PAUSED,
)
#: A step holding its run for a decision: ours say ``waiting``; older servers wrote the
#: run's own waiting status on the step, and their rows arrive that way by migration.
STEP_WAITING_STATUSES: tuple[str, ...] = (StepStatus.WAITING, *WAITING_STATUSES)

#: ``status_reason`` of a run failed because its definition uses a step type this server
#: does not have (counted by ``WorkflowStore.status_summary``).
UNAVAILABLE_STEP_TYPE = "unavailable_step_type"

__all__ = [
    "STEP_WAITING_STATUSES",
    "TERMINAL_STATUSES",
    "UNAVAILABLE_STEP_TYPE",
    "WAITING_STATUSES",
    "RunStatus",
    "StepStatus",
    "WorkerStatus",
]
