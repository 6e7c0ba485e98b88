"""API-key authentication: who is calling, as a user id the registry can open.

Two modes (``TLDW_AUTH_MODE``):

``single_user`` (default)
    One key, ``SINGLE_USER_API_KEY`` (or ``single_user_api_key`` in config.txt).
    When none is configured, a random key is generated at start-up and printed
    once to stderr; it changes on every restart. Every request acts as the
    default user (``TLDW_DEFAULT_USER_ID``).

``multi_user``
    ``TLDW_API_KEYS_FILE`` names a JSON object ``{"<api key>": "<user id>"}``.
    Each user's data lives apart (per-user SQLite files, per-user PostgreSQL
    schemas), so a key can only ever reach its own user's databases.

The key is sent as ``X-API-KEY: <key>`` or ``Authorization: Bearer <key>``.

In multi-user mode accounts of the Users database also sign in with a password
(``/api/v1/auth/login``, :mod:`...core.users.signin`): their access token, a JWT
signed with ``JWT_SECRET_KEY``, is sent as ``Authorization: Bearer <jwt>`` and
stands for the account's user id, whose data is the same a key of that id reaches.
Without ``JWT_SECRET_KEY`` a secret is generated at start-up and the server says
so on stderr: tokens then stop working at every restart.
Keys are compared as SHA-256 digests with :func:`hmac.compare_digest`, against
every configured key without stopping early, so the time taken says nothing
about how close a guess was. Keys are never logged.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from ..core.config import ConfigError, Settings
from ..core.DB_Management.registry import DatabaseRegistry, InvalidUserId, check_user_id
from ..core.users.passwords import Passwords
from ..core.users.signin import SignIn
from ..core.users.store import Session
from ..core.users.tokens import InvalidToken, TokenSigner, looks_like_jwt
from .sessions import session_user

MAX_KEY_LENGTH = 4096

api_key_header = APIKeyHeader(
    name="X-API-KEY",
    auto_error=False,
    description="The API key (single-user key, or one of the multi-user keys file).",
)
bearer = HTTPBearer(auto_error=False, description="The API key as a bearer token.")


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).digest()


@dataclass
class ApiKeyAuth:
    """The configured keys (as digests) and the user id each one stands for."""

    mode: str
    entries: list[tuple[bytes, str]]
    generated_key: str | None = field(default=None, repr=False)
    signer: TokenSigner | None = None
    """Password sign-in's token signer (multi-user mode only)."""
    passwords: Passwords = field(default_factory=Passwords, repr=False)

    def user_for(self, key: str | None) -> str | None:
        """The user id of *key*, or ``None``; compares against every key in constant time."""
        if not key or len(key) > MAX_KEY_LENGTH:
            return None
        presented = _digest(key)
        found: str | None = None
        for digest, user_id in self.entries:
            if hmac.compare_digest(presented, digest) and found is None:
                found = user_id
        return found

    @property
    def user_ids(self) -> list[str]:
        return sorted({user_id for _, user_id in self.entries})

    def announce(self) -> None:
        """Print a generated single-user key once, to stderr (never to the log), and say
        when sign-in tokens are signed with a secret that will not survive a restart."""
        if self.signer is not None and self.signer.generated:
            print(JWT_SECRET_NOTICE, file=sys.stderr, flush=True)
        if self.generated_key is None:
            return
        print(
            "\n"
            "  No SINGLE_USER_API_KEY is configured: this run's API key is\n"
            f"      {self.generated_key}\n"
            "  Send it as 'X-API-KEY: <key>' or 'Authorization: Bearer <key>'.\n"
            "  It changes on every start; set SINGLE_USER_API_KEY to keep one.\n",
            file=sys.stderr,
            flush=True,
        )


JWT_SECRET_NOTICE = """
  No JWT_SECRET_KEY is configured: the access tokens of password sign-in are
  signed with a secret generated for this run. They stop working when the
  server restarts (clients then refresh or sign in again). To keep one, set
      JWT_SECRET_KEY=<at least 32 random characters>
  e.g. from: python -c "import secrets; print(secrets.token_urlsafe(48))"
"""


def token_signer(settings: Settings) -> TokenSigner:
    """The signer of *settings*' ``JWT_SECRET_KEY``, or of a secret generated for this run."""
    configured = settings.jwt_secret_key
    if configured is not None:
        return TokenSigner(configured.get_secret_value().strip(), settings.access_token_seconds)
    return TokenSigner(secrets.token_urlsafe(48), settings.access_token_seconds, generated=True)


