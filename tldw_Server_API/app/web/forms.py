"""Forms of the WebUI: reading a posted form, and the tokens that make them CSRF-safe.

Every form carries a token in a hidden ``csrf`` field. Once signed in, it is the session's
(``api/sessions.py``). The sign-in form, before there is a session, uses a double-submit
token: a random value both in a cookie of its own and in the form, which another site can
neither read nor set (the cookie is ``HttpOnly`` and ``SameSite=Strict``).
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from urllib.parse import parse_qs

from fastapi import HTTPException, Request, Response, status
from starlette.datastructures import UploadFile

SIGNIN_COOKIE = "tldw_signin"
FORM_TYPE = "application/x-www-form-urlencoded"
UPLOAD_TYPE = "multipart/form-data"
#: A form of ours is a key and a token or two: anything longer is not one of ours.
MAX_FORM_BYTES = 16 * 1024
#: A form that carries a text to store (a note, a media item's content).
MAX_TEXT_FORM_BYTES = 8 * 1024 * 1024
#: The add-media form: one uploaded file and a few fields.
MAX_UPLOAD_BYTES = 16 * 1024 * 1024


def _form_kind(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


async def _body(request: Request, max_bytes: int) -> bytes:
    """The request's body, refused with 413 beyond *max_bytes* (before reading, when the
    client says its length)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, "the form is too large")
    body = await request.body()
    if len(body) > max_bytes:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, "the form is too large")
    return body


async def _read_form(request: Request, max_bytes: int) -> dict[str, str]:
    if _form_kind(request) != FORM_TYPE:
        raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, f"send the form as {FORM_TYPE}")
    body = await _body(request, max_bytes)
    fields = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {name: values[0] for name, values in fields.items()}


async def read_form(request: Request) -> dict[str, str]:
    """The fields of a posted URL-encoded form (the first value of each)."""
    return await _read_form(request, MAX_FORM_BYTES)


async def read_text_form(request: Request) -> dict[str, str]:
    """:func:`read_form` for a form carrying a long text (a note, a media item)."""
    return await _read_form(request, MAX_TEXT_FORM_BYTES)


@dataclass(frozen=True)
class Upload:
    """A posted multipart form: its text fields, and its one file (name and bytes) if any."""

    fields: dict[str, str]
    file_name: str | None
    file_data: bytes


async def read_upload(request: Request) -> Upload:
    """The fields and the one file of a posted ``multipart/form-data`` form."""
    if _form_kind(request) != UPLOAD_TYPE:
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, f"send the form as {UPLOAD_TYPE}"
        )
    await _body(request, MAX_UPLOAD_BYTES)
    form = await request.form(max_files=1, max_fields=20, max_part_size=MAX_UPLOAD_BYTES)
    fields: dict[str, str] = {}
    file_name: str | None = None
    data = b""
    for name, value in form.multi_items():
        if isinstance(value, UploadFile):
            if value.filename:
                file_name, data = value.filename, await value.read()
        else:
            fields.setdefault(name, value)
    await form.close()
    return Upload(fields, file_name, data)


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
    "Upload",
    "new_signin_token",
    "read_form",
    "read_text_form",
    "read_upload",
    "safe_next",
    "same_token",
    "set_signin_cookie",
]
