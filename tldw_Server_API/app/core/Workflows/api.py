"""The workflows HTTP API: :data:`router`, included by the app.

Its routes take the server's registry and the authenticated user from the
app's own dependencies (:func:`...api.deps.get_registry`,
:func:`...api.auth.get_user_id`); a test app overrides those. A store error a
route lets through becomes its 4xx answer in the app's one error mapping
(``api/errors.py``). Runs are visible to the user who submitted them;
definitions to their owner, and to everyone when their visibility is not
``private``. Names and versions are per owner: two users' "payroll" are two
workflows, each from version 1.

==========================================  ==================================================
``POST /api/v1/workflows``                   create a definition (own name again: new version)
``GET  /api/v1/workflows``                   list definitions (newest version of each name)
``GET  /api/v1/workflows/{id}``              one definition
``DELETE /api/v1/workflows/{id}``            deactivate it (runs keep their snapshot)
``POST /api/v1/workflows/{id}/run``          queue a run (``?mode=sync`` waits for the result)
``GET  /api/v1/workflows/runs``              list runs (``status``, ``workflow_id``, paging)
``GET  /api/v1/workflows/runs/{run_id}``     one run; ``/steps``, ``/events``, ``/artifacts``
``POST /api/v1/workflows/runs/{run_id}/...`` ``cancel``, ``approve`` (or resume), ``reject``
``GET  /api/v1/workflows/status``            runtime heartbeat, workers, queue, pool
==========================================  ==================================================
"""

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import (
    APIRouter,
    Body,
    Depends,
    Header,
    HTTPException,
    Query,
    Request,
    Response,
    status,
)
from fastapi.concurrency import run_in_threadpool
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field

from ...api.auth import UserId
from ...api.deps import MAX_ID, MAX_OFFSET, IntId, Offset, Registry, TextId
from ..DB_Management.instants import format_instant
from ..DB_Management.stores.errors import NotFound
from ..DB_Management.stores.workflows import WorkflowStore, visible_to
from ..text import JsonObject, StorableText
from .definitions import VISIBILITIES, DefinitionError, definition_json_schema, parse_definition
from .engine import resolve_human
from .settling import RunWaiter, is_settled

PREFIX = "/api/v1/workflows"
MAX_SYNC_TIMEOUT = 300.0
#: The most rows one page of runs or definitions holds.
MAX_PAGE = 500


class RunRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    inputs: JsonObject = Field(default_factory=dict)
    idempotency_key: StorableText | None = Field(default=None, min_length=1, max_length=200)


class Decision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    comment: StorableText | None = Field(default=None, max_length=5000)
    payload: JsonObject = Field(default_factory=dict)

    def resolve(
        self, store: WorkflowStore, run_id: str, *, approved: bool, decided_by: str
    ) -> dict[str, Any]:
        """Approve or reject the waiting run *run_id* with this comment and payload (the API's
        and the web pages' one way to decide; the caller checks that the run is theirs)."""
        return resolve_human(
            store,
            run_id,
            approved=approved,
            decided_by=decided_by,
            comment=self.comment,
            payload=self.payload,
        )


def public_json(value: Any) -> Any:
    """*value* as JSON, instants in the API's one form (``2025-10-08T12:34:56.789Z``)."""
    return jsonable_encoder(value, custom_encoder={datetime: format_instant})


#: What ``/status`` shows only to an admin: where the server's database and workers are.
INTERNAL_STATUS_KEYS = ("database",)
INTERNAL_WORKER_KEYS = ("hostname", "pid")


def without_internals(summary: dict[str, Any]) -> None:
    """Drop from a status *summary* what tells a non-admin where the server runs."""
    for key in INTERNAL_STATUS_KEYS:
        summary.pop(key, None)
    for worker in summary.get("workers", ()):
        for key in INTERNAL_WORKER_KEYS:
            worker.pop(key, None)


def public_run(run: dict[str, Any]) -> dict[str, Any]:
    """A run as clients see it (API and WebUI): JSON-safe, without its worker's claim."""
    return public_json({k: v for k, v in run.items() if k != "claim"})


# -- dependencies ----------------------------------------------------------------------------


async def workflow_store(registry: Registry) -> WorkflowStore:
    """The store of the server's one workflows database (runs and definitions say whose)."""
    return WorkflowStore(registry.workflows())


