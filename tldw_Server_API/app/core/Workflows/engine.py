"""The engine: executes one claimed run, step by step, recording everything in the store.

How a run proceeds
------------------
The engine never keeps state of its own between steps: where a run stands is
read from its step rows. Walking the definition from the first step, a step
with a ``succeeded`` row continues with its successor (``on_success``, the next
step in the list, or a branch's choice); a step whose failure is final
continues with ``on_failure`` (or fails the run); the first step with neither
is the one to execute, as attempt ``failed attempts + 1``. Because definitions
have no cycles, each step succeeds at most once per run.

A run taken over from a dead worker therefore resumes right after its last
recorded step: the dead worker's unfinished attempt (a ``running`` row) is
marked ``abandoned`` and the step runs again. A result is recorded in the
same transaction as its ``step_completed`` event and only under the claim's
fence (:class:`~...stores.workflows.Fence`), so a result is never lost once
recorded, and never recorded twice: a worker that lost its claim gets
:class:`LeaseLost` and stops.

Failed attempts are retried (per the step's retry policy) by giving the run
back to the queue with ``next_attempt_at`` = now + backoff; any worker picks it
up again then. A ``wait_for_human`` step leaves the run ``waiting_human`` and
unlocked; :func:`resolve_human` records the decision and requeues it.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from ..DB_Management.instants import utc_now
from ..DB_Management.stores.workflows import (
    CANCELLED,
    FAILED,
    STEP_ABANDONED,
    STEP_CANCELLED,
    STEP_FAILED,
    STEP_SUCCEEDED,
    STEP_WAITING,
    SUCCEEDED,
    Conflict,
    Fence,
    LeaseLost,
    NotFound,
    WorkflowStore,
)
from .definitions import END, DefinitionError, WorkflowDefinition, parse_definition
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


class Outcome:
    """What :meth:`WorkflowEngine.execute` did with a claimed run."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    WAITING_HUMAN = "waiting_human"
    RETRY_SCHEDULED = "retry_scheduled"
    RELEASED = "released"  # the worker is stopping; the run is back in the queue
    LOST = "lost"  # the claim was lost (the run was taken over)


def json_safe(value: Any) -> Any:
    """*value* as plain JSON data (what both backends' JSON columns store).

    Unknown objects become their ``str``; NUL characters, which PostgreSQL's
    JSONB cannot hold, are dropped.
    """
    return _strip_nul(json.loads(json.dumps(value, ensure_ascii=False, default=str)))


