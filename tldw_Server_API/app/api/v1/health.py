"""``GET /api/v1/health`` (no authentication): does every database answer?

Per database: its backend, its schema version and whether a ``SELECT 1``
through its handle succeeds. The answer names no host, path or user: it is
for load balancers and monitors, and is served without a key. 200 when every
database answers, 503 otherwise.

The databases checked are the server's (Analytics, Workflows) and, in single-user
mode, the one user's (Media, ChaChaNotes). In multi-user mode users' databases
open on first use: health opens none of them, and says how many users' databases
are open (``open_users``).

While the server runs a workflow runtime (``TLDW_WORKFLOW_WORKERS`` > 0) and no
workflow worker has sent a heartbeat within one lease, queued runs are not
progressing: the status is then ``degraded`` (still 200: the API itself
serves) with a ``reason``, and ``ok`` again once a worker heartbeats.
"""

import logging
import time

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel
from sqlalchemy import text

from ...core.DB_Management.backends.base import Database
from ...core.DB_Management.registry import DatabaseRegistry
from ...core.DB_Management.stores.workflows import DEFAULT_LEASE_SECONDS, WorkflowStore

router = APIRouter(prefix="/api/v1", tags=["health"])
log = logging.getLogger("tldw_server.api")


class DatabaseHealth(BaseModel):
    name: str
    backend: str
    schema_version: int
    ok: bool
    latency_ms: float | None = None
    error: str | None = None


class Health(BaseModel):
    status: str
    backend: str
    databases: list[DatabaseHealth]
    open_users: int
    reason: str | None = None
    #: How nearest-neighbour search runs here (an HNSW index, or an exact scan and why).
    vector_search: str | None = None


def server_databases(registry: DatabaseRegistry) -> list[Database]:
    """The server's own databases (a user's open on first use, and are checked then)."""
    return [
        registry.analytics(),
        registry.workflows(),
        registry.users(),
    ]


def select_one(database: Database) -> None:
    with database.begin(write=False) as conn:
        conn.execute(text("SELECT 1")).scalar_one()


def check(database: Database) -> DatabaseHealth:
    """Whether *database* answers ``SELECT 1``, asked twice before saying no: after the
    database server restarted, the first attempt meets a pooled connection it ended, and
    the pool discards its connections on that error, so the second one opens a new one."""
    started = time.perf_counter()
    try:
        try:
            select_one(database)
        except Exception:
            select_one(database)
    except Exception as exc:
        log.warning("health: %s does not answer: %s", database.schema.title, exc)
        return DatabaseHealth(
            name=database.schema.title,
            backend=database.kind,
            schema_version=database.version,
            ok=False,
            error=exc.__class__.__name__,
        )
    return DatabaseHealth(
        name=database.schema.title,
        backend=database.kind,
        schema_version=database.version,
        ok=True,
        latency_ms=round((time.perf_counter() - started) * 1000, 3),
    )


@router.get("/health", response_model=Health)
def health(request: Request, response: Response) -> Health:
    registry: DatabaseRegistry = request.app.state.registry
    checks = []
    if registry.settings.auth_mode == "single_user":
        with registry.user() as user:
            checks += [check(db) for db in user.databases]
    checks += [check(db) for db in server_databases(registry)]
    open_users = len(registry.user_cache.open_users())
    healthy = all(c.ok for c in checks)
    if not healthy:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        return Health(
            status="unavailable", backend=registry.kind, databases=checks, open_users=open_users
        )
    reason = None
    if request.app.state.workflow_runtime is not None:
        reason = workers_problem(registry.workflows())
    return Health(
        status="degraded" if reason else "ok",
        backend=registry.kind,
        databases=checks,
        open_users=open_users,
        reason=reason,
        vector_search=vector_search(registry.analytics()),
    )


def vector_search(database: Database) -> str | None:
    """How vector search runs on the content backend (None if that cannot be read)."""
    try:
        with database.begin(write=False) as conn:
            return database.dialect.vector_index(conn).support.detail
    except Exception as exc:
        log.warning("health: cannot tell how vectors are searched: %s", exc.__class__.__name__)
        return None


def workers_problem(database: Database) -> str | None:
    """Why queued runs are not progressing (no worker heartbeat within a lease), or None."""
    try:
        live = WorkflowStore(database).list_workers(live_within_seconds=DEFAULT_LEASE_SECONDS)
    except Exception as exc:
        log.warning("health: cannot read the workflow workers: %s", exc.__class__.__name__)
        return "the workflow workers cannot be read"
    if live:
        return None
    return (
        f"no workflow worker has sent a heartbeat in the last {DEFAULT_LEASE_SECONDS:g} s: "
        "queued runs are not progressing"
    )
