"""The app factory. Each app owns its engine and service (no module-level engine).

Other parts (OGC API, web pages) plug in through `PLUGINS`; a missing module is skipped.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

import truce
from truce.api import errors
from truce.api.routes import router as api_router
from truce.api.settings import Settings
from truce.service import AgreementRegistry, Service
from truce.store.engine import make_engine
from truce.store.migrate import upgrade

log = logging.getLogger("truce.api")

# Parts owned by others, plugged in when they exist: (module, attribute). The
# attribute is an APIRouter to include, or a function `mount(app)`.
PLUGINS: tuple[tuple[str, str], ...] = (
    ("truce.api.ogc_routes", "mount"),
    ("truce.web.routes", "mount_web"),
)


def create_app(settings: Settings | None = None, *, service: Service | None = None) -> FastAPI:
    """A ready app: migrations applied, agreements loaded, routes mounted."""
    settings = settings or Settings.from_env()
    if service is None:
        engine = make_engine(settings.database_url)
        if settings.migrate:
            upgrade(engine)
        service = Service(engine, AgreementRegistry.load(settings.agreement_files))

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        service.engine.dispose()

    app = FastAPI(
        title="truce",
        version=truce.__version__,
        description="Monitor and verify ceasefires: the REST API of docs/api.md.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.service = service
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
