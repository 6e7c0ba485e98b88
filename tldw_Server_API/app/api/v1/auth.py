"""``/api/v1/auth``: password sign-in as tldw_server's clients speak it.

``POST /login`` (form ``username``, ``password``) and ``POST /refresh`` (JSON
``{"refresh_token"}``) answer ``{access_token, refresh_token, token_type,
expires_in}``; ``POST /logout`` ends the session of the access token sent;
``GET /me`` says who the caller is (a key's caller too). Sign-in exists in
multi-user mode only: in single-user mode the API key is the only credential.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from ...core.users.passwords import MAX_PASSWORD_CHARS
from ...core.users.signin import SignIn, SignInFailed, Tokens
from ...core.users.store import Account
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


def _sign_in(request: Request) -> SignIn:
    signin = sign_in(request)
    if signin is None:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, SINGLE_USER)
    return signin


def _response(tokens: Tokens) -> TokenResponse:
    return TokenResponse(
        access_token=tokens.access_token,
        refresh_token=tokens.refresh_token,
        token_type=tokens.token_type,
        expires_in=tokens.expires_in,
    )


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
    """Sign in with a username and password (an HTML form, as OAuth2's password flow)."""
    signin = _sign_in(request)
    try:
        return _response(signin.login(username, password))
    except SignInFailed as exc:
        raise unauthorized(str(exc)) from None


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
