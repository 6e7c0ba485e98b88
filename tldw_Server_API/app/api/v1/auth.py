"""``/api/v1/auth``: password sign-in as tldw_server's clients speak it.

``POST /login`` (form ``username``, ``password``) and ``POST /refresh`` (JSON
``{"refresh_token"}``) answer ``{access_token, refresh_token, token_type,
expires_in}``; ``POST /logout`` ends the session of the access token sent;
``GET /me`` says who the caller is (a key's caller too); ``POST /register``
makes an account when ``ENABLE_REGISTRATION`` allows it. Sign-in exists in
multi-user mode only: in single-user mode the API key is the only credential.
Repeated failed logins of a name or an address are locked out
(:mod:`...core.users.lockout`): 429 with ``Retry-After``.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from pydantic import AfterValidator, BaseModel, Field

from ...core.config import Settings
from ...core.users.addresses import client_address
from ...core.users.codes import INVALID_CODE, InvalidCode
from ...core.users.lockout import LoginLockout
from ...core.users.passwords import MAX_PASSWORD_CHARS, WeakPassword
from ...core.users.signin import SignIn, SignInFailed, Tokens
from ...core.users.store import Account, AccountExists, normalize_username
from ..auth import CurrentCaller, sign_in, unauthorized
from ..deps import Instant, StrictModel

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])

SINGLE_USER = (
    "password sign-in exists in multi_user mode (TLDW_AUTH_MODE); "
    "in single_user mode send the API key as X-API-KEY or Authorization: Bearer"
)


NO_SESSION = (
    "nothing to end: an API key has no session; it stays valid until removed from the keys file"
)


class TokenResponse(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str = Field(description='always "bearer"')
    expires_in: int = Field(description="seconds until the access token expires")


class RefreshRequest(StrictModel):
    refresh_token: str = Field(min_length=1, max_length=512)


class Message(BaseModel):
    message: str


class Me(BaseModel):
    """The caller. ``id`` and ``username`` are those of the caller's account (``null`` for an
    API key whose user has no password account); ``user_id`` is whose data requests reach."""

    id: int | None
    username: str | None
    user_id: str
    role: str
    is_active: bool
    created_at: Instant | None
    last_login: Instant | None
    auth_method: str = Field(description='"jwt" (an access token) or "api_key"')


LOCKED = "Too many failed login attempts. Account temporarily locked."
REGISTRATION_CLOSED = "Registration is currently disabled"
RESERVED_NAMES = ("admin", "root", "system", "api")
#: tldw_server's password rule for self-registration: 10 characters and every kind.
PASSWORD_KINDS = (
    (r"[A-Z]", "an upper-case letter"),
    (r"[a-z]", "a lower-case letter"),
    (r"[0-9]", "a digit"),
    (r"[^A-Za-z0-9]", "a character that is neither a letter nor a digit"),
)
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s.]+(\.[^@\s.]+)+$")


def _username(value: str) -> str:
    if value.lower() in RESERVED_NAMES:
        raise ValueError("Reserved username")
    return value.lower()


def _email(value: str) -> str:
    if not _EMAIL.fullmatch(value):
        raise ValueError("not a valid email address")
    return value.lower()


class RegisterRequest(BaseModel):
    """tldw_server's ``RegisterRequest`` (unknown fields are ignored, as there)."""

    username: Annotated[
        str,
        Field(min_length=3, max_length=50, pattern=r"^[a-zA-Z0-9_-]+$"),
        AfterValidator(_username),
    ]
    email: Annotated[str, Field(max_length=254), AfterValidator(_email)]
    password: Annotated[str, Field(min_length=10, max_length=MAX_PASSWORD_CHARS)]
    registration_code: Annotated[str, Field(max_length=256)] | None = Field(
        None,
        description="a code made with `tldw-users code`: needed when REQUIRE_REGISTRATION_CODE "
        "is true; when sent, it must be valid and is used up by one",
    )


class RegistrationResponse(BaseModel):
    message: str = "Registration successful"
    user_id: int = Field(description="the new account's id")
    username: str
    email: str
    requires_verification: bool = Field(description="always false: no email is sent")
    api_key: str | None = Field(
        None, description="always null: sign in with the password (keys live in the keys file)"
    )


def _lockout(signin: SignIn, settings: Settings) -> LoginLockout:
    """The login lockout, its counts in the Users database sign-in uses."""
    return LoginLockout(
        signin.store.database, settings.login_max_failures, settings.login_lockout_seconds
    )


def _client(request: Request, settings: Settings) -> str:
    """The address a failed sign-in counts against: the peer, or whom trusted proxies name."""
    peer = request.client.host if request.client else None
    forwarded = request.headers.getlist("x-forwarded-for")
    return client_address(peer, forwarded, settings.trusted_proxies)


