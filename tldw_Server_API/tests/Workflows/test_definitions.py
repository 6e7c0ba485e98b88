"""Definition validation and the template language (no database needed)."""

from __future__ import annotations

import pytest

from tldw_Server_API.app.core.Workflows.definitions import DefinitionError, parse_definition
from tldw_Server_API.app.core.Workflows.run_state import plan_run
from tldw_Server_API.app.core.Workflows.steps import STEP_TYPES
from tldw_Server_API.app.core.Workflows.templates import TemplateError, render, render_value

CONTEXT = {
    "inputs": {"name": "Ann", "tags": ["a", "b"], "empty": None},
    "steps": {"s1": {"output": {"items": [{"title": "First"}], "n": 3}}},
    "run": {"run_id": "r-1"},
}


def _problems(document: dict) -> list[str]:
    with pytest.raises(DefinitionError) as caught:
        parse_definition(document)
    return caught.value.problems


def test_a_valid_definition_parses_with_defaults() -> None:
    definition = parse_definition(
        {
            "name": "w",
            "steps": [
                {"id": "a", "type": "log", "config": {"message": "x"}, "legacy_timeout": 5},
                {"id": "b", "type": "delay", "config": {"seconds": 1}},
            ],
        }
    )

    assert definition.first_step == "a"
    assert definition.next_on_success("a", {}) == "b"
    assert definition.next_on_success("b", {}) == "end"
    assert definition.next_on_failure("a") == "end"
    assert definition.max_attempts("a") == 1


def test_every_problem_is_reported_with_its_place() -> None:
    problems = _problems(
        {
            "name": "w",
            "steps": [
                {"id": "a", "type": "teleport"},
                {"id": "b", "type": "delay", "config": {"seconds": -1}},
                {"id": "c", "type": "log", "config": {"message": "{{ nope.x }}"}},
                {"id": "c", "type": "log", "config": {"message": "x", "colour": "red"}},
            ],
        }
    )

    joined = "\n".join(problems)
    assert "steps[0] (id 'a').type: unknown step type 'teleport'" in joined
    assert "steps[1] (id 'b').config.seconds" in joined
    assert (
        "steps[2] (id 'c').config: {{ nope.x }}: paths start with one of inputs, steps, run"
        in joined
    )
    assert "steps[3] (id 'c'): duplicate id (also steps[2])" in joined
    assert "steps[3] (id 'c').config.colour: Extra inputs are not permitted" in joined


def test_every_templated_field_is_a_field_of_its_step_config() -> None:
    for name, step_type in STEP_TYPES.items():
        assert set(step_type.templated) <= set(step_type.Config.model_fields), name


@pytest.mark.parametrize(
    ("step_type", "config"),
    [
        ("prompt", {"template": "{{ nope.x }}"}),
        ("create_note", {"title": "t", "content": "{{ nope.x }}"}),
        ("wait_for_approval", {"details": {"why": ["{{ nope.x }}"]}}),
        ("webhook", {"url": "https://example.org/", "headers": {"X-A": "{{ nope.x }}"}}),
    ],
)
def test_a_malformed_template_in_any_templated_field_is_a_problem(
    step_type: str, config: dict
) -> None:
    problems = _problems({"name": "w", "steps": [{"id": "a", "type": step_type, "config": config}]})
    assert problems == [
        "steps[0] (id 'a').config: {{ nope.x }}: paths start with one of inputs, steps, run"
    ]


def test_unknown_targets_are_reported() -> None:
    problems = _problems(
        {
            "name": "w",
            "steps": [
                {"id": "a", "type": "log", "config": {"message": "x"}, "on_failure": "ghost"},
                {
                    "id": "b",
                    "type": "branch",
                    "config": {"cases": [{"when": {"path": "inputs.x"}, "next": "phantom"}]},
                },
            ],
        }
    )

    assert problems == [
        "steps[0] (id 'a').on_failure: 'ghost' is not a step id or 'end'",
        "steps[1] (id 'b').branch: 'phantom' is not a step id or 'end'",
    ]


def test_each_problem_has_its_place_in_the_document_and_a_kind() -> None:
    with pytest.raises(DefinitionError) as caught:
        parse_definition(
            {
                "name": "w",
                "steps": [
                    {"id": "a", "type": "log", "config": {"message": "x"}},
                    {"id": "a", "type": "log", "config": {}},
                ],
            }
        )

    assert [(p.loc, p.type) for p in caught.value.errors] == [
        (("steps", 1, "id"), "duplicate_id"),
        (("steps", 1, "config", "message"), "missing"),
    ]


def test_cycles_are_refused() -> None:
    problems = _problems(
        {
            "name": "w",
            "steps": [
                {"id": "a", "type": "log", "config": {"message": "x"}},
                {"id": "b", "type": "log", "config": {"message": "x"}, "on_success": "a"},
            ],
        }
    )

    assert problems == ["steps form a cycle (a -> b -> a); a run executes each step at most once"]


