"""The app factory: ``create_app(settings)``, the FastAPI application of one server.

Settings come from the environment, then ``Config_Files/config.txt``, then defaults
(see docs/configuration.md); what happens at start-up and shutdown is :mod:`.lifespan`.
"""

from __future__ import annotations

import importlib

from fastapi import FastAPI

from .api.auth import build_auth
from .api.errors import ERROR_RESPONSES, BodySizeLimit, install_error_handlers
from .api.probes import router as probes_router
from .api.v1 import ROUTERS
from .core.config import Settings, load_settings
from .lifespan import lifespan
from .web import install_web
from .workflows_package import WORKFLOWS_PACKAGE, workflows_module_installed


def create_app(settings: Settings | None = None) -> FastAPI:
    """The FastAPI application for *settings* (default: loaded from the environment).

    Raises :class:`~.core.config.ConfigError` for invalid settings or API keys,
    before anything starts.
    """
    settings = settings or load_settings()
    auth = build_auth(settings)
    app = FastAPI(
        title="tldw_server",
        version="0.1.0",
        summary="Media, notes, chats, search, analytics and workflows on SQLite or PostgreSQL.",
        lifespan=lifespan,
        responses=ERROR_RESPONSES,
        docs_url=None,  # served offline by install_web
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.auth = auth
    app.state.workflow_runtime = None
    install_error_handlers(app)
    for router in (*ROUTERS, probes_router):
        app.include_router(router)
    if workflows_module_installed("api"):
        workflows_api = importlib.import_module(f"{WORKFLOWS_PACKAGE}.api")
        app.include_router(workflows_api.router)
    install_web(app)
    app.add_middleware(BodySizeLimit, limit=settings.max_request_bytes)
    return app
