"""Who wants to know that a user's content changed (the retrieval indexer does).

Stores call :func:`content_changed` after a write commits; listeners must be quick
(the indexer only notes the user and wakes its thread) and never raise into a write.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from ..backends.base import Database

Listener = Callable[[Database], None]
_listeners: list[Listener] = []
_lock = threading.Lock()
log = logging.getLogger("tldw_server.stores")


def listen(listener: Listener) -> Callable[[], None]:
    """Call *listener* after every content change; returns what stops it."""
    with _lock:
        _listeners.append(listener)

    def stop() -> None:
        with _lock:
            if listener in _listeners:
                _listeners.remove(listener)

    return stop


def content_changed(database: Database) -> None:
    """Tell the listeners that *database* (one user's) has new or changed content."""
    with _lock:
        listeners = list(_listeners)
    for listener in listeners:
        try:
            listener(database)
        except Exception:  # a listener's failure must not fail the write that committed
            log.exception("a content-change listener failed")
