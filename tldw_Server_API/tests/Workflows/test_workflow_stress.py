"""The workflow stress sweep (migration guide): ``TLDW_WORKFLOW_STRESS=1 pytest -v ...``.

Per backend: 250 runs are submitted concurrently, ``TLDW_WORKFLOW_STRESS_BATCH``
(default 25) at a time, while a runtime executes them. Each run has four quick
steps, so the sweep records at least 1,000 step events (``step_started`` and
``step_completed``: 2,000). Every run must succeed, with a gap-free event log,
and the whole sweep must finish in under two minutes. Timings are printed.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from tldw_Server_API.app.core.DB_Management.registry import DatabaseRegistry
from tldw_Server_API.app.core.DB_Management.stores.workflows import WorkflowStore
from tldw_Server_API.app.core.Workflows.runtime import WorkflowRuntime

from .conftest import create_workflow

pytestmark = pytest.mark.skipif(
    os.environ.get("TLDW_WORKFLOW_STRESS") != "1",
    reason="the stress sweep runs with TLDW_WORKFLOW_STRESS=1",
)

RUNS = 250
BATCH = int(os.environ.get("TLDW_WORKFLOW_STRESS_BATCH") or 25)
WORKER_THREADS = 8
TIME_LIMIT_SECONDS = 120.0
STEPS = [
    {"id": "draft", "type": "prompt", "config": {"template": "Item {{ inputs.n }}"}},
    {
        "id": "route",
        "type": "branch",
        "config": {
            "cases": [{"when": {"path": "inputs.n", "op": "gte", "value": 0}, "next": "summary"}],
            "default": "end",
        },
    },
    {
        "id": "summary",
        "type": "prompt",
        "config": {"template": "{{ steps.draft.output.text }} summarised"},
    },
    {
        "id": "record",
        "type": "log",
        "config": {"message": "{{ steps.summary.output.text }}", "level": "debug"},
    },
]


def test_stress_sweep(registry: DatabaseRegistry, store: WorkflowStore) -> None:
    workflow_id = create_workflow(store, {"name": "stress", "steps": STEPS})
    started = time.monotonic()
    with WorkflowRuntime(registry, workers=WORKER_THREADS, poll_seconds=0.05) as runtime:

        def submit(n: int) -> str:
            return runtime.submit(workflow_id, {"n": n}, user_id="1")["run_id"]

        run_ids: list[str] = []
        with ThreadPoolExecutor(max_workers=BATCH) as pool:
            for first in range(0, RUNS, BATCH):
                run_ids += pool.map(submit, range(first, min(first + BATCH, RUNS)))
        submitted = time.monotonic() - started
        deadline = started + TIME_LIMIT_SECONDS
        while store.count_runs(status=["succeeded", "failed", "cancelled"]) < RUNS:
            assert time.monotonic() < deadline, "the sweep did not finish in two minutes"
            time.sleep(0.1)
        elapsed = time.monotonic() - started

    runs = [store.get_run(run_id) for run_id in run_ids]
    failures = [(r["run_id"], r["status"], r["error"]) for r in runs if r["status"] != "succeeded"]
    events = store.events
    with store.database.begin(write=False) as conn:
        step_events = conn.execute(
            select(func.count())
            .select_from(events)
            .where(events.c.event_type.in_(["step_started", "step_completed"]))
        ).scalar_one()
        per_run = conn.execute(
            select(
                events.c.run_id,
                func.count(),
                func.min(events.c.event_seq),
                func.max(events.c.event_seq),
            ).group_by(events.c.run_id)
        ).all()
    print(
        f"\n[stress {registry.settings.content_db_backend}] {RUNS} runs in batches of {BATCH}, "
        f"{WORKER_THREADS} worker threads: submitted in {submitted:.1f}s, all done in "
        f"{elapsed:.1f}s ({RUNS / elapsed:.1f} runs/s); {step_events} step events "
        f"({step_events / elapsed:.0f}/s); failures: {len(failures)}"
    )

    assert len(set(run_ids)) == RUNS
    assert failures == []
    assert step_events >= 1000
    assert all(
        runs[i]["outputs"]["result"]["message"] == f"Item {i} summarised" for i in range(RUNS)
    )
    assert len(per_run) == RUNS
    assert all((count, low, high) == (count, 1, count) for _, count, low, high in per_run)
    assert elapsed < TIME_LIMIT_SECONDS
