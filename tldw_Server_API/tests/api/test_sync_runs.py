"""Waiting sync runs hold no thread: the server keeps answering while 100 of them wait.

A real server subprocess on SQLite and on PostgreSQL. 100 concurrent
``POST /api/v1/workflows/{id}/run?mode=sync`` requests (httpx.AsyncClient) run a
workflow whose delay step outlasts the test; once all 100 runs exist, health is
asked and must answer while every sync request is still pending (an ordering, not
a timing). Cancelling the runs then settles them, and each sync request answers.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from tldw_Server_API.tests.api.test_cutover_end_to_end import (
    HEADERS,
    LiveServer,
    create_workflow,
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

CONCURRENT_SYNC_REQUESTS = 100
#: Longer than the test runs: a run settles only when the test cancels it.
DELAY_STEP_SECONDS = 250
SYNC_TIMEOUT_SECONDS = 280
#: Bounds, not measurements: how long the test waits before failing.
WAIT_BOUND_SECONDS = 120.0


def slow_workflow(client: httpx.Client) -> int:
    delay = {"id": "wait", "type": "delay", "config": {"seconds": DELAY_STEP_SECONDS}}
    return create_workflow(client, "slow", [delay])


async def open_runs(client: httpx.AsyncClient) -> int:
    queue = (await client.get("/api/v1/workflows/status")).json()["queue"]
    return int(queue["queued"]) + int(queue["running"])


async def wait_for_runs(client: httpx.AsyncClient, count: int) -> None:
    async with asyncio.timeout(WAIT_BOUND_SECONDS):
        while await open_runs(client) < count:
            await asyncio.sleep(0.2)


async def cancel_all(client: httpx.AsyncClient) -> None:
    runs = (await client.get("/api/v1/workflows/runs", params={"limit": 500})).json()["runs"]
    for run in runs:
        await client.post(f"/api/v1/workflows/runs/{run['run_id']}/cancel")


async def sync_requests_while_health_asked(base_url: str, workflow_id: int) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=CONCURRENT_SYNC_REQUESTS + 10)
    async with httpx.AsyncClient(
        base_url=base_url, headers=HEADERS, timeout=SYNC_TIMEOUT_SECONDS + 30, limits=limits
    ) as client:
        sync_runs = [
            asyncio.create_task(
                client.post(
                    f"/api/v1/workflows/{workflow_id}/run",
                    params={"mode": "sync", "timeout": SYNC_TIMEOUT_SECONDS},
                )
            )
            for _ in range(CONCURRENT_SYNC_REQUESTS)
        ]
        try:
            await wait_for_runs(client, CONCURRENT_SYNC_REQUESTS)
            health = await client.get("/api/v1/health", timeout=WAIT_BOUND_SECONDS)
            pending_when_health_answered = sum(not task.done() for task in sync_runs)
        finally:
            await cancel_all(client)
        answers = await asyncio.gather(*sync_runs)
    return {
        "health": health,
        "pending": pending_when_health_answered,
        "statuses": [a.json()["run"]["status"] for a in answers],
        "codes": [a.status_code for a in answers],
    }


def test_health_answers_while_100_sync_runs_wait(live_server: LiveServer) -> None:
    workflow_id = slow_workflow(live_server.client)

    outcome = asyncio.run(sync_requests_while_health_asked(live_server.base_url, workflow_id))

    assert outcome["health"].status_code == 200
    assert outcome["pending"] == CONCURRENT_SYNC_REQUESTS
    assert set(outcome["codes"]) == {200}
    assert set(outcome["statuses"]) == {"cancelled"}
