"""`/docs` (Swagger UI) and `/redoc` served from installed files, never from a CDN.

FastAPI's own doc pages load Swagger UI, ReDoc and a favicon from outside
hosts, so on a closed network `/docs` is a blank page. The same assets ship in
the `fastapi-offline` package (MIT); this module serves them under
`/docs/assets` and builds the two pages with FastAPI's helpers. The app is
created with `docs_url=None, redoc_url=None` and calls `mount(app)`.
"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

__all__ = ["ASSETS_DIR", "STATIC_PREFIX", "mount"]

ASSETS_DIR = Path(fastapi_offline.__file__).parent / "static"
STATIC_PREFIX = "/docs/assets"
DOCS_URL = "/docs"
REDOC_URL = "/redoc"


def mount(app: FastAPI) -> None:
    """Serve the assets and the `/docs` and `/redoc` pages from `app`."""
    app.mount(STATIC_PREFIX, StaticFiles(directory=ASSETS_DIR), name="static-apidocs")
    redirect_url = app.swagger_ui_oauth2_redirect_url or f"{DOCS_URL}/oauth2-redirect"

    @app.get(DOCS_URL, include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} API",
            oauth2_redirect_url=f"{root}{redirect_url}",
            swagger_js_url=f"{root}{STATIC_PREFIX}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{STATIC_PREFIX}/swagger-ui.css",
            swagger_favicon_url=f"{root}{STATIC_PREFIX}/favicon.png",
            swagger_ui_parameters=app.swagger_ui_parameters,
        )

    @app.get(redirect_url, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get(REDOC_URL, include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_redoc_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} API",
            redoc_js_url=f"{root}{STATIC_PREFIX}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{STATIC_PREFIX}/favicon.png",
            with_google_fonts=False,
        )
