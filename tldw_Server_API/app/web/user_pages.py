"""What the pages of a user's own data share (Library, Notes, Chats).

A page acts as the session's user only: its stores are built on that user's databases,
leased from the registry for the request by the API routes' own acquire
(``api/deps.py``: a user whose databases cannot be opened gets a 503 page), with the
API's client id. Every form that changes something carries the session's CSRF token; a
form without it changes nothing (the guards of ``guards.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Query, Request, Response, status
from fastapi.responses import RedirectResponse

from ..api.deps import MAX_QUERY_CHARS, leased_user_databases
from ..api.sessions import Session
from ..api.user_stores import UserStores
from ..api.v1.media_models import MAX_PAGE
from ..core.DB_Management.registry import DatabaseRegistry
from ..core.DB_Management.stores import StoreError, VersionConflict
from ..core.DB_Management.stores.errors import Conflict
from ..core.text import storable
from .guards import PageError
from .pages import render

#: Rows on one page of a list.
PAGE_SIZE = 20
#: A list's ``?page=`` (from 1) and its filters (``?q=``, ``?keyword=``...).
PageNumber = Annotated[int, Query(ge=1, le=MAX_PAGE)]
Filter = Annotated[str, Query(max_length=MAX_QUERY_CHARS)]


@contextmanager
def user_stores(request: Request, session: Session) -> Iterator[UserStores]:
    """The session user's stores, valid inside the block (their databases leased for it)."""
    registry: DatabaseRegistry = request.app.state.registry
    with leased_user_databases(registry, session.user_id) as databases:
        yield UserStores(databases, registry)


def not_found(session: Session, title: str, message: str) -> PageError:
    """The plain 404 page, to raise: absent, deleted, in the trash, or another user's."""
    return PageError(status.HTTP_404_NOT_FOUND, title, message, session)


def confirm_page(
    request: Request,
    session: Session,
    *,
    title: str,
    message: str,
    action: str,
    button: str,
    cancel: str,
    hidden: dict[str, str] | None = None,
) -> Response:
    """The page that asks before an action that cannot be undone from the WebUI: its form
    posts to *action* (with the session's token and the *hidden* fields)."""
    return render(
        request,
        "confirm.html",
        session,
        title=title,
        message=message,
        action=action,
        button=button,
        cancel=cancel,
        hidden=hidden or {},
    )


def refused_page(
    request: Request, session: Session, title: str, exc: Exception, message: str | None = None
) -> Response:
    """The page of an action refused by the store, saying why (*message*, else *exc*'s own
    words): 409 when the row is not in the state the action needs (changed since it was
    opened, not in the trash...), else 422."""
    if isinstance(exc, VersionConflict | Conflict):
        code = status.HTTP_409_CONFLICT
    else:
        code = status.HTTP_422_UNPROCESSABLE_CONTENT
    why = message or str(exc)
    return render(request, "error.html", session, code, title=title, message=why)


def see(path: str) -> RedirectResponse:
    """After a form: on to *path* (a GET), so that reloading does not post again."""
    return RedirectResponse(path, status.HTTP_303_SEE_OTHER)


def stale_edit(exc: VersionConflict, what: str) -> str:
    """The plain words for an edit of a copy that changed since it was opened."""
    return (
        f"This {what} was changed since you opened it (you opened version "
        f"{exc.expected_version}, it is now at version {exc.current_version}), so your "
        "changes were not saved. Your text is kept below: open the current version in "
        "another tab to compare, then save again to replace it with yours."
    )


def opened_version(form: dict[str, str]) -> int:
    """The version an edit form was opened at (its hidden ``version`` field)."""
    version = form.get("version", "")
    if not version.isdigit():
        raise ValueError("the form lost the version it was opened at: reload the page")
    return int(version)


def refused(exc: Exception, form: dict[str, str], what: str) -> tuple[dict[str, str], str, int]:
    """A form shown again after *exc*: its fields, why it was not saved, the status.

    After a stale edit (409) the form carries the current version: saving it again, on
    purpose, replaces what changed meanwhile."""
    if isinstance(exc, VersionConflict):
        kept = form | {"version": str(exc.current_version)}
        return kept, stale_edit(exc, what), status.HTTP_409_CONFLICT
    return form, str(exc), status.HTTP_422_UNPROCESSABLE_CONTENT


