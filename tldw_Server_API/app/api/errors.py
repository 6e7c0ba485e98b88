"""Errors as clear 4xx answers: store errors, bad input, oversize bodies.

===============================  ======  =============================================
what                             status  body
===============================  ======  =============================================
body not readable JSON           400     ``{"detail": "...", "errors": [...]}``
unknown field / wrong type       422     ``{"detail": "...", "errors": [...]}``
body over the configured limit   413     ``{"detail": "...", "limit_bytes": n}``
``NotFound``                     404     ``{"detail": "media 7 not found"}``
``VersionConflict``              409     ``... "expected_version", "current_version"``
``Taken`` (a name/URL in use)    409     ``{"detail": "media: url '...' already belongs..."}``
``Conflict`` (the row's state)   409     ``{"detail": "run ... is already succeeded"}``
``InvalidInput``                 422     ``{"detail": "media: title must be ..."}``
a row that clashes with another  409     (a unique constraint the store did not check)
an integer beyond 64 bits        422     (any router, workflows' included)
===============================  ======  =============================================

Every error body is one shape, :class:`ErrorBody`: ``detail`` is always one
string saying what is wrong; some errors add fields (``errors``, ``limit_bytes``,
``expected_version``...). :data:`ERROR_RESPONSES` declares it in the OpenAPI
schema of every route, so clients and schema checkers see what the API sends.

Validation errors never echo the input back (it may be large, or secret).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, HTTPException, Request, status
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import DataError, IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..core.DB_Management.registry import InvalidUserId
from ..core.DB_Management.stores.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    StoreError,
    Taken,
    VersionConflict,
)
from ..core.redaction import describe_db_error

log = logging.getLogger("tldw_server.api")


class FieldError(BaseModel):
    """One invalid part of a request: where it is and what is wrong with it."""

    loc: list[str | int] = Field(description='where: e.g. ["body", "title"] or ["query", "limit"]')
    msg: str = Field(description="what is wrong, without the value")
    type: str | None = Field(description="a machine-readable kind, e.g. string_too_long")


class ErrorBody(BaseModel):
    """The body of every 4xx answer."""

    model_config = ConfigDict(extra="allow")

    detail: str = Field(description="what is wrong, in one sentence")
    errors: list[FieldError] | None = Field(
        default=None, description="validation errors only: every invalid field (at most 100)"
    )


#: Declared on every route (``FastAPI(responses=...)``); FastAPI's own 422 model, whose
#: ``detail`` is a list, is then not declared: this API never sends it.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status.HTTP_422_UNPROCESSABLE_CONTENT: {
        "model": ErrorBody,
        "description": "invalid input: `detail` sums it up, `errors` lists each invalid field",
    },
    "4XX": {
        "model": ErrorBody,
        "description": "a client error (bad JSON, no or wrong API key, not found, conflict, "
        "body too large...): `detail` says which",
    },
}


def _location(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(part) for part in loc) or "request"


def _without_null_member(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The errors of a ``T | NotNull`` field as the errors of ``T``.

    pydantic checks such a field against each member of the union: it names the member in
    the location (``body.title.function-before[...]``) and adds that the value is not
    ``null`` either (``body.title.none``). ``null`` is no value the field takes, so that
    error goes and the member's name leaves the location: ``body.title``.
    """
    fields = {
        tuple(e["loc"][:-1])
        for e in errors
        if e["type"] == NONE_REQUIRED and e["loc"][-1:] == ["none"]
    }
    kept = []
    for error in errors:
        loc = error["loc"]
        field = next((f for f in fields if tuple(loc[: len(f)]) == f and len(loc) > len(f)), None)
        if field is None:
            kept.append(error)
        elif error["type"] != NONE_REQUIRED:
            kept.append(error | {"loc": loc[: len(field)] + loc[len(field) + 1 :]})
    return kept


NONE_REQUIRED = "none_required"


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = _without_null_member(
        [
            {
                "loc": list(error.get("loc", ())),
                "msg": error.get("msg", ""),
                "type": error.get("type"),
            }
            for error in exc.errors()
        ]
    )
    malformed = next((e for e in errors if e["type"] == JSON_INVALID), None)
    if malformed is not None:
        position = malformed["loc"][-1] if malformed["loc"] else None
        where = f"error at character {position}" if isinstance(position, int) else None
        return _not_json(where, errors)
    detail = "; ".join(f"{_location(e['loc'])}: {e['msg']}" for e in errors[:20])
    return JSONResponse(
        {"detail": detail, "errors": errors[:100]},
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
    )


JSON_INVALID = "json_invalid"
#: Why a body sent as JSON could not be read, beyond a syntax error (FastAPI answers
#: these with a bare 400 "There was an error parsing the body"; the API says which).
UNREADABLE_BODY: dict[type[Exception], str] = {
    RecursionError: "nested too deeply",
    UnicodeDecodeError: "not UTF-8 text",
}


def _not_json(why: str | None, errors: list[dict[str, Any]]) -> JSONResponse:
    """The one answer to a body that is not readable JSON: 400, *why* in the detail."""
    detail = "the request body is not valid JSON" + (f" ({why})" if why else "")
    return JSONResponse(
        {"detail": detail, "errors": errors[:100]}, status_code=status.HTTP_400_BAD_REQUEST
    )


