"""The login lockout: repeated failed sign-ins of one username or one address wait.

As tldw_server does: after ``max_failures`` failed sign-ins within ``lock_seconds``,
the username (or the client address) is locked for ``lock_seconds`` from the last
failure. A locked username is refused before its password is checked (a correct
password waits too); a failure that locks the address or the name is answered as
locked. A successful sign-in clears both counts.

The counts live in the Users database (``login_failures``), so every server process
on one database counts together: a name locked by failures at one instance behind a
load balancer is locked at all of them, and a restart forgets nothing. A key is
stored as its SHA-256 only (a "username" typed by mistake may be a password), and
rows older than the window are deleted as new failures come in. Nothing here is
logged.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import case, delete, select

from ..DB_Management.backends.base import Database
from ..DB_Management.instants import utc_now
from ..DB_Management.schemas.users import login_failures


def key_hash(key: str) -> str:
    """How a key (``user:<name>``, ``ip:<address>``) is stored."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


class LoginLockout:
    """Failed sign-in counts per key (``user:<name>``, ``ip:<address>``) in one Users database.

    Each call is one short transaction; a failure is counted with one upsert, so
    processes counting the same key at once lose no failure.
    """

    def __init__(
        self,
        database: Database,
        max_failures: int,
        lock_seconds: int,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.database = database
        self.max_failures = max_failures
        self.lock_seconds = lock_seconds
        self._clock = clock
        self._window = timedelta(seconds=lock_seconds)

    def _wait(self, failures: int, last: datetime, now: datetime) -> int | None:
        if failures < self.max_failures or now - last >= self._window:
            return None
        return max(1, math.ceil((last + self._window - now).total_seconds()))

    def retry_after(self, *keys: str) -> int | None:
        """Seconds until the longest lock among *keys* ends; None when none is locked."""
        now = self._clock()
        table = login_failures
        with self.database.begin(write=False) as conn:
            rows = conn.execute(
                select(table.c.failures, table.c.last_failure).where(
                    table.c.key_hash.in_([key_hash(k) for k in keys])
                )
            ).all()
        waits = [w for r in rows if (w := self._wait(r.failures, r.last_failure, now)) is not None]
        return max(waits) if waits else None

    def failed(self, *keys: str) -> int | None:
        """Count a failed sign-in against each of *keys*; :meth:`retry_after` afterwards."""
        now = self._clock()
        cutoff = now - self._window
        table = login_failures
        with self.database.begin() as conn:
            for key in sorted(keys):  # one order in every process: no deadlock between them
                stmt = self.database.dialect.insert(table).values(
                    key_hash=key_hash(key), failures=1, last_failure=now
                )
                # A count whose window passed starts again at one.
                stmt = stmt.on_conflict_do_update(
                    index_elements=[table.c.key_hash],
                    set_={
                        "failures": case(
                            (table.c.last_failure <= cutoff, 1), else_=table.c.failures + 1
                        ),
                        "last_failure": now,
                    },
                )
                conn.execute(stmt)
            conn.execute(delete(table).where(table.c.last_failure <= cutoff))
        return self.retry_after(*keys)

    def succeeded(self, *keys: str) -> None:
        """Clear the counts of *keys* (a successful sign-in)."""
        with self.database.begin() as conn:
            conn.execute(
                delete(login_failures).where(
                    login_failures.c.key_hash.in_([key_hash(k) for k in keys])
                )
            )


__all__ = ["LoginLockout", "key_hash"]
