"""The queue that wakes: submissions wake idle workers of any runtime, claims follow
submission order, one heartbeat per worker keeps its runs, dead workers' runs move on."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import text

from tldw_Server_API.app.core.config import Settings
from tldw_Server_API.app.core.DB_Management.backends.wakes import PgListener
from tldw_Server_API.app.core.DB_Management.instants import utc_now
from tldw_Server_API.app.core.DB_Management.registry import DatabaseRegistry
from tldw_Server_API.app.core.DB_Management.stores.workflows import RUNS_TOPIC, WorkflowStore
from tldw_Server_API.app.core.Workflows.runtime import WorkflowRuntime
from tldw_Server_API.app.core.Workflows.settling import RunWaiter, run_and_wait

from .conftest import create_workflow, event_types

DOC = {"name": "noop", "steps": [{"id": "a", "type": "log", "config": {"message": "hi"}}]}
#: Longer than any test: a run these tests see started was found by a wake-up, not a poll.
NEVER = 3600.0


@pytest.fixture
def other_registry(settings: Settings) -> Iterator[DatabaseRegistry]:
    """A second set of handles on the same databases: another runtime's (another pool, and
    on PostgreSQL another listener connection)."""
    registry = DatabaseRegistry(settings)
    try:
        yield registry
    finally:
        registry.close()


def _wait_until_idle(runtime: WorkflowRuntime) -> None:
    """Wait until every thread of *runtime* sleeps for lack of work."""
    assert runtime.wait_idle(timeout=30), "the runtime's threads never went idle"


def test_a_submission_wakes_an_idle_worker_of_another_runtime(
    registry: DatabaseRegistry, other_registry: DatabaseRegistry
) -> None:
    store = WorkflowStore(registry.workflows())
    workflow_id = create_workflow(store, DOC)
    sleeper = WorkflowRuntime(
        other_registry,
        workers=2,
        poll_seconds=NEVER,
        heartbeat_seconds=NEVER / 2,
        lease_seconds=NEVER,
    )
    with sleeper:
        _wait_until_idle(sleeper)
        run_ids = [store.submit_run(workflow_id, {}, user_id="1")["run_id"] for _ in range(3)]
        finished = [run_and_wait(store, run_id, timeout=60)["status"] for run_id in run_ids]
    assert finished == ["succeeded"] * 3
    assert {store.get_run(r)["locked_by"] for r in run_ids} == {None}
    assert all("run_completed" in event_types(store, r) for r in run_ids)


def test_listeners_hear_committed_announcements_of_their_topic(
    registry: DatabaseRegistry,
) -> None:
    database = registry.workflows()
    woken = threading.Event()
    listening = database.listen(RUNS_TOPIC, woken.set)
    try:
        woken.clear()  # (a PostgreSQL listener calls back once as it starts listening)
        with pytest.raises(RuntimeError), database.begin() as conn:
            database.announce(conn, RUNS_TOPIC)
            raise RuntimeError("rolled back")
        with database.begin() as conn:
            database.announce(conn, "another topic")
        if database.kind == "sqlite":  # delivered in the committing thread: nothing came
            assert not woken.is_set()
        with database.begin() as conn:
            database.announce(conn, RUNS_TOPIC)
        assert woken.wait(30)
    finally:
        listening.close()


def test_claims_follow_submission_order(store: WorkflowStore) -> None:
    workflow_id = create_workflow(store, DOC)
    # Submitted within one millisecond or not, the order is the queue's sequence.
    submitted = [store.submit_run(workflow_id, {}, user_id="1") for _ in range(6)]
    numbers = [run["queue_seq"] for run in submitted]
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)

    claimed = []
    while (run := store.claim_next_run("w1")) is not None:
        claimed.append(run["run_id"])
    assert claimed == [run["run_id"] for run in submitted]


def test_two_claimers_never_take_the_same_run(store: WorkflowStore) -> None:
    workflow_id = create_workflow(store, DOC)
    run_ids = {store.submit_run(workflow_id, {}, user_id="1")["run_id"] for _ in range(12)}
    claims: dict[str, list[str]] = {"w1": [], "w2": []}
    start = threading.Barrier(2)

    def claim_all(worker: str) -> None:
        start.wait()
        while (run := store.claim_next_run(worker, 60)) is not None:
            claims[worker].append(run["run_id"])

    threads = [threading.Thread(target=claim_all, args=(w,)) for w in claims]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    together = claims["w1"] + claims["w2"]
    assert sorted(together) == sorted(run_ids)  # each run once, none left


def test_one_heartbeat_per_worker_keeps_its_runs_and_reports_cancels(
    store: WorkflowStore,
) -> None:
    workflow_id = create_workflow(store, DOC)
    store.register_worker("w1", hostname="h", pid=1, lease_seconds=5)
    first = store.submit_run(workflow_id, {}, user_id="1")["run_id"]
    second = store.submit_run(workflow_id, {}, user_id="1")["run_id"]
    for _ in range(2):
        assert store.claim_next_run("w1", lease_seconds=5) is not None
    before = {r: store.get_run(r)["heartbeat_at"] for r in (first, second)}
    lease_before = store.list_workers()[0]["lease_expires_at"]

    beat = store.heartbeat_worker("w1", lease_seconds=60)

    assert (beat.registered, beat.held, beat.cancelling, beat.claimable) == (True, 2, 0, False)
    assert store.list_workers()[0]["lease_expires_at"] > lease_before
    # The runs' rows are not written: the worker's row keeps them.
    assert {r: store.get_run(r)["heartbeat_at"] for r in (first, second)} == before
    store.cancel_run(second)
    beat = store.heartbeat_worker("w1")
    assert (beat.held, beat.cancelling) == (2, 1)
    assert store.held_runs("w1") == {first: False, second: True}
    assert not store.heartbeat_worker("never-registered").registered


def _expire(store: WorkflowStore, run_id: str, worker_id: str | None) -> None:
    """Time passes: the run's first lease and, when given, *worker_id*'s lease ran out."""
    past = utc_now() - timedelta(seconds=5)
    with store.database.begin() as conn:
        conn.execute(
            store.runs.update().where(store.runs.c.run_id == run_id).values(lease_expires_at=past)
        )
        if worker_id is not None:
            conn.execute(
                store.workers.update()
                .where(store.workers.c.worker_id == worker_id)
                .values(lease_expires_at=past)
            )


def test_a_live_workers_runs_stay_and_a_dead_workers_runs_are_taken_over(
    store: WorkflowStore,
) -> None:
    workflow_id = create_workflow(store, DOC)
    store.register_worker("alive", hostname="h", pid=1, lease_seconds=60)
    store.register_worker("dead", hostname="h", pid=2, lease_seconds=60)
    kept = store.submit_run(workflow_id, {}, user_id="1")["run_id"]
    lost = store.submit_run(workflow_id, {}, user_id="1")["run_id"]
    assert store.claim_next_run("alive", 0.01)["run_id"] == kept  # type: ignore[index]
    assert store.claim_next_run("dead", 0.01)["run_id"] == lost  # type: ignore[index]
    _expire(store, kept, None)  # its worker still heartbeats
    _expire(store, lost, "dead")

    assert store.heartbeat_worker("alive", 60).claimable
    taken = store.claim_next_run("other", 60)

    assert taken is not None and taken["run_id"] == lost
    assert taken["claim"]["reason"] == "taken_over"
    assert taken["claim"]["previous_worker"] == "dead"
    assert store.claim_next_run("other", 60) is None
    assert store.held_runs("alive") == {kept: False}


def test_a_runtime_takes_over_a_dead_workers_run_when_its_heartbeat_sees_it(
    registry: DatabaseRegistry,
) -> None:
    store = WorkflowStore(registry.workflows())
    workflow_id = create_workflow(store, DOC)
    store.register_worker("dead", hostname="h", pid=2, lease_seconds=60)
    run_id = store.submit_run(workflow_id, {}, user_id="1")["run_id"]
    assert store.claim_next_run("dead", 0.01) is not None
    runtime = WorkflowRuntime(
        registry, workers=1, poll_seconds=NEVER, heartbeat_seconds=NEVER / 2, lease_seconds=NEVER
    )
    with runtime:
        _wait_until_idle(runtime)
        _expire(store, run_id, "dead")
        runtime.heartbeat_once()  # what the heartbeat thread does every heartbeat_seconds
        finished = run_and_wait(store, run_id, timeout=60)
    assert finished["status"] == "succeeded"
    assert "run_taken_over" in event_types(store, run_id)


def test_runs_of_an_older_database_keep_their_submission_order(users_store: WorkflowStore) -> None:
    """Upgraded in place (SQLite) or migrated (PostgreSQL): the users' runs are numbered in
    the order they were created, and a new submission comes after all of them."""
    old = users_store.list_runs(limit=100)
    by_number = sorted(old, key=lambda run: run["queue_seq"])
    assert [run["created_at"] for run in by_number] == sorted(run["created_at"] for run in old)
    assert len({run["queue_seq"] for run in old}) == len(old) > 1

    workflow_id = create_workflow(users_store, DOC)
    new = users_store.submit_run(workflow_id, {}, user_id="1")
    assert new["queue_seq"] > max(run["queue_seq"] for run in old)


def test_a_listener_hears_again_after_its_connection_is_cut(registry: DatabaseRegistry) -> None:
    database = registry.workflows()
    if database.kind != "postgresql":
        pytest.skip("only PostgreSQL listens on a connection of its own")
    woken = threading.Event()
    listening = database.listen(RUNS_TOPIC, woken.set)
    try:
        assert isinstance(listening, PgListener)
        cut = listening.backend_pid
        woken.clear()
        with database.begin() as conn:
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": cut})
        # Reconnected, it calls back once (news sent meanwhile would have been lost) ...
        assert woken.wait(30)
        assert listening.backend_pid != cut
        woken.clear()
        # ... and hears the next announcement.
        with database.begin() as conn:
            database.announce(conn, RUNS_TOPIC)
        assert woken.wait(30)
    finally:
        listening.close()


def test_a_sync_wait_is_woken_by_the_news_that_its_run_settled(
    registry: DatabaseRegistry, other_registry: DatabaseRegistry
) -> None:
    store = WorkflowStore(registry.workflows())
    workflow_id = create_workflow(store, DOC)
    # Never polls after its first look: only the news of the settled run can end the wait.
    waiter = RunWaiter(poll_seconds=NEVER, max_poll_seconds=NEVER)
    worker = WorkflowRuntime(
        other_registry,
        workers=1,
        poll_seconds=NEVER,
        heartbeat_seconds=NEVER / 2,
        lease_seconds=NEVER,
    )

    async def submit_and_wait() -> dict[str, object]:
        run_id = store.submit_run(workflow_id, {}, user_id="1")["run_id"]
        # (60 s: a guard against hanging, far beyond the wake-up; the wait itself never polls)
        return await asyncio.wait_for(waiter.wait(store, run_id, timeout=NEVER), 60)

    with worker:
        _wait_until_idle(worker)
        run = asyncio.run(submit_and_wait())

    assert run["status"] == "succeeded"
