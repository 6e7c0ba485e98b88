"""Benchmark: the workflow runtime on SQLite and on PostgreSQL.

    .venv/bin/python benchmarks/workflow_benchmark.py [--backends sqlite,postgresql]
        [--pg-dsn "host=127.0.0.1 user=postgres dbname=postgres"]
        [--runs 250] [--batch 25] [--sweep-workers 8]
        [--noop-runs 200] [--noop-steps 5] [--noop-workers 1,2,4]
        [--server-workers 8] [--poll-ms 20] [--sections sweep,noop,status]
        [--worker-modes process,thread] [--status-rounds 3]
        [--latency-samples 60] [--latency-workers 2] [--sections ...,latency]
        [--instance-threads 4] [--sections ...,instances]

Every measurement starts from an empty installation: a fresh temporary data
directory (SQLite) or a fresh, throw-away database created on the server of
``--pg-dsn`` (PostgreSQL, dropped afterwards). Three measurements per backend:

1. **Stress sweep** (as in the migration guide and
   ``tests/Workflows/test_workflow_stress.py``), in process: a
   ``WorkflowRuntime`` with ``--sweep-workers`` threads (poll 50 ms) is
   started, then ``--runs`` runs of a four-step workflow (prompt, branch,
   prompt, log) are submitted from a thread pool, ``--batch`` at a time
   (each batch concurrently, the next one when it is in). Reported: the time
   to submit everything, the wall time from the first submit to the last
   run's ``ended_at``, runs/s, step events (``step_started`` +
   ``step_completed``, at least 1,000 with the defaults) and step events/s,
   and failures (runs that did not succeed, or event logs with gaps). The
   issue's target is a wall time under 12 s per backend.

2. **No-op step throughput**: ``--noop-runs`` runs of ``--noop-steps``
   ``log`` steps are queued first, then a runtime with 1, 2 and 4 worker
   threads (``--noop-workers``) is started; steps/s is completed steps
   divided by the time from the runtime's start to the last run's
   ``ended_at``. Each worker count gets its own fresh database.

3. **Status latency under load**: the real server
   (``python -m tldw_Server_API.app.main``) is started as a subprocess on a
   free port of 127.0.0.1 with ``--server-workers`` workflow worker threads,
   in each ``--worker-modes`` (``TLDW_WORKFLOW_WORKER_MODE``), ``--status-rounds``
   times, alternating; the same sweep is submitted through the HTTP API (``POST
   /api/v1/workflows``, then ``POST /api/v1/workflows/{id}/run`` from an
   httpx async client, ``--batch`` requests at a time) while a separate
   process (as a monitoring client would be) polls ``GET
   /api/v1/workflows/status`` with its own httpx client,
   waiting ``--poll-ms`` between requests, until the status reports every run
   ended (bounded by ``--max-samples`` and ``--timeout``). Reported: p50, p99
   and max latency in ms over the samples taken during the sweep (a few
   warm-up requests before it are not counted), the sample count and the
   sweep's wall time as the poller saw it. The target is p99 under 50 ms.
   The server's workers (a child process by default) are woken by the API's
   submissions on PostgreSQL and poll every 0.5 s on SQLite, so this sweep
   is not directly comparable with (1).

4. **Submit-to-start latency with idle workers** (``latency``, not in the
   default sections): a runtime with ``--latency-workers`` threads and its
   default poll interval is started and left idle; then ``--latency-samples``
   one-step runs are submitted one at a time through a second registry (its
   own pool, as another process's would be), each once the previous one ended
   and after a random pause of 20-120 ms (so that submissions do not fall in
   step with any poll). Latency is the run's ``started_at`` minus its
   ``created_at`` (both stamped by this process's clock). Reported: p50, p99
   and max in ms. Where the runtime only polls, this measures the poll
   interval; where submissions wake it, the wake-up.

5. **Python CPU per step** (``cpu``, not in the default sections): one
   worker executes ``--noop-runs`` queued runs of ``--noop-steps`` ``log``
   steps in the main thread (claim, execute, claim...) under ``cProfile``.
   Reported: CPU ms per step (process time, profiler included) and function
   calls; the 15 functions with the most own time go to stderr.

6. **Worker processes** (``instances``, not in the default sections): the same no-op
   runs executed by ``--instance-threads`` worker threads in total, split over 1 and over
   2 worker processes (``python -m tldw_Server_API.app.core.Workflows.worker``) on one
   database: each process's threads share one interpreter lock, so this shows what a
   second process adds. The processes are started and ready before the runs are
   submitted (from a thread pool of this process); steps/s is completed steps divided by
   the time from the first run's ``started_at`` to the last run's ``ended_at``.

Output: markdown tables on stdout (progress on stderr). Client, server and
database share the machine, so every number includes their competition for
the CPUs. Nothing is asserted: this is a measuring script, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import math
import multiprocessing
import os
import platform
import pstats
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import httpx
import psycopg
from psycopg import sql
from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tldw_Server_API.app.core.config import Settings, load_settings  # noqa: E402
from tldw_Server_API.app.core.DB_Management.instants import to_instant, utc_now  # noqa: E402
from tldw_Server_API.app.core.DB_Management.registry import DatabaseRegistry  # noqa: E402
from tldw_Server_API.app.core.DB_Management.stores.workflows import (  # noqa: E402
    TERMINAL_STATUSES,
    WorkflowStore,
)
from tldw_Server_API.app.core.Workflows.definitions import parse_definition  # noqa: E402
from tldw_Server_API.app.core.Workflows.engine import WorkflowEngine  # noqa: E402
from tldw_Server_API.app.core.Workflows.runtime import WorkflowRuntime  # noqa: E402

API_KEY = "workflow-benchmark-key"
USER_ID = "1"
NO_CONFIG = "/nonexistent"
SWEEP_TARGET_SECONDS = 12.0
STATUS_P99_TARGET_MS = 50.0
BACKENDS = ("sqlite", "postgresql")
WORKER_MODES = ("process", "thread")  # the server's default first
SECTIONS = ("sweep", "noop", "status", "latency", "cpu", "instances")
DEFAULT_SECTIONS = ("sweep", "noop", "status")
STEP_EVENT_TYPES = ("step_started", "step_completed")

#: The stress sweep's workflow: four quick steps, each run ends with "Item <n> summarised".
SWEEP_WORKFLOW: dict[str, Any] = {
    "name": "benchmark-sweep",
    "steps": [
        {"id": "draft", "type": "prompt", "config": {"template": "Item {{ inputs.n }}"}},
        {
            "id": "route",
            "type": "branch",
            "config": {
                "cases": [
                    {"when": {"path": "inputs.n", "op": "gte", "value": 0}, "next": "summary"}
                ],
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
    ],
}


def noop_workflow(steps: int) -> dict[str, Any]:
    """A workflow of *steps* ``log`` steps (debug level: nothing reaches a log handler)."""
    return {
        "name": "benchmark-noop",
        "steps": [
            {"id": f"s{i}", "type": "log", "config": {"message": f"step {i}", "level": "debug"}}
            for i in range(steps)
        ],
    }


# -- results --------------------------------------------------------------------------------


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (NaN for no values)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


@dataclass
class SweepResult:
    backend: str
    runs: int
    batch: int
    workers: int
    submit_seconds: float
    wall_seconds: float
    step_events: int
    failures: int

    @property
    def runs_per_second(self) -> float:
        return self.runs / self.wall_seconds if self.wall_seconds > 0 else math.nan

    @property
    def events_per_second(self) -> float:
        return self.step_events / self.wall_seconds if self.wall_seconds > 0 else math.nan


@dataclass
class NoopResult:
    backend: str
    workers: int
    runs: int
    steps: int
    wall_seconds: float
    failures: int

    @property
    def steps_per_second(self) -> float:
        return self.steps / self.wall_seconds if self.wall_seconds > 0 else math.nan


@dataclass
class StatusResult:
    backend: str
    mode: str
    workers: int
    runs: int
    sweep_seconds: float
    failures: int
    status_errors: int
    latencies_ms: list[float] = field(default_factory=list)
    finished: bool = False


# -- installations --------------------------------------------------------------------------


@dataclass(frozen=True)
class Installation:
    """One empty installation: settings for in-process use, variables for a server."""

    settings: Settings
    env: dict[str, str]
    work: Path


def _settings(env: dict[str, str]) -> Settings:
    return load_settings(env=env, config_file=Path(NO_CONFIG))


@contextmanager
def installation(backend: str, pg_dsn: str) -> Iterator[Installation]:
    """A fresh SQLite data directory, or a fresh database on the PostgreSQL server of *pg_dsn*."""
    with tempfile.TemporaryDirectory(prefix=f"tldw-wfbench-{backend}-") as tmp:
        work = Path(tmp)
        env = {
            "TLDW_CONTENT_DB_BACKEND": backend,
            "TLDW_DATA_DIR": str(work / "Databases"),
            "TLDW_CONFIG_FILE": NO_CONFIG,
        }
        if backend == "sqlite":
            yield Installation(_settings(env), env, work)
            return
        info = psycopg.conninfo.conninfo_to_dict(pg_dsn)
        name = f"tldw_wfbench_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(pg_dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        env |= {
            "TLDW_PG_HOST": str(info.get("host") or "127.0.0.1"),
            "TLDW_PG_PORT": str(info.get("port") or 5432),
            "TLDW_PG_DATABASE": name,
            "TLDW_PG_USER": str(info.get("user") or "postgres"),
        }
        if info.get("password"):
            env["TLDW_PG_PASSWORD"] = str(info["password"])
        try:
            yield Installation(_settings(env), env, work)
        finally:
            with psycopg.connect(pg_dsn, autocommit=True) as conn:
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )


def create_workflow(store: WorkflowStore, document: dict[str, Any]) -> int:
    definition = parse_definition(document)
    created = store.create_definition(definition.name, definition.to_document(), owner_id=USER_ID)
    return int(created["id"])


def wait_until_ended(store: WorkflowStore, runs: int, timeout: float) -> bool:
    """Poll (every 50 ms, at most *timeout* seconds) until *runs* runs have ended."""
    deadline = time.monotonic() + timeout
    while store.count_runs(status=list(TERMINAL_STATUSES)) < runs:
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True


def last_ended_at(runs: Sequence[dict[str, Any]]) -> datetime | None:
    ended = [to_instant(r["ended_at"]) for r in runs if r.get("ended_at") is not None]
    return max((e for e in ended if e is not None), default=None)


def count_events(store: WorkflowStore, types: Sequence[str]) -> int:
    events = store.events
    with store.database.begin(write=False) as conn:
        return int(
            conn.execute(
                select(func.count()).select_from(events).where(events.c.event_type.in_(types))
            ).scalar_one()
        )


def runs_with_gaps(store: WorkflowStore) -> int:
    """Runs whose event log is not exactly ``1..count``."""
    events = store.events
    with store.database.begin(write=False) as conn:
        rows = conn.execute(
            select(
                func.count(), func.min(events.c.event_seq), func.max(events.c.event_seq)
            ).group_by(events.c.run_id)
        ).all()
    return sum(1 for count, low, high in rows if (low, high) != (1, count))


# -- 1. the stress sweep --------------------------------------------------------------------


def stress_sweep(
    backend: str, settings: Settings, runs: int, batch: int, workers: int, timeout: float
) -> SweepResult:
    registry = DatabaseRegistry(settings)
    try:
        store = WorkflowStore(registry.workflows())
        workflow_id = create_workflow(store, SWEEP_WORKFLOW)
        with WorkflowRuntime(registry, workers=workers, poll_seconds=0.05) as runtime:

            def submit(n: int) -> str:
                return str(runtime.submit(workflow_id, {"n": n}, user_id=USER_ID)["run_id"])

            run_ids: list[str] = []
            started_at = utc_now()
            started = time.perf_counter()
            with ThreadPoolExecutor(max_workers=batch) as pool:
                for first in range(0, runs, batch):
                    run_ids += pool.map(submit, range(first, min(first + batch, runs)))
            submit_seconds = time.perf_counter() - started
            finished = wait_until_ended(store, runs, timeout)
            fallback_seconds = time.perf_counter() - started
        rows = [store.get_run(run_id) for run_id in run_ids]
        ended = last_ended_at(rows)
        wall = (ended - started_at).total_seconds() if ended and finished else fallback_seconds
        failures = sum(
            1
            for n, r in enumerate(rows)
            if r["status"] != "succeeded"
            or ((r.get("outputs") or {}).get("result") or {}).get("message")
            != f"Item {n} summarised"
        )
        failures += runs - len(set(run_ids)) + runs_with_gaps(store)
        return SweepResult(
            backend,
            runs,
            batch,
            workers,
            submit_seconds,
            wall,
            count_events(store, STEP_EVENT_TYPES),
            failures,
        )
    finally:
        registry.close()


# -- 2. no-op step throughput ---------------------------------------------------------------


def noop_throughput(
    backend: str, settings: Settings, runs: int, steps: int, workers: int, timeout: float
) -> NoopResult:
    registry = DatabaseRegistry(settings)
    try:
        store = WorkflowStore(registry.workflows())
        workflow_id = create_workflow(store, noop_workflow(steps))
        run_ids = [
            str(store.submit_run(workflow_id, {}, user_id=USER_ID)["run_id"]) for _ in range(runs)
        ]
        runtime = WorkflowRuntime(registry, workers=workers, poll_seconds=0.05)
        started_at = utc_now()
        started = time.perf_counter()
        runtime.start()
        try:
            finished = wait_until_ended(store, runs, timeout)
            fallback_seconds = time.perf_counter() - started
        finally:
            runtime.stop()
        rows = [store.get_run(run_id) for run_id in run_ids]
        ended = last_ended_at(rows)
        wall = (ended - started_at).total_seconds() if ended and finished else fallback_seconds
        failures = sum(1 for r in rows if r["status"] != "succeeded")
        completed = count_events(store, ["step_completed"])
        return NoopResult(backend, workers, runs, completed, wall, failures)
    finally:
        registry.close()


# -- 4. submit-to-start latency with idle workers -------------------------------------------


@dataclass
class LatencyResult:
    backend: str
    workers: int
    latencies_ms: list[float]
    failures: int


def start_latency(
    backend: str, settings: Settings, samples: int, workers: int, timeout: float
) -> LatencyResult:
    """See section 4 of the module doc."""
    registry, submitter = DatabaseRegistry(settings), DatabaseRegistry(settings)
    rng = random.Random(7)
    latencies: list[float] = []
    failures = 0
    try:
        store = WorkflowStore(submitter.workflows())
        workflow_id = create_workflow(store, noop_workflow(1))
        with WorkflowRuntime(registry, workers=workers):
            time.sleep(1.0)  # every thread has looked once and is idle
            for _ in range(samples):
                time.sleep(rng.uniform(0.02, 0.12))
                run_id = str(store.submit_run(workflow_id, {}, user_id=USER_ID)["run_id"])
                run = wait_for_run(store, run_id, timeout)
                if run["status"] != "succeeded" or run["started_at"] is None:
                    failures += 1
                    continue
                started = to_instant(run["started_at"])
                created = to_instant(run["created_at"])
                assert started is not None and created is not None
                latencies.append((started - created).total_seconds() * 1000)
    finally:
        registry.close()
        submitter.close()
    return LatencyResult(backend, workers, latencies, failures)


def wait_for_run(store: WorkflowStore, run_id: str, timeout: float) -> dict[str, Any]:
    """The run once it ended (or as it is after *timeout*), looked at every 5 ms."""
    deadline = time.monotonic() + timeout
    while True:
        run = store.get_run(run_id)
        if run["status"] in TERMINAL_STATUSES or time.monotonic() > deadline:
            return run
        time.sleep(0.005)


def latency_table(rows: Sequence[LatencyResult]) -> str:
    lines = [
        "| backend | idle worker threads | samples | p50 ms | p99 ms | max ms | failures |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        values = r.latencies_ms
        lines.append(
            f"| {r.backend} | {r.workers} | {len(values)} | {percentile(values, 50):.1f} | "
            f"{percentile(values, 99):.1f} | {max(values, default=math.nan):.1f} | "
            f"{r.failures} |"
        )
    return "\n".join(lines)


# -- 5. Python CPU per step -----------------------------------------------------------------


@dataclass
class CpuResult:
    backend: str
    steps: int
    cpu_seconds: float
    calls: int


def step_cpu(backend: str, settings: Settings, runs: int, steps: int) -> CpuResult:
    """See section 5 of the module doc."""
    registry = DatabaseRegistry(settings)
    try:
        store = WorkflowStore(registry.workflows())
        workflow_id = create_workflow(store, noop_workflow(steps))
        for _ in range(runs):
            store.submit_run(workflow_id, {}, user_id=USER_ID)
        store.register_worker("cpu-profile", hostname=socket.gethostname(), pid=os.getpid())
        engine = WorkflowEngine(registry, store)
        profile = cProfile.Profile()
        started = time.process_time()
        profile.enable()
        while (
            run := store.claim_next_run("cpu-profile", 60, first_step=engine.first_step)
        ) is not None:
            engine.execute(run)
        profile.disable()
        cpu = time.process_time() - started
        stats = pstats.Stats(profile, stream=sys.stderr)
        stats.sort_stats("tottime").print_stats(15)
        calls = int(getattr(stats, "total_calls", 0))
        return CpuResult(backend, count_events(store, ["step_completed"]), cpu, calls)
    finally:
        registry.close()


def cpu_table(rows: Sequence[CpuResult]) -> str:
    lines = [
        "| backend | steps | CPU s | CPU ms per step | function calls |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        per_step = r.cpu_seconds * 1000 / r.steps if r.steps else math.nan
        lines.append(
            f"| {r.backend} | {r.steps:,} | {r.cpu_seconds:.2f} | {per_step:.1f} | {r.calls:,} |"
        )
    return "\n".join(lines)


# -- 6. worker processes ---------------------------------------------------------------------


@dataclass
class InstancesResult:
    backend: str
    processes: int
    threads: int
    steps: int
    wall_seconds: float
    failures: int

    @property
    def steps_per_second(self) -> float:
        return self.steps / self.wall_seconds if self.wall_seconds > 0 else math.nan


@contextmanager
def worker_processes(inst: Installation, processes: int, threads: int) -> Iterator[None]:
    """*processes* worker commands of *threads* threads each, ready when this yields."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TLDW_", "SINGLE_USER"))}
    env |= inst.env | {"PYTHONPATH": str(ROOT)}
    command = [
        sys.executable,
        "-m",
        "tldw_Server_API.app.core.Workflows.worker",
        "--workers",
        str(threads),
        "--log-level",
        "WARNING",
    ]
    started = [
        subprocess.Popen(command, cwd=inst.work, env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(processes)
    ]
    try:
        for process in started:
            assert process.stdout is not None
            line = process.stdout.readline()
            if " ready: " not in line:
                raise SystemExit(f"a worker process did not start: {line!r}")
        yield
    finally:
        for process in started:
            process.send_signal(signal.SIGTERM)
        for process in started:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def instances_throughput(
    backend: str, inst: Installation, runs: int, steps: int, processes: int, threads: int
) -> InstancesResult:
    """See section 6 of the module doc: *threads* worker threads in total."""
    registry = DatabaseRegistry(inst.settings)
    try:
        store = WorkflowStore(registry.workflows())
        workflow_id = create_workflow(store, noop_workflow(steps))
        with worker_processes(inst, processes, threads // processes):
            with ThreadPoolExecutor(max_workers=4) as pool:
                run_ids = list(
                    pool.map(
                        lambda _: str(store.submit_run(workflow_id, {}, user_id=USER_ID)["run_id"]),
                        range(runs),
                    )
                )
            wait_until_ended(store, runs, 600)
        rows = [store.get_run(run_id) for run_id in run_ids]
        first = min(to_instant(r["started_at"]) for r in rows if r.get("started_at"))
        ended = last_ended_at(rows)
        wall = (ended - first).total_seconds() if ended and first else math.nan
        failures = sum(1 for r in rows if r["status"] != "succeeded") + runs_with_gaps(store)
        completed = count_events(store, ["step_completed"])
        return InstancesResult(backend, processes, threads, completed, wall, failures)
    finally:
        registry.close()


def instances_table(rows: Sequence[InstancesResult]) -> str:
    lines = [
        "| backend | worker processes | threads in all | steps completed | wall s | steps/s "
        "| failures |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r.backend} | {r.processes} | {r.threads} | {r.steps:,} | "
            f"{r.wall_seconds:.2f} | {r.steps_per_second:,.0f} | {r.failures} |"
        )
    return "\n".join(lines)


# -- 3. status latency while the sweep runs through the HTTP API ----------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def server(inst: Installation, workers: int, mode: str) -> Iterator[str]:
    """The API server as a subprocess on 127.0.0.1; yields its base URL."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TLDW_", "SINGLE_USER"))}
    env |= inst.env | {
        "PYTHONPATH": str(ROOT),
        "SINGLE_USER_API_KEY": API_KEY,
        "TLDW_WORKFLOW_WORKERS": str(workers),
        "TLDW_WORKFLOW_WORKER_MODE": mode,
    }
    log_path = inst.work / "server.log"
    command = [
        sys.executable,
        "-m",
        "tldw_Server_API.app.main",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=inst.work, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                if process.poll() is not None:
                    raise SystemExit(f"the server exited:\n{log_path.read_text()}")
                try:
                    if httpx.get(f"{base}/api/v1/health", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise SystemExit(f"the server did not answer in 60 s:\n{log_path.read_text()}")
                time.sleep(0.1)
            yield base
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def ended_runs(status: dict[str, Any]) -> int:
    recent = status.get("recent") or {}
    return sum(int(recent.get(k, 0)) for k in ("succeeded", "failed", "cancelled"))


@dataclass
class PollOutcome:
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    #: Seconds from the first poll to the one that saw every run ended (None: it never did).
    finished_after: float | None = None


def poll_status(
    base: str,
    runs: int,
    pause: float,
    max_samples: int,
    timeout: float,
    channel: Connection,
) -> None:
    """Poll ``/status`` until it reports *runs* ended runs, or a bound is reached.

    Runs in a process of its own, as a monitoring client would: in the submitting
    process it would also measure that process's own contention for the interpreter
    lock. Says "ready" on *channel* before its first poll, then sends a
    :class:`PollOutcome`.
    """
    outcome = PollOutcome()
    headers = {"X-API-KEY": API_KEY}
    with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
        client.get("/api/v1/workflows/status").raise_for_status()  # connect before timing
        channel.send("ready")
        started = time.perf_counter()
        deadline = time.monotonic() + timeout
        while len(outcome.latencies_ms) < max_samples and time.monotonic() < deadline:
            if channel.poll(0):  # the parent gave up
                break
            before = time.perf_counter()
            try:
                response = client.get("/api/v1/workflows/status")
            except httpx.HTTPError:
                outcome.errors += 1
                time.sleep(pause)
                continue
            after = time.perf_counter()
            outcome.latencies_ms.append((after - before) * 1000)
            if response.status_code != 200:
                outcome.errors += 1
            elif ended_runs(response.json()) >= runs:
                outcome.finished_after = after - started
                break
            time.sleep(pause)
    channel.send(outcome)


async def submit_over_http(base: str, workflow_id: int, runs: int, batch: int) -> int:
    """Submit *runs* runs, *batch* requests at a time; return how many were refused."""
    limits = httpx.Limits(max_connections=batch, max_keepalive_connections=batch)
    async with httpx.AsyncClient(
        base_url=base, headers={"X-API-KEY": API_KEY}, timeout=60, limits=limits
    ) as client:

        async def submit(n: int) -> bool:
            response = await client.post(
                f"/api/v1/workflows/{workflow_id}/run", json={"inputs": {"n": n}}
            )
            return response.status_code == 202

        refused = 0
        for first in range(0, runs, batch):
            accepted = await asyncio.gather(
                *(submit(n) for n in range(first, min(first + batch, runs)))
            )
            refused += accepted.count(False)
        return refused


def status_latency(
    backend: str,
    inst: Installation,
    runs: int,
    batch: int,
    workers: int,
    mode: str,
    pause: float,
    max_samples: int,
    timeout: float,
) -> StatusResult:
    with (
        server(inst, workers, mode) as base,
        httpx.Client(base_url=base, headers={"X-API-KEY": API_KEY}, timeout=30) as client,
    ):
        created = client.post("/api/v1/workflows", json=SWEEP_WORKFLOW)
        created.raise_for_status()
        workflow_id = int(created.json()["id"])
        for _ in range(10):  # warm-up, not counted: first-request imports, pool connections
            client.get("/api/v1/workflows/status").raise_for_status()
        parent, child = multiprocessing.Pipe()
        poller = multiprocessing.get_context("spawn").Process(
            target=poll_status,
            args=(base, runs, pause, max_samples, timeout, child),
            name="status-poller",
        )
        poller.start()
        if not parent.poll(60):
            raise SystemExit("the status poller did not start")
        parent.recv()
        refused = asyncio.run(submit_over_http(base, workflow_id, runs, batch))
        if not parent.poll(timeout + 5):
            parent.send("stop")
        outcome: PollOutcome = parent.recv()
        poller.join(10)
        succeeded = client.get(
            "/api/v1/workflows/runs", params={"status": "succeeded", "limit": 1}
        ).json()["total"]
    finished = outcome.finished_after is not None
    sweep = outcome.finished_after if finished else timeout
    return StatusResult(
        backend,
        mode,
        workers,
        runs,
        float(sweep or 0.0),
        refused + (runs - int(succeeded)),
        outcome.errors,
        outcome.latencies_ms,
        finished,
    )


# -- output ---------------------------------------------------------------------------------


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def machine_facts(load_before: str) -> list[str]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return [
        f"CPUs usable (nproc): {usable}; CPU model: {model}",
        f"Python {platform.python_version()} on {platform.system()} {platform.release()}",
        f"load average (1, 5, 15 min) before: {load_before}; after: {load_average()} "
        "(anything else running on the machine skews every number)",
    ]


def pg_version(dsn: str) -> str:
    try:
        with psycopg.connect(dsn, connect_timeout=5) as conn:
            row = conn.execute("SHOW server_version").fetchone()
        return f"PostgreSQL {row[0] if row else '?'}"
    except psycopg.Error as exc:
        return f"PostgreSQL unavailable ({exc.__class__.__name__})"


def yes_no(ok: bool) -> str:
    return "yes" if ok else "**no**"


def sweep_table(rows: Sequence[SweepResult]) -> str:
    lines = [
        "| backend | runs | batch | worker threads | submit s | wall s | runs/s "
        "| step events | step events/s | failures | under 12 s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r.backend} | {r.runs} | {r.batch} | {r.workers} | {r.submit_seconds:.2f} | "
            f"{r.wall_seconds:.2f} | {r.runs_per_second:.1f} | {r.step_events:,} | "
            f"{r.events_per_second:,.0f} | {r.failures} | "
            f"{yes_no(r.wall_seconds < SWEEP_TARGET_SECONDS and r.failures == 0)} |"
        )
    return "\n".join(lines)


def noop_table(rows: Sequence[NoopResult]) -> str:
    lines = [
        "| backend | worker threads | runs | steps completed | wall s | steps/s | failures |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r.backend} | {r.workers} | {r.runs} | {r.steps:,} | {r.wall_seconds:.2f} | "
            f"{r.steps_per_second:,.0f} | {r.failures} |"
        )
    return "\n".join(lines)


def status_table(rows: Sequence[StatusResult]) -> str:
    lines = [
        "| backend | worker mode | server worker threads | runs | sweep wall s | run failures "
        "| status errors | samples | p50 ms | p99 ms | max ms | p99 under 50 ms |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        p99 = percentile(r.latencies_ms, 99)
        wall = f"{r.sweep_seconds:.2f}" if r.finished else f"> {r.sweep_seconds:.0f} (unfinished)"
        lines.append(
            f"| {r.backend} | {r.mode} | {r.workers} | {r.runs} | {wall} | {r.failures} | "
            f"{r.status_errors} | {len(r.latencies_ms)} | "
            f"{percentile(r.latencies_ms, 50):.1f} | {p99:.1f} | "
            f"{max(r.latencies_ms, default=math.nan):.1f} | {yes_no(p99 < STATUS_P99_TARGET_MS)} |"
        )
    return "\n".join(lines)


# -- command line ---------------------------------------------------------------------------


def _int_list(value: str) -> list[int]:
    try:
        numbers = [int(part) for part in value.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a list of integers") from None
    if not numbers or min(numbers) < 1:
        raise argparse.ArgumentTypeError(f"{value!r}: give positive integers")
    return numbers


def _names(allowed: Sequence[str]) -> Any:
    def parse(value: str) -> list[str]:
        names = [part.strip() for part in value.split(",") if part.strip()]
        unknown = [n for n in names if n not in allowed]
        if unknown or not names:
            raise argparse.ArgumentTypeError(f"choose from {', '.join(allowed)}")
        return names

    return parse


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--backends", type=_names(BACKENDS), default=list(BACKENDS))
    parser.add_argument("--sections", type=_names(SECTIONS), default=list(DEFAULT_SECTIONS))
    parser.add_argument("--latency-samples", type=_positive, default=60)
    parser.add_argument("--latency-workers", type=_positive, default=2)
    parser.add_argument(
        "--pg-dsn",
        default=os.environ.get("TLDW_BENCH_PG_DSN", "host=127.0.0.1 user=postgres dbname=postgres"),
        help="a maintenance connection; throw-away databases are created on its server",
    )
    parser.add_argument("--runs", type=_positive, default=250, help="runs in a sweep")
    parser.add_argument("--batch", type=_positive, default=25, help="concurrent submissions")
    parser.add_argument("--sweep-workers", type=_positive, default=8, help="in-process sweep")
    parser.add_argument("--noop-runs", type=_positive, default=200)
    parser.add_argument("--noop-steps", type=_positive, default=5)
    parser.add_argument("--noop-workers", type=_int_list, default=[1, 2, 4])
    parser.add_argument(
        "--instance-threads",
        type=_positive,
        default=4,
        help="worker threads in all, over 1 and over 2 processes (an even number)",
    )
    parser.add_argument("--server-workers", type=_positive, default=8, help="server's runtime")
    parser.add_argument(
        "--worker-modes",
        type=_names(WORKER_MODES),
        default=list(WORKER_MODES),
        help="TLDW_WORKFLOW_WORKER_MODE values to measure the status latency with",
    )
    parser.add_argument(
        "--status-rounds", type=_positive, default=3, help="status measurements per mode"
    )
    parser.add_argument("--poll-ms", type=float, default=20.0, help="pause between status polls")
    parser.add_argument("--max-samples", type=_positive, default=10_000)
    parser.add_argument(
        "--timeout", type=float, default=180.0, help="seconds one measurement may take at most"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    load_before = load_average()
    sweeps: list[SweepResult] = []
    noops: list[NoopResult] = []
    statuses: list[StatusResult] = []
    latencies: list[LatencyResult] = []
    cpus: list[CpuResult] = []
    instances: list[InstancesResult] = []
    for backend in args.backends:
        if "instances" in args.sections:
            for processes in (1, 2):
                with installation(backend, args.pg_dsn) as inst:
                    result = instances_throughput(
                        backend,
                        inst,
                        args.noop_runs,
                        args.noop_steps,
                        processes,
                        args.instance_threads,
                    )
                instances.append(result)
                print(
                    f"  {backend} {processes} process(es): {result.steps_per_second:.0f} steps/s",
                    file=sys.stderr,
                )
        if "cpu" in args.sections:
            with installation(backend, args.pg_dsn) as inst:
                cpus.append(step_cpu(backend, inst.settings, args.noop_runs, args.noop_steps))
        if "latency" in args.sections:
            with installation(backend, args.pg_dsn) as inst:
                latency = start_latency(
                    backend, inst.settings, args.latency_samples, args.latency_workers, args.timeout
                )
            latencies.append(latency)
            print(
                f"  {backend} start latency: p50 {percentile(latency.latencies_ms, 50):.1f} ms",
                file=sys.stderr,
            )
        if "sweep" in args.sections:
            with installation(backend, args.pg_dsn) as inst:
                result = stress_sweep(
                    backend, inst.settings, args.runs, args.batch, args.sweep_workers, args.timeout
                )
            sweeps.append(result)
            print(f"  {backend} sweep: {result.wall_seconds:.2f} s", file=sys.stderr)
        if "noop" in args.sections:
            for workers in args.noop_workers:
                with installation(backend, args.pg_dsn) as inst:
                    noop = noop_throughput(
                        backend,
                        inst.settings,
                        args.noop_runs,
                        args.noop_steps,
                        workers,
                        args.timeout,
                    )
                noops.append(noop)
                print(
                    f"  {backend} no-op x{workers}: {noop.steps_per_second:.0f} steps/s",
                    file=sys.stderr,
                )
        if "status" in args.sections:
            # Rounds alternate between modes, so a noisy minute does not favour one mode.
            for _ in range(args.status_rounds):
                for mode in args.worker_modes:
                    with installation(backend, args.pg_dsn) as inst:
                        status = status_latency(
                            backend,
                            inst,
                            args.runs,
                            args.batch,
                            args.server_workers,
                            mode,
                            args.poll_ms / 1000,
                            args.max_samples,
                            args.timeout,
                        )
                    statuses.append(status)
                    print(
                        f"  {backend} status ({mode}): "
                        f"p99 {percentile(status.latencies_ms, 99):.1f} ms",
                        file=sys.stderr,
                    )

    print("\n# Workflow benchmark\n")
    for fact in machine_facts(load_before):
        print(f"* {fact}")
    if "postgresql" in args.backends:
        print(f"* {pg_version(args.pg_dsn)}")
    if sweeps:
        print(
            f"\n## 1. Stress sweep ({args.runs} runs of 4 steps, submitted {args.batch} at a "
            f"time; target: wall under {SWEEP_TARGET_SECONDS:.0f} s, 0 failures)\n"
        )
        print(sweep_table(sweeps))
    if noops:
        print(
            f"\n## 2. No-op (`log`) step throughput ({args.noop_runs} queued runs x "
            f"{args.noop_steps} steps)\n"
        )
        print(noop_table(noops))
    if statuses:
        print(
            f"\n## 3. `GET /api/v1/workflows/status` latency during the HTTP sweep "
            f"({args.runs} runs, {args.batch} submissions at a time, a poll every "
            f"{args.poll_ms:g} ms; target: p99 under {STATUS_P99_TARGET_MS:.0f} ms)\n"
        )
        print(status_table(statuses))
    if latencies:
        print(
            f"\n## 4. Submit-to-start latency, idle workers ({args.latency_samples} one-step "
            "runs submitted one at a time through another registry)\n"
        )
        print(latency_table(latencies))
    if cpus:
        print(
            f"\n## 5. Python CPU per step under cProfile ({args.noop_runs} queued runs x "
            f"{args.noop_steps} `log` steps, one worker in the main thread)\n"
        )
        print(cpu_table(cpus))
    if instances:
        print(
            f"\n## 6. Worker processes ({args.noop_runs} runs x {args.noop_steps} `log` steps, "
            f"{args.instance_threads} worker threads in all)\n"
        )
        print(instances_table(instances))
    return 0


if __name__ == "__main__":
    sys.exit(main())