async def run_waiter(request: Request) -> RunWaiter:
    """The app's one waiter for ``?mode=sync`` runs: its poller serves every waiting request."""
    waiter: RunWaiter | None = getattr(request.app.state, "workflow_run_waiter", None)
    if waiter is None:
        waiter = request.app.state.workflow_run_waiter = RunWaiter()
    return waiter


Store = Annotated[WorkflowStore, Depends(workflow_store)]
Waiter = Annotated[RunWaiter, Depends(run_waiter)]
PageSize = Annotated[int, Query(ge=1, le=MAX_PAGE)]


def visible_definition(store: WorkflowStore, workflow_id: int, user_id: str) -> dict[str, Any]:
    """The definition, when *user_id* may see it; else :class:`NotFound` (as if absent)."""
    definition = store.get_definition(workflow_id)
    if not visible_to(definition, user_id):
        raise NotFound("workflows", workflow_id)
    return definition


def own_run(store: WorkflowStore, run_id: str, user_id: str) -> dict[str, Any]:
    """The run, when *user_id* submitted it; else :class:`NotFound` (as if absent)."""
    run = store.get_run(run_id)
    if run["user_id"] != user_id:
        raise NotFound("workflow_runs", run_id)
    return run


router = APIRouter(prefix=PREFIX, tags=["workflows"])


# -- status (before the /{workflow_id} routes) ---------------------------------------------


@router.get("/status")
def workflow_status(registry: Registry, store: Store, user_id: UserId) -> dict[str, Any]:
    settings = registry.settings
    summary = store.status_summary()
    summary["pool"]["configured"] = {
        "pool_size": settings.workflow_db_pool_size,
        "max_overflow": settings.workflow_db_max_overflow,
        "timeout": settings.workflow_db_timeout,
    }
    summary["pool"]["applies"] = store.database.backend.pool_configurable
    summary["lease"] = {
        "lease_seconds": settings.workflow_lease_seconds,
        "heartbeat_seconds": settings.workflow_heartbeat_seconds,
    }
    if not settings.is_admin(user_id):
        without_internals(summary)
    return public_json(summary)


# -- runs ------------------------------------------------------------------------------------


