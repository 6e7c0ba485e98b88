"""A worker process killed mid-run: another worker process takes the run over and finishes it.

Both workers are real processes (``python -m tldw_Server_API.app.core.Workflows.worker``)
configured only through the environment, against the test's database (a SQLite file,
or a schema of the test's PostgreSQL database). The first one is killed with SIGKILL
while it executes a slow step; the second one takes the run over once the lease has
run out and resumes it after the last recorded step.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tldw_Server_API.app.core.config import Settings
from tldw_Server_API.app.core.DB_Management.registry import DatabaseRegistry
from tldw_Server_API.app.core.DB_Management.stores.workflows import WorkflowStore

from .conftest import assert_gap_free, create_workflow

LEASE_SECONDS = 2.0  # short, to keep the test quick; the default is 10 s
SLOW_STEP_SECONDS = 1.5

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs SIGKILL")


def _worker_env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TLDW_", "PG"))}
    env |= {
        "TLDW_CONFIG_FILE": str(settings.data_dir / "no-config.txt"),
        "TLDW_CONTENT_DB_BACKEND": settings.content_db_backend,
        "TLDW_DATA_DIR": str(settings.data_dir),
        "TLDW_PG_HOST": settings.pg_host,
        "TLDW_PG_PORT": str(settings.pg_port),
        "TLDW_PG_DATABASE": settings.pg_database,
        "TLDW_PG_USER": settings.pg_user,
    }
    if settings.pg_password is not None:
        env["TLDW_PG_PASSWORD"] = settings.pg_password.get_secret_value()
    return env


@pytest.fixture
def start_worker(registry: DatabaseRegistry) -> Iterator[Callable[[str], subprocess.Popen[str]]]:
    processes: list[subprocess.Popen[str]] = []

    def start(worker_id: str) -> subprocess.Popen[str]:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tldw_Server_API.app.core.Workflows.worker",
                "--workers",
                "1",
                "--worker-id",
                worker_id,
                "--lease-seconds",
                str(LEASE_SECONDS),
                "--heartbeat-seconds",
                "0.4",
                "--poll-seconds",
                "0.1",
                "--log-level",
                "WARNING",
            ],
            env=_worker_env(registry.settings),
            cwd=Path(__file__).resolve().parents[3],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        processes.append(process)
        assert process.stdout is not None
        ready = process.stdout.readline()
        assert f"workflow worker {worker_id} ready" in ready, ready
        return process

    yield start
    for process in processes:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


def _wait_for(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.02)


def test_killed_worker_run_is_taken_over_and_finished(
    store: WorkflowStore, start_worker: Callable[[str], subprocess.Popen[str]]
) -> None:
    workflow_id = create_workflow(
        store,
        {
            "name": "failover",
            "steps": [
                {
                    "id": "fetch",
                    "type": "prompt",
                    "config": {"template": "data for {{ inputs.q }}"},
                },
                {"id": "slow", "type": "delay", "config": {"seconds": SLOW_STEP_SECONDS}},
                {
                    "id": "report",
                    "type": "log",
                    "config": {"message": "{{ steps.fetch.output.text }}"},
                },
            ],
        },
    )
    run_id = store.submit_run(workflow_id, {"q": "x"}, user_id="1")["run_id"]

    first = start_worker("worker-a")
    _wait_for(
        lambda: any(
            s["step_id"] == "slow" and s["status"] == "running" for s in store.list_steps(run_id)
        )
    )
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    killed_at = time.monotonic()
    assert store.get_run(run_id)["locked_by"] == "worker-a"

    second = start_worker("worker-b")
    _wait_for(lambda: store.get_run(run_id)["status"] == "succeeded")
    print(
        f"\n[failover] run finished {time.monotonic() - killed_at:.2f}s after the kill "
        f"(lease {LEASE_SECONDS}s + slow step {SLOW_STEP_SECONDS}s)"
    )

    steps = [(s["step_id"], s["status"]) for s in store.list_steps(run_id)]
    assert steps == [
        ("fetch", "succeeded"),
        ("slow", "abandoned"),
        ("slow", "succeeded"),
        ("report", "succeeded"),
    ]
    events = store.list_events(run_id)
    completed = [e["payload"]["step_id"] for e in events if e["event_type"] == "step_completed"]
    assert completed == ["fetch", "slow", "report"]
    takeover = [e for e in events if e["event_type"] == "run_taken_over"]
    assert [(e["payload"]["previous_worker"], e["payload"]["worker_id"]) for e in takeover] == [
        ("worker-a", "worker-b")
    ]
    assert_gap_free(store, run_id)
    run = store.get_run(run_id)
    assert run["outputs"]["result"]["message"] == "data for x"
    assert run["locked_by"] is None

    second.send_signal(signal.SIGTERM)
    assert second.wait(timeout=15) == 0
    statuses = {w["worker_id"]: w["status"] for w in store.list_workers()}
    assert statuses == {"worker-a": "running", "worker-b": "stopped"}  # a was killed, b stopped


# A stand-in for the server: starts a worker that shares its output, then waits.
_SERVER_STAND_IN = """
import os, subprocess, sys, time
subprocess.Popen(
    [sys.executable, "-m", "tldw_Server_API.app.core.Workflows.worker", "--workers", "1",
     "--poll-seconds", "0.1", "--log-level", "WARNING", "--parent-pid", str(os.getpid())]
)
time.sleep(120)
"""


def test_a_worker_stops_when_the_server_that_started_it_is_killed(
    registry: DatabaseRegistry, tmp_path: Path
) -> None:
    (tmp_path / "stand_in.py").write_text(_SERVER_STAND_IN)
    stand_in = subprocess.Popen(
        [sys.executable, str(tmp_path / "stand_in.py")],
        env=_worker_env(registry.settings),
        cwd=Path(__file__).resolve().parents[3],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert stand_in.stdout is not None
    try:
        assert "ready" in stand_in.stdout.readline()
        stand_in.send_signal(signal.SIGKILL)
        stand_in.wait(timeout=10)
        # The worker shares the pipe: it ends when the worker has exited.
        said = stand_in.stdout.read()
    finally:
        if stand_in.poll() is None:
            stand_in.kill()
        stand_in.stdout.close()

    assert "the server that started it is gone" in said
    assert "stopped" in said
    assert {w["status"] for w in WorkflowStore(registry.workflows()).list_workers()} == {"stopped"}
