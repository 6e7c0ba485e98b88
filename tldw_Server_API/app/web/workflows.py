"""The Workflows pages: the signed-in user's workflow definitions, their runs, and a run's
steps, artifacts and events (updated live by ``static/workflow_run.js``).

Starting, approving, rejecting and cancelling a run call what the API's routes call
(``core/Workflows/api.py``): the store's ``submit_run_with_status`` with the user as the
submitter, :func:`own_run` before any change, ``Decision.resolve`` and ``cancel_run``. A run
of another user's is "not found", as in the API; a definition is listed when the API would
list it (the user's own, and those shared with everyone).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Query, Request, Response, status
from pydantic import ValidationError

from ..api.deps import IntId, TextId
from ..api.sessions import Session
from ..core.DB_Management.stores import NotFound, StoreError
from ..core.DB_Management.stores.errors import Conflict
from ..core.DB_Management.stores.workflows import (
    TERMINAL_STATUSES,
    WAITING_STATUSES,
    RunStatus,
    WorkflowStore,
)
from ..core.text import storable_json
from ..core.Workflows.api import (
    Decision,
    own_run,
    public_json,
    public_run,
    visible_definition,
)
from .guards import PageError, SignedIn, TextForm, TextFormSession
from .pages import page_router, render
from .user_pages import (
    PAGE_SIZE,
    PageNumber,
    form_page,
    list_page,
    not_found,
    offset_of,
    see,
    text_field,
)

router = page_router()
#: The most definitions the Workflows page lists (the API's default page).
MAX_DEFINITIONS = 100
#: Form fields that are not inputs of the run.
FORM_FIELDS = ("csrf",)


def _store(request: Request) -> WorkflowStore:
    """The store of the server's one workflows database, as the API's routes build it."""
    return WorkflowStore(request.app.state.registry.workflows())


def _no_run(session: Session) -> PageError:
    return not_found(session, "Run not found", "There is no such run among yours.")


def _no_workflow(session: Session) -> PageError:
    return not_found(session, "Workflow not found", "There is no such workflow among yours.")


def _refused(request: Request, session: Session, title: str, exc: Exception) -> Response:
    """The page of a change refused: why, as 409 when the run is past it (no longer
    waiting, already ended), else 422 (a bad field)."""
    late = isinstance(exc, Conflict)
    code = status.HTTP_409_CONFLICT if late else status.HTTP_422_UNPROCESSABLE_CONTENT
    return render(request, "error.html", session, code, title=title, message=str(exc))


@router.get("/workflows", response_model=None)
def workflows_page(request: Request, session: SignedIn) -> Response:
    definitions = _store(request).list_definitions(
        owner_id=session.user_id, latest_only=True, limit=MAX_DEFINITIONS
    )
    return render(request, "workflows.html", session, definitions=definitions)


# -- starting a run ---------------------------------------------------------------------------


def input_fields(definition: dict[str, Any]) -> dict[str, str]:
    """The run form's fields: each default input of *definition*, as the text to edit (a
    text as itself, any other value as its JSON)."""
    defaults = definition["definition"].get("inputs") or {}
    return {
        name: value if isinstance(value, str) else json.dumps(value)
        for name, value in defaults.items()
    }


def form_inputs(definition: dict[str, Any], form: dict[str, str]) -> dict[str, Any]:
    """The run's inputs from a posted form: a text input as typed; any other input (its
    default a number, list, object...) read as JSON. ValueError naming a bad field."""
    defaults = definition["definition"].get("inputs") or {}
    inputs: dict[str, Any] = {}
    for name, default in defaults.items():
        typed = text_field(form, f"input-{name}")
        if isinstance(default, str):
            inputs[name] = typed
            continue
        try:
            inputs[name] = json.loads(typed)
        except json.JSONDecodeError:
            raise ValueError(f"{name}: not JSON (a number, true, a list...)") from None
    return storable_json(inputs)  # what the API's JsonObject accepts (no NUL, say)


def _run_form(
    request: Request,
    session: Session,
    definition: dict[str, Any],
    fields: dict[str, str],
    *why: Any,
) -> Response:
    """The run form of *definition*, filled with *fields*; *why*: why no run started."""
    template = "workflow_run_form.html"
    return form_page(request, session, template, fields, *why, definition=definition)


@router.get("/workflows/{workflow_id}/run", response_model=None)
def run_form(request: Request, workflow_id: IntId, session: SignedIn) -> Response:
    try:
        definition = visible_definition(_store(request), workflow_id, session.user_id)
    except NotFound:
        raise _no_workflow(session) from None
    return _run_form(request, session, definition, input_fields(definition))


@router.post("/workflows/{workflow_id}/run", response_model=None)
def start_run(
    request: Request, workflow_id: IntId, session: TextFormSession, form: TextForm
) -> Response:
    store = _store(request)
    try:
        definition = visible_definition(store, workflow_id, session.user_id)
    except NotFound:
        raise _no_workflow(session) from None
    typed = {k.removeprefix("input-"): v for k, v in form.items() if k not in FORM_FIELDS}
    try:
        run, _ = store.submit_run_with_status(
            workflow_id,
            form_inputs(definition, form),
            user_id=session.user_id,
            for_user=session.user_id,
        )
    except NotFound:
        raise _no_workflow(session) from None
    except (StoreError, ValueError) as exc:
        why = (str(exc), status.HTTP_422_UNPROCESSABLE_CONTENT)
        return _run_form(request, session, definition, typed, *why)
    return see(f"/workflows/runs/{run['run_id']}")


# -- runs -------------------------------------------------------------------------------------


#: Every status a run may be in, in the order the filter offers them.
RUN_STATUSES = tuple(RunStatus)
StatusFilter = Annotated[str, Query(max_length=40)]


def _statuses(session: Session, wanted: str) -> list[str] | None:
    """The statuses to list (all when *wanted* is empty); a 422 page for an unknown one."""
    if not wanted:
        return None
    if wanted not in RUN_STATUSES:
        known = ", ".join(RUN_STATUSES)
        raise PageError(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            "This address cannot be shown",
            f"The address asks for runs in a status there is none of: status must be one of "
            f"{known} (or left out for every run).",
            session,
        )
    return [wanted]


@router.get("/workflows/runs", response_model=None)
def runs_page(
    request: Request, session: SignedIn, status: StatusFilter = "", page: PageNumber = 1
) -> Response:
    """The user's runs, newest first, maybe of one status; ``static/workflow_runs.js``
    keeps the page's rows current from ``GET /api/v1/workflows/runs``."""
    statuses = _statuses(session, status)
    store = _store(request)
    offset = offset_of(page)
    runs = store.list_runs(status=statuses, user_id=session.user_id, limit=PAGE_SIZE, offset=offset)
    total = store.count_runs(status=statuses, user_id=session.user_id)
    return list_page(
        request,
        session,
        "workflow_runs.html",
        runs,
        page=page,
        params={"status": status},
        total=total,
        statuses=RUN_STATUSES,
    )


