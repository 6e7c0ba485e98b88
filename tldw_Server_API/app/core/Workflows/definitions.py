"""Workflow definitions: versioned JSON documents, validated with clear errors.

A definition is::

    {
      "name": "greet",
      "description": "...",
      "inputs": {"name": "world"},              # defaults for run inputs
      "retry": {"max_attempts": 1},             # default retry policy of every step
      "steps": [
        {"id": "hello", "type": "prompt", "config": {"template": "Hello {{ inputs.name }}"}},
        {"id": "check", "type": "branch",
         "config": {"cases": [{"when": {"path": "inputs.shout", "op": "truthy"}, "next": "loud"}],
                    "default": "end"}},
        {"id": "loud", "type": "log", "config": {"message": "{{ steps.hello.output.text }}!"},
         "on_success": "end", "on_failure": "end",
         "retry": {"max_attempts": 3, "backoff_seconds": 1}}
      ]
    }

The first step runs first. ``on_success`` names the next step (default: the
following step in the list, ``end`` after the last); a branch step chooses its
own successor. ``on_failure`` names the step that handles this step's final
failure; without it (or with ``end``) the run fails. The steps must form no
cycle, so every step runs at most once per run: that is what lets a run that
is taken over resume exactly after its last recorded step.

The version is assigned by the store (same name: next version); a ``version``
key in the submitted document is ignored.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from graphlib import CycleError, TopologicalSorter
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

from .steps import STEP_TYPES
from .steps.base import StepConfig, StepType

END = "end"
STEP_ID_PATTERN = r"^[A-Za-z_][A-Za-z0-9_-]{0,63}$"


@dataclass(frozen=True)
class Problem:
    """One reason a definition cannot be run.

    ``loc`` is its place in the document (``("steps", 2, "config", "url")``; empty for the
    document as a whole), ``type`` a machine-readable kind (pydantic's, or ours such as
    ``unknown_step_type``). ``where`` is the place for people, naming the step's id
    (``steps[2] (id 'notify').config.url``); ``None`` when the message says it all.
    """

    loc: tuple[str | int, ...]
    msg: str
    type: str
    where: str | None = None

    def __str__(self) -> str:
        return f"{self.where}: {self.msg}" if self.where else self.msg


class DefinitionError(ValueError):
    """A definition that cannot be run.

    ``errors`` holds every :class:`Problem`; ``problems`` says each as one line of text.
    """

    def __init__(
        self,
        problems: Sequence[Problem | str],
        *,
        headline: str = "invalid workflow definition: ",
    ) -> None:
        self.errors = [
            p if isinstance(p, Problem) else Problem((), p, "value_error") for p in problems
        ]
        self.problems = [str(p) for p in self.errors]
        super().__init__(headline + "; ".join(self.problems))


class UnavailableStepType(DefinitionError):
    """A definition uses step types this server does not have (an older or newer server's).

    ``steps`` lists ``(step id, step type)``; the message names each pair, as
    ``step 'x' uses step type 'tts', which this server does not have``.
    """

    def __init__(self, steps: list[tuple[str, str]]) -> None:
        self.steps = steps
        problems = [
            Problem(
                (),
                f"step {step_id!r} uses step type {type_!r}, which this server does not have",
                "unavailable_step_type",
            )
            for step_id, type_ in steps
        ]
        super().__init__(problems, headline="")


def unavailable_step_types(document: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``(step id, step type)`` of each step of *document* whose type is not registered.

    Steps that are not objects, or lack a textual id or type, are left to
    :func:`parse_definition` to report.
    """
    steps = document.get("steps")
    if not isinstance(steps, list):
        return []
    return [
        (step["id"], step["type"])
        for step in steps
        if isinstance(step, Mapping)
        and isinstance(step.get("id"), str)
        and isinstance(step.get("type"), str)
        and step["type"] not in STEP_TYPES
    ]


class RetryPolicy(BaseModel):
    """How often a failing step is tried, and how long to wait between tries."""

    model_config = ConfigDict(extra="forbid")

    max_attempts: int = Field(default=1, ge=1, le=20)
    backoff_seconds: float = Field(default=1.0, ge=0, le=3600)
    max_backoff_seconds: float = Field(default=300.0, ge=0, le=86_400)

    def delay_after(self, failures: int) -> float:
        """Seconds to wait after the *failures*-th failed attempt: exponential, capped."""
        return min(self.max_backoff_seconds, self.backoff_seconds * 2 ** max(0, failures - 1))


class StepDefinition(BaseModel):
    # Keys our users' older definitions carry (timeouts, labels) are tolerated and ignored.
    model_config = ConfigDict(extra="ignore")

    id: str = Field(pattern=STEP_ID_PATTERN)
    type: str
    name: str | None = None
    config: dict[str, Any] = Field(default_factory=dict)
    on_success: str | None = None
    on_failure: str | None = None
    retry: RetryPolicy | None = None

    _settings: StepConfig | None = PrivateAttr(default=None)

    @property
    def step_type(self) -> StepType:
        return STEP_TYPES[self.type]

    @property
    def settings(self) -> StepConfig:
        """The parsed, validated ``config`` of this step."""
        if self._settings is None:
            self._settings = self.step_type.parse(self.config)
        return self._settings


VISIBILITIES = ("private", "team", "org", "public")


def definition_json_schema() -> dict[str, Any]:
    """The shape of a definition document, for the API schema.

    What JSON Schema cannot say (each step's ``config`` by its type, ``on_success`` /
    ``on_failure`` naming a step that exists, unique ids) :func:`parse_definition`
    checks: a 422 whose ``errors`` lists each.
    """
    return {
        "required": ["name", "steps"],
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 200},
            "description": {"type": ["string", "null"]},
            "tags": {"type": "array", "items": {"type": "string"}},
            "visibility": {"enum": list(VISIBILITIES), "default": "private"},
            "steps": {
                "type": "array",
                "minItems": 1,
                "maxItems": 500,
                "items": {
                    "type": "object",
                    "required": ["id", "type"],
                    "properties": {
                        "id": {"type": "string", "pattern": STEP_ID_PATTERN},
                        "type": {"enum": sorted(STEP_TYPES)},
                        "name": {"type": ["string", "null"]},
                        "config": {"type": "object"},
                        "on_success": {"type": ["string", "null"]},
                        "on_failure": {"type": ["string", "null"]},
                    },
                },
            },
        },
    }


