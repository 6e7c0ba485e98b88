"""Steps that need nothing but the run: log, delay, prompt, branch, wait_for_human/approval."""

from __future__ import annotations

import operator
from typing import Any, ClassVar, Literal

from pydantic import Field, model_validator

from ...DB_Management.stores.workflows import RunStatus
from ..templates import TemplateError, lookup
from .base import ParkForHuman, StepConfig, StepContext, StepFailed, StepType, log


class LogConfig(StepConfig):
    message: str
    level: Literal["debug", "info", "warning", "error"] = "info"


class LogStep(StepType[LogConfig]):
    """Write a (templated) message to the run's event log and the server log."""

    name = "log"
    Config = LogConfig
    templated = ("message",)

    def run(self, ctx: StepContext, config: LogConfig) -> dict[str, Any]:
        message = ctx.render(config.message)
        log.log(
            {"debug": 10, "info": 20, "warning": 30, "error": 40}[config.level],
            "workflow run %s step %s: %s",
            ctx.run_id,
            ctx.step_id,
            message,
        )
        ctx.note("log", {"level": config.level, "message": message})
        return {"message": message, "level": config.level}


class DelayConfig(StepConfig):
    seconds: float = Field(ge=0, le=86_400)


class DelayStep(StepType[DelayConfig]):
    """Wait a number of seconds; cancellation and shutdown interrupt the wait."""

    name = "delay"
    Config = DelayConfig

    def run(self, ctx: StepContext, config: DelayConfig) -> dict[str, Any]:
        ctx.sleep(config.seconds)
        return {"slept_seconds": config.seconds}


class PromptConfig(StepConfig):
    template: str
    #: When set, the rendered text is also kept as a run artifact of this name.
    artifact: str | None = Field(default=None, min_length=1, max_length=200)


class PromptStep(StepType[PromptConfig]):
    """Render a template from the inputs and earlier outputs (no model is called)."""

    name = "prompt"
    Config = PromptConfig
    templated = ("template",)

    def run(self, ctx: StepContext, config: PromptConfig) -> dict[str, Any]:
        try:
            text = ctx.render(config.template)
        except TemplateError as exc:
            raise StepFailed(str(exc), retryable=False) from None
        output: dict[str, Any] = {"text": text}
        if config.artifact:
            artifact = ctx.add_text_artifact(
                text,
                type="text",
                uri=f"workflow://runs/{ctx.run_id}/artifacts/{config.artifact}",
                metadata={"name": config.artifact, "content": text},
            )
            output["artifact_id"] = artifact["artifact_id"]
        return output


# -- branch -----------------------------------------------------------------------

_COMPARE = {
    "eq": operator.eq,
    "ne": operator.ne,
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
}
ConditionOp = Literal[
    "eq", "ne", "gt", "gte", "lt", "lte", "contains", "in", "exists", "truthy", "falsy"
]


class Condition(StepConfig):
    """``{"path": ..., "op": ..., "value": ...}``, or ``{"all": [...]}`` / ``any`` / ``not``."""

    path: str | None = None
    op: ConditionOp = "truthy"
    value: Any = None
    all: list[Condition] | None = None
    any: list[Condition] | None = None
    not_: Condition | None = Field(default=None, alias="not")

    @model_validator(mode="after")
    def _one_form(self) -> Condition:
        forms = [self.path is not None, self.all is not None, self.any is not None]
        forms.append(self.not_ is not None)
        if sum(forms) != 1:
            raise ValueError("a condition has exactly one of 'path', 'all', 'any' or 'not'")
        return self

    def evaluate(self, context: dict[str, Any]) -> bool:
        if self.all is not None:
            return all(c.evaluate(context) for c in self.all)
        if self.any is not None:
            return any(c.evaluate(context) for c in self.any)
        if self.not_ is not None:
            return not self.not_.evaluate(context)
        assert self.path is not None
        try:
            actual = lookup(context, self.path)
            present = True
        except KeyError:
            actual, present = None, False
        if self.op == "exists":
            return present
        if self.op == "truthy":
            return bool(actual)
        if self.op == "falsy":
            return not actual
        if not present:
            return False
        if self.op == "contains":
            return _contains(actual, self.value)
        if self.op == "in":
            return _contains(self.value, actual)
        try:
            return bool(_COMPARE[self.op](actual, self.value))
        except TypeError:
            raise StepFailed(
                f"branch: cannot compare {self.path} ({type(actual).__name__}) "
                f"with {self.value!r} using {self.op}",
                retryable=False,
            ) from None


def _contains(container: Any, item: Any) -> bool:
    if isinstance(container, str):
        return isinstance(item, str) and item in container
    if isinstance(container, list | tuple | dict):
        return item in container
    return False


class BranchCase(StepConfig):
    when: Condition
    next: str


class BranchConfig(StepConfig):
    cases: list[BranchCase] = Field(min_length=1)
    default: str = "end"


class BranchStep(StepType[BranchConfig]):
    """Choose the next step: the first case whose condition holds, else ``default``."""

    name = "branch"
    Config = BranchConfig
    chooses_next = True

    def targets(self, config: BranchConfig) -> list[str]:
        return [case.next for case in config.cases] + [config.default]

    def run(self, ctx: StepContext, config: BranchConfig) -> dict[str, Any]:
        context = dict(ctx.template_context)
        for index, case in enumerate(config.cases):
            if case.when.evaluate(context):
                return {"next": case.next, "matched_case": index}
        return {"next": config.default, "matched_case": None}


class WaitForHumanConfig(StepConfig):
    prompt: str = "Approve this run?"
    assignee: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)


class WaitForHumanStep(StepType[WaitForHumanConfig]):
    """Stop the run in ``waiting_human`` until someone approves or rejects it.

    Approval makes this step succeed (its output is the decision) and the run
    goes on; rejection makes it fail, which follows ``on_failure`` or fails the run.
    """

    name = "wait_for_human"
    Config = WaitForHumanConfig
    max_attempts_cap = 1
    awaits_decision = True
    #: The run's status while it waits.
    waiting_status: ClassVar[RunStatus] = RunStatus.WAITING_HUMAN
    templated = ("prompt", "details")

    def run(self, ctx: StepContext, config: WaitForHumanConfig) -> ParkForHuman:
        try:
            prompt = ctx.render(config.prompt)
            details = ctx.render_value(config.details)
        except TemplateError as exc:
            raise StepFailed(str(exc), retryable=False) from None
        if config.assignee:
            details = dict(details) | {"assignee": config.assignee}
        return ParkForHuman(prompt=prompt, details=details, status=self.waiting_status)


class WaitForApprovalStep(WaitForHumanStep):
    """``wait_for_human`` under the name newer servers use; the run waits as ``waiting_approval``.

    Our users' runs that were waiting at such a step when they migrated are
    approved or rejected like any other.
    """

    name = "wait_for_approval"
    waiting_status = RunStatus.WAITING_APPROVAL


__all__ = [
    "BranchStep",
    "Condition",
    "DelayStep",
    "LogStep",
    "PromptStep",
    "WaitForApprovalStep",
    "WaitForHumanStep",
]
