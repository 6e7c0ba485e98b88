"""Waiting for runs to settle (end, or wait for a human): :func:`run_and_wait`, which polls
from a thread, and :class:`RunWaiter`, which waits in the event loop for the news that a run
settled (``?mode=sync`` requests).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ..DB_Management.backends.wakes import Listening
from ..DB_Management.stores.workflows import (
    SETTLED_TOPIC,
    TERMINAL_STATUSES,
    WAITING_STATUSES,
    WorkflowStore,
)

log = logging.getLogger("tldw.workflows")


def is_settled(run: Mapping[str, Any]) -> bool:
    """Finished, or waiting for something only a human can give."""
    return run.get("status") in TERMINAL_STATUSES or run.get("status") in WAITING_STATUSES


def run_and_wait(store: WorkflowStore, run_id: str, timeout: float = 60.0) -> dict[str, Any]:
    """Wait until the run is settled (see :func:`is_settled`) or *timeout* passes.

    Returns the run as it then is; a caller checks ``status`` to tell a result
    from a timeout. Some runtime (in this process or another) must execute it.
    """
    deadline = time.monotonic() + timeout
    pause = 0.02
    while True:
        run = store.get_run(run_id)
        if is_settled(run) or time.monotonic() >= deadline:
            return run
        time.sleep(min(pause, max(0.0, deadline - time.monotonic())))
        pause = min(pause * 1.5, 0.25)


class RunWaiter:
    """Waits, in the event loop, for runs to settle: no thread is held per waiting request.

    One watcher task (started with the first waiter, ended with the last) listens for the
    news that a run settled (:data:`SETTLED_TOPIC`, announced by the transaction that ends a
    run or parks it for a human), and on each piece of news reads every awaited run in one
    pass on a worker thread; each waiter awaits its own future. A hundred ``?mode=sync``
    requests thus cost one short database pass per settled run, and the thread pool stays
    free for the other requests (health included).

    Reading also happens unasked, as a fallback: after ``poll_seconds``, then at growing
    intervals up to ``max_poll_seconds`` (by default the backend's fallback poll: 5 s on
    PostgreSQL, where the news comes from every process; 0.5 s on SQLite, where it comes
    only from the workers of this process).
    """

    def __init__(self, poll_seconds: float = 0.1, max_poll_seconds: float | None = None) -> None:
        self.poll_seconds = poll_seconds
        self.max_poll_seconds = max_poll_seconds
        self._waiting: dict[str, tuple[WorkflowStore, list[asyncio.Future[dict[str, Any]]]]] = {}
        self._poller: asyncio.Task[None] | None = None
        #: Whether the poller still serves waiters (it may then still be closing its listeners).
        self._watching = False

    async def wait(self, store: WorkflowStore, run_id: str, timeout: float) -> dict[str, Any]:
        """The run once settled (see :func:`is_settled`), or as it is when *timeout* passes."""
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(run_id, (store, []))[1].append(future)
        self._ensure_poller()
        try:
            return await asyncio.wait_for(asyncio.shield(future), timeout)
        except TimeoutError:
            return await asyncio.to_thread(store.get_run, run_id)
        finally:
            self._forget(run_id, future)

    def _forget(self, run_id: str, future: asyncio.Future[dict[str, Any]]) -> None:
        entry = self._waiting.get(run_id)
        if entry is None:
            return
        if future in entry[1]:
            entry[1].remove(future)
        if not entry[1]:
            del self._waiting[run_id]

    def _ensure_poller(self) -> None:
        loop = asyncio.get_running_loop()
        if (
            self._poller is None
            or not self._watching
            or self._poller.done()
            or self._poller.get_loop() is not loop
        ):
            self._watching = True
            self._poller = loop.create_task(self._poll())

    async def _poll(self) -> None:
        loop = asyncio.get_running_loop()
        news = asyncio.Event()

        def heard() -> None:  # on a listener's thread (or a writer's, on SQLite)
            loop.call_soon_threadsafe(news.set)

        listening: dict[int, Listening | None] = {}
        pause = self.poll_seconds
        try:
            while self._waiting and self._watching:
                stores = {id(store.database): store for store, _ in self._waiting.values()}
                for key, store in stores.items():
                    if key not in listening:
                        listening[key] = await asyncio.to_thread(_listen, store, heard)
                news.clear()  # news from here on calls for another pass
                watched = {run_id: store for run_id, (store, _) in self._waiting.items()}
                try:
                    runs = await asyncio.to_thread(_read_runs, watched)
                except Exception:
                    log.exception("workflow sync wait: reading the awaited runs failed")
                    runs = {}
                for run_id, run in runs.items():
                    if is_settled(run) and run_id in self._waiting:
                        for future in self._waiting.pop(run_id)[1]:
                            if not future.done():
                                future.set_result(run)
                if not self._waiting:
                    break
                try:
                    await asyncio.wait_for(news.wait(), pause)
                except TimeoutError:
                    pause = min(pause * 1.5, self._longest_pause(stores.values()))
        finally:
            # From here a new waiter starts a poller of its own (this one only closes up).
            self._watching = False
            for listener in listening.values():
                if listener is not None:
                    await asyncio.to_thread(listener.close)

    def _longest_pause(self, stores: Iterable[WorkflowStore]) -> float:
        if self.max_poll_seconds is not None:
            return self.max_poll_seconds
        return min(store.database.backend.fallback_poll_seconds for store in stores)


def _listen(store: WorkflowStore, callback: Callable[[], None]) -> Listening | None:
    """Listen for settled runs at *store*'s database; None (polling only) when refused."""
    try:
        return store.database.listen(SETTLED_TOPIC, callback)
    except Exception:  # e.g. LISTEN refused by a pooler: the fallback poll still finds them
        log.exception("workflow sync wait: cannot listen for settled runs")
        return None


def _read_runs(watched: Mapping[str, WorkflowStore]) -> dict[str, dict[str, Any]]:
    """Each watched run as it now is (one pass, on a worker thread)."""
    return {run_id: store.get_run(run_id) for run_id, store in watched.items()}


__all__ = ["RunWaiter", "is_settled", "run_and_wait"]
