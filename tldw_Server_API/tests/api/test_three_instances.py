"""Three ``tldw-server`` processes on one PostgreSQL database, one killed outright mid-sweep.

Each instance runs its own workflow workers (the default: a child process of the server).
A write through one instance is read through the others; a sweep of runs submitted through
all three is spread over their workers; then one instance (the server and its worker
process) is killed with SIGKILL while its worker holds runs. The other two take those runs
over once the dead worker's lease has run out (docs/workflows.md#workers), and every run
ends exactly once: one success, one recorded result per step, an event log numbered without
gap or duplicate.
"""

from __future__ import annotations

import os
import re
import signal
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from tldw_Server_API.app.core.DB_Management.backends.target import PgTarget
from tldw_Server_API.tests.api.test_cutover_end_to_end import (
    LiveServer,
    ok,
    server_pg_env,
    server_process,
)
from tldw_Server_API.tests.postgres_harness import fresh_database

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

RUNS = 30
#: Steps that take a little time, so that every worker holds runs while the sweep goes on.
STEPS = [
    {"id": "wait", "type": "delay", "config": {"seconds": 0.4}},
    {"id": "say", "type": "log", "config": {"message": "run {{ inputs.n }}"}},
    {"id": "rest", "type": "delay", "config": {"seconds": 0.4}},
]
#: Bound for conditions the test waits on: start-up on a loaded machine, and a takeover
#: (10 s lease + 2 s heartbeat with the defaults) with the rest of the sweep.
WAIT_SECONDS = 120.0
CLAIMS = ("run_started", "run_resumed", "run_taken_over")
STEP_ENDS = ("step_completed", "step_failed", "step_abandoned", "step_cancelled")
READY = re.compile(r"workflow worker (\S+) ready")


@dataclass
class Instance:
    live: LiveServer
    worker_id: str

    @property
    def worker_pid(self) -> int:
        """The worker process's pid: the middle part of its id (``host:pid:random``)."""
        return int(self.worker_id.split(":")[-2])


def wait_for(what: str, check: Callable[[], Any], timeout: float = WAIT_SECONDS) -> Any:
    """*check*'s first truthy answer, polled until *timeout* passes (then fail, naming *what*)."""
    deadline = time.monotonic() + timeout
    while True:
        answer = check()
        if answer:
            return answer
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


@contextmanager
def killable_server(tmp_path: Path, **env: str) -> Iterator[LiveServer]:
    """``server_process``, for which an end by SIGKILL (the test's doing) is a normal end."""
    tmp_path.mkdir()
    running = server_process(tmp_path, "server.log", **env)
    live = running.__enter__()
    try:
        yield live
    finally:
        try:
            running.__exit__(None, None, None)
        except AssertionError:
            if live.process.returncode != -signal.SIGKILL:
                raise


def worker_of(live: LiveServer) -> str:
    """The id of the instance's worker process, from the line it prints when ready."""

    def ready() -> str | None:
        match = READY.search(live.log_path.read_text(errors="replace"))
        return match.group(1) if match else None

    return str(wait_for(f"the worker of {live.base_url}", ready))


@pytest.fixture
def instances(pg_server: PgTarget, tmp_path: Path) -> Iterator[tuple[list[Instance], PgTarget]]:
    with fresh_database(pg_server) as target, ExitStack() as stack:
        env = server_pg_env(target) | {"TLDW_WORKFLOW_WORKERS": "2"}
        servers = [killable_server(tmp_path / f"instance-{n}", **env) for n in (1, 2, 3)]
        # All three start at once on the empty database: each schema is created once.
        with ThreadPoolExecutor(3) as pool:
            lives = list(pool.map(stack.enter_context, servers))
        yield [Instance(live, worker_of(live)) for live in lives], target


