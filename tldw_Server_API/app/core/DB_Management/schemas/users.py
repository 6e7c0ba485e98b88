"""The Users database (one per server): accounts that sign in with a password, and their sessions.

An account names the user whose data it reaches (``user_id``): the same id an
API key maps to in the keys file, so a password and a key of one user reach
the same per-user databases. Passwords are kept as Argon2id hashes only, and
refresh tokens as SHA-256 digests only: a copy of this database lets no one
sign in. Ids are never reused (``AUTOINCREMENT``): an access token names its
session by id, and a new session must never inherit an old token.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, ForeignKey, Index, MetaData, Table, Text

from .spec import DatabaseSchema, VersionRecord, version_table
from .types import Flag, Instant, Key
from .upgrades import layout_upgrade

metadata = MetaData()
_AUTO: dict[str, Any] = {"sqlite_autoincrement": True}

users = Table(
    "users",
    metadata,
    Column("id", Key, primary_key=True),
    Column("username", Text, nullable=False, unique=True),  # stored case-folded
    Column("user_id", Text, nullable=False, unique=True),  # whose data: the keys file's ids
    Column("password_hash", Text, nullable=False),
    Column("is_active", Flag, nullable=False, server_default="1"),
    Column("created_at", Instant, nullable=False),
    Column("updated_at", Instant, nullable=False),
    Column("last_login", Instant),
    Column("email", Text),  # version 2: given at self-registration (POST /auth/register)
    **_AUTO,
)

user_sessions = Table(
    "user_sessions",
    metadata,
    Column("id", Key, primary_key=True),
    Column("account_id", Key, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("token_hash", Text, nullable=False, unique=True),  # the current refresh token's
    Column("previous_token_hash", Text),  # the one it replaced: presented again, a theft
    Column("created_at", Instant, nullable=False),
    Column("expires_at", Instant, nullable=False),
    Column("rotated_at", Instant),
    Column("revoked_at", Instant),
    Index("ix_user_sessions_account", "account_id"),
    Index("ix_user_sessions_previous", "previous_token_hash"),
    **_AUTO,
)

tldw_schema = version_table(metadata)

SCHEMA = DatabaseSchema(
    name="users",
    title="Users",
    metadata=metadata,
    version=2,
    version_record=VersionRecord("users"),
    per_user=False,
    sqlite_file="tldw_users.db",
    upgrades=(layout_upgrade(2, "accounts' email (self-registration)", columns=(users.c.email,)),),
)

__all__ = ["SCHEMA", "metadata"]
