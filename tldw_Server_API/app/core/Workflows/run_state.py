"""The state of a run, read from the database: the definition it executes, where it stands
(its plan, from its step rows), and the step a waiting run is held at.

How a run's plan is read
------------------------
Walking the definition from the first step over the run's step rows, a step
with a ``succeeded`` row continues with its successor (``on_success``, the next
step in the list, or a branch's choice); a step whose failure is final
continues with ``on_failure`` (or fails the run); the first step with neither
is the one to execute, as attempt ``failed attempts + 1``. Because definitions
have no cycles, each step succeeds at most once per run.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from enum import StrEnum, auto
from functools import lru_cache
from typing import Any

from ..DB_Management.stores.workflows import (
    STEP_WAITING_STATUSES,
    HeldStep,
    NotFound,
    StepStatus,
    WorkflowStore,
)
from .definitions import (
    END,
    DefinitionError,
    UnavailableStepType,
    WorkflowDefinition,
    parse_definition,
    unavailable_step_types,
)

#: How many recently executed definitions stay parsed (see :func:`_parse_text`).
PARSED_DEFINITIONS = 64


def load_definition(store: WorkflowStore, run: Mapping[str, Any]) -> WorkflowDefinition:
    """The definition a run executes: its snapshot, completed from its workflow's row.

    One rule for every run: a top-level field the snapshot lacks (or holds as
    null) comes from the workflow row, which keeps the name, version and
    description in columns and the rest in its document. Our snapshots are
    complete; our users' often have ``steps`` but no ``name``. A definition
    using a step type this server does not have raises
    :class:`UnavailableStepType`, whatever else is wrong with it.
    """
    snapshot = _snapshot_of(run)
    workflow = _workflow_of(store, run)
    if not snapshot and workflow is None:
        raise DefinitionError(["the run has neither a definition snapshot nor a workflow"])
    document = _present(_workflow_document(workflow)) | _present(snapshot)
    missing = unavailable_step_types(document)
    if missing:
        raise UnavailableStepType(missing)
    try:
        text = json.dumps(document, ensure_ascii=False)
    except (TypeError, ValueError):  # not JSON data (a snapshot always is): parsed as it is
        return parse_definition(document)
    return _parse_text(text)


@lru_cache(maxsize=PARSED_DEFINITIONS)
def _parse_text(text: str) -> WorkflowDefinition:
    """The definition of a JSON document, parsed once while it is among the recent ones: a
    worker executes many runs of few definitions, and validating one costs more than the
    no-op step it describes. (A definition is never changed once parsed.)"""
    return parse_definition(json.loads(text))


def _snapshot_of(run: Mapping[str, Any]) -> dict[str, Any]:
    document = run.get("definition_snapshot")
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError:
            raise DefinitionError(["the run's definition snapshot is not JSON"]) from None
    if document is None:
        return {}
    if not isinstance(document, Mapping):
        raise DefinitionError(
            [f"the run's definition snapshot is a JSON {type(document).__name__}, not an object"]
        )
    return dict(document)


def _workflow_of(store: WorkflowStore, run: Mapping[str, Any]) -> dict[str, Any] | None:
    """The run's workflow row, or None when it has none (or the row is gone); the one
    its claim read, if it was claimed."""
    claim = run.get("claim")
    if isinstance(claim, Mapping) and "workflow" in claim:
        return claim["workflow"]  # type: ignore[no-any-return]
    if run.get("workflow_id") is None:
        return None
    try:
        return store.get_definition(int(run["workflow_id"]))
    except NotFound:
        return None


def _workflow_document(workflow: Mapping[str, Any] | None) -> dict[str, Any]:
    """What a workflow row says of its definition: its document, then its columns."""
    if workflow is None:
        return {}
    document = workflow.get("definition")
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError:
            document = None  # the snapshot may still be whole; if not, parsing says what lacks
    columns = {key: workflow.get(key) for key in ("name", "version", "description")}
    return (dict(document) if isinstance(document, Mapping) else {}) | _present(columns)


def _present(document: Mapping[str, Any]) -> dict[str, Any]:
    """*document* without its null fields: a null is a field the document lacks."""
    return {key: value for key, value in document.items() if value is not None}


class PlanKind(StrEnum):
    """What a run needs next, by its step rows."""

    EXECUTE = auto()  # run the plan's step (its attempt-th attempt)
    SUCCEEDED = auto()  # every step on its path succeeded
    FAILED = auto()  # a step failed for good and nothing handles it
    WAITING = auto()  # a step holds the run for a human decision


class Plan:
    """Where a run stands, read from its step rows."""

    def __init__(self, kind: PlanKind, step_id: str | None = None, attempt: int = 1) -> None:
        self.kind = kind
        self.step_id = step_id
        self.attempt = attempt
        self.outputs: dict[str, Any] = {}
        self.step_context: dict[str, Any] = {}
        self.last_output: Any = None
        self.error: str | None = None
        self.failures = 0
        #: The attempt already started (by the transaction that ended the previous step).
        self.step_run_id: str | None = None


def plan_run(definition: WorkflowDefinition, rows: Sequence[Mapping[str, Any]]) -> Plan:
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
        done = [r for r in attempts if r["status"] == StepStatus.SUCCEEDED]
        if done:
            output = done[-1].get("outputs")
            outputs[current] = output
            context[current] = {"status": StepStatus.SUCCEEDED, "output": output}
            last = output
            current = definition.next_on_success(current, output)
            continue
        if any(r["status"] in STEP_WAITING_STATUSES for r in attempts):
            plan = Plan(PlanKind.WAITING, current)
            break
        failed = [r for r in attempts if r["status"] == StepStatus.FAILED]
        final = len(failed) >= definition.max_attempts(current) or any(
            isinstance(r.get("outputs"), Mapping) and r["outputs"].get("final") for r in failed
        )
        if failed and final:
            # A row that lacks its error (an older server's) says only that the step failed.
            error = failed[-1].get("error") or StepStatus.FAILED
            context[current] = {"status": StepStatus.FAILED, "error": error, "output": None}
            handler = definition.next_on_failure(current)
            if handler == END:
                plan = Plan(PlanKind.FAILED, current)
                plan.error = f"step {current!r} failed: {error}"
                break
            current = handler
            continue
        plan = Plan(PlanKind.EXECUTE, current, attempt=len(attempts) + 1)
        plan.failures = len(failed)
        break
    else:
        plan = Plan(PlanKind.SUCCEEDED)
    plan.outputs = outputs
    plan.step_context = context
    plan.last_output = last
    return plan


def held_step(store: WorkflowStore, run: Mapping[str, Any]) -> tuple[HeldStep | None, bool]:
    """The step a waiting run is held at, and whether rejecting it fails the run.

    Read from the definition and the step rows, as a worker would: the step with
    a waiting row, else the next step to execute (a migrated run may lack the
    waiting row this server writes). None when the definition cannot be loaded
    (approval then requeues the run, and the worker fails it with the reason) or
    nothing is left to run; rejecting such a run fails it.
    """
    try:
        definition = load_definition(store, run)
    except (DefinitionError, NotFound):
        return None, True
    plan = plan_run(definition, store.list_steps(str(run["run_id"])))
    if plan.kind not in (PlanKind.WAITING, PlanKind.EXECUTE) or plan.step_id is None:
        return None, True
    step = definition.step(plan.step_id)
    held = HeldStep(
        step_id=step.id,
        name=step.name,
        type=step.type,
        attempt=plan.attempt,
        awaits_decision=step.step_type.awaits_decision,
    )
    return held, definition.next_on_failure(step.id) == END


__all__ = ["Plan", "PlanKind", "held_step", "load_definition", "plan_run"]