def _locked(retry_after: int) -> HTTPException:
    return HTTPException(
        status.HTTP_429_TOO_MANY_REQUESTS, LOCKED, headers={"Retry-After": str(retry_after)}
    )


def _sign_in(request: Request) -> SignIn:
    signin = sign_in(request)
    if signin is None:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, SINGLE_USER)
    return signin


def _response(tokens: Tokens) -> TokenResponse:
    return TokenResponse.model_validate(tokens, from_attributes=True)


@router.post(
    "/login",
    response_model=TokenResponse,
    responses={401: {"description": "Incorrect username or password"}},
)
def login(
    request: Request,
    username: Annotated[str, Form(min_length=1, max_length=256)],
    password: Annotated[str, Form(min_length=1, max_length=MAX_PASSWORD_CHARS)],
) -> TokenResponse:
    """Sign in with a username and password (an HTML form, as OAuth2's password flow).

    After ``TLDW_LOGIN_MAX_FAILURES`` failures of one username or one address, 429 with
    ``Retry-After`` until ``TLDW_LOGIN_LOCKOUT_SECONDS`` have passed since the last one.
    """
    signin = _sign_in(request)
    settings: Settings = request.app.state.settings
    lockout = _lockout(signin, settings)
    name = f"user:{normalize_username(username)}"
    address = f"ip:{_client(request, settings)}"
    wait = lockout.retry_after(name)
    if wait is not None:
        raise _locked(wait)
    try:
        tokens = signin.login(username, password)
    except SignInFailed as exc:
        wait = lockout.failed(name, address)
        if wait is not None:
            raise _locked(wait) from None
        raise unauthorized(str(exc)) from None
    lockout.succeeded(name, address)
    return _response(tokens)


@router.post(
    "/register",
    response_model=RegistrationResponse,
    responses={403: {"description": REGISTRATION_CLOSED}, 409: {"description": "name taken"}},
)
def register(request: Request, body: RegisterRequest) -> RegistrationResponse:
    """Make an account (multi-user mode, when ``ENABLE_REGISTRATION`` is true); its data
    lives under its name. Sign in with ``POST /login`` afterwards."""
    signin = _sign_in(request)
    if not request.app.state.settings.enable_registration:
        raise HTTPException(status.HTTP_403_FORBIDDEN, REGISTRATION_CLOSED)
    missing = [kind for pattern, kind in PASSWORD_KINDS if not re.search(pattern, body.password)]
    if missing:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST, f"the password must include {', '.join(missing)}"
        )
    code = body.registration_code or None  # an empty code is none, as in tldw_server
    if code is None and request.app.state.settings.require_registration_code:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, INVALID_CODE)
    try:
        account = signin.register(body.username, body.password, body.email, code)
    except InvalidCode:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, INVALID_CODE) from None
    except AccountExists:
        raise HTTPException(status.HTTP_409_CONFLICT, "Username already exists") from None
    except WeakPassword as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from None
    return RegistrationResponse(
        user_id=account.id,
        username=account.username,
        email=body.email,
        requires_verification=False,
        api_key=None,
    )


@router.post("/refresh", response_model=TokenResponse)
def refresh(request: Request, body: RefreshRequest) -> TokenResponse:
    """New tokens for a refresh token; the one sent stops working (it is rotated)."""
    signin = _sign_in(request)
    try:
        return _response(signin.refresh(body.refresh_token))
    except SignInFailed as exc:
        raise unauthorized(str(exc)) from None


@router.post("/logout", response_model=Message)
async def logout(request: Request, caller: CurrentCaller) -> Message:
    """End the session of the access token sent: its refresh token and access tokens stop
    working. With an API key there is no session: nothing ends and the key stays valid (a
    client's sign-out flow still succeeds)."""
    signin = sign_in(request)
    if caller.session is None or signin is None:
        return Message(message=NO_SESSION)
    await run_in_threadpool(signin.logout, caller.session)
    return Message(message="Successfully logged out")


@router.get("/me", response_model=Me)
def me(request: Request, caller: CurrentCaller) -> Me:
    """Who the caller is: the account of an access token, or of an API key's user id."""
    settings = request.app.state.settings
    signin = sign_in(request)
    account: Account | None = None
    if caller.session is not None:
        account = caller.session.account
    elif signin is not None:
        account = signin.account_for(caller.user_id)
    return Me(
        id=account.id if account else None,
        username=account.username if account else None,
        user_id=caller.user_id,
        role="admin" if settings.is_admin(caller.user_id) else "user",
        is_active=account.is_active if account else True,
        created_at=account.created_at if account else None,
        last_login=account.last_login if account else None,
        auth_method="jwt" if caller.session is not None else "api_key",
    )