def build_auth(settings: Settings) -> ApiKeyAuth:
    """The keys of *settings*' auth mode; :class:`ConfigError` names a bad variable."""
    if settings.auth_mode == "single_user":
        configured = settings.single_user_api_key
        key = configured.get_secret_value().strip() if configured is not None else ""
        generated = None
        if not key:
            key = generated = secrets.token_urlsafe(32)
        return ApiKeyAuth(
            "single_user", [(_digest(key), settings.default_user_id)], generated_key=generated
        )
    if settings.api_keys_file is None:
        raise ConfigError(
            "TLDW_API_KEYS_FILE is not set: multi_user mode (TLDW_AUTH_MODE) needs a JSON "
            'file {"<api key>": "<user id>"}'
        )
    return ApiKeyAuth(
        "multi_user", read_keys_file(settings.api_keys_file), signer=token_signer(settings)
    )


def read_keys_file(path: Path) -> list[tuple[bytes, str]]:
    """Parse the multi-user keys file; every problem names the variable and the file."""
    where = f"TLDW_API_KEYS_FILE={str(path)!r}"
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{where}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{where}: cannot be read ({exc.__class__.__name__})") from None
    except json.JSONDecodeError as exc:
        # The message names the position only: the file holds secrets.
        raise ConfigError(
            f"{where}: not valid JSON (line {exc.lineno}, column {exc.colno})"
        ) from None
    if not isinstance(raw, dict) or not raw:
        raise ConfigError(f'{where}: must be a non-empty JSON object {{"<api key>": "<user id>"}}')
    entries: list[tuple[bytes, str]] = []
    for number, (key, user_id) in enumerate(raw.items(), start=1):
        if not isinstance(key, str) or not key.strip() or len(key) > MAX_KEY_LENGTH:
            raise ConfigError(f"{where}: entry {number} has an empty or over-long key")
        if not isinstance(user_id, str | int) or isinstance(user_id, bool):
            raise ConfigError(f"{where}: entry {number}: the user id must be a string")
        try:
            entries.append((_digest(key), check_user_id(str(user_id))))
        except InvalidUserId as exc:
            raise ConfigError(f"{where}: entry {number}: {exc}") from None
    return entries


def unauthorized(detail: str) -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, detail, headers={"WWW-Authenticate": "Bearer"}
    )


@dataclass(frozen=True)
class Caller:
    """Who is calling: a user id, and the sign-in session when it came with an access token."""

    user_id: str
    session: Session | None = None


def sign_in(request: Request) -> SignIn | None:
    """Password sign-in of this server, or None in single-user mode."""
    auth: ApiKeyAuth = request.app.state.auth
    if auth.signer is None:
        return None
    settings: Settings = request.app.state.settings
    registry: DatabaseRegistry = request.app.state.registry
    return SignIn(registry.users(), auth.signer, settings.refresh_token_seconds, auth.passwords)


def _session_of(request: Request, signin: SignIn, token: str) -> Session:
    session = signin.session_of(token)
    # An account added while the server runs: its databases open here, in this worker
    # thread, so the request's own (non-blocking) dependencies find them open.
    registry: DatabaseRegistry = request.app.state.registry
    registry.media(session.account.user_id)
    registry.chacha(session.account.user_id)
    return session


async def get_caller(
    request: Request,
    api_key: Annotated[str | None, Depends(api_key_header)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Caller:
    """The authenticated caller; 401 without a valid key or access token."""
    auth: ApiKeyAuth = request.app.state.auth
    presented = api_key or (credentials.credentials if credentials is not None else None)
    if not presented and (user_id := session_user(request)) is not None:
        return Caller(user_id)  # a WebUI page's call, with its session cookie (api/sessions.py)
    if not presented:
        raise unauthorized("missing API key: send X-API-KEY or Authorization: Bearer")
    user_id = auth.user_for(presented)
    if user_id is not None:
        return Caller(user_id)
    signin = sign_in(request)
    if api_key is None and signin is not None and looks_like_jwt(presented):
        try:
            session = await run_in_threadpool(_session_of, request, signin, presented)
        except InvalidToken as exc:
            raise unauthorized(str(exc)) from None
        return Caller(session.account.user_id, session)
    raise unauthorized("invalid API key")


async def get_user_id(caller: Annotated[Caller, Depends(get_caller)]) -> str:
    """The authenticated caller's user id; 401 without a valid key or access token."""
    return caller.user_id


UserId = Annotated[str, Depends(get_user_id)]
CurrentCaller = Annotated[Caller, Depends(get_caller)]

__all__ = [
    "ApiKeyAuth",
    "Caller",
    "CurrentCaller",
    "UserId",
    "build_auth",
    "get_caller",
    "get_user_id",
    "read_keys_file",
    "sign_in",
]
