"""``GET /health`` and ``GET /ready`` (outside ``/api/v1``, no authentication), as tldw_server.

``/health`` answers ``{"status": "healthy"}`` while every server database and the
default user's answer a ``SELECT 1``, else 503 ``{"status": "unhealthy"}``.
``/ready`` answers ``{"status": "ready"}`` once start-up has opened the
databases and they answer, else 503 ``{"status": "not_ready"}``: a load
balancer sends traffic only then. Neither names a database, host or path;
``/api/v1/health`` has the per-database detail.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel

from ..core.DB_Management.registry import DatabaseRegistry
from .v1.health import check, server_databases

router = APIRouter(tags=["health"])


class Status(BaseModel):
    status: str


def databases_answer(request: Request) -> bool:
    """Whether start-up finished and every database of the server answers."""
    registry: DatabaseRegistry | None = getattr(request.app.state, "registry", None)
    if registry is None:
        return False
    try:
        databases = server_databases(registry)
    except Exception:  # a database that cannot even be opened does not answer
        return False
    return all(check(database).ok for database in databases)


def probe(request: Request, response: Response, good: str, bad: str) -> Status:
    """*good*, or *bad* with 503 when a database does not answer."""
    if databases_answer(request):
        return Status(status=good)
    response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return Status(status=bad)


@router.get("/health", response_model=Status)
def health(request: Request, response: Response) -> Status:
    return probe(request, response, "healthy", "unhealthy")


@router.get("/ready", response_model=Status)
def ready(request: Request, response: Response) -> Status:
    return probe(request, response, "ready", "not_ready")