def text_field(form: dict[str, str], name: str) -> str:
    """A form field as storable text (:class:`ValueError` naming the field if it is not)."""
    try:
        return storable(form.get(name, ""))
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None


def keyword_list(text: str) -> list[str]:
    """``"a, b"`` as ``["a", "b"]``: keywords are typed comma-separated."""
    return [word.strip() for word in text.split(",") if word.strip()]


def offset_of(page: int) -> int:
    """The first row of list page *page* (from 1), counted from 0."""
    return (page - 1) * PAGE_SIZE


@dataclass(frozen=True)
class Pager:
    """Where a list is (page *page* of *PAGE_SIZE* rows) and the links to its neighbours."""

    page: int
    has_next: bool
    base: str
    params: dict[str, Any]
    total: int | None = None

    @property
    def size(self) -> int:
        return PAGE_SIZE

    @property
    def offset(self) -> int:
        return offset_of(self.page)

    def _link(self, page: int) -> str:
        kept = {k: v for k, v in self.params.items() if v not in (None, "")}
        return f"{self.base}?{urlencode(kept | {'page': page})}"

    @property
    def prev_url(self) -> str | None:
        return self._link(self.page - 1) if self.page > 1 else None

    @property
    def next_url(self) -> str | None:
        return self._link(self.page + 1) if self.has_next else None

    @property
    def pages(self) -> int | None:
        return None if self.total is None else max(1, -(-self.total // PAGE_SIZE))


def pager(base: str, page: int, params: dict[str, Any], total: int | None, shown: int) -> Pager:
    """The pager of a list; without a *total*, a full page means there may be more."""
    has_next = (page * PAGE_SIZE < total) if total is not None else shown == PAGE_SIZE
    return Pager(page, has_next, base, params, total)


def list_page(
    request: Request,
    session: Session,
    template: str,
    rows: list[Any],
    *,
    page: int,
    params: dict[str, Any],
    total: int | None,
    **context: Any,
) -> Response:
    """A page of a list: its *rows* (named ``rows`` in *template*), the pager below them."""
    base = request.url.path
    listed = pager(base, page, params, total, len(rows))
    return render(
        request,
        template,
        session,
        rows=rows,
        total=total,
        params=params,
        pager=listed,
        **context,
    )


#: A list's search: the rows of a page (from 1) for the filters, and how many in all if known.
Search = Callable[[UserStores, dict[str, str], int], tuple[list[Any], int | None]]


def search_list_page(
    request: Request,
    session: Session,
    template: str,
    params: dict[str, str],
    page: int,
    search: Search,
    keywords: Callable[[UserStores], list[str]],
    **context: Any,
) -> Response:
    """A list that searches: the rows *search* finds for the filters *params* on *page*
    (none, saying why, when the store refuses the search or a field holds a character no
    database stores), and the user's *keywords* to filter by."""
    error: str | None = None
    with user_stores(request, session) as stores:
        try:
            rows, total = search(stores, params, page)
        except (StoreError, ValueError) as exc:
            rows, total, error = [], 0, f"That search could not be run: {exc}"
        words = keywords(stores)
    return list_page(
        request,
        session,
        template,
        rows,
        page=page,
        params=params,
        total=total,
        error=error,
        keywords=words,
        **context,
    )


def form_page(
    request: Request,
    session: Session,
    template: str,
    fields: dict[str, str],
    error: str | None = None,
    status_code: int = status.HTTP_200_OK,
    **context: Any,
) -> Response:
    """A form, filled with *fields* (what was posted, when it is shown again), and why it
    was not saved (*error*)."""
    return render(request, template, session, status_code, fields=fields, error=error, **context)


__all__ = [
    "PAGE_SIZE",
    "Filter",
    "PageNumber",
    "Pager",
    "UserStores",
    "confirm_page",
    "form_page",
    "keyword_list",
    "list_page",
    "not_found",
    "offset_of",
    "opened_version",
    "pager",
    "refused",
    "refused_page",
    "search_list_page",
    "see",
    "stale_edit",
    "text_field",
    "user_stores",
]
