"""Runs our users' servers left pending keep running here: on their SQLite file, and migrated.

Each test opens the users' ``workflows.db`` of ``conftest.py`` (snapshots without a name, a
run using a step type this server lacks, runs waiting for approval or a human or paused without
our waiting step rows, runs left ``running``) with our stores, on SQLite as it is and on
PostgreSQL after the migration library moved it there, then drives the engine (in the test's
thread, claim by claim, or a started runtime with bounded waits) and checks how each run ends.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import update

from tldw_Server_API.app.core.DB_Management.registry import DatabaseRegistry
from tldw_Server_API.app.core.DB_Management.stores.workflows import (
    TERMINAL_STATUSES,
    UNAVAILABLE_STEP_TYPE,
    WorkflowStore,
)
from tldw_Server_API.app.core.Workflows.engine import WorkflowEngine
from tldw_Server_API.app.core.Workflows.runtime import WorkflowRuntime

from .conftest import (
    APPROVAL,
    APPROVAL_TO_REJECT,
    HUMAN,
    PAUSED,
    QUEUED,
    RUNNING,
    RUNNING_BARE,
    UNAVAILABLE,
    USERS_RUNS,
    api_client,
    assert_gap_free,
    create_workflow,
    event_types,
)

UNAVAILABLE_REASON = "step 'read_aloud' uses step type 'tts', which this server does not have"
WAITING = (APPROVAL, APPROVAL_TO_REJECT, HUMAN, PAUSED)


def process_due_runs(
    registry: DatabaseRegistry, store: WorkflowStore, limit: int = 50
) -> list[str]:
    """Claim and execute due runs one at a time in this thread until none is due."""
    engine = WorkflowEngine(registry, store)
    processed = []
    for _ in range(limit):
        run = store.claim_next_run("test-worker")
        if run is None:
            return processed
        engine.execute(run)
        processed.append(str(run["run_id"]))
    raise AssertionError(f"runs were still due after {limit} claims: {processed[-5:]}")


def _steps(store: WorkflowStore, run_id: str) -> list[tuple[str, str]]:
    return [(s["step_id"], s["status"]) for s in store.list_steps(run_id)]


def _decide(registry: DatabaseRegistry, run_id: str, action: str, comment: str) -> Any:
    with api_client(registry) as client:
        return client.post(f"/api/v1/workflows/runs/{run_id}/{action}", json={"comment": comment})


def _decide_and_process(
    registry: DatabaseRegistry, store: WorkflowStore, run_id: str, action: str, comment: str
) -> dict[str, Any]:
    """Decide through the API (the run is requeued), process the queue; the run as it ends."""
    response = _decide(registry, run_id, action, comment)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "queued"
    process_due_runs(registry, store)
    return store.get_run(run_id)


# -- 1. snapshots that lack fields ------------------------------------------------------------


def test_a_snapshot_without_a_name_runs_with_the_fields_of_its_workflow_row(
    users_registry: DatabaseRegistry, users_store: WorkflowStore
) -> None:
    process_due_runs(users_registry, users_store)

    run = users_store.get_run(QUEUED.run_id)
    assert run["status"] == "succeeded", run["error"]
    # "Hello" is the input default of the workflow row's document, which the snapshot lacks.
    assert run["outputs"]["result"] == {"message": "Hello Ann", "level": "info"}
    assert _steps(users_store, QUEUED.run_id) == [("greet", "succeeded"), ("say", "succeeded")]
    assert_gap_free(users_store, QUEUED.run_id)


def test_a_snapshots_own_fields_win_over_the_workflow_row(
    registry: DatabaseRegistry, store: WorkflowStore
) -> None:
    workflow_id = create_workflow(
        store,
        {
            "name": "greet",
            "inputs": {"who": "row"},
            "steps": [{"id": "s", "type": "prompt", "config": {"template": "from the row"}}],
        },
    )
    run_id = store.submit_run(workflow_id, {}, user_id="1")["run_id"]
    snapshot = {
        "steps": [{"id": "s", "type": "prompt", "config": {"template": "{{ inputs.who }}"}}]
    }
    with store.database.begin(write=True) as conn:
        conn.execute(
            update(store.runs)
            .where(store.runs.c.run_id == run_id)
            .values(definition_snapshot_json=snapshot)
        )

    process_due_runs(registry, store)

    run = store.get_run(run_id)
    assert run["status"] == "succeeded", run["error"]
    assert run["outputs"]["result"] == {"text": "row"}  # the snapshot's steps, the row's inputs


# -- 2. step types this server does not have --------------------------------------------------


def test_a_run_using_an_unavailable_step_type_fails_naming_the_step_and_its_type(
    users_registry: DatabaseRegistry, users_store: WorkflowStore
) -> None:
    process_due_runs(users_registry, users_store)

    run = users_store.get_run(UNAVAILABLE.run_id)
    assert (run["status"], run["error"]) == ("failed", UNAVAILABLE_REASON)
    assert run["status_reason"] == UNAVAILABLE_STEP_TYPE
    assert users_store.list_steps(UNAVAILABLE.run_id) == []  # no step of it ran
    assert event_types(users_store, UNAVAILABLE.run_id)[-1] == "run_failed"
    assert_gap_free(users_store, UNAVAILABLE.run_id)


def test_a_run_with_an_unavailable_step_type_does_not_hold_up_the_runs_behind_it(
    users_registry: DatabaseRegistry, users_store: WorkflowStore
) -> None:
    # One worker thread: the unavailable run is the oldest queued one, claimed before the rest.
    with WorkflowRuntime(users_registry, workers=1, poll_seconds=0.05) as runtime:
        ended = {
            r.run_id: runtime.run_and_wait(r.run_id, timeout=30)["status"]
            for r in (UNAVAILABLE, QUEUED, RUNNING, RUNNING_BARE)
        }
        alive = runtime.running

    assert ended == {
        UNAVAILABLE.run_id: "failed",
        QUEUED.run_id: "succeeded",
        RUNNING.run_id: "succeeded",
        RUNNING_BARE.run_id: "succeeded",
    }
    assert alive


def test_status_counts_runs_failed_for_an_unavailable_step_type(
    users_registry: DatabaseRegistry, users_store: WorkflowStore
) -> None:
    with api_client(users_registry) as client:
        before = client.get("/api/v1/workflows/status").json()["recent"]
        process_due_runs(users_registry, users_store)
        after = client.get("/api/v1/workflows/status").json()["recent"]

    assert (before["failed"], before["failed_unavailable_step_type"]) == (0, 0)
    assert (after["failed"], after["failed_unavailable_step_type"]) == (1, 1)
    assert after["succeeded"] == 3


def test_status_does_not_count_other_failures_as_unavailable_step_types(
    users_registry: DatabaseRegistry, users_store: WorkflowStore
) -> None:
    _decide(users_registry, HUMAN.run_id, "reject", "no")

    recent = users_store.status_summary()["recent"]

    assert (recent["failed"], recent["failed_unavailable_step_type"]) == (1, 0)


# -- 3. runs waiting for approval, for a human, or paused -------------------------------------


def test_waiting_runs_stay_waiting_while_the_queue_is_processed(
    users_registry: DatabaseRegistry, users_store: WorkflowStore
) -> None:
    processed = process_due_runs(users_registry, users_store)

    assert not {r.run_id for r in WAITING} & set(processed)
    assert [users_store.get_run(r.run_id)["status"] for r in WAITING] == [r.status for r in WAITING]


def test_approving_a_run_migrated_while_waiting_for_approval_continues_after_the_gate(
    users_registry: DatabaseRegistry, users_store: WorkflowStore
) -> None:
    run = _decide_and_process(users_registry, users_store, APPROVAL.run_id, "approve", "ship it")

    assert run["status"] == "succeeded", run["error"]
    assert run["outputs"]["result"]["message"] == "Draft for Di (ship it)"
    assert _steps(users_store, APPROVAL.run_id) == [
        ("draft", "succeeded"),
        ("approve", "succeeded"),
        ("post", "succeeded"),
    ]
    assert "human_approved" in event_types(users_store, APPROVAL.run_id)
    assert_gap_free(users_store, APPROVAL.run_id)


def test_rejecting_a_run_migrated_while_waiting_for_approval_follows_on_failure(
    users_registry: DatabaseRegistry, users_store: WorkflowStore
) -> None:
    run = _decide_and_process(
        users_registry, users_store, APPROVAL_TO_REJECT.run_id, "reject", "too long"
    )

    assert run["status"] == "succeeded", run["error"]
    assert run["outputs"]["result"]["message"] == "archived: rejected by 1: too long"
    assert _steps(users_store, APPROVAL_TO_REJECT.run_id) == [
        ("draft", "succeeded"),
        ("approve", "failed"),
        ("archive", "succeeded"),
    ]


def test_rejecting_a_run_migrated_while_waiting_for_a_human_fails_it_and_its_waiting_step(
    users_registry: DatabaseRegistry, users_store: WorkflowStore
) -> None:
    response = _decide(users_registry, HUMAN.run_id, "reject", "not now")

    assert response.status_code == 200, response.text
    assert (response.json()["status"], response.json()["error"]) == (
        "failed",
        "rejected by 1: not now",
    )
    # The older server's waiting row (status 'waiting_human') is the step that was decided.
    assert _steps(users_store, HUMAN.run_id) == [("check", "failed")]
    assert event_types(users_store, HUMAN.run_id)[-3:] == [
        "human_rejected",
        "step_failed",
        "run_failed",
    ]
    assert_gap_free(users_store, HUMAN.run_id)


def test_approving_a_paused_run_resumes_it_with_its_next_step(
    users_registry: DatabaseRegistry, users_store: WorkflowStore
) -> None:
    run = _decide_and_process(users_registry, users_store, PAUSED.run_id, "approve", "go on")

    assert run["status"] == "succeeded", run["error"]
    # The step recorded before the pause is reused, not run again.
    assert run["outputs"]["result"]["message"] == "Hello Fay, before the pause"
    assert _steps(users_store, PAUSED.run_id) == [("greet", "succeeded"), ("say", "succeeded")]


def test_cancelling_a_migrated_waiting_run_cancels_its_waiting_step(
    users_registry: DatabaseRegistry, users_store: WorkflowStore
) -> None:
    with api_client(users_registry) as client:
        response = client.post(f"/api/v1/workflows/runs/{HUMAN.run_id}/cancel")

    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert _steps(users_store, HUMAN.run_id) == [("check", "cancelled")]


def test_a_decided_migrated_run_cannot_be_decided_again(
    users_registry: DatabaseRegistry, users_store: WorkflowStore
) -> None:
    first = _decide(users_registry, APPROVAL.run_id, "approve", "yes")
    again = _decide(users_registry, APPROVAL.run_id, "reject", "no")

    assert (first.status_code, again.status_code) == (200, 409)


# -- 4. queued runs, and runs left running by the old server -----------------------------------


def test_a_run_left_running_is_taken_over_and_resumes_after_its_last_recorded_step(
    users_registry: DatabaseRegistry, users_store: WorkflowStore
) -> None:
    process_due_runs(users_registry, users_store)

    run = users_store.get_run(RUNNING.run_id)
    assert run["status"] == "succeeded", run["error"]
    assert run["outputs"]["result"]["message"] == "Hello from the old server"
    assert _steps(users_store, RUNNING.run_id) == [
        ("greet", "succeeded"),
        ("say", "abandoned"),
        ("say", "succeeded"),
    ]
    abandoned = [
        e for e in users_store.list_events(RUNNING.run_id) if e["event_type"] == "step_abandoned"
    ]
    assert abandoned[0]["payload"]["reason"] == (
        "the server that was running it stopped heartbeating"
    )
    assert_gap_free(users_store, RUNNING.run_id)


def test_a_run_left_running_before_any_step_runs_from_its_first_step(
    users_registry: DatabaseRegistry, users_store: WorkflowStore
) -> None:
    process_due_runs(users_registry, users_store)

    run = users_store.get_run(RUNNING_BARE.run_id)
    assert run["status"] == "succeeded", run["error"]
    assert run["outputs"]["result"]["message"] == "Hello Cy"
    assert "run_taken_over" in event_types(users_store, RUNNING_BARE.run_id)


# -- all together ---------------------------------------------------------------------------


def test_every_pending_run_of_the_users_file_reaches_a_final_state(
    users_registry: DatabaseRegistry, users_store: WorkflowStore
) -> None:
    decisions = {
        APPROVAL.run_id: ("approve", "ok"),
        APPROVAL_TO_REJECT.run_id: ("reject", "no"),
        HUMAN.run_id: ("approve", "fine"),
        PAUSED.run_id: ("approve", "resume"),
    }
    with WorkflowRuntime(users_registry, workers=2, poll_seconds=0.05) as runtime:
        for run_id, (action, comment) in decisions.items():
            assert _decide(users_registry, run_id, action, comment).status_code == 200
        ended = {r.run_id: runtime.run_and_wait(r.run_id, timeout=30) for r in USERS_RUNS}

    outcomes = {run_id: (run["status"], run["error"]) for run_id, run in ended.items()}
    assert outcomes == {
        UNAVAILABLE.run_id: ("failed", UNAVAILABLE_REASON),
        QUEUED.run_id: ("succeeded", None),
        RUNNING.run_id: ("succeeded", None),
        RUNNING_BARE.run_id: ("succeeded", None),
        APPROVAL.run_id: ("succeeded", None),
        APPROVAL_TO_REJECT.run_id: ("succeeded", None),
        HUMAN.run_id: ("succeeded", None),
        PAUSED.run_id: ("succeeded", None),
    }
    assert all(run["status"] in TERMINAL_STATUSES for run in ended.values())
    for run in USERS_RUNS:
        assert_gap_free(users_store, run.run_id)
        assert users_store.list_events(run.run_id)[0]["event_type"] == "run_created"
