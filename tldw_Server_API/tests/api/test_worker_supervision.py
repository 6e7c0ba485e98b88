"""The server supervises its workflow worker process, and its health says when runs stall.

A real server subprocess (``TLDW_WORKFLOW_WORKER_MODE=process``, the default) on
SQLite and on PostgreSQL. Its worker child is sent real signals: SIGKILL (the
server reaps it, logs how it ended and starts a new one, which heartbeats and
finishes a queued run) and SIGSTOP (no heartbeat within a lease: health says
``degraded`` with a reason, then ``ok`` again after SIGCONT).
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tldw_Server_API.tests.api.test_cutover_end_to_end import (
    LiveServer,
    create_workflow,
    ok,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(180),
    pytest.mark.skipif(sys.platform != "linux", reason="reads /proc, sends SIGKILL/SIGSTOP"),
]


def children(pid: int) -> set[int]:
    """The live (not zombie) child processes of *pid*, from every one of its threads."""
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found |= {int(c) for c in (task / "children").read_text().split()}
        except (FileNotFoundError, ProcessLookupError):  # the thread ended meanwhile
            continue
    return {c for c in found if not is_zombie(c)}


def is_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


def wait_for(condition: Callable[[], Any], what: str, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"not reached: {what}"
        time.sleep(0.1)


def worker_pid(live: LiveServer) -> int:
    pids = wait_for(lambda: children(live.process.pid), "a worker child process")
    assert len(pids) == 1, pids
    return pids.pop()


def heartbeating_pids(client: httpx.Client) -> set[int]:
    status = ok(client.get("/api/v1/workflows/status"))
    return {int(w["pid"]) for w in status["workers"]}


def queue_run(client: httpx.Client) -> str:
    log_step = {"id": "s1", "type": "log", "config": {"message": "hi"}}
    workflow_id = create_workflow(client, "after-restart", [log_step])
    return str(ok(client.post(f"/api/v1/workflows/{workflow_id}/run"), 202)["run"]["run_id"])


def test_killed_worker_is_reaped_logged_and_replaced(live_server: LiveServer) -> None:
    client = live_server.client
    first = worker_pid(live_server)
    wait_for(lambda: first in heartbeating_pids(client), "the first worker heartbeats")

    os.kill(first, signal.SIGKILL)

    second = wait_for(
        lambda: (children(live_server.process.pid) - {first}) or None, "a new worker process"
    )
    second_pid = next(iter(second))
    assert not Path(f"/proc/{first}").exists(), "the killed worker was not reaped"
    wait_for(lambda: second_pid in heartbeating_pids(client), "the new worker heartbeats")
    run_id = queue_run(client)
    wait_for(
        lambda: ok(client.get(f"/api/v1/workflows/runs/{run_id}"))["status"] == "succeeded",
        "the queued run finishes",
    )
    log_lines = live_server.log_path.read_text(errors="replace").splitlines()
    died = [line for line in log_lines if f"Workflow worker process {first} " in line]
    assert len(died) == 1, log_lines
    assert "was killed by SIGKILL" in died[0]
    assert "restarting it in" in died[0]


def test_health_is_degraded_while_no_worker_heartbeats(live_server: LiveServer) -> None:
    client = live_server.client
    pid = worker_pid(live_server)
    wait_for(lambda: ok(client.get("/api/v1/health"))["status"] == "ok", "health ok")

    os.kill(pid, signal.SIGSTOP)
    try:
        degraded = wait_for(
            lambda: (h := ok(client.get("/api/v1/health")))["status"] == "degraded" and h,
            "health degraded",
        )
    finally:
        os.kill(pid, signal.SIGCONT)
    assert "no workflow worker has sent a heartbeat" in degraded["reason"]
    assert all(db["ok"] for db in degraded["databases"])

    recovered = wait_for(
        lambda: (h := ok(client.get("/api/v1/health")))["status"] == "ok" and h, "health ok again"
    )
    assert recovered["reason"] is None


def test_a_worker_that_keeps_dying_is_restarted_after_longer_waits(
    live_server: LiveServer,
) -> None:
    first = worker_pid(live_server)
    os.kill(first, signal.SIGKILL)
    second = next(iter(wait_for(lambda: children(live_server.process.pid) - {first}, "second")))
    os.kill(second, signal.SIGKILL)
    wait_for(lambda: children(live_server.process.pid) - {first, second}, "a third worker")

    log_lines = live_server.log_path.read_text(errors="replace").splitlines()
    deaths = [line for line in log_lines if "was killed by SIGKILL" in line]
    assert len(deaths) == 2, log_lines
    assert f"Workflow worker process {first} " in deaths[0]
    assert "restarting it in 0.5 s" in deaths[0]
    assert f"Workflow worker process {second} " in deaths[1]
    assert "restarting it in 1.0 s" in deaths[1]
