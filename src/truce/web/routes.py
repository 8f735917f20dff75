"""Pages (`/`, `/dashboard`, `/submit`, `/bulletins`) and static files (`/static`) for the web UI.

The pages are thin HTML shells; everything they show comes from the REST API
(docs/api.md) through the JS modules in `static/js`, with the user's own token.
Leaflet and Leaflet.markercluster are served from the installed XStatic
packages, so the UI works on a closed network: no CDN, no tiles by default.

Settings (read when `mount_web` is called):

- `TRUCE_TILE_URL`: an XYZ tile URL template (`https://tiles.example/{z}/{x}/{y}.png`)
  for deployments that have a tile server; empty (default) draws a plain background
  with place labels from the gazetteer.
- `TRUCE_TILE_ATTRIBUTION`: attribution text shown with those tiles.
- `TRUCE_DEFAULT_AGREEMENT`: the agreement a first-time visitor sees (`make demo`
  sets it to the demo's); otherwise the first one listed.

An app can also set `app.state.settings` with `tile_url` / `tile_attribution`
attributes; those win over the environment.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import xstatic.pkg.leaflet as xs_leaflet
import xstatic.pkg.leaflet_markercluster as xs_markercluster
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

__all__ = ["WebSettings", "mount_web", "web_settings"]

WEB_DIR = Path(__file__).parent
STATIC_DIR = WEB_DIR / "static"
TEMPLATES_DIR = WEB_DIR / "templates"

PAGES: dict[str, tuple[str, str]] = {
    # path: (template, title)
    "/": ("map.html", "Map"),
    "/dashboard": ("dashboard.html", "Dashboard"),
    "/submit": ("submit.html", "Submit a report"),
    "/bulletins": ("bulletins.html", "Bulletins"),
}
# Pages reached by a link, not from the navigation.
HIDDEN_PAGES: dict[str, tuple[str, str]] = {
    "/signin": ("signin.html", "Sign in"),  # redeems `truce serve --demo`'s one-time link
}


@dataclass(frozen=True)
class WebSettings:
    tile_url: str = ""
    tile_attribution: str = ""
    default_agreement: str = ""


def web_settings(app: FastAPI) -> WebSettings:
    """The UI's settings: `app.state.settings` attributes first, then the environment."""
    app_settings = getattr(app.state, "settings", None)

    def pick(name: str, env: str) -> str:
        value = getattr(app_settings, name, None)
        if value is None:
            value = os.environ.get(env, "")
        return str(value or "")

    return WebSettings(
        tile_url=pick("tile_url", "TRUCE_TILE_URL"),
        tile_attribution=pick("tile_attribution", "TRUCE_TILE_ATTRIBUTION"),
        default_agreement=pick("default_agreement", "TRUCE_DEFAULT_AGREEMENT"),
    )


def mount_web(app: FastAPI) -> None:
    """Serve the map, dashboard and report form, and their static files, from `app`."""
    templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
    app.mount(
        "/static/vendor/leaflet",
        StaticFiles(directory=xs_leaflet.BASE_DIR),
        name="static-leaflet",
    )
    app.mount(
        "/static/vendor/leaflet-markercluster",
        StaticFiles(directory=xs_markercluster.BASE_DIR),
        name="static-leaflet-markercluster",
    )
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")

    def page(template: str, title: str, path: str) -> Any:
        async def render(request: Request) -> HTMLResponse:
            settings = web_settings(request.app)
            config = {
                "tileUrl": settings.tile_url,
                "tileAttribution": settings.tile_attribution,
                "defaultAgreement": settings.default_agreement,
            }
            return templates.TemplateResponse(
                request,
                template,
                {
                    "title": title,
                    "path": path,
                    "pages": [(p, t) for p, (_, t) in PAGES.items()],
                    "config": config,
                },
            )

        render.__name__ = f"web_{template.removesuffix('.html')}"
        return render

    for path, (template, title) in {**PAGES, **HIDDEN_PAGES}.items():
        app.add_api_route(
            path,
            page(template, title, path),
            methods=["GET"],
            response_class=HTMLResponse,
            include_in_schema=False,
        )
