"""What every step type is, and what a step sees while it runs."""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict

from ...DB_Management.stores.workflows import RunStatus
from ..templates import TemplateError, check_value, render, render_value

if TYPE_CHECKING:
    from ...DB_Management.registry import DatabaseRegistry
    from ...DB_Management.stores.workflows import Fence, WorkflowStore

log = logging.getLogger("tldw.workflows")


class StepFailed(Exception):
    """A step attempt failed. ``retryable=False`` skips the remaining attempts."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


class StepCancelled(Exception):
    """The run was cancelled while the step was running."""


class StepInterrupted(Exception):
    """The worker is stopping, or lost its claim on the run: the step is left unfinished."""


class StepConfig(BaseModel):
    """Base of every step type's configuration: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid")


@dataclass
class ParkForHuman:
    """Returned by a step that needs a human decision before the run can go on.

    *status* is the run's status while it waits (``waiting_human`` or ``waiting_approval``).
    """

    prompt: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    status: RunStatus = RunStatus.WAITING_HUMAN


class RunSignals:
    """Out-of-band news about a run being executed: cancellation, a lost claim, shutdown.

    The runtime's heartbeat thread sets ``cancel``/``lost``; the runtime sets
    its stop event. :meth:`sleep` wakes on any of them.
    """

    def __init__(self, stop: threading.Event | None = None) -> None:
        self.stop = stop or threading.Event()
        self._wake = threading.Event()
        self.cancel = False
        self.lost = False

    def request_cancel(self) -> None:
        self.cancel = True
        self._wake.set()

    def mark_lost(self) -> None:
        self.lost = True
        self._wake.set()

    def notify(self) -> None:
        self._wake.set()

    @property
    def stopping(self) -> bool:
        return self.stop.is_set()

    def check(self) -> None:
        if self.lost:
            raise StepInterrupted("the claim on this run was lost")
        if self.cancel:
            raise StepCancelled("the run was cancelled")
        if self.stopping:
            raise StepInterrupted("the worker is stopping")

    def sleep(self, seconds: float) -> None:
        """Wait *seconds*, or less when the run is cancelled or the worker stops."""
        deadline = time.monotonic() + max(0.0, seconds)
        while True:
            self.check()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            # The stop event is separate: look at it at least every 0.2 s.
            self._wake.wait(min(remaining, 0.2))
            self._wake.clear()


@dataclass
class StepContext:
    """Everything a step may use: its run, earlier outputs, the stores, and signals."""

    registry: DatabaseRegistry
    store: WorkflowStore
    run: Mapping[str, Any]
    step_id: str
    step_run_id: str
    attempt: int
    fence: Fence
    template_context: Mapping[str, Any]
    signals: RunSignals
    #: Events to record with the step's result (see :meth:`note`).
    notes: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    @property
    def run_id(self) -> str:
        return str(self.run["run_id"])

    @property
    def user_id(self) -> str:
        return str(self.run["user_id"])

    @property
    def inputs(self) -> Mapping[str, Any]:
        return self.template_context["inputs"]

    def render(self, template: str) -> str:
        return render(template, self.template_context)

    def render_value(self, value: Any) -> Any:
        return render_value(value, self.template_context)

    def sleep(self, seconds: float) -> None:
        self.signals.sleep(seconds)

    def note(self, event_type: str, payload: Mapping[str, Any] | None = None) -> None:
        """An event for the run's log, recorded in the transaction that records this
        attempt's success, just before ``step_completed``.

        For what the step did rather than how it is going: an attempt that does not
        succeed records no notes, so a step run again after a crash never notes twice,
        and the note costs no transaction of its own.
        """
        self.notes.append((event_type, dict(payload or {})))

    def event(self, event_type: str, payload: Mapping[str, Any] | None = None) -> int:
        """Append an event to the run's log, attributed to this step, now (for
        progress that watchers should see while the step runs)."""
        return self.store.append_event(
            self.run_id, event_type, payload, step_run_id=self.step_run_id, fence=self.fence
        )

    def add_text_artifact(
        self, text: str, *, type: str, uri: str, metadata: dict[str, Any]
    ) -> dict[str, Any]:
        """Record *text* as an artifact of this step, with its UTF-8 size and SHA-256."""
        data = text.encode("utf-8")
        return self.store.add_artifact(
            self.run_id,
            step_run_id=self.step_run_id,
            fence=self.fence,
            type=type,
            uri=uri,
            size_bytes=len(data),
            mime_type="text/plain; charset=utf-8",
            checksum_sha256=hashlib.sha256(data).hexdigest(),
            metadata=metadata,
        )


C = TypeVar("C", bound="StepConfig")


def template_problems(values: Iterable[Any]) -> list[str]:
    """What is wrong with each malformed template among *values* (nested ones included)."""
    problems = []
    for value in values:
        try:
            check_value(value)
        except TemplateError as exc:
            problems.append(str(exc))
    return problems


class StepType(Generic[C]):
    """One kind of step: a name, a configuration model (*C*), and what running it does."""

    name: ClassVar[str]
    Config: ClassVar[type[StepConfig]] = StepConfig
    #: The most attempts this step may have, whatever the retry policy says.
    max_attempts_cap: ClassVar[int | None] = None
    #: Branch-like steps choose their successor; see :meth:`targets`.
    chooses_next: ClassVar[bool] = False
    #: Steps that hold the run until a human decides; the decision is their output.
    awaits_decision: ClassVar[bool] = False
    #: The retry policy (``RetryPolicy`` fields) of this type's steps when neither the step
    #: nor the definition sets one; ``None``: the definition's default.
    default_retry: ClassVar[Mapping[str, Any] | None] = None

    def parse(self, config: Mapping[str, Any]) -> StepConfig:
        return self.Config.model_validate(dict(config))

    #: The config fields holding templates, rendered when the step runs; :meth:`check`
    #: reports a malformed one when the definition is saved.
    templated: ClassVar[tuple[str, ...]] = ()

    def check(self, config: C) -> list[str]:
        """Problems with *config* beyond its model: malformed templates."""
        return template_problems(getattr(config, name) for name in self.templated)

    def configured_retry(self, config: C) -> Mapping[str, Any] | None:
        """A retry policy (``RetryPolicy`` fields) the step's *config* sets, if any."""
        return None

    def targets(self, config: C) -> list[str]:
        """The step ids (or ``end``) a branch-like step may continue with."""
        return []

    def run(self, ctx: StepContext, config: C) -> Any:
        raise NotImplementedError
