"""The workflows store on SQLite and PostgreSQL: what is written reads back the same."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

import pytest

from tldw_Server_API.app.core.DB_Management.instants import utc_now
from tldw_Server_API.app.core.DB_Management.stores.workflows import (
    Conflict,
    LeaseLost,
    NotFound,
    RunEnd,
    RunStatus,
    StepResult,
    StepStart,
    WorkflowStore,
)

from .conftest import assert_gap_free, create_workflow, event_types

DOC = {
    "name": "summarise",
    "description": "two steps",
    "steps": [
        {"id": "a", "type": "prompt", "config": {"template": "Hi {{ inputs.who }}"}},
        {"id": "b", "type": "log", "config": {"message": "{{ steps.a.output.text }}"}},
    ],
}


def _claim(store: WorkflowStore, worker: str = "w1", lease: float = 30.0) -> dict:
    run = store.claim_next_run(worker, lease)
    assert run is not None
    return run


def test_definition_versions_round_trip(store: WorkflowStore) -> None:
    first = store.create_definition("summarise", DOC, owner_id="1", description="d", tags=["x"])
    second = store.create_definition("summarise", DOC | {"description": "v2"}, owner_id="1")

    assert (first["version"], second["version"]) == (1, 2)
    fetched = store.get_definition(first["id"])
    assert fetched["definition"]["steps"] == DOC["steps"]
    assert fetched["definition"]["version"] == 1
    assert (fetched["owner_id"], fetched["tags"], fetched["is_active"]) == ("1", "x", True)
    assert store.get_definition_by_name("summarise", owner_id="1")["version"] == 2


def test_list_definitions_latest_only_and_deactivate(store: WorkflowStore) -> None:
    v1 = store.create_definition("summarise", DOC, owner_id="1")
    v2 = store.create_definition("summarise", DOC, owner_id="1")
    store.create_definition("other", DOC, owner_id="2")

    assert [d["version"] for d in store.list_definitions(name="summarise")] == [2, 1]
    assert {(d["name"], d["version"]) for d in store.list_definitions(latest_only=True)} == {
        ("other", 1),
        ("summarise", 2),
    }
    store.deactivate_definition(v2["id"])
    assert store.get_definition_by_name("summarise", owner_id="1")["id"] == v1["id"]
    assert [d["version"] for d in store.list_definitions(latest_only=True, name="summarise")] == [1]
    assert [d["name"] for d in store.list_definitions(owner_id="1", latest_only=True)] == [
        "summarise"
    ]


def test_definition_versions_under_concurrent_creators(store: WorkflowStore) -> None:
    versions: list[int] = []
    lock = threading.Lock()

    def create() -> None:
        created = store.create_definition("race", DOC, owner_id="1")
        with lock:
            versions.append(created["version"])

    threads = [threading.Thread(target=create) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(versions) == [1, 2, 3, 4, 5, 6]


def test_run_round_trip(store: WorkflowStore) -> None:
    workflow_id = create_workflow(store, DOC)
    run = store.submit_run(workflow_id, {"who": "Ann", "n": [1, 2]}, user_id="7")

    fetched = store.get_run(run["run_id"])
    assert fetched["status"] == "queued"
    assert fetched["inputs"] == {"who": "Ann", "n": [1, 2]}
    assert fetched["user_id"] == "7"
    assert fetched["definition_version"] == 1
    assert fetched["definition_snapshot"]["steps"][0]["id"] == "a"
    assert fetched["cancel_requested"] is False
    assert event_types(store, run["run_id"]) == ["run_queued"]


def test_unknown_run_and_definition_are_not_found(store: WorkflowStore) -> None:
    with pytest.raises(NotFound):
        store.get_run("no-such-run")
    with pytest.raises(NotFound):
        store.submit_run(999, {}, user_id="1")


def test_idempotency_key_returns_the_same_run(store: WorkflowStore) -> None:
    workflow_id = create_workflow(store, DOC)
    first, created = store.submit_run_with_status(
        workflow_id, {"who": "a"}, user_id="1", idempotency_key="req-1"
    )
    again, created_again = store.submit_run_with_status(
        workflow_id, {"who": "b"}, user_id="1", idempotency_key="req-1"
    )

    assert (created, created_again) == (True, False)
    assert again["run_id"] == first["run_id"]
    assert again["inputs"] == {"who": "a"}
    assert store.count_runs() == 1


def test_list_runs_filters_by_status_and_pages(store: WorkflowStore) -> None:
    workflow_id = create_workflow(store, DOC)
    runs = [store.submit_run(workflow_id, {"i": i}, user_id="1") for i in range(5)]
    store.submit_run(workflow_id, {}, user_id="someone-else")
    for run in runs[:2]:
        store.cancel_run(run["run_id"])

    assert store.count_runs(status="cancelled") == 2
    assert store.count_runs(status=["queued", "cancelled"], user_id="1") == 5
    queued = store.list_runs(status="queued", user_id="1")
    assert {r["run_id"] for r in queued} == {r["run_id"] for r in runs[2:]}
    pages = [store.list_runs(user_id="1", limit=2, offset=o) for o in (0, 2, 4)]
    assert [len(p) for p in pages] == [2, 2, 1]
    assert len({r["run_id"] for p in pages for r in p}) == 5


def test_steps_and_their_events_round_trip(store: WorkflowStore) -> None:
    workflow_id = create_workflow(store, DOC)
    run_id = store.submit_run(workflow_id, {}, user_id="1")["run_id"]
    fence = _claim(store)["claim"]["fence"]

    first = store.start_step(run_id, fence, step_id="a", step_type="prompt", inputs={"x": 1})
    store.complete_step(run_id, fence, first, StepResult({"text": "Hi", "items": [1, 2]}))
    second = store.start_step(run_id, fence, step_id="b", step_type="log")
    store.fail_step(run_id, fence, second, "boom", final=True)

    steps = store.list_steps(run_id)
    assert [(s["step_id"], s["status"]) for s in steps] == [("a", "succeeded"), ("b", "failed")]
    assert steps[0]["outputs"] == {"text": "Hi", "items": [1, 2]}
    assert steps[0]["inputs"] == {"x": 1}
    assert steps[1]["error"] == "boom"
    events = store.list_events(run_id)
    assert [e["event_type"] for e in events] == [
        "run_queued",
        "run_started",
        "step_started",
        "step_completed",
        "step_started",
        "step_failed",
    ]
    assert events[3]["step_run_id"] == first
    assert events[5]["payload"]["error"] == "boom"


def test_a_steps_notes_are_recorded_just_before_its_completion(store: WorkflowStore) -> None:
    workflow_id = create_workflow(store, DOC)
    run_id = store.submit_run(workflow_id, {}, user_id="1")["run_id"]
    fence = _claim(store)["claim"]["fence"]
    step = store.start_step(run_id, fence, step_id="a", step_type="log")

    notes = [("log", {"message": "one"}), ("log", {"message": "two"})]
    store.complete_step(run_id, fence, step, StepResult({}, notes=notes))

    events = store.list_events(run_id)
    assert [e["event_type"] for e in events[2:]] == ["step_started", "log", "log", "step_completed"]
    assert [e["payload"] for e in events[3:5]] == [{"message": "one"}, {"message": "two"}]
    assert {e["step_run_id"] for e in events[2:]} == {step}
    assert_gap_free(store, run_id)


def test_artifacts_round_trip(store: WorkflowStore) -> None:
    workflow_id = create_workflow(store, DOC)
    run_id = store.submit_run(workflow_id, {}, user_id="1")["run_id"]

    made = store.add_artifact(
        run_id,
        type="text",
        uri="workflow://x",
        size_bytes=3,
        mime_type="text/plain",
        checksum_sha256="ab" * 32,
        metadata={"name": "n", "nested": {"k": [1]}},
    )

    listed = store.list_artifacts(run_id)
    assert [a["artifact_id"] for a in listed] == [made["artifact_id"]]
    assert listed[0]["metadata"] == {"name": "n", "nested": {"k": [1]}}
    assert (listed[0]["size_bytes"], listed[0]["uri"]) == (3, "workflow://x")
    assert event_types(store, run_id)[-1] == "artifact_created"


def test_event_seq_is_gap_free_under_concurrent_appends(store: WorkflowStore) -> None:
    workflow_id = create_workflow(store, DOC)
    run_ids = [store.submit_run(workflow_id, {}, user_id="1")["run_id"] for _ in range(2)]
    threads_per_run, appends = 4, 15
    errors: list[BaseException] = []
    start = threading.Barrier(threads_per_run * len(run_ids))

    def append(run_id: str, writer: int) -> None:
        try:
            start.wait()
            for i in range(appends):
                store.append_event(run_id, "note", {"writer": writer, "i": i})
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [
        threading.Thread(target=append, args=(run_id, writer))
        for run_id in run_ids
        for writer in range(threads_per_run)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    for run_id in run_ids:
        events = store.list_events(run_id)
        assert [e["event_seq"] for e in events] == list(range(1, threads_per_run * appends + 2))
        per_writer = {
            w: [e["payload"]["i"] for e in events[1:] if e["payload"]["writer"] == w]
            for w in range(threads_per_run)
        }
        assert all(seq == list(range(appends)) for seq in per_writer.values())


def test_claim_takes_the_oldest_due_run(store: WorkflowStore) -> None:
    workflow_id = create_workflow(store, DOC)
    older = store.submit_run(workflow_id, {}, user_id="1")["run_id"]
    time.sleep(0.01)
    newer = store.submit_run(workflow_id, {}, user_id="1")["run_id"]

    claimed = _claim(store, "w1")

    assert claimed["run_id"] == older
    assert claimed["status"] == "running"
    assert claimed["locked_by"] == "w1"
    assert claimed["attempt"] == 1
    assert claimed["lease_expires_at"] > claimed["locked_at"]
    assert claimed["claim"]["reason"] == "new"
    assert _claim(store, "w2")["run_id"] == newer
    assert store.claim_next_run("w3") is None


def test_claim_waits_for_next_attempt_at(store: WorkflowStore) -> None:
    workflow_id = create_workflow(store, DOC)
    run_id = store.submit_run(workflow_id, {}, user_id="1")["run_id"]
    fence = _claim(store)["claim"]["fence"]
    store.release_run(run_id, fence, next_attempt_at=utc_now() + timedelta(seconds=60))

    assert store.get_run(run_id)["status"] == "queued"
    assert store.claim_next_run("w2") is None

    with store.database.begin() as conn:  # time passes: the retry is due
        conn.execute(
            store.runs.update()
            .where(store.runs.c.run_id == run_id)
            .values(next_attempt_at=utc_now() - timedelta(seconds=1))
        )
    claimed = _claim(store, "w2")
    assert (claimed["run_id"], claimed["claim"]["reason"]) == (run_id, "resumed")
    assert claimed["attempt"] == 2


def test_expired_lease_is_taken_over_and_fences_the_old_worker(store: WorkflowStore) -> None:
    workflow_id = create_workflow(store, DOC)
    run_id = store.submit_run(workflow_id, {}, user_id="1")["run_id"]
    old = _claim(store, "dead", lease=0.05)["claim"]["fence"]
    step = store.start_step(run_id, old, step_id="a")
    with store.database.begin() as conn:  # the dead worker's lease ran out long ago
        conn.execute(
            store.runs.update()
            .where(store.runs.c.run_id == run_id)
            .values(lease_expires_at=utc_now() - timedelta(seconds=5))
        )

    taken = _claim(store, "alive")

    assert taken["run_id"] == run_id
    assert taken["claim"]["reason"] == "taken_over"
    assert taken["claim"]["previous_worker"] == "dead"
    assert taken["attempt"] == 2
    with pytest.raises(LeaseLost):
        store.complete_step(run_id, old, step, StepResult({"late": True}))
    assert store.list_steps(run_id)[0]["status"] == "running"
    assert event_types(store, run_id)[-1] == "run_taken_over"


def test_a_step_ended_twice_is_a_conflict_and_records_nothing(store: WorkflowStore) -> None:
    workflow_id = create_workflow(store, DOC)
    run_id = store.submit_run(workflow_id, {}, user_id="1")["run_id"]
    fence = _claim(store)["claim"]["fence"]
    step = store.start_step(run_id, fence, step_id="a")
    store.complete_step(run_id, fence, step, StepResult({"n": 1}))
    logged = event_types(store, run_id)

    with pytest.raises(Conflict):
        store.complete_step(run_id, fence, step, StepResult({"n": 2}))
    with pytest.raises(Conflict):
        store.fail_step(run_id, fence, step, "too late")

    assert event_types(store, run_id) == logged
    assert [(s["status"], s["outputs"]) for s in store.list_steps(run_id)] == [
        ("succeeded", {"n": 1})
    ]


def test_a_lost_claim_cannot_fail_its_step(store: WorkflowStore) -> None:
    workflow_id = create_workflow(store, DOC)
    run_id = store.submit_run(workflow_id, {}, user_id="1")["run_id"]
    old = _claim(store, "dead")["claim"]["fence"]
    step = store.start_step(run_id, old, step_id="a")
    store.release_run(run_id, old, reason="worker stopping")
    _claim(store, "alive")

    with pytest.raises(LeaseLost):
        store.fail_step(run_id, old, step, "late failure")

    assert store.list_steps(run_id)[0]["status"] == "running"
    assert event_types(store, run_id)[-1] == "run_resumed"


def test_concurrent_claims_never_share_a_run(store: WorkflowStore) -> None:
    workflow_id = create_workflow(store, DOC)
    run_ids = {store.submit_run(workflow_id, {}, user_id="1")["run_id"] for _ in range(20)}
    claimed: list[str] = []
    lock = threading.Lock()

    def worker(name: str) -> None:
        while (run := store.claim_next_run(name, 30)) is not None:
            with lock:
                claimed.append(run["run_id"])

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(claimed) == sorted(run_ids)


def test_cancel_queued_run_is_immediate(store: WorkflowStore) -> None:
    workflow_id = create_workflow(store, DOC)
    run_id = store.submit_run(workflow_id, {}, user_id="1")["run_id"]

    cancelled = store.cancel_run(run_id, reason="not needed")

    assert cancelled["status"] == "cancelled"
    assert cancelled["ended_at"] is not None
    assert store.claim_next_run("w1") is None
    assert event_types(store, run_id) == ["run_queued", "run_cancelled"]
    with pytest.raises(Conflict):
        store.cancel_run(run_id)


def test_cancel_running_run_is_requested(store: WorkflowStore) -> None:
    workflow_id = create_workflow(store, DOC)
    run_id = store.submit_run(workflow_id, {}, user_id="1")["run_id"]
    _claim(store)

    run = store.cancel_run(run_id)

    assert (run["status"], run["cancel_requested"]) == ("running", True)
    assert event_types(store, run_id)[-1] == "cancel_requested"


def test_a_run_ends_only_with_a_final_status() -> None:
    with pytest.raises(ValueError, match="not a final status"):
        RunEnd(RunStatus.RUNNING)
    assert RunEnd("failed", error="x").status is RunStatus.FAILED  # type: ignore[arg-type]


def test_workers_and_status_summary(store: WorkflowStore) -> None:
    workflow_id = create_workflow(store, DOC)
    runs = [store.submit_run(workflow_id, {}, user_id="1")["run_id"] for _ in range(4)]
    store.register_worker("w1", hostname="h", pid=1, concurrency=3)
    store.register_worker("gone", hostname="h", pid=2)
    store.unregister_worker("gone")
    done = _claim(store, "w1")
    succeeded = RunEnd(RunStatus.SUCCEEDED, outputs={"ok": 1})
    store.finish_run(done["run_id"], done["claim"]["fence"], succeeded)
    failed = _claim(store, "w1")
    store.finish_run(
        failed["run_id"], failed["claim"]["fence"], RunEnd(RunStatus.FAILED, error="x")
    )
    _claim(store, "w1")

    summary = store.status_summary()

    assert summary["backend"] == store.database.kind
    assert summary["queue"]["queued"] == 1
    assert summary["queue"]["running"] == 1
    assert summary["queue"]["waiting"] == 0
    assert (summary["recent"]["succeeded"], summary["recent"]["failed"]) == (1, 1)
    assert [w["worker_id"] for w in summary["workers"]] == ["w1"]
    assert summary["workers"][0]["concurrency"] == 3
    assert summary["runtime"]["heartbeat_at"] is not None
    assert summary["runtime"]["heartbeat_age_seconds"] >= 0
    assert "checkedout" in summary["pool"]["status"]
    assert store.get_run(runs[0])["status"] == "succeeded"


def test_status_summary_survives_the_server_dropping_its_connections(store: WorkflowStore) -> None:
    store.status_summary()  # a glance connection is now pooled
    if store.database.kind == "postgresql":
        with store.database.begin() as conn:
            dropped = conn.exec_driver_sql(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).scalar()
        assert dropped and dropped >= 1

    summary = store.status_summary()

    assert summary["queue"]["queued"] == 0


# PostgreSQL only: on SQLite a glance is a read transaction on a local file.
@pytest.mark.parametrize("backend_kind", ["postgresql"], indirect=True)
def test_a_glance_holds_no_transaction_open_between_its_statements(
    store: WorkflowStore,
) -> None:
    def second_statement_starts_its_own_transaction(conn: Any) -> bool:
        conn.exec_driver_sql("SELECT pg_sleep(0.01)")
        return bool(conn.exec_driver_sql("SELECT now() = statement_timestamp()").scalar())

    assert store.database.glance(second_statement_starts_its_own_transaction)
    with store.database.begin(write=False) as conn:
        assert not second_statement_starts_its_own_transaction(conn)


def test_advance_records_the_result_and_starts_the_next_step_in_order(
    store: WorkflowStore,
) -> None:
    workflow_id = create_workflow(store, DOC)
    run_id = store.submit_run(workflow_id, {}, user_id="1")["run_id"]
    fence = _claim(store)["claim"]["fence"]
    first = store.start_step(run_id, fence, step_id="a", step_type="log")

    advanced = store.advance(
        run_id,
        fence,
        first,
        StepResult({"ok": 1}, notes=[("log", {"message": "one"})]),
        start=StepStart("b", "B", "log", 1, {"x": 2}),
    )

    assert advanced.next_step_run_id is not None and not advanced.finished
    steps = store.list_steps(run_id)
    assert [(s["step_id"], s["status"]) for s in steps] == [("a", "succeeded"), ("b", "running")]
    assert steps[1]["inputs"] == {"x": 2}
    events = store.list_events(run_id)
    assert [e["event_type"] for e in events[2:]] == [
        "step_started",
        "log",
        "step_completed",
        "step_started",
    ]
    assert events[-1]["step_run_id"] == advanced.next_step_run_id
    assert_gap_free(store, run_id)


def test_advance_starts_no_step_once_cancellation_is_asked(store: WorkflowStore) -> None:
    workflow_id = create_workflow(store, DOC)
    run_id = store.submit_run(workflow_id, {}, user_id="1")["run_id"]
    fence = _claim(store)["claim"]["fence"]
    first = store.start_step(run_id, fence, step_id="a", step_type="log")
    store.cancel_run(run_id)

    advanced = store.advance(
        run_id, fence, first, StepResult({}), start=StepStart("b", None, "log")
    )

    assert advanced.cancel_requested and advanced.next_step_run_id is None
    assert [s["step_id"] for s in store.list_steps(run_id)] == ["a"]


def test_advance_can_end_the_run_as_succeeded_with_the_last_result(store: WorkflowStore) -> None:
    workflow_id = create_workflow(store, DOC)
    run_id = store.submit_run(workflow_id, {}, user_id="1")["run_id"]
    fence = _claim(store)["claim"]["fence"]
    step = store.start_step(run_id, fence, step_id="a", step_type="log")

    advanced = store.advance(
        run_id, fence, step, StepResult({"v": 1}), succeed_with={"result": {"v": 1}}
    )

    run = store.get_run(run_id)
    assert advanced.finished and run["status"] == "succeeded" and run["locked_by"] is None
    assert run["outputs"] == {"result": {"v": 1}}
    assert event_types(store, run_id)[-2:] == ["step_completed", "run_completed"]
    assert_gap_free(store, run_id)


def test_a_claim_can_start_the_runs_first_step_in_its_transaction(store: WorkflowStore) -> None:
    workflow_id = create_workflow(store, DOC)
    run_id = store.submit_run(workflow_id, {}, user_id="1")["run_id"]

    run = store.claim_next_run("w1", first_step=lambda claimed: StepStart("a", None, "log"))

    assert run is not None and run["claim"]["step_run_id"] is not None
    steps = store.list_steps(run_id)
    assert [(s["step_run_id"], s["status"]) for s in steps] == [
        (run["claim"]["step_run_id"], "running")
    ]
    assert event_types(store, run_id) == ["run_queued", "run_started", "step_started"]
    assert_gap_free(store, run_id)