@router.get("/workflows/runs/{run_id}", response_model=None)
def run_page(request: Request, run_id: TextId, session: SignedIn) -> Response:
    store = _store(request)
    try:
        run = own_run(store, run_id, session.user_id)
    except NotFound:
        raise _no_run(session) from None
    # As the API answers them (instants in its one form): the script redraws them alike.
    return render(
        request,
        "workflow_run.html",
        session,
        run=public_run(run),
        steps=public_json(store.list_steps(run_id)),
        artifacts=public_json(store.list_artifacts(run_id)),
        events=public_json(store.list_events(run_id)),
        ended=run["status"] in TERMINAL_STATUSES,
        waiting=run["status"] in WAITING_STATUSES,
        terminal=list(TERMINAL_STATUSES),
        waiting_statuses=list(WAITING_STATUSES),
    )


def _change_run(
    request: Request,
    session: Session,
    run_id: str,
    title: str,
    change: Callable[[WorkflowStore, str], object],
) -> Response:
    """Apply *change* (given the store and the user) to the user's run *run_id*, then back
    to its page; another user's run is "not found", a refused change a 409 page *title*."""
    store = _store(request)
    try:
        own_run(store, run_id, session.user_id)
        change(store, session.user_id)
    except NotFound:
        raise _no_run(session) from None
    except (StoreError, ValueError) as exc:
        return _refused(request, session, title, exc)
    return see(f"/workflows/runs/{run_id}")


def decision_of(form: dict[str, str]) -> Decision:
    """The decision a form posts, checked as the API checks its body: an optional comment
    (5000 characters at most) and an optional payload, a JSON object. ValueError naming
    the field otherwise."""
    typed = text_field(form, "payload").strip()
    try:
        payload = json.loads(typed) if typed else {}
    except json.JSONDecodeError:
        raise ValueError('payload: not JSON; give an object such as {"channel": "web"}') from None
    if not isinstance(payload, dict):
        raise ValueError('payload: must be a JSON object such as {"channel": "web"}')
    try:
        return Decision(comment=text_field(form, "comment").strip() or None, payload=payload)
    except ValidationError as exc:
        field = str(exc.errors()[0]["loc"][0]) if exc.errors()[0]["loc"] else ""
        if field == "comment":
            raise ValueError("the comment is too long: 5000 characters at most") from None
        raise ValueError("payload: holds a value no database stores (a NUL, say)") from None


def _decide(
    request: Request, session: Session, run_id: str, form: dict[str, str], approved: bool
) -> Response:
    """Approve or reject the user's waiting run, as ``POST .../approve`` and ``.../reject``."""

    def decide(store: WorkflowStore, user_id: str) -> object:
        return decision_of(form).resolve(store, run_id, approved=approved, decided_by=user_id)

    return _change_run(request, session, run_id, "Not decided", decide)


@router.post("/workflows/runs/{run_id}/approve", response_model=None)
def approve_run(
    request: Request, run_id: TextId, session: TextFormSession, form: TextForm
) -> Response:
    return _decide(request, session, run_id, form, True)


@router.post("/workflows/runs/{run_id}/reject", response_model=None)
def reject_run(
    request: Request, run_id: TextId, session: TextFormSession, form: TextForm
) -> Response:
    return _decide(request, session, run_id, form, False)


@router.post("/workflows/runs/{run_id}/cancel", response_model=None)
def cancel_run(request: Request, run_id: TextId, session: TextFormSession) -> Response:
    """Cancel the user's run, as ``POST .../cancel`` does."""

    def cancel(store: WorkflowStore, user_id: str) -> object:
        return store.cancel_run(run_id, reason=f"cancelled by {user_id}")

    return _change_run(request, session, run_id, "Not cancelled", cancel)


__all__ = ["router"]
