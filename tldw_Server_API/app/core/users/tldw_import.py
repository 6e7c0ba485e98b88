"""Accounts from a tldw_server AuthNZ ``users.db`` (SQLite) into the Users database.

tldw_server keeps its accounts in the ``users`` table of ``Databases/users.db``: ``id``,
``username``, ``email``, ``password_hash``, ``is_active`` and more (roles, quotas, 2FA)
that this server has no use for. Each account keeps its name, email and whether it is
active; its **user id is tldw_server's numeric id**, the name of its
``user_databases/<id>/`` folder, so the data the migration brings over under that id
(``--all-users``) is the account's. A password hash is kept when it is Argon2 (what
tldw_server writes, and what this server verifies); any other hash cannot be checked
here, so that account gets :data:`RESET_HASH`, which no password matches, until
``tldw-users passwd`` gives it one.

The file is read only, and checked whole before anything is written: a missing table
or column, or a row this server cannot hold, is an :class:`ImportRefused` naming the
file, table, row and column, and nothing is imported. Accounts whose name or user id
is already taken are skipped (so an import can be run again).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..DB_Management.registry import InvalidUserId, check_user_id
from .store import USERNAME_MAX_CHARS, UserStore, normalize_username

#: The password hash of an account whose tldw_server hash this server cannot verify: not an
#: Argon2 hash, so no password matches it (the sign-in answers as for a wrong password).
RESET_HASH = "!reset-required: set a password with tldw-users passwd"
REQUIRED_COLUMNS = ("id", "username", "password_hash")
OPTIONAL_COLUMNS = ("email", "is_active")


class ImportRefused(ValueError):
    """The file cannot be imported; the message names where and why (nothing was written)."""


@dataclass(frozen=True)
class TldwAccount:
    """One account as it will be stored."""

    username: str
    user_id: str
    password_hash: str
    email: str | None
    is_active: bool

    @property
    def needs_reset(self) -> bool:
        return self.password_hash == RESET_HASH


def _open(path: Path) -> sqlite3.Connection:
    if not path.is_file():
        raise ImportRefused(f"{path}: no such file")
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as exc:
        raise ImportRefused(f"{path}: not an SQLite database ({exc})") from None
    return conn


def _columns(conn: sqlite3.Connection, path: Path) -> set[str]:
    columns = {str(row[1]) for row in conn.execute("PRAGMA table_info(users)")}
    if not columns:
        raise ImportRefused(f"{path}: no table users (is it tldw_server's AuthNZ users.db?)")
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise ImportRefused(f"{path}: table users: no column {', '.join(missing)}")
    return columns


def _account(path: Path, row: sqlite3.Row, has: set[str]) -> TldwAccount:
    where = f"{path}: table users: row id={row['id']!r}"
    username = row["username"]
    if not isinstance(username, str) or not 1 <= len(username.strip()) <= USERNAME_MAX_CHARS:
        raise ImportRefused(f"{where}: column username: not a name of 1-64 characters")
    try:
        user_id = check_user_id(str(row["id"]))
    except InvalidUserId:
        raise ImportRefused(f"{where}: column id: not a valid user id") from None
    stored = row["password_hash"]
    if not isinstance(stored, str):
        raise ImportRefused(f"{where}: column password_hash: not text")
    email = row["email"] if "email" in has else None
    active = row["is_active"] if "is_active" in has else 1
    return TldwAccount(
        username=normalize_username(username),
        user_id=user_id,
        password_hash=stored if stored.startswith("$argon2") else RESET_HASH,
        email=email if isinstance(email, str) and email else None,
        is_active=active is None or bool(active),
    )


def read_tldw_users(path: Path) -> list[TldwAccount]:
    """Every account of tldw_server's ``users.db`` at *path*, checked; :class:`ImportRefused`."""
    conn = _open(path)
    try:
        has = _columns(conn, path)
        conn.row_factory = sqlite3.Row
        wanted = [c for c in REQUIRED_COLUMNS + OPTIONAL_COLUMNS if c in has]
        rows = conn.execute(f"SELECT {', '.join(wanted)} FROM users ORDER BY id").fetchall()
    finally:
        conn.close()
    accounts = [_account(path, row, has) for row in rows]
    seen: dict[str, Any] = {}
    for account in accounts:
        if account.username in seen:
            raise ImportRefused(
                f"{path}: table users: username {account.username!r} appears twice "
                f"(ids {seen[account.username]} and {account.user_id}, names ignore case here)"
            )
        seen[account.username] = account.user_id
    return accounts


def import_accounts(
    store: UserStore, accounts: list[TldwAccount]
) -> tuple[list[TldwAccount], list[TldwAccount]]:
    """Store the *accounts* whose name and user id are free, in one transaction;
    ``(imported, skipped)``."""
    taken_names, taken_ids = store.taken()
    fresh = [a for a in accounts if a.username not in taken_names and a.user_id not in taken_ids]
    skipped = [a for a in accounts if a not in fresh]
    store.create_many(
        [
            {
                "username": a.username,
                "user_id": a.user_id,
                "password_hash": a.password_hash,
                "email": a.email,
                "is_active": a.is_active,
            }
            for a in fresh
        ]
    )
    return fresh, skipped


__all__ = [
    "RESET_HASH",
    "ImportRefused",
    "TldwAccount",
    "import_accounts",
    "read_tldw_users",
]
