"""The workflow runtime: worker threads that claim runs from the database and execute them.

A :class:`WorkflowRuntime` is one *worker* (one row in ``workflow_workers``)
with N threads. Each thread claims a run (``claim_next_run``), executes it with
the :class:`~.engine.WorkflowEngine`, and claims the next. An idle thread sleeps
until it is woken:

* every write that makes a run due (a submission, a release, an approval)
  announces it in its transaction, and the runtime listens (one connection in
  ``LISTEN`` on PostgreSQL, so a submission in any process wakes it; within the
  process on SQLite); each announcement wakes one idle thread, and a thread
  that claimed a run wakes one more, so a burst is taken up by as many threads
  as it needs;
* the heartbeat (every ``heartbeat_seconds``) also learns whether some run is
  due (a retry whose backoff passed, a run whose worker died) and wakes a thread;
* failing all else, an idle thread looks every ``poll_seconds``: by default 5 s on
  PostgreSQL, where it is only a fallback, and 0.5 s on SQLite, where it is how
  the submissions of other processes are found.

One heartbeat thread refreshes, every ``heartbeat_seconds``, the worker's row:
one statement, which keeps every run its threads execute claimed, and tells
whether to look for lost claims or cancellation requests.

Several runtimes may work on one database at once: threads of the API server,
and separate processes started with::

    python -m tldw_Server_API.app.core.Workflows.worker --workers 4

Takeover bound
--------------
A worker's lease is ``lease_seconds`` (default 10 s, ``TLDW_WORKFLOW_LEASE_SECONDS``) from
its last heartbeat, and heartbeats come every ``heartbeat_seconds`` (default 2 s,
``TLDW_WORKFLOW_HEARTBEAT_SECONDS``); a new claim is
also held for ``lease_seconds`` by the run itself. When a worker dies, its runs
become claimable at most ``lease_seconds`` after its death, and a live runtime
learns so at its next heartbeat (or poll), so a run whose worker died is taken
over within ``lease_seconds + min(heartbeat_seconds, poll_seconds)`` (12 s on
PostgreSQL, 10.5 s on SQLite, with the defaults), provided a worker with a free
thread is running. The new worker resumes the run after its last recorded step (see ``engine.py``).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..DB_Management.backends.wakes import Listening
from ..DB_Management.instants import utc_now
from ..DB_Management.stores.workflows import (
    RUNS_TOPIC,
    WorkflowStore,
)
from .engine import DEFAULT_MAX_TAKEOVERS, Outcome, WorkflowEngine
from .settling import run_and_wait
from .steps import RunSignals

if TYPE_CHECKING:
    from ..DB_Management.registry import DatabaseRegistry

log = logging.getLogger("tldw.workflows")

DEFAULT_HEARTBEAT_SECONDS = 2.0


def takeover_bound(
    lease_seconds: float, poll_seconds: float, heartbeat_seconds: float = DEFAULT_HEARTBEAT_SECONDS
) -> float:
    """Seconds within which a live worker takes over a run whose worker died."""
    return lease_seconds + min(poll_seconds, heartbeat_seconds)


def new_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class WorkflowRuntime:
    """N worker threads executing the runs of one workflows database (see the module doc)."""

    def __init__(
        self,
        registry: DatabaseRegistry,
        workers: int | None = None,
        *,
        lease_seconds: float | None = None,
        heartbeat_seconds: float | None = None,
        poll_seconds: float | None = None,
        worker_id: str | None = None,
        max_takeovers: int = DEFAULT_MAX_TAKEOVERS,
    ) -> None:
        settings = registry.settings
        # Unless given, as configured (TLDW_WORKFLOW_LEASE_SECONDS, ..._HEARTBEAT_SECONDS).
        self.lease_seconds = (
            settings.workflow_lease_seconds if lease_seconds is None else lease_seconds
        )
        self.heartbeat_seconds = (
            settings.workflow_heartbeat_seconds if heartbeat_seconds is None else heartbeat_seconds
        )
        if self.heartbeat_seconds >= self.lease_seconds:
            raise ValueError("heartbeat_seconds must be shorter than lease_seconds")
        self.registry = registry
        self.workers = settings.workflow_workers if workers is None else workers
        if self.workers < 1:
            raise ValueError("a runtime needs at least one worker thread")
        self.worker_id = worker_id or new_worker_id()
        self.store = WorkflowStore(registry.workflows())
        # By default, as often as the backend's wake-ups need (see the module doc).
        backend = self.store.database.backend
        self.poll_seconds = backend.fallback_poll_seconds if poll_seconds is None else poll_seconds
        self._stop = threading.Event()
        self._wake = threading.Condition()
        # Under _wake: wake-ups not yet taken by a thread, threads idle, the next retry due.
        self._permits = 0
        self._idle = 0
        self._next_due: float | None = None
        self._listening: Listening | None = None
        self._active: dict[str, RunSignals] = {}
        self._active_lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self.engine = WorkflowEngine(
            registry, self.store, stop=self._stop, max_takeovers=max_takeovers
        )

    # -- life cycle ------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return bool(self._threads) and not self._stop.is_set()

    @property
    def takeover_bound_seconds(self) -> float:
        return takeover_bound(self.lease_seconds, self.poll_seconds, self.heartbeat_seconds)

    def start(self) -> WorkflowRuntime:
        if self._threads:
            raise RuntimeError("this runtime is already started")
        self._stop.clear()
        self._register()
        self._listen()
        beat = threading.Thread(
            target=self._heartbeat_loop, name=f"wf-heartbeat-{self.worker_id}", daemon=True
        )
        self._threads.append(beat)
        for index in range(self.workers):
            self._threads.append(
                threading.Thread(
                    target=self._worker_loop,
                    args=(index,),
                    name=f"wf-worker-{index}-{self.worker_id}",
                    daemon=True,
                )
            )
        for thread in self._threads:
            thread.start()
        log.info(
            "workflow runtime %s: %d worker thread(s) on %s",
            self.worker_id,
            self.workers,
            self.store.database.describe(),
        )
        return self

    def stop(self, timeout: float = 30.0) -> None:
        """Stop claiming; runs in progress are given back to the queue at their next boundary."""
        self._stop.set()
        with self._active_lock:
            for signals in self._active.values():
                signals.notify()
        self.wake()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._threads = []
        if self._listening is not None:
            self._listening.close()
            self._listening = None
        try:
            self.store.unregister_worker(self.worker_id)
        except Exception:  # the database may be gone already at shutdown
            log.exception("workflow runtime %s: could not unregister", self.worker_id)

    def __enter__(self) -> WorkflowRuntime:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wake(self) -> None:
        """Make every idle thread look for work now rather than at its next poll."""
        with self._wake:
            self._permits = self.workers
            self._wake.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until every thread sleeps for lack of work (True), or *timeout* passes."""
        deadline = time.monotonic() + timeout
        with self._wake:
            while self._idle < self.workers:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._wake.wait(remaining)
        return True

    def _wake_one(self) -> None:
        """Make one idle thread look for work (a run became due somewhere)."""
        with self._wake:
            self._permits = min(self._permits + 1, self.workers)
            self._wake.notify()

    def _register(self) -> None:
        self.store.register_worker(
            self.worker_id,
            hostname=socket.gethostname(),
            pid=os.getpid(),
            concurrency=self.workers,
            lease_seconds=self.lease_seconds,
        )

    def _listen(self) -> None:
        try:
            self._listening = self.store.database.listen(RUNS_TOPIC, self._wake_one)
        except Exception:  # e.g. LISTEN refused by a pooler: the heartbeat and poll still find work
            log.exception("workflow runtime %s: cannot listen for new runs", self.worker_id)

    def _idle_wait(self) -> None:
        """Sleep until woken, a known retry is due, or ``poll_seconds`` pass."""
        with self._wake:
            self._idle += 1
            if self._idle == self.workers:
                self._wake.notify_all()  # (for wait_idle; sleepers without a permit sleep on)
            try:
                deadline = time.monotonic() + self.poll_seconds
                while not self._permits and not self._stop.is_set():
                    now = time.monotonic()
                    if self._next_due is not None and self._next_due <= now:
                        self._next_due = None
                        return
                    until = min(deadline, self._next_due or deadline)
                    if until <= now:
                        return
                    self._wake.wait(until - now)
                self._permits = max(0, self._permits - 1)
            finally:
                self._idle -= 1

    def _after_claim(self) -> None:
        """There may be more due runs: pass the wake-up on to one idle thread."""
        with self._wake:
            if self._idle:
                self._permits = min(self._permits + 1, self.workers)
                self._wake.notify()

    def _retry_due(self, run_id: str) -> None:
        """Wake a thread when the retry of *run_id* (given back with a backoff) is due."""
        due_at = self.store.get_run(run_id).get("next_attempt_at")
        if due_at is None:
            return
        due = time.monotonic() + max(0.0, (due_at - utc_now()).total_seconds())
        with self._wake:
            self._next_due = due if self._next_due is None else min(self._next_due, due)
            self._wake.notify_all()

    # -- submission helpers --------------------------------------------------------------
    def submit(
        self,
        workflow_id: int,
        inputs: Mapping[str, Any] | None = None,
        *,
        user_id: str,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        run = self.store.submit_run(
            workflow_id, inputs, user_id=user_id, idempotency_key=idempotency_key
        )
        return run  # (the submission itself wakes the workers: see the module doc)

    def run_and_wait(self, run_id: str, timeout: float = 60.0) -> dict[str, Any]:
        """Wait for *run_id* to finish (or wait for a human); see :func:`run_and_wait`."""
        self.wake()
        return run_and_wait(self.store, run_id, timeout)

    def active_runs(self) -> list[str]:
        with self._active_lock:
            return list(self._active)

    # -- threads ---------------------------------------------------------------------------
    def _worker_loop(self, index: int) -> None:
        while not self._stop.is_set():
            try:
                run = self.store.claim_next_run(
                    self.worker_id, self.lease_seconds, first_step=self.engine.first_step
                )
            except Exception:
                log.exception("workflow worker %s/%d: claim failed", self.worker_id, index)
                self._stop.wait(min(self.poll_seconds, self.heartbeat_seconds))
                continue
            if run is None:
                self._idle_wait()
                continue
            self._after_claim()
            self._execute(run)

    def _execute(self, run: Mapping[str, Any]) -> None:
        run_id = str(run["run_id"])
        signals = RunSignals(self._stop)
        with self._active_lock:
            self._active[run_id] = signals
        try:
            outcome = self.engine.execute(run, signals)
            log.debug("workflow run %s: %s", run_id, outcome)
            if outcome == Outcome.RETRY_SCHEDULED:
                self._retry_due(run_id)
        except Exception:
            # Left claimed: once this worker stops heartbeating, a worker takes it over.
            log.exception("workflow run %s: the engine failed", run_id)
        finally:
            with self._active_lock:
                self._active.pop(run_id, None)

    def _heartbeat_loop(self) -> None:
        while not self._stop.wait(self.heartbeat_seconds):
            self.heartbeat_once()

    def heartbeat_once(self) -> None:
        """Refresh this worker's lease (the heartbeat thread's job): one statement, unless
        what it learnt asks for more (a lost claim, a cancellation, a due run)."""
        with self._active_lock:
            active = list(self._active.items())
        try:
            beat = self.store.heartbeat_worker(self.worker_id, self.lease_seconds)
            if not beat.registered:
                self._register()
        except Exception:
            log.exception("workflow runtime %s: worker heartbeat failed", self.worker_id)
            return
        if beat.claimable:
            self._wake_one()
        if beat.held == len(active) and not beat.cancelling:
            return
        try:
            held = self.store.held_runs(self.worker_id)
        except Exception:
            log.exception("workflow runtime %s: reading its runs failed", self.worker_id)
            return
        for run_id, signals in active:
            if run_id not in held:
                signals.mark_lost()
            elif held[run_id]:
                signals.request_cancel()


__all__ = [
    "DEFAULT_HEARTBEAT_SECONDS",
    "WorkflowRuntime",
    "new_worker_id",
    "takeover_bound",
]