@router.get("/runs")
def list_runs(
    store: Store,
    user_id: UserId,
    status_filter: Annotated[
        str | None,
        Query(alias="status", description="one status, or several comma-separated"),
    ] = None,
    workflow_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    limit: PageSize = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    statuses = None
    if status_filter:
        statuses = [s.strip() for s in status_filter.split(",") if s.strip()]
    runs = store.list_runs(
        status=statuses, workflow_id=workflow_id, user_id=user_id, limit=limit, offset=offset
    )
    total = store.count_runs(status=statuses, workflow_id=workflow_id, user_id=user_id)
    return {
        "runs": [public_run(r) for r in runs],
        "total": total,
        "limit": limit,
        "offset": offset,
    }


@router.get("/runs/{run_id}")
def get_run(run_id: TextId, store: Store, user_id: UserId) -> dict[str, Any]:
    return public_run(own_run(store, run_id, user_id))


@router.get("/runs/{run_id}/steps")
def get_steps(run_id: TextId, store: Store, user_id: UserId) -> dict[str, Any]:
    own_run(store, run_id, user_id)
    return public_json({"run_id": run_id, "steps": store.list_steps(run_id)})


@router.get("/runs/{run_id}/events")
def get_events(
    run_id: TextId,
    store: Store,
    user_id: UserId,
    after_seq: Annotated[
        int, Query(ge=0, le=MAX_OFFSET, description="only the events after this event_seq")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> dict[str, Any]:
    own_run(store, run_id, user_id)
    events = store.list_events(run_id, after_seq=after_seq, limit=limit)
    return public_json({"run_id": run_id, "events": events})


@router.get("/runs/{run_id}/artifacts")
def get_artifacts(run_id: TextId, store: Store, user_id: UserId) -> dict[str, Any]:
    own_run(store, run_id, user_id)
    return public_json({"run_id": run_id, "artifacts": store.list_artifacts(run_id)})


@router.post("/runs/{run_id}/cancel")
def cancel_run(run_id: TextId, store: Store, user_id: UserId) -> dict[str, Any]:
    own_run(store, run_id, user_id)
    return public_run(store.cancel_run(run_id, reason=f"cancelled by {user_id}"))


def _decide(
    store: WorkflowStore, run_id: str, user_id: str, decision: Decision | None, approved: bool
) -> dict[str, Any]:
    decision = decision or Decision()
    own_run(store, run_id, user_id)
    return public_run(decision.resolve(store, run_id, approved=approved, decided_by=user_id))


@router.post("/runs/{run_id}/approve")
def approve_run(
    run_id: TextId,
    store: Store,
    user_id: UserId,
    decision: Annotated[Decision | None, Body()] = None,
) -> dict[str, Any]:
    return _decide(store, run_id, user_id, decision, True)


@router.post("/runs/{run_id}/reject")
def reject_run(
    run_id: TextId,
    store: Store,
    user_id: UserId,
    decision: Annotated[Decision | None, Body()] = None,
) -> dict[str, Any]:
    return _decide(store, run_id, user_id, decision, False)


# -- definitions -----------------------------------------------------------------------------


@router.post("", status_code=status.HTTP_201_CREATED)
def create_workflow(
    document: Annotated[JsonObject, Body(json_schema_extra=definition_json_schema())],
    store: Store,
    user_id: UserId,
) -> dict[str, Any]:
    body = dict(document)
    visibility = body.pop("visibility", "private")
    if visibility not in VISIBILITIES:
        raise RequestValidationError(
            [
                {
                    "loc": ("body", "visibility"),
                    "msg": "must be one of private, team, org, public",
                    "type": "enum",
                }
            ]
        )
    try:
        definition = parse_definition(body)
    except DefinitionError as exc:
        # The request body's own validation, answered like any other: every problem
        # as a {loc, msg, type} entry of `errors`, summed up in `detail`.
        raise RequestValidationError(
            [{"loc": ("body", *p.loc), "msg": p.msg, "type": p.type} for p in exc.errors]
        ) from None
    created = store.create_definition(
        definition.name,
        definition.to_document(),
        owner_id=user_id,
        description=definition.description,
        tags=definition.tags,
        visibility=visibility,
    )
    return public_json(created)


@router.get("")
def list_workflows(
    store: Store,
    user_id: UserId,
    name: StorableText | None = None,
    all_versions: bool = False,
    include_inactive: bool = False,
    limit: PageSize = 100,
    offset: Offset = 0,
) -> dict[str, Any]:
    items = store.list_definitions(
        name=name,
        owner_id=user_id,
        include_inactive=include_inactive,
        latest_only=not all_versions,
        limit=limit,
        offset=offset,
    )
    return public_json({"workflows": items, "limit": limit, "offset": offset})


@router.get("/{workflow_id}")
def get_workflow(workflow_id: IntId, store: Store, user_id: UserId) -> dict[str, Any]:
    return public_json(visible_definition(store, workflow_id, user_id))


@router.delete("/{workflow_id}")
def deactivate_workflow(workflow_id: IntId, store: Store, user_id: UserId) -> dict[str, Any]:
    definition = visible_definition(store, workflow_id, user_id)
    if definition["owner_id"] != user_id:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "only the owner may deactivate it")
    return public_json(store.deactivate_definition(workflow_id))


@router.post("/{workflow_id}/run", status_code=status.HTTP_202_ACCEPTED)
async def run_workflow(
    workflow_id: IntId,
    response: Response,
    store: Store,
    waiter: Waiter,
    user_id: UserId,
    request: Annotated[RunRequest | None, Body()] = None,
    mode: Literal["async", "sync"] = "async",
    timeout: Annotated[float, Query(gt=0, le=MAX_SYNC_TIMEOUT)] = 30.0,
    idempotency_header: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> dict[str, Any]:
    """Queue a run; with ``mode=sync`` wait up to *timeout* seconds for it to settle.

    202 with the queued run (async, or sync when the timeout passed first);
    200 with the settled run (sync). ``created`` is false when the
    idempotency key (body or ``Idempotency-Key`` header) named an earlier run of the
    caller's (keys are per user: another user's key never finds a run of theirs).
    The sync wait holds no thread (see :class:`.settling.RunWaiter`); the
    submission itself runs on the thread pool, off the event loop.
    """
    request = request or RunRequest()
    key = request.idempotency_key or idempotency_header
    run, created = await run_in_threadpool(
        store.submit_run_with_status,
        workflow_id,
        request.inputs,
        user_id=user_id,
        idempotency_key=key,
        for_user=user_id,
    )
    if mode == "sync":
        run = await waiter.wait(store, run["run_id"], timeout)
        if is_settled(run):
            response.status_code = status.HTTP_200_OK
    return {"created": created, "run": public_run(run)}


__all__ = ["PREFIX", "router"]
