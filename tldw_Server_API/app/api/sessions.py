"""Browser sessions of the WebUI: an opaque token in a cookie, the user on the server.

Signing in with an API key (``POST /signin``) creates a :class:`Session`: a random token
(the cookie's value) standing for the key's user id. The key itself is never stored, in the
browser or on the server. The cookie is ``HttpOnly`` (no script reads it), ``SameSite=Strict``
(no other site's page sends it) and ``Secure`` over HTTPS.

The same cookie authenticates the pages' calls to ``/api/v1`` (see ``auth.get_user_id``):
a call that may change something (any method but GET, HEAD, OPTIONS) must also carry the
session's CSRF token in ``X-CSRF-Token``, as every form carries it in a hidden field.

Sessions live in the server's Users database (``web_sessions``, ``schemas/users.py``), by the
SHA-256 digest of their token only: every server process on one database accepts a session
any of them opened, a restart signs no one out, and a copy of the database opens no session.
One ends on sign-out (for every process at once), or after :data:`IDLE_SECONDS` without a
request.
"""

from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from fastapi import Request
from sqlalchemy import delete, insert, select, update

from ..core.DB_Management.backends.base import Database
from ..core.DB_Management.instants import utc_now
from ..core.DB_Management.registry import DatabaseRegistry
from ..core.DB_Management.schemas.users import web_sessions
from ..core.users.store import token_digest

COOKIE = "tldw_session"
CSRF_HEADER = "X-CSRF-Token"
IDLE_SECONDS = 12 * 3600
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
TOUCH_EVERY = timedelta(minutes=1)
"""How stale a session's ``last_seen`` may get before a request writes it anew."""


@dataclass
class Session:
    """A signed-in browser: whose it is and the token its forms must send back."""

    user_id: str
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)
    last_seen: float = field(default_factory=time.time)
    """When it was last used (seconds since the epoch)."""

    def csrf_matches(self, presented: str | None) -> bool:
        return presented is not None and hmac.compare_digest(
            presented.encode("utf-8", "surrogatepass"), self.csrf.encode()
        )


class SessionStore:
    """The open sessions, in the Users database, by the digest of their cookie's token.

    The database is the app's (:meth:`bind`, done by :func:`sessions_of` on each request),
    so the store made before the databases open serves every request after.
    """

    def __init__(self, idle_seconds: float = IDLE_SECONDS, database: Database | None = None):
        self.idle_seconds = idle_seconds
        self._database = database

    def bind(self, database: Database) -> None:
        """Keep sessions in *database* (the server's Users database)."""
        self._database = database

    @property
    def database(self) -> Database:
        if self._database is None:
            raise RuntimeError(
                "the WebUI's sessions have no database yet (the app has not started)"
            )
        return self._database

    def create(self, user_id: str) -> tuple[str, Session]:
        """A new session for *user_id*: the cookie's token and the session."""
        token = secrets.token_urlsafe(32)
        session = Session(user_id)
        moment = utc_now()
        table = web_sessions
        with self.database.begin() as conn:
            conn.execute(delete(table).where(table.c.last_seen < self._cutoff(moment)))
            conn.execute(
                insert(table).values(
                    token_hash=token_digest(token),
                    user_id=user_id,
                    csrf=session.csrf,
                    created_at=moment,
                    last_seen=moment,
                )
            )
        session.last_seen = moment.timestamp()
        return token, session

    def get(self, token: str | None) -> Session | None:
        """The live session of *token* (its idle time restarts), or None."""
        if not token or len(token) > 200:
            return None
        digest, moment, table = token_digest(token), utc_now(), web_sessions
        with self.database.begin(write=False) as conn:
            row = conn.execute(
                select(table.c.user_id, table.c.csrf, table.c.last_seen).where(
                    table.c.token_hash == digest, table.c.last_seen >= self._cutoff(moment)
                )
            ).first()
        if row is None:
            return None
        if moment - row.last_seen > TOUCH_EVERY:  # not a write per request: once a minute
            with self.database.begin() as conn:
                conn.execute(
                    update(table).where(table.c.token_hash == digest).values(last_seen=moment)
                )
        return Session(row.user_id, row.csrf, moment.timestamp())

    def end(self, token: str | None) -> None:
        """End the session of *token*, for every server process on this database."""
        if token:
            with self.database.begin() as conn:
                conn.execute(
                    delete(web_sessions).where(web_sessions.c.token_hash == token_digest(token))
                )

    def _cutoff(self, moment: datetime) -> datetime:
        return moment - timedelta(seconds=self.idle_seconds)


def sessions_of(request: Request) -> SessionStore | None:
    """The app's session store (None in an app without the WebUI), on the app's Users database."""
    store: SessionStore | None = getattr(request.app.state, "sessions", None)
    registry: DatabaseRegistry | None = getattr(request.app.state, "registry", None)
    if store is not None and registry is not None:
        store.bind(registry.users())  # the open handle, from the registry's cache
    return store


def request_session(request: Request) -> Session | None:
    """The session of the request's cookie, or None."""
    token = request.cookies.get(COOKIE)
    store = sessions_of(request)
    return store.get(token) if store is not None and token else None


def session_user(request: Request) -> str | None:
    """The user a session cookie authenticates for an API call, or None.

    A call that may change something needs the session's CSRF token in ``X-CSRF-Token``:
    a cookie alone, which the browser adds by itself, is not enough for it.
    """
    session = request_session(request)
    if session is None:
        return None
    if request.method not in SAFE_METHODS and not session.csrf_matches(
        request.headers.get(CSRF_HEADER)
    ):
        return None
    return session.user_id


__all__ = [
    "COOKIE",
    "CSRF_HEADER",
    "Session",
    "SessionStore",
    "request_session",
    "session_user",
    "sessions_of",
]
