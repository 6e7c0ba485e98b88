"""Registration codes: what lets someone make an account with ``POST /api/v1/auth/register``.

As tldw_server's: a code is good for ``max_uses`` accounts (default 1) until it expires
(default 7 days after it was made); a registration that sends one uses it up by one,
whether codes are required (``REQUIRE_REGISTRATION_CODE``) or not. The administrator makes
codes with ``tldw-users code``; tldw_server's admin API for them is not offered. The
database keeps a code's SHA-256 only: a copy of it lets no one register.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import Connection, insert, update

from ..DB_Management.backends.base import Database
from ..DB_Management.instants import utc_now
from ..DB_Management.schemas.users import registration_codes

#: What tldw_server's register answers for a missing, unknown, expired or used-up code.
INVALID_CODE = "Invalid registration code."
DEFAULT_MAX_USES = 1
DEFAULT_DAYS = 7


class InvalidCode(ValueError):
    """The registration code is missing (when required), unknown, expired or used up."""

    def __init__(self) -> None:
        super().__init__(INVALID_CODE)


def _digest(code: str) -> str:
    return hashlib.sha256(code.encode("utf-8", "surrogatepass")).hexdigest()


def create_code(
    database: Database,
    max_uses: int = DEFAULT_MAX_USES,
    days: int = DEFAULT_DAYS,
    clock: Callable[[], datetime] = utc_now,
) -> tuple[str, datetime]:
    """A new random code good for *max_uses* accounts for *days* days, and when it expires."""
    code = secrets.token_urlsafe(18)  # 24 characters, 144 random bits
    now = clock()
    expires = now + timedelta(days=days)
    with database.begin() as conn:
        conn.execute(
            insert(registration_codes).values(
                code_hash=_digest(code),
                max_uses=max_uses,
                times_used=0,
                created_at=now,
                expires_at=expires,
            )
        )
    return code, expires


def use_code(conn: Connection, code: str, now: datetime) -> None:
    """Use *code* once, in the transaction that makes the account; :class:`InvalidCode` if it
    cannot be. One conditional UPDATE: two registrations racing for a code's last use cannot
    both win."""
    table = registration_codes
    used = conn.execute(
        update(table)
        .where(
            table.c.code_hash == _digest(code),
            table.c.times_used < table.c.max_uses,
            table.c.expires_at > now,
        )
        .values(times_used=table.c.times_used + 1)
    ).rowcount
    if used != 1:
        raise InvalidCode()


__all__ = [
    "DEFAULT_DAYS",
    "DEFAULT_MAX_USES",
    "INVALID_CODE",
    "InvalidCode",
    "create_code",
    "use_code",
]
