"""Version 1 of the HTTP API: one router per resource."""

from fastapi import APIRouter

from . import analytics, characters, chats, health, media, notes, rag

ROUTERS: tuple[APIRouter, ...] = (
    health.router,
    media.router,
    notes.router,
    characters.router,
    chats.router,
    analytics.router,
    rag.router,
)

__all__ = ["ROUTERS"]