def _unreadable_body(exc: StarletteHTTPException) -> str | None:
    """Why the body could not be read, when *exc* is FastAPI's answer to that."""
    if exc.status_code != status.HTTP_400_BAD_REQUEST:
        return None
    for kind, why in UNREADABLE_BODY.items():
        if isinstance(exc.__cause__, kind):
            return why
    return None


async def store_error(request: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, NotFound):
        return JSONResponse({"detail": str(exc)}, status_code=status.HTTP_404_NOT_FOUND)
    if isinstance(exc, VersionConflict):
        return JSONResponse(
            {
                "detail": str(exc),
                "expected_version": exc.expected_version,
                "current_version": exc.current_version,
            },
            status_code=status.HTTP_409_CONFLICT,
        )
    if isinstance(exc, Taken | Conflict):
        return JSONResponse({"detail": str(exc)}, status_code=status.HTTP_409_CONFLICT)
    if isinstance(exc, InvalidInput | InvalidUserId):
        return JSONResponse({"detail": str(exc)}, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)
    return JSONResponse({"detail": str(exc)}, status_code=status.HTTP_400_BAD_REQUEST)


#: For each refusal of the database: what the log says, and the status and detail the client gets.
DATABASE_REFUSALS: dict[type[Exception], tuple[str, int, str]] = {
    IntegrityError: (
        "rejected by a database constraint",
        status.HTTP_409_CONFLICT,
        "the change conflicts with stored data (a unique or reference constraint)",
    ),
    DataError: (
        "a value the database refused",
        status.HTTP_422_UNPROCESSABLE_CONTENT,
        "a value is out of range or malformed for the database",
    ),
}


async def database_refusal(request: Request, exc: Exception) -> JSONResponse:
    # The driver's message quotes row values: the log names the constraint or column only.
    what, status_code, detail = next(
        answer for kind, answer in DATABASE_REFUSALS.items() if isinstance(exc, kind)
    )
    log.warning("%s %s: %s: %s", request.method, request.url.path, what, describe_db_error(exc))
    return JSONResponse({"detail": detail}, status_code=status_code)


async def overflow_error(request: Request, exc: Exception) -> JSONResponse:
    # SQLite's driver refuses integers beyond 64 bits with OverflowError.
    log.info("%s %s: a number out of range", request.method, request.url.path)
    return JSONResponse(
        {"detail": "a number is out of range (integers must fit in 64 bits)"},
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
    )


async def http_error(request: Request, exc: Exception) -> JSONResponse:
    """An ``HTTPException`` (ours, FastAPI's or Starlette's: 404, 405...) as an :class:`ErrorBody`.

    A route with more to say raises it with a dict detail: ``{"message": ..., **fields}``
    becomes ``{"detail": message, **fields}``, so ``detail`` stays a string.
    """
    assert isinstance(exc, StarletteHTTPException)
    why = _unreadable_body(exc)
    if why is not None:
        return _not_json(why, [{"loc": ["body"], "msg": why, "type": JSON_INVALID}])
    if not isinstance(exc.detail, dict):
        response = await http_exception_handler(request, exc)
        assert isinstance(response, JSONResponse)
        return response
    fields = dict(exc.detail)
    body = {"detail": str(fields.pop("message", "error")), **fields}
    return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)


def install_error_handlers(app: FastAPI) -> None:
    # Starlette's class: FastAPI raises it too (unreadable bodies, 404, 405).
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StoreError, store_error)
    app.add_exception_handler(InvalidUserId, store_error)
    for refusal in DATABASE_REFUSALS:
        app.add_exception_handler(refusal, database_refusal)
    app.add_exception_handler(OverflowError, overflow_error)


# -- request size ---------------------------------------------------------------------------


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(
            status.HTTP_413_CONTENT_TOO_LARGE,
            f"the request body is larger than the limit of {limit} bytes (TLDW_MAX_REQUEST_BYTES)",
        )
        self.limit = limit


class BodySizeLimit:
    """Refuse bodies over *limit* bytes with 413, before reading them.

    A ``Content-Length`` over the limit is refused at once, without reading a
    byte of the body. A body without one (chunked) is counted as it arrives and
    refused as soon as it passes the limit, so at most *limit* bytes are ever
    buffered.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared == -1:
            await self._refuse(send, "the Content-Length header is not a valid number", 400)
            return
        if declared is not None and declared > self.limit:
            await self._refuse(send, BodyTooLarge(self.limit).detail, 413)
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise BodyTooLarge(self.limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge as exc:
            if started:
                raise
            await self._refuse(send, str(exc.detail), 413)

    async def _refuse(self, send: Send, detail: str, code: int) -> None:
        body = JSONResponse({"detail": detail, "limit_bytes": self.limit}, status_code=code).body
        await send(
            {
                "type": "http.response.start",
                "status": code,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _content_length(scope: Scope) -> int | None:
    """The declared length; ``None`` when absent, ``-1`` when not a number."""
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                length = int(value)
            except ValueError:
                return -1
            return length if length >= 0 else -1
    return None
