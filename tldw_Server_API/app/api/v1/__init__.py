"""Version 1 of the HTTP API: one router per resource."""

from fastapi import APIRouter

from . import (
    analytics,
    auth,
    characters,
    chats,
    health,
    media,
    messages,
    migrations,
    notes,
    rag,
)

ROUTERS: tuple[APIRouter, ...] = (
    health.router,
    auth.router,
    media.router,
    notes.router,
    characters.router,
    chats.router,
    messages.router,
    analytics.router,
    migrations.router,
    rag.router,
)

__all__ = ["ROUTERS"]
