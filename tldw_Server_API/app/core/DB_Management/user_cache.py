"""A bounded, thread-safe cache of open per-user handles, opened on first use.

A server with many users must not open every user's databases at start-up nor
keep them all open: start-up time and memory would grow with the number of
users. :class:`UserCache` opens a user's handles the first time a request needs
them and keeps at most ``capacity`` users open, evicting the least recently used
user nobody is using.

Every use is a *lease* (:meth:`UserCache.lease`): a leased user is never
evicted, so a handle is never closed while a request still holds it. When every
open user is leased the cache holds more than ``capacity`` for a while and
evicts as soon as leases end. Two first requests for one cold user open it once;
opening one user does not hold up requests for other users.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Generic, TypeVar

H = TypeVar("H")


class _Slot(Generic[H]):
    """One user's place in the cache: its handles once open, and who holds them."""

    __slots__ = ("handles", "leases", "opening")

    def __init__(self) -> None:
        self.handles: H | None = None
        self.leases = 0
        # Held while the handles are opened: a second first request waits on it.
        self.opening = threading.Lock()


class UserCache(Generic[H]):
    """At most *capacity* users' handles open, least recently used idle user evicted first.

    *open_user* opens (creating or upgrading) one user's handles; *close_user*
    closes them. Both are called without the cache's lock held, *open_user* at
    most once per user at a time.
    """

    def __init__(
        self,
        capacity: int,
        open_user: Callable[[str], H],
        close_user: Callable[[str, H], None],
    ) -> None:
        if capacity < 1:
            raise ValueError("the user cache holds at least one user")
        self.capacity = capacity
        self._open_user = open_user
        self._close_user = close_user
        self._slots: OrderedDict[str, _Slot[H]] = OrderedDict()
        self._lock = threading.Lock()

    def acquire(self, user_id: str) -> H:
        """*user_id*'s handles, opened if need be, leased until :meth:`release`."""
        with self._lock:
            slot = self._slots.get(user_id)
            if slot is None:
                slot = self._slots[user_id] = _Slot()
            slot.leases += 1
            self._slots.move_to_end(user_id)
        try:
            with slot.opening:
                if slot.handles is None:
                    slot.handles = self._open_user(user_id)
                return slot.handles
        except BaseException:
            self._drop_failed(user_id, slot)
            raise

    def release(self, user_id: str) -> None:
        """End one lease of *user_id*; evict idle users beyond the capacity."""
        with self._lock:
            slot = self._slots[user_id]
            slot.leases -= 1
        self._evict()

    @contextmanager
    def lease(self, user_id: str) -> Iterator[H]:
        """*user_id*'s handles for the duration of the ``with`` block."""
        handles = self.acquire(user_id)
        try:
            yield handles
        finally:
            self.release(user_id)

    def open_now(self, user_id: str, *, touch: bool = True) -> H | None:
        """*user_id*'s handles leased without blocking, or ``None`` when they are not open.

        With ``touch=False`` the lease does not count as a use (background work: it
        neither keeps the user from being evicted later nor reorders the cache).
        """
        with self._lock:
            slot = self._slots.get(user_id)
            if slot is None or slot.handles is None:
                return None
            slot.leases += 1
            if touch:
                self._slots.move_to_end(user_id)
            return slot.handles

    def open_users(self) -> list[str]:
        """The users whose handles are open, least recently used first."""
        return [user_id for user_id, _ in self.open_handles()]

    def open_handles(self) -> list[tuple[str, H]]:
        """Each open user and their handles, least recently used first.

        For reporting only: this neither leases nor counts as a use, so the
        handles may be closed by the time they are read.
        """
        with self._lock:
            return [
                (u, slot.handles) for u, slot in self._slots.items() if slot.handles is not None
            ]

    def __len__(self) -> int:
        with self._lock:
            return len(self._slots)

    def close(self) -> None:
        """Close every user's handles (at shutdown, once requests have ended)."""
        with self._lock:
            slots = list(self._slots.items())
            self._slots.clear()
        for user_id, slot in slots:
            if slot.handles is not None:
                self._close_user(user_id, slot.handles)

    def _evict(self) -> None:
        victims: list[tuple[str, H]] = []
        with self._lock:
            excess = len(self._slots) - self.capacity
            for user_id, slot in list(self._slots.items()):
                if excess <= 0:
                    break
                if slot.leases == 0 and slot.handles is not None:
                    del self._slots[user_id]
                    victims.append((user_id, slot.handles))
                    excess -= 1
        for user_id, handles in victims:
            self._close_user(user_id, handles)

    def _drop_failed(self, user_id: str, slot: _Slot[H]) -> None:
        """Forget a slot whose opening failed, unless another lease still waits on it."""
        with self._lock:
            slot.leases -= 1
            if slot.leases == 0 and slot.handles is None and self._slots.get(user_id) is slot:
                del self._slots[user_id]
