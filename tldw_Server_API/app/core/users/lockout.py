"""The login lockout: repeated failed sign-ins of one username or one address wait.

As tldw_server does: after ``max_failures`` failed sign-ins within ``lock_seconds``,
the username (or the client address) is locked for ``lock_seconds`` from the last
failure. A locked username is refused before its password is checked (a correct
password waits too); a failure that locks the address or the name is answered as
locked. A successful sign-in clears both counts.

The counts live in this process's memory: they start empty at every start, and
servers behind one load balancer count apart. At most :data:`MAX_TRACKED` names and
addresses are tracked; beyond that the expired ones are forgotten first, then the
oldest. Nothing here is logged.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

#: Names and addresses tracked at most (a flood of made-up names cannot grow memory).
MAX_TRACKED = 100_000


@dataclass
class _Count:
    failures: int
    last: float


class LoginLockout:
    """Failed sign-in counts per key (``user:<name>``, ``ip:<address>``), thread-safe."""

    def __init__(
        self,
        max_failures: int,
        lock_seconds: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_failures = max_failures
        self.lock_seconds = lock_seconds
        self._clock = clock
        self._counts: OrderedDict[str, _Count] = OrderedDict()
        self._lock = threading.Lock()

    def _live(self, key: str, now: float) -> _Count | None:
        count = self._counts.get(key)
        if count is not None and now - count.last >= self.lock_seconds:
            del self._counts[key]  # the window passed: start again
            return None
        return count

    def _wait(self, count: _Count | None, now: float) -> int | None:
        if count is None or count.failures < self.max_failures:
            return None
        return max(1, math.ceil(count.last + self.lock_seconds - now))

    def retry_after(self, *keys: str) -> int | None:
        """Seconds until the longest lock among *keys* ends; None when none is locked."""
        with self._lock:
            now = self._clock()
            waits = [w for k in keys if (w := self._wait(self._live(k, now), now)) is not None]
        return max(waits) if waits else None

    def failed(self, *keys: str) -> int | None:
        """Count a failed sign-in against each of *keys*; :meth:`retry_after` afterwards."""
        with self._lock:
            now = self._clock()
            for key in keys:
                count = self._live(key, now)
                if count is None:
                    self._counts[key] = _Count(1, now)
                else:
                    count.failures += 1
                    count.last = now
                self._counts.move_to_end(key)
            self._forget(now)
        return self.retry_after(*keys)

    def succeeded(self, *keys: str) -> None:
        """Clear the counts of *keys* (a successful sign-in)."""
        with self._lock:
            for key in keys:
                self._counts.pop(key, None)

    def _forget(self, now: float) -> None:
        if len(self._counts) <= MAX_TRACKED:
            return
        for key in [k for k, c in self._counts.items() if now - c.last >= self.lock_seconds]:
            del self._counts[key]
        while len(self._counts) > MAX_TRACKED:
            self._counts.popitem(last=False)


__all__ = ["MAX_TRACKED", "LoginLockout"]
