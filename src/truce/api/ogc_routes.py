"""The `/ogc` routes (OGC API – Features): one-line wrappers around `OgcApi`.

Access: the landing page and conformance are public (OGC clients probe them
before they know about tokens; they reveal nothing). Collections and items take
the same `Authorization: Bearer` token as `/api` and show what the REST API
shows to that user (observers: only published items). With the setting
`ogc_public` (`TRUCE_OGC_PUBLIC=1`) a request without a token reads as an
observer.

The items route is the one map clients hit all the time, so it is served by a
plain Starlette route (`items_fast`) registered in front of the FastAPI one:
FastAPI's per-request dependency and parameter machinery cost more than the
indexed query. It answers on the event loop from memory (cached token, current
index and view) and moves to a worker thread only when the database must be read
or the index built. The FastAPI route below it documents the same parameters in
the OpenAPI document and answers the same way. Documents are encoded with orjson.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials
from starlette.concurrency import run_in_threadpool
from starlette.routing import Route

from truce.api import ogc
from truce.api.deps import Authenticator, bearer, bearer_token
from truce.api.ogc_api import OgcApi
from truce.api.ogc_index import WouldBlock
from truce.store.users import User

ANONYMOUS = User(
    id=-1,
    name="anonymous",
    role="observer",
    party=None,
    created_at=datetime(1970, 1, 1, tzinfo=UTC),
)
ITEMS_PATH = "/ogc/collections/{collection_id}/items"


class GeoJSONResponse(Response):
    media_type = "application/geo+json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


class OrjsonResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


async def _user(request: Request, token: str | None) -> User:
    if token is None and request.app.state.settings.ogc_public:
        return ANONYMOUS
    auth: Authenticator = request.app.state.auth
    user = auth.user_nowait(token)
    if user is None:
        user = await run_in_threadpool(auth.user, token)
    return user


# The dependencies are `async def` on purpose: FastAPI runs each sync dependency in
# the thread pool, and those hops cost more than the OGC query itself.
async def ogc_user(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> User:
    return await _user(request, credentials.credentials if credentials else None)


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
    return OrjsonResponse(api.landing(base))


@router.get("/conformance")
async def conformance(api: Ogc, f: F = None) -> JSONResponse:
    return OrjsonResponse(api.conformance())


@router.get("/collections")
async def collections(api: Ogc, base: Base, user: OgcUser, f: F = None) -> JSONResponse:
    return OrjsonResponse(await run_in_threadpool(api.collections, base, user))


@router.get("/collections/{collection_id}")
async def collection(
    collection_id: str, api: Ogc, base: Base, user: OgcUser, f: F = None
) -> JSONResponse:
    return OrjsonResponse(await run_in_threadpool(api.collection, base, collection_id, user))


async def _items(
    api: OgcApi, base: str, cid: str, query: dict[str, str | None], user: User
) -> GeoJSONResponse:
    try:
        doc = api.items(base, cid, query, user, block=False, encoded=True)
    except WouldBlock:
        doc = await run_in_threadpool(
            functools.partial(api.items, base, cid, query, user, encoded=True)
        )
    return GeoJSONResponse(doc)


async def items_fast(request: Request) -> GeoJSONResponse:
    """`GET /ogc/collections/{collection_id}/items`, as `items` below, without FastAPI's
    per-request machinery (see the module docstring)."""
    user = await _user(request, bearer_token(request.headers))
    params = request.query_params
    query = {k: params.get(k) for k in ("bbox", "datetime", "limit", "offset", "f")}
    base = str(request.base_url).rstrip("/") + "/ogc"
    cid = request.path_params["collection_id"]
    return await _items(request.app.state.ogc, base, cid, query, user)


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
    """Served by `items_fast` (registered in front of this route); kept for the OpenAPI
    document, and answers the same way if reached."""
    q = {"bbox": bbox, "datetime": datetime_, "limit": limit, "offset": offset, "f": f}
    return await _items(api, base, collection_id, q, user)


@router.get("/collections/{collection_id}/items/{feature_id:path}")
async def item(
    collection_id: str, feature_id: str, api: Ogc, base: Base, user: OgcUser, f: F = None
) -> GeoJSONResponse:
    return GeoJSONResponse(await run_in_threadpool(api.item, base, collection_id, feature_id, user))


def _ogc_error(_request: Request, exc: Exception) -> JSONResponse:
    status = 404 if isinstance(exc, ogc.OgcNotFound) else 400
    return JSONResponse(ogc.exception_body(exc), status_code=status)


def mount(app: FastAPI) -> None:
    """Plugged in by `create_app`: the per-process OGC index, the routes, the OGC error bodies."""
    app.state.ogc = OgcApi(app.state.service, app.state.watermark)
    app.router.routes.insert(0, Route(ITEMS_PATH, items_fast, methods=["GET"]))
    app.include_router(router)
    app.add_exception_handler(ogc.OgcParameterError, _ogc_error)
    app.add_exception_handler(ogc.OgcNotFound, _ogc_error)


__all__ = ["mount", "router"]
