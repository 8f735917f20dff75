"""The `/ogc` routes (OGC API – Features): one-line wrappers around `OgcApi`.

Access: the landing page and conformance are public (OGC clients probe them
before they know about tokens; they reveal nothing). Collections and items take
the same `Authorization: Bearer` token as `/api` and show what the REST API
shows to that user (observers: only published items). With the setting
`ogc_public` (`TRUCE_OGC_PUBLIC=1`) a request without a token reads as an
observer.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials
from starlette.concurrency import run_in_threadpool

from truce.api import ogc
from truce.api.deps import bearer
from truce.api.ogc_index import OgcApi
from truce.store.users import User

ANONYMOUS = User(
    id=-1,
    name="anonymous",
    role="observer",
    party=None,
    created_at=datetime(1970, 1, 1, tzinfo=UTC),
)


class GeoJSONResponse(JSONResponse):
    media_type = "application/geo+json"


# The dependencies are `async def` on purpose: FastAPI runs each sync dependency in
# the thread pool, and those hops cost more than the OGC query itself.
async def ogc_user(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> User:
    if credentials is None and request.app.state.settings.ogc_public:
        return ANONYMOUS
    service = request.app.state.service
    return service.authenticate(credentials.credentials if credentials else None)  # type: ignore[no-any-return]


async def get_ogc(request: Request) -> OgcApi:
    return request.app.state.ogc  # type: ignore[no-any-return]


async def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/ogc"


OgcUser = Annotated[User, Depends(ogc_user)]
Ogc = Annotated[OgcApi, Depends(get_ogc)]
Base = Annotated[str, Depends(base_url)]
F = Annotated[str | None, Query(description="json (the only format)")]

router = APIRouter(prefix="/ogc", tags=["ogc"])


@router.get("", summary="Landing page")
@router.get("/", include_in_schema=False)
async def landing(api: Ogc, base: Base, f: F = None) -> JSONResponse:
    return JSONResponse(api.landing(base))


@router.get("/conformance")
async def conformance(api: Ogc, f: F = None) -> JSONResponse:
    return JSONResponse(api.conformance())


@router.get("/collections")
async def collections(api: Ogc, base: Base, user: OgcUser, f: F = None) -> JSONResponse:
    return JSONResponse(await run_in_threadpool(api.collections, base, user))


@router.get("/collections/{collection_id}")
async def collection(
    collection_id: str, api: Ogc, base: Base, user: OgcUser, f: F = None
) -> JSONResponse:
    return JSONResponse(await run_in_threadpool(api.collection, base, collection_id, user))


@router.get("/collections/{collection_id}/items", response_class=GeoJSONResponse)
async def items(
    collection_id: str,
    api: Ogc,
    base: Base,
    user: OgcUser,
    bbox: Annotated[str | None, Query(description="minx,miny,maxx,maxy (WGS84)")] = None,
    datetime_: Annotated[
        str | None, Query(alias="datetime", description="instant, a/b, ../b or a/..")
    ] = None,
    limit: Annotated[str | None, Query(description=f"1..{ogc.MAX_LIMIT}, default 10")] = None,
    offset: Annotated[str | None, Query(description="0 or more")] = None,
    f: F = None,
) -> GeoJSONResponse:
    q = {"bbox": bbox, "datetime": datetime_, "limit": limit, "offset": offset, "f": f}
    return GeoJSONResponse(await run_in_threadpool(api.items, base, collection_id, q, user))


@router.get("/collections/{collection_id}/items/{feature_id:path}")
async def item(
    collection_id: str, feature_id: str, api: Ogc, base: Base, user: OgcUser, f: F = None
) -> GeoJSONResponse:
    return GeoJSONResponse(await run_in_threadpool(api.item, base, collection_id, feature_id, user))


def _ogc_error(_request: Request, exc: Exception) -> JSONResponse:
    status = 404 if isinstance(exc, ogc.OgcNotFound) else 400
    return JSONResponse(ogc.exception_body(exc), status_code=status)


def mount(app: FastAPI) -> None:
    """Plugged in by `create_app`: the per-process OGC index, the router, the OGC error bodies."""
    app.state.ogc = OgcApi(app.state.service)
    app.include_router(router)
    app.add_exception_handler(ogc.OgcParameterError, _ogc_error)
    app.add_exception_handler(ogc.OgcNotFound, _ogc_error)


__all__ = ["mount", "router"]
