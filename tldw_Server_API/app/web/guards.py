"""What a page needs before it runs, stated once: a session, the form's CSRF token, an admin.

Each guard is a FastAPI dependency (:data:`SignedIn`, :data:`FormSession`...). A request
that fails one never reaches the page: the guard raises :class:`SignInFirst` (the browser
is sent to the sign-in page) or :class:`PageError` (an error page: 403 for a form without
its token, say), which the handlers ``install_web`` adds turn into that answer.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, status

from ..api.sessions import Session, request_session
from ..core.config import Settings
from .forms import Upload, read_form, read_text_form, read_upload


class SignInFirst(Exception):
    """No session: off to the sign-in page, back to *next_path* afterwards (if any)."""

    def __init__(self, next_path: str | None) -> None:
        super().__init__("sign in first")
        self.next_path = next_path


class PageError(Exception):
    """The error page to answer instead: *title* and a plain *message*, with *status_code*.

    *session* (when known) keeps the page's navigation for the signed-in user."""

    def __init__(
        self, status_code: int, title: str, message: str, session: Session | None = None
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.title = title
        self.message = message
        self.session = session


#: A form refused for its missing or stale CSRF token.
EXPIRED_FORM = "The form expired. Go back, reload the page and try again."


def page_session(request: Request) -> Session:
    """The request's session (:class:`SignInFirst` without one)."""
    session = request_session(request)
    if session is None:
        raise SignInFirst(request.url.path)
    return session


def csrf_session(
    request: Request, form: dict[str, str], title: str = "Not saved", message: str = EXPIRED_FORM
) -> Session:
    """The session of a posted *form* carrying its CSRF token: :class:`SignInFirst` without
    a session, a 403 :class:`PageError` titled *title* without the token."""
    session = request_session(request)
    if session is None:
        raise SignInFirst(None)
    if not session.csrf_matches(form.get("csrf")):
        raise PageError(status.HTTP_403_FORBIDDEN, title, message, session)
    return session


# The form guards read the form themselves: FastAPI reads it once per request, so a page
# that also takes the form (``form: ShortForm``) gets the same fields, already checked.
ShortForm = Annotated[dict[str, str], Depends(read_form)]
TextForm = Annotated[dict[str, str], Depends(read_text_form)]
UploadForm = Annotated[Upload, Depends(read_upload)]


def short_form_session(request: Request, form: ShortForm) -> Session:
    return csrf_session(request, form)


def text_form_session(request: Request, form: TextForm) -> Session:
    return csrf_session(request, form)


def upload_session(request: Request, upload: UploadForm) -> Session:
    return csrf_session(request, upload.fields)


def admin_session(request: Request) -> Session:
    """The session of an admin (TLDW_ADMIN_USERS); others get a 403 page."""
    session = page_session(request)
    settings: Settings = request.app.state.settings
    if not settings.is_admin(session.user_id):
        raise PageError(
            status.HTTP_403_FORBIDDEN,
            "Migrations",
            "Migration reports are shown to admins only (TLDW_ADMIN_USERS).",
            session,
        )
    return session


SignedIn = Annotated[Session, Depends(page_session)]
FormSession = Annotated[Session, Depends(short_form_session)]
TextFormSession = Annotated[Session, Depends(text_form_session)]
UploadSession = Annotated[Session, Depends(upload_session)]
AdminSession = Annotated[Session, Depends(admin_session)]


__all__ = [
    "AdminSession",
    "FormSession",
    "PageError",
    "ShortForm",
    "SignInFirst",
    "SignedIn",
    "TextForm",
    "TextFormSession",
    "UploadForm",
    "UploadSession",
    "csrf_session",
    "page_session",
]