def query(target: PgTarget, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(target.conninfo()) as conn:
        return conn.execute(sql, params).fetchall()


def claimers(target: PgTarget) -> set[str]:
    """The workers that have started a run (from the runs' ``run_started`` events)."""
    rows = query(
        target,
        "SELECT DISTINCT payload_json->>'worker_id' FROM workflows.workflow_events "
        "WHERE event_type = 'run_started'",
    )
    return {worker for (worker,) in rows}


def held_by(target: PgTarget, worker_id: str) -> set[str]:
    rows = query(
        target,
        "SELECT run_id::text FROM workflows.workflow_runs "
        "WHERE status = 'running' AND locked_by = %s",
        worker_id,
    )
    return {run_id for (run_id,) in rows}


def kill_holding_runs(victim: Instance, target: PgTarget) -> None:
    """SIGKILL the instance (server and worker) while its worker holds runs.

    The worker is stopped (SIGSTOP) first, so that it cannot finish the runs it was seen to
    hold before it dies.
    """

    def frozen_holding() -> set[str]:
        os.kill(victim.worker_pid, signal.SIGSTOP)
        held = held_by(target, victim.worker_id)
        if not held:
            os.kill(victim.worker_pid, signal.SIGCONT)
        return held

    wait_for("the victim to hold a run", frozen_holding)
    # The server first: its supervisor would otherwise start a new worker process.
    victim.live.process.send_signal(signal.SIGKILL)
    victim.live.process.wait()
    os.kill(victim.worker_pid, signal.SIGKILL)


def unfinished(target: PgTarget) -> int:
    rows = query(
        target,
        "SELECT count(*) FROM workflows.workflow_runs "
        "WHERE status NOT IN ('succeeded', 'failed', 'cancelled')",
    )
    return int(rows[0][0])


def check_run_once(client: httpx.Client, run: dict[str, Any]) -> list[dict[str, Any]]:
    """Assert that *run* succeeded once, each step's result recorded once; its claims.

    A step row besides the succeeded ones is an attempt a dead worker left unfinished,
    ended once (as ``abandoned``) by the worker that took the run over.
    """
    run_id = run["run_id"]
    assert run["status"] == "succeeded", run
    events = ok(client.get(f"/api/v1/workflows/runs/{run_id}/events"))["events"]
    assert [e["event_seq"] for e in events] == list(range(1, len(events) + 1)), events
    kinds = Counter(e["event_type"] for e in events)
    assert kinds["run_completed"] == 1 and events[-1]["event_type"] == "run_completed", events
    assert kinds["run_failed"] == kinds["run_cancelled"] == 0, events
    steps = ok(client.get(f"/api/v1/workflows/runs/{run_id}/steps"))["steps"]
    succeeded = Counter(s["step_id"] for s in steps if s["status"] == "succeeded")
    assert succeeded == Counter(step["id"] for step in STEPS), steps
    assert {s["status"] for s in steps} <= {"succeeded", "abandoned"}, steps
    step_of = {s["step_run_id"]: s["step_id"] for s in steps}
    completed = [step_of[e["step_run_id"]] for e in events if e["event_type"] == "step_completed"]
    assert Counter(completed) == succeeded, events
    ended = Counter(e["step_run_id"] for e in events if e["event_type"] in STEP_ENDS)
    assert set(ended) == set(step_of) and max(ended.values()) == 1, events
    claimed = [e for e in events if e["event_type"] in CLAIMS]
    abandoned = len(steps) - len(STEPS)
    assert abandoned == 0 or claimed[-1]["event_type"] == "run_taken_over", events
    return claimed


def test_three_instances_finish_every_run_once_when_one_is_killed(
    instances: tuple[list[Instance], PgTarget],
) -> None:
    three, target = instances
    one, two, victim = three
    clients = [instance.live.client for instance in three]

    # A write through one instance is read through the others.
    note = ok(one.live.client.post("/api/v1/notes/", json={"title": "shared", "content": "x"}), 201)
    for other in (two, victim):
        read = ok(other.live.client.get(f"/api/v1/notes/{note['id']}"))
        assert read["title"] == "shared"

    # A sweep, submitted through all three, is taken up by the workers of all three.
    workflow = ok(
        two.live.client.post("/api/v1/workflows", json={"name": "sweep", "steps": STEPS}), 201
    )
    run_ids = [
        ok(
            clients[n % 3].post(
                f"/api/v1/workflows/{workflow['id']}/run", json={"inputs": {"n": n}}
            ),
            202,
        )["run"]["run_id"]
        for n in range(RUNS)
    ]
    workers = {instance.worker_id for instance in three}
    wait_for("every instance to start a run", lambda: claimers(target) >= workers)

    kill_holding_runs(victim, target)
    (killed_at,) = query(target, "SELECT clock_timestamp()")[0]
    wait_for("every run to end", lambda: unfinished(target) == 0)
    (taken_over_at,) = query(
        target,
        "SELECT max(created_at) FROM workflows.workflow_events WHERE event_type = 'run_taken_over'",
    )[0]
    # (Reported, not asserted: wall time depends on the machine's load.)
    seconds = (taken_over_at - killed_at).total_seconds()
    print(f"the dead worker's runs taken over within {seconds:.1f} s of its death")

    runs = ok(one.live.client.get("/api/v1/workflows/runs", params={"limit": RUNS + 10}))["runs"]
    assert sorted(r["run_id"] for r in runs) == sorted(run_ids)
    survivors = {one.worker_id, two.worker_id}
    taken_over = 0
    for n, run in enumerate(runs):
        claimed = check_run_once(clients[n % 2], run)
        kinds = [c["event_type"] for c in claimed]
        started, last = claimed[0]["payload"], claimed[-1]["payload"]
        assert started["worker_id"] in workers, claimed
        if "run_taken_over" in kinds:
            # Held by the dead worker: taken over once, and finished by a live one.
            taken_over += 1
            assert kinds == ["run_started", "run_taken_over"], claimed
            assert started["worker_id"] == last["previous_worker"] == victim.worker_id
            assert last["worker_id"] in survivors, claimed
        else:
            assert kinds == ["run_started"], claimed
    assert taken_over > 0  # (the victim was killed while it held runs)
