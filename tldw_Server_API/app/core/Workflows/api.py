"""The workflows HTTP API: ``build_router(get_registry, get_user_id)``.

The app provides two dependencies: ``get_registry`` returns the server's
:class:`~...DB_Management.registry.DatabaseRegistry`, and ``get_user_id`` the
authenticated user's id (both may themselves take FastAPI dependencies). Runs
are visible to the user who submitted them; definitions to their owner, and to
everyone when their visibility is not ``private``. Names and versions are per
owner: two users' "payroll" are two workflows, each from version 1.

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

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Header, HTTPException, Path, Query, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.encoders import jsonable_encoder
from pydantic import BaseModel, ConfigDict, Field

from ..DB_Management.instants import format_instant
from ..DB_Management.registry import DatabaseRegistry
from ..DB_Management.stores.errors import InvalidInput, NotFound, StoreError
from ..DB_Management.stores.workflows import Conflict, WorkflowStore, visible_to
from ..text import JsonObject, StorableText
from .definitions import VISIBILITIES, DefinitionError, definition_json_schema, parse_definition
from .engine import resolve_human
from .runtime import DEFAULT_HEARTBEAT_SECONDS, DEFAULT_LEASE_SECONDS, RunWaiter, is_settled

PREFIX = "/api/v1/workflows"
MAX_SYNC_TIMEOUT = 300.0


class RunRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    inputs: JsonObject = Field(default_factory=dict)
    idempotency_key: StorableText | None = Field(default=None, min_length=1, max_length=200)


class Decision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    comment: StorableText | None = Field(default=None, max_length=5000)
    payload: JsonObject = Field(default_factory=dict)


MAX_ID = 2**63 - 1  # ids are BIGINT on PostgreSQL, 64-bit integers on SQLite
MAX_OFFSET = 1_000_000_000
WorkflowIdPath = Annotated[int, Path(ge=1, le=MAX_ID)]


def _error(exc: Exception) -> HTTPException:
    if isinstance(exc, NotFound):
        return HTTPException(status.HTTP_404_NOT_FOUND, str(exc))
    if isinstance(exc, Conflict):
        return HTTPException(status.HTTP_409_CONFLICT, str(exc))
    if isinstance(exc, DefinitionError):
        return HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            {"message": "invalid workflow definition", "problems": exc.problems},
        )
    if isinstance(exc, InvalidInput | ValueError):
        return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc))
    raise exc


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


def _public_run(run: dict[str, Any]) -> dict[str, Any]:
    return public_json({k: v for k, v in run.items() if k != "claim"})


def build_router(
    get_registry: Callable[..., DatabaseRegistry],
    get_user_id: Callable[..., str],
) -> APIRouter:
    """The workflows routes, with the app's registry and authentication dependencies."""
    # No ``from __future__ import annotations`` in this module: FastAPI reads these
    # local aliases from the live annotations.
    router = APIRouter(prefix=PREFIX, tags=["workflows"])
    Registry = Annotated[DatabaseRegistry, Depends(get_registry)]
    UserId = Annotated[str, Depends(get_user_id)]

    async def get_store(registry: Registry) -> WorkflowStore:
        return WorkflowStore(registry.workflows())

    Store = Annotated[WorkflowStore, Depends(get_store)]

    def visible_definition(store: WorkflowStore, workflow_id: int, user_id: str) -> dict[str, Any]:
        definition = store.get_definition(workflow_id)
        if not visible_to(definition, user_id):
            raise NotFound("workflows", workflow_id)
        return definition

    def own_run(store: WorkflowStore, run_id: str, user_id: str) -> dict[str, Any]:
        run = store.get_run(run_id)
        if run["user_id"] != user_id:
            raise NotFound("workflow_runs", run_id)
        return run

    # -- status (before the /{workflow_id} routes) ------------------------------------
    @router.get("/status")
    def workflow_status(
        registry: Registry,
        user_id: UserId,
    ) -> dict[str, Any]:
        store = WorkflowStore(registry.workflows())
        settings = registry.settings
        configured = {
            "pool_size": settings.workflow_db_pool_size,
            "max_overflow": settings.workflow_db_max_overflow,
            "timeout": settings.workflow_db_timeout,
        }
        summary = store.status_summary()
        summary["pool"]["configured"] = configured
        summary["pool"]["applies"] = store.database.kind == "postgresql"
        summary["lease"] = {
            "lease_seconds": DEFAULT_LEASE_SECONDS,
            "heartbeat_seconds": DEFAULT_HEARTBEAT_SECONDS,
        }
        if not settings.is_admin(user_id):
            without_internals(summary)
        return public_json(summary)

    # -- runs ---------------------------------------------------------------------------
    @router.get("/runs")
    def list_runs(
        store: Store,
        user_id: UserId,
        status_filter: Annotated[
            str | None,
            Query(alias="status", description="one status, or several comma-separated"),
        ] = None,
        workflow_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
        offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    ) -> dict[str, Any]:
        statuses = None
        if status_filter:
            statuses = [s.strip() for s in status_filter.split(",") if s.strip()]
        runs = store.list_runs(
            status=statuses, workflow_id=workflow_id, user_id=user_id, limit=limit, offset=offset
        )
        total = store.count_runs(status=statuses, workflow_id=workflow_id, user_id=user_id)
        return {
            "runs": [_public_run(r) for r in runs],
            "total": total,
            "limit": limit,
            "offset": offset,
        }

    @router.get("/runs/{run_id}")
    def get_run(run_id: str, store: Store, user_id: UserId) -> dict[str, Any]:
        try:
            return _public_run(own_run(store, run_id, user_id))
        except StoreError as exc:
            raise _error(exc) from None

    @router.get("/runs/{run_id}/steps")
    def get_steps(run_id: str, store: Store, user_id: UserId) -> dict[str, Any]:
        try:
            own_run(store, run_id, user_id)
        except StoreError as exc:
            raise _error(exc) from None
        return public_json({"run_id": run_id, "steps": store.list_steps(run_id)})

    @router.get("/runs/{run_id}/events")
    def get_events(
        run_id: str,
        store: Store,
        user_id: UserId,
        after_seq: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
        limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    ) -> dict[str, Any]:
        try:
            own_run(store, run_id, user_id)
        except StoreError as exc:
            raise _error(exc) from None
        events = store.list_events(run_id, after_seq=after_seq, limit=limit)
        return public_json({"run_id": run_id, "events": events})

    @router.get("/runs/{run_id}/artifacts")
    def get_artifacts(run_id: str, store: Store, user_id: UserId) -> dict[str, Any]:
        try:
            own_run(store, run_id, user_id)
        except StoreError as exc:
            raise _error(exc) from None
        return public_json({"run_id": run_id, "artifacts": store.list_artifacts(run_id)})

    @router.post("/runs/{run_id}/cancel")
    def cancel_run(run_id: str, store: Store, user_id: UserId) -> dict[str, Any]:
        try:
            own_run(store, run_id, user_id)
            return _public_run(store.cancel_run(run_id, reason=f"cancelled by {user_id}"))
        except StoreError as exc:
            raise _error(exc) from None

    def _decide(
        store: WorkflowStore, run_id: str, user_id: str, decision: Decision | None, approved: bool
    ) -> dict[str, Any]:
        decision = decision or Decision()
        try:
            own_run(store, run_id, user_id)
            run = resolve_human(
                store,
                run_id,
                approved=approved,
                decided_by=user_id,
                comment=decision.comment,
                payload=decision.payload,
            )
        except StoreError as exc:
            raise _error(exc) from None
        return _public_run(run)

    @router.post("/runs/{run_id}/approve")
    def approve_run(
        run_id: str,
        store: Store,
        user_id: UserId,
        decision: Annotated[Decision | None, Body()] = None,
    ) -> dict[str, Any]:
        return _decide(store, run_id, user_id, decision, True)

    @router.post("/runs/{run_id}/reject")
    def reject_run(
        run_id: str,
        store: Store,
        user_id: UserId,
        decision: Annotated[Decision | None, Body()] = None,
    ) -> dict[str, Any]:
        return _decide(store, run_id, user_id, decision, False)

    # -- definitions ----------------------------------------------------------------------
    @router.post("", status_code=status.HTTP_201_CREATED)
    def create_workflow(
        document: Annotated[JsonObject, Body(json_schema_extra=definition_json_schema())],
        store: Store,
        user_id: UserId,
    ) -> dict[str, Any]:
        body = dict(document)
        visibility = body.pop("visibility", "private")
        if visibility not in VISIBILITIES:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT,
                "visibility must be one of private, team, org, public",
            )
        try:
            definition = parse_definition(body)
            created = store.create_definition(
                definition.name,
                definition.to_document(),
                owner_id=user_id,
                description=definition.description,
                tags=definition.tags,
                visibility=visibility,
            )
        except (DefinitionError, StoreError) as exc:
            raise _error(exc) from None
        return public_json(created)

    @router.get("")
    def list_workflows(
        store: Store,
        user_id: UserId,
        name: StorableText | None = None,
        all_versions: bool = False,
        include_inactive: bool = False,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
        offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
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
    def get_workflow(
        workflow_id: WorkflowIdPath,
        store: Store,
        user_id: UserId,
    ) -> dict[str, Any]:
        try:
            return public_json(visible_definition(store, workflow_id, user_id))
        except StoreError as exc:
            raise _error(exc) from None

    @router.delete("/{workflow_id}")
    def deactivate_workflow(
        workflow_id: WorkflowIdPath,
        store: Store,
        user_id: UserId,
    ) -> dict[str, Any]:
        try:
            definition = visible_definition(store, workflow_id, user_id)
            if definition["owner_id"] != user_id:
                raise HTTPException(status.HTTP_403_FORBIDDEN, "only the owner may deactivate it")
            return public_json(store.deactivate_definition(workflow_id))
        except StoreError as exc:
            raise _error(exc) from None

    waiter = RunWaiter()

    @router.post("/{workflow_id}/run", status_code=status.HTTP_202_ACCEPTED)
    async def run_workflow(
        workflow_id: WorkflowIdPath,
        response: Response,
        store: Store,
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
        The sync wait holds no thread (see :class:`.runtime.RunWaiter`); the
        submission itself runs on the thread pool, off the event loop.
        """
        request = request or RunRequest()
        key = request.idempotency_key or idempotency_header
        try:
            run, created = await run_in_threadpool(
                store.submit_run_with_status,
                workflow_id,
                request.inputs,
                user_id=user_id,
                idempotency_key=key,
                for_user=user_id,
            )
        except StoreError as exc:
            raise _error(exc) from None
        if mode == "sync":
            run = await waiter.wait(store, run["run_id"], timeout)
            if is_settled(run):
                response.status_code = status.HTTP_200_OK
        return {"created": created, "run": _public_run(run)}

    return router


__all__ = ["PREFIX", "build_router"]
