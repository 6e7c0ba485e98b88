"""The WebUI's pages: sign-in (API key, or password in multi-user mode) and sign-out,
Status, Migrations (a user's data: ``library.py``, ``notes.py``, ``chats.py``).

Server-rendered (Jinja2, every value escaped), with a little hand-written JavaScript and
CSS served from ``/static/ui``: no CDN, no build step. A page needs a session (see
``api/sessions.py``); without one it sends the browser to ``/signin``. The Status page's
live part calls ``/api/v1/health`` and ``/api/v1/workflows/status`` as any client does, its
session cookie standing for the key.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader

from ..api.auth import ApiKeyAuth, sign_in
from ..api.deps import DatabasesUnavailable, IntId, leased_user_databases
from ..api.sessions import (
    COOKIE,
    IDLE_SECONDS,
    Session,
    SessionStore,
    request_session,
    sessions_of,
)
from ..core.config import Settings
from ..core.DB_Management.migration.history import history_of
from ..core.DB_Management.registry import DatabaseRegistry
from ..core.users.signin import SignIn, SignInFailed
from .forms import (
    SIGNIN_COOKIE,
    new_signin_token,
    read_form,
    safe_next,
    same_token,
    set_signin_cookie,
)
from .guards import AdminSession, PageError, SignedIn, SignInFirst, csrf_session
from .report_view import report_view

HERE = Path(__file__).parent
templates = Jinja2Templates(
    env=Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True)
)


def as_json(value: Any) -> str:
    """*value* as readable JSON text, for a page to show (escaped there like any text)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


templates.env.filters["as_json"] = as_json
#: The markup many pages share (a sub-page's header, a table of rows): ``ui.table(...)``
#: in any template, without an import in each.
templates.env.globals["ui"] = templates.env.get_template("_macros.html").module
#: Pages run only our own files: no inline script, nothing from another host.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
HOME = "/status"


def _is_https(request: Request) -> bool:
    return request.url.scheme == "https"


def render(
    request: Request,
    template: str,
    session: Session | None,
    status_code: int = status.HTTP_200_OK,
    **context: Any,
) -> HTMLResponse:
    """*template* with the page's common context, never cached, under the pages' CSP."""
    settings: Settings = request.app.state.settings
    user_id = session.user_id if session is not None else None
    response = templates.TemplateResponse(
        request,
        template,
        {
            "session": session,
            "user_id": user_id,
            "is_admin": user_id is not None and settings.is_admin(user_id),
            "multi_user": settings.auth_mode == "multi_user",
            "path": request.url.path,
            **context,
        },
        status_code=status_code,
    )
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    return response


# -- what a page answers when it cannot run -------------------------------------------------

#: What a user whose databases cannot be opened reads (the server's log says why).
UNAVAILABLE = (
    "Your data cannot be opened right now: the server cannot reach your databases. "
    "Nothing was changed. Try again in a moment; if this lasts, tell the server's "
    "administrator (the server's log says why)."
)

#: Why a value in a page's address is refused, by pydantic's error type (its context
#: fills the braces); any other type uses pydantic's own message.
PLAIN_REASONS = {
    "int_parsing": "must be a whole number",
    "int_type": "must be a whole number",
    "greater_than_equal": "must be {ge} or more",
    "less_than_equal": "must be {le} or less",
    "string_too_long": "must be at most {max_length} characters long",
    "string_too_short": "must not be empty",
    "string_pattern_mismatch": "holds characters it may not have",
    "literal_error": "must be one of {expected}",
    "enum": "must be one of {expected}",
}


def plain_reason(error: dict[str, Any]) -> str:
    """One refused value in plain words: ``page must be 1 or more`` (never the value)."""
    loc = [str(part) for part in error.get("loc", ()) if part not in ("query", "path")]
    name = ".".join(loc) or "the address"
    template = PLAIN_REASONS.get(str(error.get("type")))
    try:
        why = template.format(**error.get("ctx", {})) if template else str(error.get("msg"))
    except (KeyError, IndexError):
        why = str(error.get("msg"))
    return f"{name} {why}"


