"""The app factory. Each app owns its engine and service (no module-level engine).

Other parts (OGC API, web pages) plug in through `PLUGINS`; a missing module is skipped.
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

import truce
from truce.api import errors
from truce.api.deps import Authenticator
from truce.api.routes import router as api_router
from truce.api.settings import Settings
from truce.service import AgreementRegistry, Service
from truce.store import heap
from truce.store.engine import make_engine
from truce.store.migrate import upgrade
from truce.store.watermark import Watermark

log = logging.getLogger("truce.api")

# Parts owned by others, plugged in when they exist: (module, attribute). The
# attribute is an APIRouter to include, or a function `mount(app)`.
PLUGINS: tuple[tuple[str, str], ...] = (
    ("truce.api.terms_routes", "router"),  # sites and the sign-up registry
    ("truce.api.ogc.routes", "mount"),
    ("truce.web.routes", "mount_web"),
    ("truce.api.offline_docs", "mount"),  # /docs and /redoc without outside hosts
    ("truce.web.guide", "mount_guide"),  # the users' guide at /guide
    ("truce.api.signin", "mount"),  # one-time sign-in links (truce serve --demo)
    ("truce.api.exchange", "mount"),
)


def create_app(settings: Settings | None = None, *, service: Service | None = None) -> FastAPI:
    """A ready app: migrations applied, agreements loaded, routes mounted."""
    settings = settings or Settings.from_env()
    if service is None:
        engine = make_engine(settings.database_url)
        if settings.migrate:
            upgrade(engine)
        service = Service(
            engine,
            AgreementRegistry.load(settings.agreement_files),
            refresh_wait_s=settings.refresh_wait_ms / 1000,
            compute_process=settings.compute_process,
        )

    watermark = Watermark(service.engine, settings.freshness_ms / 1000)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.warm and hasattr(app.state, "ogc"):
            threading.Thread(target=_warm, args=(app,), name="truce-warm", daemon=True).start()
        yield
        service.evaluations.close()
        watermark.close()
        service.engine.dispose()

    app = FastAPI(
        title="truce",
        version=truce.__version__,
        description="Monitor and verify ceasefires: the REST API of docs/api.md.",
        lifespan=lifespan,
        docs_url=None,  # served by truce.api.offline_docs
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.service = service
    app.state.watermark = watermark
    app.state.auth = Authenticator(service, watermark)
    errors.install(app)
    app.include_router(api_router)
    for name, attribute in PLUGINS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        plugin = getattr(module, attribute, None)
        if isinstance(plugin, APIRouter):
            app.include_router(plugin)
        elif callable(plugin):
            plugin(app)
    return app


def _warm(app: FastAPI) -> None:
    """Start-up: load the snapshots and OGC indexes while the server already answers
    (requests that need them wait for them)."""
    try:
        app.state.ogc.warm()
    except Exception:
        log.exception("warming the OGC index failed; it will be built on first use")


def create_app_from_env() -> FastAPI:
    """`create_app(Settings.from_env())`, for uvicorn's `--factory` (worker processes)."""
    heap.server_heap()
    return create_app()
