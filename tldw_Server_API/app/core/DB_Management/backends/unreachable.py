"""One line for a database that cannot be reached or opened: where, why, and what to do.

The server at start-up, ``init_db`` and the migration tool all turn a driver's
failure (psycopg's, through SQLAlchemy or not; SQLite's; the file system's) into
one line naming host, port, database and user - never a password - and the fix,
e.g. the ``createdb`` command for a database that does not exist. Tracebacks are
for ``TLDW_DEBUG=1`` (:func:`debug_enabled`).
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import psycopg
from sqlalchemy.exc import DBAPIError

from ...redaction import redact_secrets
from .target import PgTarget

DEBUG_ENV = "TLDW_DEBUG"


def debug_enabled() -> bool:
    """``TLDW_DEBUG`` set to 1/true/yes/on: show tracebacks as well as the one line."""
    return os.environ.get(DEBUG_ENV, "").strip().lower() in ("1", "true", "yes", "on")


class DatabaseUnavailable(Exception):
    """A database could not be reached or opened; ``str()`` is the one line to show."""


@dataclass(frozen=True)
class SettingNames:
    """How the user sets each connection parameter in the program that failed."""

    host: str = "TLDW_PG_HOST"
    port: str = "TLDW_PG_PORT"
    user: str = "TLDW_PG_USER"
    password: str = "TLDW_PG_PASSWORD"
    data_dir: str = "TLDW_DATA_DIR"


SERVER_NAMES = SettingNames()
MIGRATION_NAMES = SettingNames(
    host="--pg-host", port="--pg-port", user="--pg-user", password="PGPASSWORD"
)


def driver_message(exc: BaseException) -> str:
    """The driver's own message (SQLAlchemy wraps it with SQL and a link we do not want)."""
    original = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    return str(original).strip() or type(original).__name__


def _reason(message: str) -> str:
    """The server's words: the part of the first line after libpq's ``... failed:`` prefixes."""
    first = message.splitlines()[0] if message else ""
    reason = first.rsplit("failed: ", 1)[-1].strip()
    return reason.removeprefix("FATAL:").strip() or first


def pg_unavailable(
    exc: BaseException, target: PgTarget, names: SettingNames = SERVER_NAMES
) -> DatabaseUnavailable:
    """The one line for a PostgreSQL connection that failed with *exc*."""
    message = driver_message(exc)
    host, port, user, db = target.host, target.port, target.user, target.database
    where = f"PostgreSQL at {host}:{port}, database {db!r}, user {user!r}"
    lowered = message.lower()
    if f'database "{db.lower()}" does not exist' in lowered:
        advice = (
            f"it does not exist; create it with: createdb -h {host} -p {port} -U {user} {db} "
            f"(or CREATE DATABASE in psql), then try again"
        )
    elif f'role "{user.lower()}" does not exist' in lowered:
        advice = (
            f"role {user!r} does not exist; create it (createuser -h {host} -p {port} "
            f"-U postgres --pwprompt {user}) or set {names.user}"
        )
    elif "password authentication failed" in lowered or "no password supplied" in lowered:
        advice = (
            f"the server refused the password of user {user!r}; check {names.password} "
            "(or ~/.pgpass)"
        )
    elif "could not translate host name" in lowered or "name or service not known" in lowered:
        advice = f"host {host!r} is unknown; check {names.host}"
    elif "connection refused" in lowered or "no such file or directory" in lowered:
        advice = (
            f"nothing accepts connections there; is PostgreSQL running? "
            f"check {names.host} and {names.port}"
        )
    elif "timeout expired" in lowered or "timed out" in lowered:
        advice = f"no answer in time; check {names.host}, {names.port} and any firewall between"
    elif "pg_hba.conf" in lowered:
        advice = (
            "the server's pg_hba.conf admits no such connection; add a line for this "
            "host, user and database, then reload PostgreSQL"
        )
    else:
        advice = redact_secrets(_reason(message), target.password)
    return DatabaseUnavailable(f"cannot connect to {where}: {advice}")


def sqlite_unavailable(
    exc: BaseException, data_dir: Path, names: SettingNames = SERVER_NAMES
) -> DatabaseUnavailable:
    """The one line for SQLite files (or their directory) that cannot be opened."""
    if isinstance(exc, OSError) and exc.filename:
        what = f"{exc.filename}: {exc.strerror or type(exc).__name__}"
    else:
        what = _reason(driver_message(exc))
    return DatabaseUnavailable(
        f"cannot open the SQLite databases under {data_dir} ({what}); check that "
        f"{names.data_dir} names a directory this user can create and write"
    )


def is_open_failure(exc: BaseException) -> bool:
    """Whether *exc* is a failure to reach or open a database (not a bug, not bad data)."""
    if isinstance(exc, DBAPIError):
        return exc.connection_invalidated or _is_operational(exc.orig)
    return _is_operational(exc) or isinstance(exc, OSError)


def _is_operational(exc: BaseException | None) -> bool:
    return isinstance(exc, psycopg.OperationalError | sqlite3.OperationalError)
