"""Wake-ups: a writer says "there is news on *topic*", listeners anywhere are called.

A write announces a topic inside its transaction (:meth:`Database.announce`); once
the transaction commits, everyone listening to that topic at that database is
called (:meth:`Database.listen`). How far the news travels is the backend's:

* PostgreSQL: ``NOTIFY`` in the writing transaction; each listener holds one
  connection of its own in ``LISTEN`` and so hears writers of every process.
  ``LISTEN`` needs a session of its own: behind PgBouncer in transaction mode the
  listener must connect to the server directly (or through a session-mode pool).
* SQLite: within the process, to listeners of the same file (the writers of other
  processes are found by the listeners' fallback poll).

A callback must be quick (it runs on the listener's thread, or on the writer's
thread just after commit) and must not raise.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from typing import Protocol

import psycopg

log = logging.getLogger("tldw.db")

Callback = Callable[[], None]


class Listening(Protocol):
    """A registration made by :meth:`Database.listen`; ``close()`` ends it."""

    def close(self) -> None: ...


class LocalWakes:
    """The listeners of this process, by place (a file, a schema) and topic."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._listeners: dict[tuple[str, str], list[Callback]] = {}

    def listen(self, place: str, topic: str, callback: Callback) -> Listening:
        with self._lock:
            self._listeners.setdefault((place, topic), []).append(callback)
        return _LocalListening(self, (place, topic), callback)

    def _forget(self, key: tuple[str, str], callback: Callback) -> None:
        with self._lock:
            callbacks = self._listeners.get(key, [])
            if callback in callbacks:
                callbacks.remove(callback)
            if not callbacks:
                self._listeners.pop(key, None)

    def deliver(self, place: str, topics: set[str]) -> None:
        for topic in topics:
            with self._lock:
                callbacks = list(self._listeners.get((place, topic), ()))
            for callback in callbacks:
                _call(callback)


class _LocalListening:
    def __init__(self, hub: LocalWakes, key: tuple[str, str], callback: Callback) -> None:
        self._hub, self._key, self._callback = hub, key, callback

    def close(self) -> None:
        self._hub._forget(self._key, self._callback)


#: Every backend of this process delivers its local wake-ups here.
LOCAL_WAKES = LocalWakes()


def _call(callback: Callback) -> None:
    try:
        callback()
    except Exception:  # a listener's failure must not fail the write that announced
        log.exception("a wake-up listener failed")


def pg_channel(namespace: str | None, topic: str) -> str:
    """The ``NOTIFY`` channel of *topic* in a schema: short (channels are identifiers, at
    most 63 bytes) and distinct per schema, since one database holds many schemas."""
    digest = hashlib.sha256(f"{namespace or 'public'}:{topic}".encode()).hexdigest()[:24]
    return f"tldw_{digest}"


class PgListener:
    """One connection in ``LISTEN`` on a channel, and the thread that calls back on news.

    The callback is also called once the ``LISTEN`` is in place (before construction
    returns, and again after every reconnection), since news sent while nobody
    listened is lost. Construction waits until the first ``LISTEN`` is in place, so
    that a caller can rely on hearing every later ``NOTIFY``; it raises when the
    database cannot be reached.
    """

    #: How often the thread looks at its stop flag while no news arrives.
    TICK_SECONDS = 0.25
    #: The longest pause between attempts to reconnect.
    MAX_RETRY_SECONDS = 5.0

    def __init__(self, conninfo: str, channel: str, callback: Callback) -> None:
        self._conninfo, self._channel, self._callback = conninfo, channel, callback
        self._stop = threading.Event()
        self._conn = self._connect()
        _call(callback)
        self._thread = threading.Thread(target=self._loop, name=f"pg-listen-{channel}", daemon=True)
        self._thread.start()

    @property
    def backend_pid(self) -> int:
        """The server process of the listening connection (for operators and tests)."""
        return int(self._conn.info.backend_pid)

    def _connect(self) -> psycopg.Connection[tuple[object, ...]]:
        conn = psycopg.connect(self._conninfo, autocommit=True)
        conn.execute(f'LISTEN "{self._channel}"')  # a channel is "tldw_" and hex digits
        return conn

    def _loop(self) -> None:
        pause = self.TICK_SECONDS
        while not self._stop.is_set():
            try:
                if self._conn.closed:
                    self._conn = self._connect()
                    pause = self.TICK_SECONDS
                    _call(self._callback)
                for _ in self._conn.notifies(timeout=self.TICK_SECONDS, stop_after=1):
                    _call(self._callback)
            except psycopg.Error:
                if self._stop.is_set():
                    break
                log.warning("workflow wake-ups: listener connection lost; reconnecting")
                self._conn.close()
                self._stop.wait(pause)
                pause = min(pause * 2, self.MAX_RETRY_SECONDS)
        self._conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(self.TICK_SECONDS * 8)


__all__ = ["LOCAL_WAKES", "Callback", "Listening", "LocalWakes", "PgListener", "pg_channel"]
