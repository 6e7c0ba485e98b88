"""The Users database (one per server): accounts that sign in with a password, and their sessions.

An account names the user whose data it reaches (``user_id``): the same id an
API key maps to in the keys file, so a password and a key of one user reach
the same per-user databases. Passwords are kept as Argon2id hashes only, and
refresh tokens as SHA-256 digests only: a copy of this database lets no one
sign in. The WebUI's browser sessions (``web_sessions``) are here too, so that every
server process on one database accepts them; kept by the SHA-256 digest of the cookie's
token only; so are the failed sign-ins the login lockout counts (``login_failures``).
Ids are never reused (``AUTOINCREMENT``): an access token names its
session by id, and a new session must never inherit an old token.
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, MetaData, Table, Text

from .spec import DatabaseSchema, Upgrade, version_table
from .types import AUTOINCREMENT, Flag, Instant, Key
from .upgrades import UpgradeContext, create_indexes, drop_indexes, layout_upgrade

metadata = MetaData()

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
    **AUTOINCREMENT,
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
    **AUTOINCREMENT,
)

# version 3: the WebUI's browser sessions, shared by every server process on the database
web_sessions = Table(
    "web_sessions",
    metadata,
    Column("token_hash", Text, primary_key=True),  # SHA-256 of the cookie's token, hex
    Column("user_id", Text, nullable=False),  # whose data: the keys file's ids
    Column("csrf", Text, nullable=False),  # what the session's forms send back
    Column("created_at", Instant, nullable=False),
    Column("last_seen", Instant, nullable=False),  # idle sessions end (api/sessions.py)
)
WEB_SESSION_INDEXES = (Index("ix_web_sessions_last_seen", web_sessions.c.last_seen),)

# version 4: failed sign-ins (core/users/lockout.py), so that every server process on the
# database counts them together. A row per locked-out key: a username or a client address,
# kept as the SHA-256 of ``user:<name>`` / ``ip:<address>`` (a name typed by mistake may be a
# password).
login_failures = Table(
    "login_failures",
    metadata,
    Column("key_hash", Text, primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("last_failure", Instant, nullable=False),  # a lock runs from the last failure
)
LOGIN_FAILURE_INDEXES = (Index("ix_login_failures_last", login_failures.c.last_failure),)

# version 4 too: codes that let someone self-register (POST /api/v1/auth/register), made with
# ``tldw-users code``; kept by their SHA-256 only, each good for ``max_uses`` accounts until
# ``expires_at``.
registration_codes = Table(
    "registration_codes",
    metadata,
    Column("code_hash", Text, primary_key=True),
    Column("max_uses", Integer, nullable=False),
    Column("times_used", Integer, nullable=False, server_default="0"),
    Column("created_at", Instant, nullable=False),
    Column("expires_at", Instant, nullable=False),
)

tldw_schema = version_table(metadata)


def _add_web_sessions(ctx: UpgradeContext) -> None:
    if web_sessions.name not in ctx.table_names():
        web_sessions.create(ctx.conn)
    create_indexes(ctx, WEB_SESSION_INDEXES)


def _drop_web_sessions(ctx: UpgradeContext) -> None:
    drop_indexes(ctx, WEB_SESSION_INDEXES)
    web_sessions.drop(ctx.conn, checkfirst=True)


SCHEMA = DatabaseSchema(
    name="users",
    title="Users",
    metadata=metadata,
    version=4,
    per_user=False,
    upgrades=(
        layout_upgrade(2, "accounts' email (self-registration)", columns=(users.c.email,)),
        Upgrade(
            3,
            "WebUI sessions shared by every server process",
            upgrade=_add_web_sessions,
            downgrade=_drop_web_sessions,
        ),
        layout_upgrade(
            4,
            "failed sign-ins counted by every server process; registration codes",
            tables=(login_failures, registration_codes),
            indexes=LOGIN_FAILURE_INDEXES,
        ),
    ),
    sqlite_file="tldw_users.db",
)

__all__ = ["SCHEMA", "metadata"]
