"""The engine: executes one claimed run, step by step, recording everything in the store.

How a run proceeds
------------------
Where a run stands is read from its step rows (see ``run_state.py``), so the engine keeps no
state of its own between steps. A step's result is recorded in the same transaction that
starts the next step (or ends the run), so a step costs one transaction.

A run taken over from a dead worker therefore resumes right after its last
recorded step: the dead worker's unfinished attempt (a ``running`` row) is
marked ``abandoned`` and the step runs again. A result is recorded in the
same transaction as its ``step_completed`` event and only under the claim's
fence (:class:`~...stores.workflows.Fence`), so a result is never lost once
recorded, and never recorded twice: a worker that lost its claim gets
:class:`LeaseLost` and stops.

Failed attempts are retried (per the step's retry policy) by giving the run
back to the queue with ``next_attempt_at`` = now + backoff; any worker picks it
up again then. A ``wait_for_human`` step leaves the run ``waiting_human`` (a
``wait_for_approval`` step, ``waiting_approval``) and unlocked;
:func:`resolve_human` records the decision and requeues it. Runs that arrived
by migration waiting (or paused) are decided the same way.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Mapping
from datetime import timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from ..DB_Management.instants import utc_now
from ..DB_Management.stores.workflows import (
    UNAVAILABLE_STEP_TYPE,
    WAITING_STATUSES,
    Conflict,
    Fence,
    LeaseLost,
    NotFound,
    RunEnd,
    RunStatus,
    StepResult,
    StepStart,
    StepStatus,
    WorkflowStore,
)
from ..text import strip_nul
from .definitions import (
    END,
    DefinitionError,
    UnavailableStepType,
    WorkflowDefinition,
)
from .run_state import Plan, PlanKind, held_step, load_definition, plan_run
from .steps import (
    STEP_TYPES,
    ParkForHuman,
    RunSignals,
    StepCancelled,
    StepContext,
    StepFailed,
    StepInterrupted,
)
from .templates import TemplateError

if TYPE_CHECKING:
    from ..DB_Management.registry import DatabaseRegistry

log = logging.getLogger("tldw.workflows")

#: A run whose workers keep dying is failed after this many takeovers.
DEFAULT_MAX_TAKEOVERS = 5
#: How a run ends whose cancellation its worker honoured (at a step boundary, or by
#: interrupting the step).
_CANCELLED = RunEnd(RunStatus.CANCELLED, reason=RunStatus.CANCELLED)


class Outcome(StrEnum):
    """What :meth:`WorkflowEngine.execute` did with a claimed run: the run's status when it
    ended or waits, else what became of the claim."""

    SUCCEEDED = RunStatus.SUCCEEDED.value
    FAILED = RunStatus.FAILED.value
    CANCELLED = RunStatus.CANCELLED.value
    WAITING_HUMAN = RunStatus.WAITING_HUMAN.value
    RETRY_SCHEDULED = "retry_scheduled"
    RELEASED = "released"  # the worker is stopping; the run is back in the queue
    LOST = "lost"  # the claim was lost (the run was taken over)


def json_safe(value: Any) -> Any:
    """*value* as plain JSON data (what both backends' JSON columns store).

    Unknown objects become their ``str``; NUL characters, which PostgreSQL's
    JSONB cannot hold, are dropped.
    """
    return strip_nul(json.loads(json.dumps(value, ensure_ascii=False, default=str)))


class WorkflowEngine:
    """Executes claimed runs for one worker."""

    def __init__(
        self,
        registry: DatabaseRegistry,
        store: WorkflowStore | None = None,
        *,
        stop: threading.Event | None = None,
        max_takeovers: int = DEFAULT_MAX_TAKEOVERS,
    ) -> None:
        self.registry = registry
        self.store = store or WorkflowStore(registry.workflows())
        self.stop = stop or threading.Event()
        self.max_takeovers = max_takeovers

    def execute(self, run: Mapping[str, Any], signals: RunSignals | None = None) -> Outcome:
        """Execute a run returned by ``claim_next_run`` until it ends, waits or is released."""
        signals = signals or RunSignals(self.stop)
        fence: Fence = run["claim"]["fence"]
        try:
            return self._execute(run, fence, signals)
        except LeaseLost:
            log.warning("workflow run %s: claim lost, another worker has it", run["run_id"])
            return Outcome.LOST

    def first_step(self, run: Mapping[str, Any]) -> StepStart | None:
        """The attempt a run just claimed begins with, for the claim's transaction to start
        (``claim_next_run(first_step=...)``); None when anything else must come first."""
        claim = run["claim"]
        if claim["reason"] == "taken_over" or run.get("cancel_requested"):
            return None
        if not isinstance(run.get("inputs") or {}, Mapping):
            return None
        try:
            definition = load_definition(self.store, run)
        except (DefinitionError, NotFound):
            return None  # (execute fails the run, saying why)
        plan = plan_run(definition, claim["steps"])
        if plan.kind != PlanKind.EXECUTE or plan.step_id is None:
            return None
        step = definition.step(plan.step_id)
        return StepStart(step.id, step.name, step.type, plan.attempt, json_safe(step.config))

    def _finish(self, run_id: str, fence: Fence, end: RunEnd) -> Outcome:
        self.store.finish_run(run_id, fence, end)
        return Outcome(end.status)

    def _execute(self, run: Mapping[str, Any], fence: Fence, signals: RunSignals) -> Outcome:
        store, run_id = self.store, str(run["run_id"])
        if run["claim"]["reason"] == "taken_over":
            previous = run["claim"].get("previous_worker")
            # No previous worker: the run arrived (by migration) as left by a stopped server.
            lost = f"worker {previous}" if previous else "the server that was running it"
            store.abandon_running_steps(run_id, fence, reason=f"{lost} stopped heartbeating")
            takeovers = sum(
                1 for e in store.list_events(run_id) if e["event_type"] == "run_taken_over"
            )
            if takeovers > self.max_takeovers:
                error = f"the run's worker was lost {takeovers} times; giving up"
                return self._finish(run_id, fence, RunEnd(RunStatus.FAILED, error=error))
        if run.get("cancel_requested"):
            not_started = RunEnd(RunStatus.CANCELLED, reason="cancelled before it started")
            return self._finish(run_id, fence, not_started)
        try:
            definition = load_definition(store, run)
        except UnavailableStepType as exc:
            unavailable = RunEnd(RunStatus.FAILED, error=str(exc), reason=UNAVAILABLE_STEP_TYPE)
            return self._finish(run_id, fence, unavailable)
        except (DefinitionError, NotFound) as exc:
            return self._finish(run_id, fence, RunEnd(RunStatus.FAILED, error=str(exc)))
        given = run.get("inputs") or {}
        if not isinstance(given, Mapping):
            error = f"the run's inputs are a JSON {type(given).__name__}, not an object"
            return self._finish(run_id, fence, RunEnd(RunStatus.FAILED, error=error))
        inputs = dict(definition.inputs) | dict(given)
        run_info = {
            "run_id": run_id,
            "workflow_id": run.get("workflow_id"),
            "user_id": run.get("user_id"),
            "definition_version": run.get("definition_version"),
        }
        # The claim read the steps, unless abandoning a lost worker's attempts changed them.
        read = None if run["claim"]["reason"] == "taken_over" else run["claim"].get("steps")
        rows: list[Mapping[str, Any]] = list(store.list_steps(run_id) if read is None else read)
        plan = plan_run(definition, rows)
        if plan.kind == PlanKind.EXECUTE:
            plan.step_run_id = run["claim"].get("step_run_id")  # started by the claim
        while True:
            # A step the previous one's transaction started already runs at once: that
            # transaction was the boundary (it saw any cancellation in the database).
            if plan.step_run_id is None:
                ended = self._at_boundary(run_id, fence, signals, plan)
                if ended is not None:
                    return ended
            step = self._run_step(run, fence, signals, definition, plan, inputs, run_info, rows)
            if isinstance(step, Outcome):
                return step
            plan = step

    def _at_boundary(
        self, run_id: str, fence: Fence, signals: RunSignals, plan: Plan
    ) -> Outcome | None:
        """End, release or give up the run if its plan or its signals say so; else None."""
        if plan.kind == PlanKind.SUCCEEDED:
            outputs = json_safe({"result": plan.last_output, "steps": plan.outputs})
            return self._finish(run_id, fence, RunEnd(RunStatus.SUCCEEDED, outputs=outputs))
        if plan.kind == PlanKind.FAILED:
            return self._finish(run_id, fence, RunEnd(RunStatus.FAILED, error=plan.error))
        if plan.kind == PlanKind.WAITING:  # cannot happen: a waiting run is never claimed
            error = f"step {plan.step_id!r} is still waiting"
            return self._finish(run_id, fence, RunEnd(RunStatus.FAILED, error=error))
        if signals.cancel:
            return self._finish(run_id, fence, _CANCELLED)
        if signals.lost:
            return Outcome.LOST
        if signals.stopping:
            self.store.release_run(run_id, fence, reason="worker stopping")
            return Outcome.RELEASED
        return None

    def _run_step(
        self,
        run: Mapping[str, Any],
        fence: Fence,
        signals: RunSignals,
        definition: WorkflowDefinition,
        plan: Plan,
        inputs: dict[str, Any],
        run_info: dict[str, Any],
        rows: list[Mapping[str, Any]],
    ) -> Outcome | Plan:
        """Execute one attempt of ``plan.step_id``: an outcome when the run stops here, else
        the plan that follows."""
        store, run_id = self.store, str(run["run_id"])
        step_id = plan.step_id
        assert step_id is not None
        step = definition.step(step_id)
        step_type = STEP_TYPES[step.type]
        step_run_id = plan.step_run_id or store.start_step(
            run_id,
            fence,
            step_id=step_id,
            name=step.name,
            step_type=step.type,
            attempt=plan.attempt,
            inputs=json_safe(step.config),
        )
        ctx = StepContext(
            registry=self.registry,
            store=store,
            run=run,
            step_id=step_id,
            step_run_id=step_run_id,
            attempt=plan.attempt,
            fence=fence,
            template_context={"inputs": inputs, "steps": plan.step_context, "run": run_info},
            signals=signals,
        )
        try:
            output = step_type.run(ctx, step.settings)
        except LeaseLost:
            raise
        except StepCancelled:
            store.fail_step(
                run_id, fence, step_run_id, "cancelled while running", status=StepStatus.CANCELLED
            )
            return self._finish(run_id, fence, _CANCELLED)
        except StepInterrupted as exc:
            if signals.lost:
                return Outcome.LOST
            store.fail_step(run_id, fence, step_run_id, str(exc), status=StepStatus.ABANDONED)
            store.release_run(run_id, fence, reason="worker stopping")
            return Outcome.RELEASED
        except Exception as exc:  # a step's failure, whatever its kind
            failed = self._step_failed(run_id, fence, definition, plan, step_run_id, exc, rows)
            return plan_run(definition, rows) if failed is None else failed
        if isinstance(output, ParkForHuman):
            store.park_for_human(
                run_id,
                fence,
                step_run_id,
                prompt=output.prompt,
                details=json_safe(output.details),
                status=output.status,
            )
            return Outcome.WAITING_HUMAN
        output = json_safe(output)
        rows.append({"step_id": step_id, "status": StepStatus.SUCCEEDED, "outputs": output})
        following = plan_run(definition, rows)
        start, succeed_with = None, None
        if following.kind == PlanKind.SUCCEEDED:
            succeed_with = json_safe({"result": following.last_output, "steps": following.outputs})
        elif following.kind == PlanKind.EXECUTE and not (
            signals.cancel or signals.lost or signals.stopping
        ):
            assert following.step_id is not None
            after = definition.step(following.step_id)
            start = StepStart(
                after.id, after.name, after.type, following.attempt, json_safe(after.config)
            )
        # The result, and the next step's start (or the run's end), in one transaction.
        next_step = {"next": definition.next_on_success(step_id, output)}
        result = StepResult(output, event_payload=next_step, notes=ctx.notes)
        advanced = store.advance(
            run_id, fence, step_run_id, result, start=start, succeed_with=succeed_with
        )
        if advanced.cancel_requested:
            signals.request_cancel()
        if advanced.finished:
            return Outcome.SUCCEEDED
        following.step_run_id = advanced.next_step_run_id
        return following

    def _step_failed(
        self,
        run_id: str,
        fence: Fence,
        definition: WorkflowDefinition,
        plan: Plan,
        step_run_id: str,
        exc: Exception,
        rows: list[Mapping[str, Any]],
    ) -> Outcome | None:
        step_id = plan.step_id
        assert step_id is not None
        if isinstance(exc, StepFailed):
            error, retryable = str(exc), exc.retryable
        elif isinstance(exc, TemplateError):
            error, retryable = str(exc), False
        else:
            error, retryable = f"{type(exc).__name__}: {exc}", True
            log.exception("workflow run %s step %s raised", run_id, step_id)
        failures = plan.failures + 1
        final = not retryable or failures >= definition.max_attempts(step_id)
        delay = 0.0 if final else definition.retry_policy(step_id).delay_after(failures)
        extra: dict[str, Any] = {"will_retry": not final}
        if not final:
            extra["retry_in_seconds"] = delay
        elif definition.next_on_failure(step_id) != END:
            extra["next"] = definition.next_on_failure(step_id)
        self.store.fail_step(run_id, fence, step_run_id, error, final=final, event_payload=extra)
        rows.append(
            {
                "step_id": step_id,
                "status": StepStatus.FAILED,
                "error": error,
                "outputs": {"final": final, "error": error},
            }
        )
        if not final:
            self.store.release_run(
                run_id,
                fence,
                next_attempt_at=utc_now() + timedelta(seconds=delay),
                reason=f"retry of step {step_id}",
                payload={"step_id": step_id, "failures": failures},
            )
            return Outcome.RETRY_SCHEDULED
        return None


def resolve_human(
    store: WorkflowStore,
    run_id: str,
    *,
    approved: bool,
    decided_by: str,
    comment: str | None = None,
    payload: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Approve or reject a waiting run (``waiting_human``, ``waiting_approval`` or ``paused``).

    Approval requeues the run: a worker continues after the waiting step (or, for
    a paused run, with the step it was paused before). Rejection fails the
    step the run is held at; the run continues with that step's ``on_failure``
    when it has one, and otherwise fails at once. A run that arrived by migration
    is decided like one this server parked (see :func:`held_step`).
    """
    run = store.get_run(run_id)
    if run["status"] not in WAITING_STATUSES:
        raise Conflict(f"run {run_id} is {run['status']}, not waiting for a human decision")
    held, fail_run = held_step(store, run)
    return store.decide_human(
        run_id,
        approved=approved,
        decided_by=decided_by,
        comment=comment,
        payload=payload,
        fail_run=fail_run,
        held=held,
    )


__all__ = [
    "Outcome",
    "WorkflowEngine",
    "json_safe",
    "resolve_human",
]