def test_a_cycle_is_named_by_its_own_steps_in_the_order_they_run() -> None:
    log = {"type": "log", "config": {"message": "x"}}
    problems = _problems(
        {
            "name": "w",
            "steps": [
                {"id": "start", **log},
                {"id": "fetch", **log},
                {
                    "id": "check",
                    "type": "branch",
                    "config": {
                        "cases": [{"when": {"path": "inputs.done", "op": "truthy"}, "next": "end"}],
                        "default": "retry",
                    },
                },
                {"id": "retry", **log, "on_success": "fetch"},
            ],
        }
    )

    assert problems == [
        "steps form a cycle (fetch -> check -> retry -> fetch); "
        "a run executes each step at most once"
    ]


def test_a_step_that_follows_itself_is_a_cycle() -> None:
    problems = _problems(
        {
            "name": "w",
            "steps": [{"id": "a", "type": "log", "config": {"message": "x"}, "on_success": "a"}],
        }
    )

    assert problems == ["steps form a cycle (a -> a); a run executes each step at most once"]


def test_structure_errors_name_their_field() -> None:
    assert _problems({"steps": []}) == [
        "name: Field required",
        "steps: List should have at least 1 item after validation, not 0",
    ]
    assert _problems({"name": "w", "steps": [{"id": "1x", "type": "log"}]})[0].startswith(
        "steps[0].id: String should match pattern"
    )


def test_wait_for_human_never_retries() -> None:
    definition = parse_definition(
        {
            "name": "w",
            "retry": {"max_attempts": 5},
            "steps": [
                {"id": "ok", "type": "wait_for_human"},
                {"id": "next", "type": "log", "config": {"message": "x"}},
            ],
        }
    )

    assert definition.max_attempts("ok") == 1
    assert definition.max_attempts("next") == 5


def test_plan_resumes_after_the_last_succeeded_step() -> None:
    definition = parse_definition(
        {
            "name": "w",
            "retry": {"max_attempts": 2},
            "steps": [
                {"id": "a", "type": "prompt", "config": {"template": "x"}},
                {"id": "b", "type": "log", "config": {"message": "x"}},
                {"id": "c", "type": "log", "config": {"message": "x"}},
            ],
        }
    )
    rows = [
        {"step_id": "a", "status": "succeeded", "outputs": {"text": "x"}},
        {"step_id": "b", "status": "abandoned"},
        {"step_id": "b", "status": "failed", "error": "e", "outputs": {"final": False}},
    ]

    plan = plan_run(definition, rows)

    assert (plan.kind, plan.step_id, plan.attempt, plan.failures) == ("execute", "b", 3, 1)
    assert plan.step_context["a"]["output"] == {"text": "x"}


def test_render_replaces_paths_and_applies_filters() -> None:
    assert render("Hi {{ inputs.name }}!", CONTEXT) == "Hi Ann!"
    assert render("{{ steps.s1.output.items.0.title | upper }}", CONTEXT) == "FIRST"
    assert render("{{ steps.s1.output.items[0].title }}", CONTEXT) == "First"
    assert render("{{ inputs.empty | default('none') }}", CONTEXT) == "none"
    assert render("{{ inputs.tags | json }} {{ inputs.tags | length }}", CONTEXT) == '["a", "b"] 2'


def test_render_value_keeps_types_of_whole_expressions() -> None:
    value = {
        "n": "{{ steps.s1.output.n }}",
        "tags": "{{ inputs.tags }}",
        "s": "n={{ steps.s1.output.n }}",
    }

    assert render_value(value, CONTEXT) == {"n": 3, "tags": ["a", "b"], "s": "n=3"}


def test_missing_paths_are_errors_that_name_the_path() -> None:
    with pytest.raises(TemplateError, match=r"inputs\.nobody is not defined"):
        render("{{ inputs.nobody }}", CONTEXT)
    with pytest.raises(TemplateError, match="unknown filter"):
        render("{{ inputs.name | shout }}", CONTEXT)
    with pytest.raises(TemplateError, match="is not a path"):
        render("{{ inputs.name.__class__() }}", CONTEXT)


def _webhook_policy(step: dict, **document: object) -> tuple[int, float]:
    hook = {"id": "hook", "type": "webhook", "config": {"url": "https://example.org"}} | step
    definition = parse_definition({"name": "w", "steps": [hook]} | document)
    policy = definition.retry_policy("hook")
    return definition.max_attempts("hook"), policy.backoff_seconds


def test_a_webhook_has_one_retry_policy_whoever_sets_it() -> None:
    assert _webhook_policy({}) == (3, 0.5)  # the webhook's default
    assert _webhook_policy({}, retry={"max_attempts": 2}) == (2, 1.0)  # the definition's
    config = {"url": "https://example.org", "max_attempts": 5, "backoff_seconds": 2}
    assert _webhook_policy({"config": config}, retry={"max_attempts": 2}) == (5, 2.0)
    step_retry = {"config": config, "retry": {"max_attempts": 4, "backoff_seconds": 0.1}}
    assert _webhook_policy(step_retry) == (4, 0.1)  # the step's own wins
    assert _webhook_policy({"type": "log", "config": {"message": "x"}}) == (1, 1.0)
