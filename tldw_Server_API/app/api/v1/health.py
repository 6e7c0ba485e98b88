"""``GET /api/v1/health`` (no authentication): does every database answer?

Per database: its backend, its schema version and whether a ``SELECT 1``
through its handle succeeds. The answer names no host, path or user: it is
for load balancers and monitors, and is served without a key. 200 when every
database answers, 503 otherwise.
"""

import logging
import time

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel
from sqlalchemy import text

from ...core.DB_Management.backends.base import Database

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


def check(database: Database) -> DatabaseHealth:
    started = time.perf_counter()
    try:
        with database.begin(write=False) as conn:
            conn.execute(text("SELECT 1")).scalar_one()
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
    registry = request.app.state.registry
    databases = [registry.media(), registry.chacha(), registry.analytics(), registry.workflows()]
    checks = [check(db) for db in databases]
    healthy = all(c.ok for c in checks)
    if not healthy:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return Health(
        status="ok" if healthy else "unavailable", backend=registry.kind, databases=checks
    )
