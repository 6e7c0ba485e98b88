"""The API documentation at ``/docs`` (Swagger UI) and ``/redoc`` (ReDoc), offline.

FastAPI's own pages load their scripts and styles from a CDN: a blank page on a server
without internet. These pages load them from the server itself, from the files the
``fastapi-offline`` package ships (Swagger UI's bundle and CSS, ReDoc's standalone
script), mounted at :data:`ASSETS`. No page of the server refers to another host.
"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, FastAPI
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = "/static/docs"
ASSET_DIR = Path(fastapi_offline.__file__).parent / "static"
OAUTH2_REDIRECT = "/docs/oauth2-redirect"
#: The documentation pages may load from this server only. ReDoc's bundle shows a logo from
#: its maker's CDN: this policy blocks that request (the bundle hides an image that fails).
#: Both pages start their script inline, and ReDoc runs a worker from a blob.
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; worker-src 'self' blob:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def local_only(page: HTMLResponse) -> HTMLResponse:
    page.headers["Content-Security-Policy"] = DOCS_CSP
    return page


def docs_router(app: FastAPI) -> APIRouter:
    """The two documentation pages of *app* (and Swagger UI's OAuth2 redirect page)."""
    router = APIRouter(include_in_schema=False)
    title = app.title
    openapi_url = app.openapi_url or "/openapi.json"

    @router.get("/docs")
    def swagger_ui() -> HTMLResponse:
        return local_only(
            get_swagger_ui_html(
                openapi_url=openapi_url,
                title=f"{title} - API",
                swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
                swagger_css_url=f"{ASSETS}/swagger-ui.css",
                swagger_favicon_url=f"{ASSETS}/favicon.png",
                oauth2_redirect_url=OAUTH2_REDIRECT,
                # No badge fetched from the public validator: nothing leaves the server.
                swagger_ui_parameters={"validatorUrl": None},
            )
        )

    @router.get(OAUTH2_REDIRECT)
    def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @router.get("/redoc")
    def redoc() -> HTMLResponse:
        return local_only(
            get_redoc_html(
                openapi_url=openapi_url,
                title=f"{title} - API",
                redoc_js_url=f"{ASSETS}/redoc.standalone.js",
                redoc_favicon_url=f"{ASSETS}/favicon.png",
                with_google_fonts=False,
            )
        )

    return router


def install_docs(app: FastAPI) -> None:
    """Serve the documentation pages and their assets (create the app with ``docs_url=None``
    and ``redoc_url=None``, so that FastAPI's CDN pages are not registered first)."""
    app.mount(ASSETS, StaticFiles(directory=ASSET_DIR), name="docs-assets")
    app.include_router(docs_router(app))
