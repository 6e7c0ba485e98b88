"""The background indexer: embeds new and edited items soon after they are written.

A writer's :func:`..DB_Management.stores.changes.content_changed` wakes the thread for
that user; every :data:`RESCAN_SECONDS` it also looks at every user it serves (which
catches writes made by other processes, such as the workflow workers or a migration).
Progress is readable at any time (:meth:`EmbeddingWorker.status`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

from ..DB_Management.backends.base import Database
from ..DB_Management.stores.changes import listen
from .embeddings import EmbeddingError
from .indexer import Indexer

log = logging.getLogger("tldw_server.rag")
RESCAN_SECONDS = 60.0


class EmbeddingWorker:
    """One thread embedding users' content, woken by their writes.

    *users* names the users to look at when nothing woke the thread (every
    *rescan_seconds*, and once at start): the users whose databases are open, so a
    rescan never opens a user nobody is using. A write by any user wakes it for them.
    """

    def __init__(
        self,
        indexer: Indexer,
        users: Callable[[], Sequence[str]],
        *,
        rescan_seconds: float = RESCAN_SECONDS,
    ) -> None:
        self.indexer = indexer
        self.users = users
        self.rescan_seconds = rescan_seconds
        self._due: set[str] = set(users())  # everyone open once at start
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._busy: str | None = None
        self._failures = 0
        self._stop_listening = listen(self._changed)
        self._thread = threading.Thread(target=self._loop, name="rag-indexer", daemon=True)

    def start(self) -> None:
        self._wake.set()
        self._thread.start()

    def _changed(self, database: Database) -> None:
        if database.user_id is not None:
            self.notify(database.user_id)

    def notify(self, user_id: str) -> None:
        """Embed *user_id*'s new content soon."""
        with self._lock:
            self._due.add(user_id)
        self._wake.set()

    def _loop(self) -> None:
        while not self._stopping.is_set():
            if not self._wake.wait(self.rescan_seconds):
                with self._lock:
                    self._due.update(self.users())
            self._wake.clear()
            while not self._stopping.is_set():
                with self._lock:
                    if not self._due:
                        break
                    user = self._due.pop()
                    self._busy = user
                self._index(user)
                with self._lock:
                    self._busy = None

    def _index(self, user: str) -> None:
        try:
            with self.indexer.registry.user_if_open(user) as handles:
                if handles is None:  # closed since: the rescan after they return embeds it
                    return
                report = self.indexer.run(user, handles=handles)
        except EmbeddingError as exc:
            self._failures += 1
            log.warning("Embedding user %s's content failed: %s", user, exc)
            return
        except Exception as exc:  # a database hiccup: the next rescan tries again
            self._failures += 1
            log.warning("Embedding user %s's content failed (%s)", user, exc.__class__.__name__)
            return
        if report.embedded_items or report.removed_items:
            log.info(
                "Embedded %d item(s) (%d chunks) and removed %d for user %s",
                report.embedded_items,
                report.chunks,
                report.removed_items,
                user,
            )

    def idle(self) -> bool:
        """Whether nothing is queued or being embedded right now."""
        with self._lock:
            return not self._due and self._busy is None

    def stop(self, timeout: float = 10.0) -> None:
        self._stop_listening()
        self._stopping.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