def bad_address_page(request: Request, exc: RequestValidationError) -> HTMLResponse:
    """The page for an address whose values a page cannot use (``?page=abc``): 422, what
    is wrong, and the link to the page without its query."""
    reasons = "; ".join(plain_reason(error) for error in exc.errors()[:5])
    return render(
        request,
        "error.html",
        request_session(request),
        status.HTTP_422_UNPROCESSABLE_CONTENT,
        title="This address cannot be shown",
        message=f"The address asks for something this page cannot show: {reasons}.",
        back=request.url.path if request.url.query else None,
    )


def unavailable_page(request: Request) -> HTMLResponse:
    return render(
        request,
        "error.html",
        request_session(request),
        status.HTTP_503_SERVICE_UNAVAILABLE,
        title="Your data cannot be opened",
        message=UNAVAILABLE,
    )


class PageRoute(APIRoute):
    """A page's route. What the API answers as JSON, a page answers as a page: a bad value in
    its address (422), a user whose databases cannot be opened (503)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as exc:
                return await run_in_threadpool(bad_address_page, request, exc)
            except DatabasesUnavailable:
                return await run_in_threadpool(unavailable_page, request)

        return page_handler


def page_router() -> APIRouter:
    """A router of pages: out of the OpenAPI schema, its routes :class:`PageRoute`."""
    return APIRouter(include_in_schema=False, route_class=PageRoute)


def sign_in_first(request: Request, exc: Exception) -> RedirectResponse:
    """:class:`SignInFirst`: to the sign-in page, back to where it came from afterwards."""
    assert isinstance(exc, SignInFirst)
    target = "/signin" if exc.next_path is None else f"/signin?next={exc.next_path}"
    return RedirectResponse(target, status.HTTP_303_SEE_OTHER)


def page_error(request: Request, exc: Exception) -> HTMLResponse:
    """:class:`PageError`: its error page."""
    assert isinstance(exc, PageError)
    return render(
        request, "error.html", exc.session, exc.status_code, title=exc.title, message=exc.message
    )


def install_page_errors(app: FastAPI) -> None:
    """Answer the guards' exceptions (``guards.py``) of every page."""
    app.add_exception_handler(SignInFirst, sign_in_first)
    app.add_exception_handler(PageError, page_error)


router = page_router()


# -- sign-in and sign-out ------------------------------------------------------------------


def signin_page(
    request: Request, next_path: str, error: str | None = None, status_code: int = 200
) -> HTMLResponse:
    token = new_signin_token()
    response = render(
        request,
        "signin.html",
        None,
        status_code,
        csrf=token,
        next_path=next_path,
        error=error,
        password_signin=sign_in(request) is not None,
    )
    set_signin_cookie(response, token, secure=_is_https(request))
    return response


@router.get("/")
def home(request: Request) -> RedirectResponse:
    target = HOME if request_session(request) is not None else "/signin"
    return RedirectResponse(target, status.HTTP_303_SEE_OTHER)


@router.get("/signin", response_model=None)
def signin_form(request: Request, next: str | None = None) -> Response:
    if request_session(request) is not None:
        return RedirectResponse(safe_next(next, HOME), status.HTTP_303_SEE_OTHER)
    return signin_page(request, safe_next(next, HOME))


async def _signin_form(request: Request) -> tuple[dict[str, str], str, Response | None]:
    """A posted sign-in form, where to go next, and the page to send if it expired."""
    form = await read_form(request)
    next_path = safe_next(form.get("next"), HOME)
    if same_token(request.cookies.get(SIGNIN_COOKIE), form.get("csrf")):
        return form, next_path, None
    expired = signin_page(
        request, next_path, "The form expired. Please sign in again.", status.HTTP_403_FORBIDDEN
    )
    return form, next_path, expired


def _open_session(request: Request, user_id: str, next_path: str) -> Response:
    """A new session for *user_id*: its cookie set, on to *next_path*."""
    token, _ = sessions_of_app(request).create(user_id)
    response = RedirectResponse(next_path, status.HTTP_303_SEE_OTHER)
    response.set_cookie(
        COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=_is_https(request),
        path="/",
        max_age=IDLE_SECONDS,
    )
    response.delete_cookie(SIGNIN_COOKIE, path="/signin", httponly=True, samesite="strict")
    return response


@router.post("/signin", response_model=None)
async def signin(request: Request) -> Response:
    """Trade an API key for a session: the key is checked, then forgotten."""
    form, next_path, expired = await _signin_form(request)
    if expired is not None:
        return expired
    auth: ApiKeyAuth = request.app.state.auth
    user_id = auth.user_for(form.get("api_key", "").strip())
    if user_id is None:
        return signin_page(
            request, next_path, "That API key is not valid.", status.HTTP_401_UNAUTHORIZED
        )
    return _open_session(request, user_id, next_path)