class WorkflowDefinition(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str = Field(min_length=1, max_length=200)
    version: int | None = None
    description: str | None = None
    tags: list[str] = Field(default_factory=list)
    inputs: dict[str, Any] = Field(default_factory=dict)
    retry: RetryPolicy = Field(default_factory=RetryPolicy)
    steps: list[StepDefinition] = Field(min_length=1, max_length=500)

    # -- navigation ----------------------------------------------------------------
    @property
    def first_step(self) -> str:
        return self.steps[0].id

    def step(self, step_id: str) -> StepDefinition:
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(step_id)

    def default_next(self, step_id: str) -> str:
        """The step after *step_id* when it succeeds and names no ``on_success``."""
        ids = [s.id for s in self.steps]
        index = ids.index(step_id)
        return ids[index + 1] if index + 1 < len(ids) else END

    def next_on_success(self, step_id: str, output: Any) -> str:
        step = self.step(step_id)
        if step.step_type.chooses_next:
            chosen = output.get("next") if isinstance(output, Mapping) else None
            return str(chosen or END)
        return step.on_success or self.default_next(step_id)

    def next_on_failure(self, step_id: str) -> str:
        return self.step(step_id).on_failure or END

    def retry_policy(self, step_id: str) -> RetryPolicy:
        """The step's ``retry``; else what its config sets (a webhook's ``max_attempts``...);
        else the definition's ``retry`` when it is not the default one (stored documents
        always carry one); else its step type's default."""
        step = self.step(step_id)
        if step.retry is not None:
            return step.retry
        configured = step.step_type.configured_retry(step.settings)
        if configured is not None:
            return RetryPolicy(**configured)
        default = step.step_type.default_retry
        if self.retry != RetryPolicy() or default is None:
            return self.retry
        return RetryPolicy(**default)

    def max_attempts(self, step_id: str) -> int:
        step = self.step(step_id)
        attempts = self.retry_policy(step_id).max_attempts
        cap = step.step_type.max_attempts_cap
        return min(attempts, cap) if cap else attempts

    def successors(self, step: StepDefinition) -> list[tuple[str, str]]:
        """(edge label, target) pairs leaving *step*."""
        if step.step_type.chooses_next:
            edges = [("branch", t) for t in step.step_type.targets(step.settings)]
        else:
            edges = [("on_success", step.on_success or self.default_next(step.id))]
        if step.on_failure:
            edges.append(("on_failure", step.on_failure))
        return edges

    def to_document(self) -> dict[str, Any]:
        """The JSON document stored for this definition (what was submitted, normalised)."""
        return self.model_dump(mode="json", exclude_none=True)


def _location(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _from_pydantic(
    exc: ValidationError, loc: tuple[str | int, ...] = (), where: str = ""
) -> list[Problem]:
    """pydantic's errors, placed under *loc* (said as *where*) in the definition."""
    problems = []
    for error in exc.errors():
        inner = tuple(error["loc"])
        said = _location(inner)
        location = (f"{where}.{said}" if said else where) if where else said
        problems.append(Problem(loc + inner, error["msg"], error["type"], location or "definition"))
    return problems


def parse_definition(document: Mapping[str, Any] | Any) -> WorkflowDefinition:
    """Validate *document* and return the definition, or raise :class:`DefinitionError`.

    Every problem is reported at once, each naming where it is (``steps[2] (id
    'notify').config.url: ...``).
    """
    if not isinstance(document, Mapping):
        raise DefinitionError(
            [
                Problem(
                    (), f"a definition is a JSON object, got {type(document).__name__}", "dict_type"
                )
            ]
        )
    try:
        definition = WorkflowDefinition.model_validate(dict(document))
    except ValidationError as exc:
        raise DefinitionError(_from_pydantic(exc)) from None
    problems: list[Problem] = []
    ids: dict[str, int] = {}
    for index, step in enumerate(definition.steps):
        at: tuple[str | int, ...] = ("steps", index)
        where = f"steps[{index}] (id {step.id!r})"
        if step.id == END:
            problems.append(
                Problem(
                    (*at, "id"), "'end' is reserved and cannot be a step id", "reserved_id", where
                )
            )
        if step.id in ids:
            problems.append(
                Problem(
                    (*at, "id"),
                    f"duplicate id (also steps[{ids[step.id]}])",
                    "duplicate_id",
                    where,
                )
            )
        ids.setdefault(step.id, index)
        if step.type not in STEP_TYPES:
            known = ", ".join(sorted(STEP_TYPES))
            problems.append(
                Problem(
                    (*at, "type"),
                    f"unknown step type {step.type!r} (known: {known})",
                    "unknown_step_type",
                    f"{where}.type",
                )
            )
            continue
        try:
            settings = step.settings
        except ValidationError as exc:
            problems += _from_pydantic(exc, (*at, "config"), f"{where}.config")
            continue
        problems += [
            Problem((*at, "config"), p, "invalid_config", f"{where}.config")
            for p in step.step_type.check(settings)
        ]
    if problems:
        raise DefinitionError(problems)
    for index, step in enumerate(definition.steps):
        where = f"steps[{index}] (id {step.id!r})"
        for label, target in definition.successors(step):
            if target != END and target not in ids:
                # A branch's targets live in its config; on_success/on_failure are step keys.
                key: tuple[str | int, ...] = ("config",) if label == "branch" else (label,)
                problems.append(
                    Problem(
                        ("steps", index, *key),
                        f"{target!r} is not a step id or 'end'",
                        "unknown_step",
                        f"{where}.{label}",
                    )
                )
    if problems:
        raise DefinitionError(problems)
    cycle = _find_cycle(definition)
    if cycle:
        problems.append(
            Problem(
                ("steps",),
                "steps form a cycle ("
                + " -> ".join(cycle)
                + "); a run executes each step at most once",
                "cycle",
            )
        )
        raise DefinitionError(problems)
    return definition


def _find_cycle(definition: WorkflowDefinition) -> list[str] | None:
    """The steps of a cycle in order, the first repeated at the end; ``None`` when acyclic."""
    before: dict[str, list[str]] = {step.id: [] for step in definition.steps}
    for step in definition.steps:
        for _, target in definition.successors(step):
            if target != END:
                before[target].append(step.id)
    try:
        TopologicalSorter(before).prepare()
    except CycleError as exc:
        # Each step in the cycle the error reports comes right before the next one.
        return [str(step_id) for step_id in exc.args[1]]
    return None


__all__ = [
    "END",
    "DefinitionError",
    "Problem",
    "RetryPolicy",
    "StepDefinition",
    "UnavailableStepType",
    "WorkflowDefinition",
    "parse_definition",
    "unavailable_step_types",
]
