"""The users' guide (docs/, built by `make docs` with MkDocs) served at `/guide`.

The built site lives in `TRUCE_GUIDE_DIR`, by default `web/guide` inside this
package, where `make docs` (run by `make demo`) writes it, so an installed
package built after `make docs` carries it. Without a built site `/guide`
answers a short page saying how to build it, never a bare 404.
"""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

__all__ = ["GUIDE_URL", "guide_dir", "mount_guide"]

GUIDE_URL = "/guide"
DEFAULT_GUIDE_DIR = Path(__file__).parent / "guide"

_NOT_BUILT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Guide not built · truce</title>
<link rel="icon" href="data:,"></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto">
<h1>The guide has not been built</h1>
<p>The users' guide is the <code>docs/</code> folder of the truce repository. Build it with
<code>make docs</code> (or <code>mkdocs build</code>) and restart the server; it is then
served here. Meanwhile the API is described at <a href="/docs">/docs</a>.</p>
</body></html>"""


def guide_dir() -> Path:
    return Path(os.environ.get("TRUCE_GUIDE_DIR") or DEFAULT_GUIDE_DIR)


def mount_guide(app: FastAPI) -> None:
    """`/guide/...` from the built site, or the how-to-build page."""
    site = guide_dir()

    @app.get(GUIDE_URL, include_in_schema=False)
    async def guide_root() -> RedirectResponse:
        # Relative links in the site need the trailing slash.
        return RedirectResponse(f"{GUIDE_URL}/")

    if (site / "index.html").is_file():
        app.mount(GUIDE_URL, StaticFiles(directory=site, html=True), name="guide")
        return

    @app.get(GUIDE_URL + "/{path:path}", include_in_schema=False)
    async def guide_missing(path: str) -> HTMLResponse:
        return HTMLResponse(_NOT_BUILT, status_code=404)