def _strip_nul(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {_strip_nul(k): _strip_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_strip_nul(v) for v in value]
    return value


def load_definition(store: WorkflowStore, run: Mapping[str, Any]) -> WorkflowDefinition:
    """The definition a run executes: its snapshot, else its workflow's current document."""
    document = run.get("definition_snapshot")
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError:
            raise DefinitionError(["the run's definition snapshot is not JSON"]) from None
    if not document:
        if run.get("workflow_id") is None:
            raise DefinitionError(["the run has neither a definition snapshot nor a workflow"])
        document = store.get_definition(int(run["workflow_id"]))["definition"]
    return parse_definition(document)


class Plan:
    """Where a run stands, read from its step rows."""

    def __init__(self, kind: str, step_id: str | None = None, attempt: int = 1) -> None:
        self.kind = kind  # "execute", "succeeded", "failed", "waiting"
        self.step_id = step_id
        self.attempt = attempt
        self.outputs: dict[str, Any] = {}
        self.step_context: dict[str, Any] = {}
        self.last_output: Any = None
        self.error: str | None = None
        self.failures = 0


def plan_run(definition: WorkflowDefinition, rows: list[Mapping[str, Any]]) -> Plan:
    """Walk the definition over the recorded step rows (see the module docstring)."""
    by_step: dict[str, list[Mapping[str, Any]]] = {}
    for row in rows:
        by_step.setdefault(str(row["step_id"]), []).append(row)
    outputs: dict[str, Any] = {}
    context: dict[str, Any] = {}
    last: Any = None
    current = definition.first_step
    while current != END:
        attempts = by_step.get(current, [])
        done = [r for r in attempts if r["status"] == STEP_SUCCEEDED]
        if done:
            output = done[-1].get("outputs")
            outputs[current] = output
            context[current] = {"status": "succeeded", "output": output}
            last = output
            current = definition.next_on_success(current, output)
            continue
        if any(r["status"] == STEP_WAITING for r in attempts):
            plan = Plan("waiting", current)
            break
        failed = [r for r in attempts if r["status"] == STEP_FAILED]
        final = len(failed) >= definition.max_attempts(current) or any(
            isinstance(r.get("outputs"), Mapping) and r["outputs"].get("final") for r in failed
        )
        if failed and final:
            error = failed[-1].get("error") or "failed"
            context[current] = {"status": "failed", "error": error, "output": None}
            handler = definition.next_on_failure(current)
            if handler == END:
                plan = Plan("failed", current)
                plan.error = f"step {current!r} failed: {error}"
                break
            current = handler
            continue
        plan = Plan("execute", current, attempt=len(attempts) + 1)
        plan.failures = len(failed)
        break
    else:
        plan = Plan("succeeded")
    plan.outputs = outputs
    plan.step_context = context
    plan.last_output = last
    return plan


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

    def execute(self, run: Mapping[str, Any], signals: RunSignals | None = None) -> str:
        """Execute a run returned by ``claim_next_run`` until it ends, waits or is released."""
        signals = signals or RunSignals(self.stop)
        fence: Fence = run["claim"]["fence"]
        try:
            return self._execute(run, fence, signals)
        except LeaseLost:
            log.warning("workflow run %s: claim lost, another worker has it", run["run_id"])
            return Outcome.LOST

    def _finish(self, run_id: str, fence: Fence, status: str, **fields: Any) -> str:
        self.store.finish_run(run_id, fence, status, **fields)
        return status

    def _execute(self, run: Mapping[str, Any], fence: Fence, signals: RunSignals) -> str:
        store, run_id = self.store, str(run["run_id"])
        if run["claim"]["reason"] == "taken_over":
            previous = run["claim"].get("previous_worker")
            store.abandon_running_steps(
                run_id, fence, reason=f"worker {previous} stopped heartbeating"
            )
            takeovers = sum(
                1 for e in store.list_events(run_id) if e["event_type"] == "run_taken_over"
            )
            if takeovers > self.max_takeovers:
                return self._finish(
                    run_id,
                    fence,
                    FAILED,
                    error=f"the run's worker was lost {takeovers} times; giving up",
                )
        if run.get("cancel_requested"):
            return self._finish(run_id, fence, CANCELLED, reason="cancelled before it started")
        try:
            definition = load_definition(store, run)
        except (DefinitionError, NotFound) as exc:
            return self._finish(run_id, fence, FAILED, error=str(exc))
        inputs = dict(definition.inputs) | dict(run.get("inputs") or {})
        run_info = {
            "run_id": run_id,
            "workflow_id": run.get("workflow_id"),
            "user_id": run.get("user_id"),
            "definition_version": run.get("definition_version"),
        }
        rows: list[Mapping[str, Any]] = store.list_steps(run_id)
        while True:
            plan = plan_run(definition, rows)
            if plan.kind == "succeeded":
                outputs = {"result": plan.last_output, "steps": plan.outputs}
                return self._finish(run_id, fence, SUCCEEDED, outputs=json_safe(outputs))
            if plan.kind == "failed":
                return self._finish(run_id, fence, FAILED, error=plan.error)
            if plan.kind == "waiting":  # cannot happen: a waiting run is never claimed
                return self._finish(
                    run_id, fence, FAILED, error=f"step {plan.step_id!r} is still waiting"
                )
            if signals.cancel:
                return self._finish(run_id, fence, CANCELLED, reason="cancelled")
            if signals.lost:
                return Outcome.LOST
            if signals.stopping:
                store.release_run(run_id, fence, reason="worker stopping")
                return Outcome.RELEASED
            assert plan.step_id is not None
            outcome = self._run_step(run, fence, signals, definition, plan, inputs, run_info, rows)
            if outcome is not None:
                return outcome

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
    ) -> str | None:
        """Execute one attempt of ``plan.step_id``; return an outcome when the run stops here."""
        store, run_id = self.store, str(run["run_id"])
        step_id = plan.step_id
        assert step_id is not None
        step = definition.step(step_id)
        step_type = STEP_TYPES[step.type]
        step_run_id = store.start_step(
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
                run_id, fence, step_run_id, "cancelled while running", status=STEP_CANCELLED
            )
            return self._finish(run_id, fence, CANCELLED, reason="cancelled")
        except StepInterrupted as exc:
            if signals.lost:
                return Outcome.LOST
            store.fail_step(run_id, fence, step_run_id, str(exc), status=STEP_ABANDONED)
            store.release_run(run_id, fence, reason="worker stopping")
            return Outcome.RELEASED
        except Exception as exc:  # a step's failure, whatever its kind
            return self._step_failed(run_id, fence, definition, plan, step_run_id, exc, rows)
        if isinstance(output, ParkForHuman):
            store.park_for_human(
                run_id,
                fence,
                step_run_id,
                prompt=output.prompt,
                details=json_safe(output.details),
            )
            return Outcome.WAITING_HUMAN
        output = json_safe(output)
        next_step = definition.next_on_success(step_id, output)
        cancel = store.complete_step(
            run_id, fence, step_run_id, output, event_payload={"next": next_step}, notes=ctx.notes
        )
        rows.append({"step_id": step_id, "status": STEP_SUCCEEDED, "outputs": output})
        if cancel:
            signals.request_cancel()
        return None

    def _step_failed(
        self,
        run_id: str,
        fence: Fence,
        definition: WorkflowDefinition,
        plan: Plan,
        step_run_id: str,
        exc: Exception,
        rows: list[Mapping[str, Any]],
    ) -> str | None:
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
                "status": STEP_FAILED,
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
    """Approve or reject a ``waiting_human`` run.

    Approval requeues the run (a worker continues after the waiting step).
    Rejection fails the waiting step; the run continues with that step's
    ``on_failure`` when it has one, and otherwise fails at once.
    """
    run = store.get_run(run_id)
    if run["status"] != "waiting_human":
        raise Conflict(f"run {run_id} is {run['status']}, not waiting for a human decision")
    waiting = [s for s in store.list_steps(run_id) if s["status"] == STEP_WAITING]
    fail_run = True
    if waiting:
        try:
            definition = load_definition(store, run)
            fail_run = definition.next_on_failure(str(waiting[-1]["step_id"])) == END
        except (DefinitionError, KeyError):
            fail_run = True
    return store.decide_human(
        run_id,
        approved=approved,
        decided_by=decided_by,
        comment=comment,
        payload=payload,
        fail_run=fail_run,
    )


__all__ = [
    "Outcome",
    "WorkflowEngine",
    "json_safe",
    "load_definition",
    "plan_run",
    "resolve_human",
]
