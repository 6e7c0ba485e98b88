"""What the server does when it starts and stops (the FastAPI lifespan).

Start-up, in order:

1. the server databases (and, in single-user mode, the one user's) opened,
   created or upgraded through one
   :class:`~.core.DB_Management.registry.DatabaseRegistry`, and one log line per
   database naming its backend, e.g. ``Media: PostgreSQL at
   127.0.0.1:5432/tldw_content (schema user_1_media), schema version 2 (created)``.
   In multi-user mode no user's databases open at start-up: each user's open on
   their first request (so start-up time and memory do not grow with the number
   of users), and only users an API key maps to ever get any;
2. the API keys announced (see :mod:`.api.auth`);
3. the workflow runtime (see :mod:`.supervision`).

Shutdown stops the runtime and closes every pool. A database that cannot be opened
is one log line and :class:`DatabaseUnavailable` (the server does not start).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from .api.auth import ApiKeyAuth
from .core.config import Settings
from .core.DB_Management.backends.base import Database
from .core.DB_Management.backends.unreachable import debug_enabled, is_open_failure
from .core.DB_Management.init_db import open_failure
from .core.DB_Management.registry import DatabaseRegistry
from .core.RAG.service import RagService
from .supervision import start_runtime

log = logging.getLogger("tldw_server")

BACKEND_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


def describe_database(registry: DatabaseRegistry, database: Database, multi_user: bool) -> str:
    """The start-up line of one database: its name, where it is, its schema version (no secret)."""
    name = database.schema.title
    if multi_user and database.user_id is not None:
        name = f"{name} (user {database.user_id})"
    state = registry.states.get((database.schema.name, database.user_id))
    outcome = ""
    if state is not None:
        outcome = f" ({state.outcome}"
        if state.outcome == "upgraded":
            outcome += f" from version {state.from_version}"
        outcome += ")"
    return f"{name}: {database.describe()}, schema version {database.version}{outcome}"


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Open the databases and start the runtime; stop and close them at shutdown."""
    settings: Settings = app.state.settings
    auth: ApiKeyAuth = app.state.auth
    registry = DatabaseRegistry(settings)
    app.state.registry = registry
    multi_user = settings.auth_mode == "multi_user"
    try:
        opened = registry.open_server() if multi_user else registry.open_all()
    except Exception as exc:
        registry.close()
        if not is_open_failure(exc):
            log.error("cannot open the %s databases", BACKEND_NAMES[registry.kind])
            raise
        unavailable = open_failure(exc, settings)
        log.error("%s", unavailable, exc_info=exc if debug_enabled() else None)
        raise unavailable from None
    log.info(
        "Content backend: %s (%s mode, %d user(s); databases of up to %d open at once)",
        BACKEND_NAMES[registry.kind],
        settings.auth_mode,
        len(auth.user_ids) if multi_user else 1,
        settings.user_cache_size,
    )
    for database in opened:
        log.info("%s", describe_database(registry, database, multi_user))
    auth.announce()
    runtime = None
    app.state.rag = RagService(registry, settings, registry.user_cache.open_users).start()
    try:
        runtime = start_runtime(registry, settings)
        app.state.workflow_runtime = runtime
        yield
    finally:
        app.state.rag.stop()
        if runtime is not None:
            runtime.stop(timeout=10.0)
            log.info("Workflow runtime: stopped")
        registry.close()
        log.info("Databases closed")
