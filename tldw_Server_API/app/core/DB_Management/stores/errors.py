"""What a store refuses, said so the caller (an API route, a test, a log) can act on it.

Every error names the table and the key involved, so the message alone tells an
operator which row was meant. The API layer maps them to 404 / 409 / 422.
"""

from __future__ import annotations

from typing import Any


class StoreError(Exception):
    """Base class of everything a store raises on purpose."""


class NotFound(StoreError, LookupError):
    """No live row with that key (soft-deleted rows are not found either)."""

    def __init__(self, table: str, key: Any, detail: str = "") -> None:
        self.table = table
        self.key = key
        suffix = f" ({detail})" if detail else ""
        super().__init__(f"{table} {key!r} not found{suffix}")


class VersionConflict(StoreError):
    """The caller edited a stale copy: the row's version moved on since it was read."""

    def __init__(self, table: str, key: Any, expected_version: int, current_version: int) -> None:
        self.table = table
        self.key = key
        self.expected_version = expected_version
        self.current_version = current_version
        super().__init__(
            f"{table} {key!r}: expected version {expected_version}, but the stored row is at "
            f"version {current_version}; reload it and apply the change again"
        )


class InvalidInput(StoreError, ValueError):
    """A value the store will not write (unknown field, empty title, duplicate URL...)."""

    def __init__(self, table: str, message: str) -> None:
        self.table = table
        super().__init__(f"{table}: {message}")


class Taken(InvalidInput):
    """A unique value (a name, a URL) that another row already holds: a conflict, not bad input."""


class WrongState(StoreError):
    """The row exists but its state forbids the change (e.g. purging an item not in the trash)."""

    def __init__(self, table: str, key: Any, message: str) -> None:
        self.table = table
        self.key = key
        super().__init__(f"{table} {key!r}: {message}")


__all__ = ["InvalidInput", "NotFound", "StoreError", "Taken", "VersionConflict", "WrongState"]
