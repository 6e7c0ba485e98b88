"""Forms of the WebUI: reading a posted form, and the tokens that make them CSRF-safe.

Every form carries a token in a hidden ``csrf`` field. Once signed in, it is the session's
(``api/sessions.py``). The sign-in form, before there is a session, uses a double-submit
token: a random value both in a cookie of its own and in the form, which another site can
neither read nor set (the cookie is ``HttpOnly`` and ``SameSite=Strict``).
"""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import parse_qs

from fastapi import HTTPException, Request, Response, status

SIGNIN_COOKIE = "tldw_signin"
FORM_TYPE = "application/x-www-form-urlencoded"
#: A form of ours is a key and a token or two: anything longer is not one of ours.
MAX_FORM_BYTES = 16 * 1024


async def read_form(request: Request) -> dict[str, str]:
    """The fields of a posted URL-encoded form (the first value of each)."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != FORM_TYPE:
        raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, f"send the form as {FORM_TYPE}")
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, "the form is too large")
    fields = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {name: values[0] for name, values in fields.items()}


def same_token(expected: str | None, presented: str | None) -> bool:
    """Whether both tokens are there and equal (compared in constant time)."""
    if not expected or not presented:
        return False
    return hmac.compare_digest(expected.encode(), presented.encode("utf-8", "surrogatepass"))


def new_signin_token() -> str:
    """A fresh double-submit token for the sign-in form."""
    return secrets.token_urlsafe(32)


def set_signin_cookie(response: Response, token: str, *, secure: bool) -> None:
    """Send the sign-in form's token in its cookie too."""
    response.set_cookie(
        SIGNIN_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=secure,
        path="/signin",
        max_age=3600,
    )


def safe_next(target: str | None, default: str) -> str:
    """*target* if it is a path of this server (never another site), else *default*."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


__all__ = [
    "SIGNIN_COOKIE",
    "new_signin_token",
    "read_form",
    "safe_next",
    "same_token",
    "set_signin_cookie",
]
