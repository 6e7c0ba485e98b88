"""The WebUI and the offline API documentation, served by ``tldw-server`` itself.

:func:`install_web` adds to an app: the session store, the pages (``pages.py``; a user's
data in ``library.py``, ``notes.py``, ``chats.py``, ``workflows.py``; what each page needs
first, a session or a form's token, in ``guards.py``), their static files
at ``/static/ui`` and the documentation at ``/docs`` and ``/redoc`` (``docs.py``). See docs/ui.md.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from ..api.sessions import SessionStore
from .chats import router as chats_router
from .docs import install_docs
from .library import router as library_router
from .notes import router as notes_router
from .pages import install_page_errors, router
from .workflows import router as workflows_router

STATIC = Path(__file__).parent / "static"


def install_web(app: FastAPI) -> None:
    """Serve the WebUI and the API documentation from *app*."""
    app.state.sessions = SessionStore()
    app.mount("/static/ui", StaticFiles(directory=STATIC), name="ui-assets")
    install_docs(app)
    install_page_errors(app)
    app.include_router(router)
    app.include_router(library_router)
    app.include_router(notes_router)
    app.include_router(chats_router)
    app.include_router(workflows_router)


__all__ = ["install_web"]