def password_user(signin: SignIn, username: str, password: str) -> str:
    """The user id of the account, if *password* is its own (the sign-in of
    ``/api/v1/auth/login``); the token session that sign-in opens is ended at once, as the
    browser keeps a session of its own. :class:`SignInFailed` otherwise."""
    tokens = signin.login(username, password)
    session = signin.session_of(tokens.access_token)
    signin.logout(session)
    return session.account.user_id


@router.post("/signin/password", response_model=None)
async def signin_with_password(request: Request) -> Response:
    """Multi-user mode: trade an account's username and password for a session."""
    form, next_path, expired = await _signin_form(request)
    if expired is not None:
        return expired
    signin = sign_in(request)
    if signin is None:
        return signin_page(
            request,
            next_path,
            "Password sign-in exists in multi-user mode only: sign in with the API key.",
            status.HTTP_400_BAD_REQUEST,
        )
    try:
        user_id = await run_in_threadpool(
            password_user, signin, form.get("username", ""), form.get("password", "")
        )
    except SignInFailed as exc:
        return signin_page(request, next_path, f"{exc}.", status.HTTP_401_UNAUTHORIZED)
    return _open_session(request, user_id, next_path)


def sessions_of_app(request: Request) -> SessionStore:
    store = sessions_of(request)
    if store is None:  # install_web() creates it with the routes: never missing here
        raise RuntimeError("the WebUI's session store is not installed")
    return store


@router.post("/signout", response_model=None)
async def signout(request: Request) -> Response:
    """End the session (its CSRF token required) and clear the cookie."""
    form = await read_form(request)
    await run_in_threadpool(
        csrf_session,
        request,
        form,
        "Not signed out",
        "The form expired. Reload the page and sign out again.",
    )
    sessions_of_app(request).end(request.cookies.get(COOKIE))
    response = RedirectResponse("/signin", status.HTTP_303_SEE_OTHER)
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
    return response


# -- status --------------------------------------------------------------------------------


@dataclass(frozen=True)
class DatabaseRow:
    name: str
    backend: str
    location: str | None
    schema_version: int


BACKEND_TITLES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


def database_rows(registry: DatabaseRegistry, user_id: str, admin: bool) -> list[DatabaseRow]:
    """The signed-in user's databases and the server's; where they are for admins only."""
    with leased_user_databases(registry, user_id) as own:
        databases = [own.media, own.chacha, registry.analytics(), registry.workflows()]
    return [
        DatabaseRow(
            name=db.schema.title,
            backend=BACKEND_TITLES.get(db.kind, db.kind),
            location=db.describe() if admin else None,
            schema_version=db.version,
        )
        for db in databases
    ]


@router.get("/status", response_model=None)
def status_page(request: Request, session: SignedIn) -> Response:
    settings: Settings = request.app.state.settings
    registry: DatabaseRegistry = request.app.state.registry
    rows = database_rows(registry, session.user_id, settings.is_admin(session.user_id))
    return render(
        request,
        "status.html",
        session,
        databases=rows,
        runtime_enabled=request.app.state.workflow_runtime is not None,
    )


# -- migrations ----------------------------------------------------------------------------


@router.get("/migrations", response_model=None)
def migrations_page(request: Request, session: AdminSession) -> Response:
    registry: DatabaseRegistry = request.app.state.registry
    history = history_of(registry)
    runs = history.list(limit=200, offset=0) if history is not None else []
    return render(
        request,
        "migrations.html",
        session,
        runs=runs,
        on_sqlite=history is None,
    )


@router.get("/migrations/{migration_id}", response_model=None)
def migration_page(request: Request, migration_id: IntId, session: AdminSession) -> Response:
    history = history_of(request.app.state.registry)
    run = history.get(migration_id) if history is not None else None
    if run is None or run.report is None:
        return render(
            request,
            "error.html",
            session,
            status.HTTP_404_NOT_FOUND,
            title="Migration not found",
            message=f"No migration {migration_id} is recorded in this server's database.",
        )
    return render(request, "migration.html", session, run=run, view=report_view(run.report))
