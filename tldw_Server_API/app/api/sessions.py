"""Browser sessions of the WebUI: an opaque token in a cookie, the user on the server.

Signing in with an API key (``POST /signin``) creates a :class:`Session`: a random token
(the cookie's value; only its SHA-256 digest is kept here) standing for the key's user id.
The key itself is never stored, in the browser or here. The cookie is ``HttpOnly`` (no
script reads it), ``SameSite=Strict`` (no other site's page sends it) and ``Secure`` over
HTTPS.

The same cookie authenticates the pages' calls to ``/api/v1`` (see ``auth.get_user_id``):
a call that may change something (any method but GET, HEAD, OPTIONS) must also carry the
session's CSRF token in ``X-CSRF-Token``, as every form carries it in a hidden field.

Sessions live in the server's memory: a restart signs every browser out. One ends on
sign-out, or after :data:`IDLE_SECONDS` without a request.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass, field

from fastapi import Request

COOKIE = "tldw_session"
CSRF_HEADER = "X-CSRF-Token"
IDLE_SECONDS = 12 * 3600
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


@dataclass
class Session:
    """A signed-in browser: whose it is and the token its forms must send back."""

    user_id: str
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)
    last_seen: float = field(default_factory=time.monotonic)

    def csrf_matches(self, presented: str | None) -> bool:
        return presented is not None and hmac.compare_digest(
            presented.encode("utf-8", "surrogatepass"), self.csrf.encode()
        )


class SessionStore:
    """The open sessions, by the digest of their cookie's token."""

    def __init__(self, idle_seconds: float = IDLE_SECONDS) -> None:
        self.idle_seconds = idle_seconds
        self._sessions: dict[bytes, Session] = {}
        self._lock = threading.Lock()

    def create(self, user_id: str) -> tuple[str, Session]:
        """A new session for *user_id*: the cookie's token and the session."""
        token = secrets.token_urlsafe(32)
        session = Session(user_id)
        with self._lock:
            self._forget_idle()
            self._sessions[_digest(token)] = session
        return token, session

    def get(self, token: str | None) -> Session | None:
        """The live session of *token* (its idle time restarts), or None."""
        if not token or len(token) > 200:
            return None
        with self._lock:
            session = self._sessions.get(_digest(token))
            if session is None:
                return None
            now = time.monotonic()
            if now - session.last_seen > self.idle_seconds:
                del self._sessions[_digest(token)]
                return None
            session.last_seen = now
            return session

    def end(self, token: str | None) -> None:
        if token:
            with self._lock:
                self._sessions.pop(_digest(token), None)

    def _forget_idle(self) -> None:
        cutoff = time.monotonic() - self.idle_seconds
        for key in [k for k, s in self._sessions.items() if s.last_seen < cutoff]:
            del self._sessions[key]


def sessions_of(request: Request) -> SessionStore | None:
    """The app's session store (None in an app without the WebUI)."""
    store: SessionStore | None = getattr(request.app.state, "sessions", None)
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
