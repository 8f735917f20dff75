"""The `/ogc` routes (OGC API – Features): one-line wrappers around `OgcApi`.

Access: the landing page and conformance are public (OGC clients probe them
before they know about tokens; they reveal nothing). Collections and items take
the same `Authorization: Bearer` token as `/api` and show what the REST API
shows to that user (observers: only published items). With the setting
`ogc_public` (`TRUCE_OGC_PUBLIC=1`) a request without a token reads as an
observer.

The items route is the one map clients hit all the time, and per request the
framework (routing, dependencies, request and response objects) costs more than
the indexed query. So `ItemsFastPath`, an ASGI middleware, answers a
`GET .../items` itself when everything it needs is in memory (a cached token,
the current index and view, and the filter columns a `filter` names): no
database read, no thread, no FastAPI. Anything else — an error to report, a
database read, an index build or a filter column not built yet — goes on to the
FastAPI route below unchanged, which answers the same way (and documents the
parameters in the OpenAPI document). Documents are encoded with orjson.
(`app.dependency_overrides` apply to the FastAPI route only.)
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import parse_qsl

import orjson
from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from truce.api import ogc
from truce.api.deps import Authenticator, bearer, bearer_token
from truce.api.errors import error_responses
from truce.api.ogc.documents import GEOJSON
from truce.api.ogc.handlers import ITEMS_PARAMS, OgcApi
from truce.api.ogc.index import WouldBlock
from truce.store.users import User

ANONYMOUS = User(
    id=-1,
    name="anonymous",
    role="observer",
    party=None,
    created_at=datetime(1970, 1, 1, tzinfo=UTC),
)
ITEMS_PREFIX = "/ogc/collections/"


class GeoJSONResponse(Response):
    media_type = "application/geo+json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


class OrjsonResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


class SchemaResponse(OrjsonResponse):
    media_type = "application/schema+json"


_LINK = {
    "type": "object",
    "required": ["href", "rel"],
    "properties": {k: {"type": "string"} for k in ("href", "rel", "type", "title")},
}
_FEATURE = {
    "type": "object",
    "required": ["type", "geometry", "properties"],
    "properties": {
        "type": {"type": "string", "enum": ["Feature"]},
        "id": {"type": "string"},
        "geometry": {"type": "object", "nullable": True},
        "properties": {"type": "object", "nullable": True},
        "links": {"type": "array", "items": _LINK},
    },
}
_FEATURES = {
    "type": "object",
    "required": ["type", "features"],
    "properties": {
        "type": {"type": "string", "enum": ["FeatureCollection"]},
        "features": {"type": "array", "items": _FEATURE},
        "numberMatched": {"type": "integer", "minimum": 0},
        "numberReturned": {"type": "integer", "minimum": 0},
        "timeStamp": {"type": "string", "format": "date-time"},
        "links": {"type": "array", "items": _LINK},
    },
}
_QUERYABLES = {
    "type": "object",
    "required": ["$schema", "$id", "type", "properties"],
    "properties": {
        "$schema": {"type": "string"},
        "$id": {"type": "string"},
        "type": {"type": "string", "enum": ["object"]},
        "title": {"type": "string"},
        "description": {"type": "string"},
        "properties": {"type": "object", "additionalProperties": {"type": "object"}},
        "additionalProperties": {"type": "boolean"},
    },
}


def _ok(media_type: str, schema: dict[str, Any], description: str) -> dict[int | str, Any]:
    return {200: {"description": description, "content": {media_type: {"schema": schema}}}}


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


@router.get("/collections", responses=error_responses(400, 401))
async def collections(api: Ogc, base: Base, user: OgcUser, f: F = None) -> JSONResponse:
    return OrjsonResponse(await run_in_threadpool(api.collections, base, user))


@router.get("/collections/{collection_id}", responses=error_responses(400, 401, 404))
async def collection(
    collection_id: str, api: Ogc, base: Base, user: OgcUser, f: F = None
) -> JSONResponse:
    return OrjsonResponse(await run_in_threadpool(api.collection, base, collection_id, user))


@router.get(
    "/collections/{collection_id}/queryables",
    response_class=SchemaResponse,
    responses={
        **_ok(SchemaResponse.media_type, _QUERYABLES, "a JSON Schema"),
        **error_responses(400, 401, 404),
    },
)
async def queryables(
    collection_id: str, api: Ogc, base: Base, user: OgcUser, f: F = None
) -> SchemaResponse:
    """What a `filter` (CQL2) or a query parameter may name in this collection's items
    (OGC API – Features Part 3)."""
    return SchemaResponse(await run_in_threadpool(api.queryables, base, collection_id, user))


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


@router.get(
    "/collections/{collection_id}/items",
    response_class=GeoJSONResponse,
    responses={**_ok(GEOJSON, _FEATURES, "a page of features"), **error_responses(400, 401, 404)},
)
async def items(
    request: Request,
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
    filter_: Annotated[
        str | None,
        Query(
            alias="filter",
            description="a CQL2 condition on the collection's queryables, e.g. "
            "party = 'SAA' AND T_AFTER(observed_at, TIMESTAMP('2016-09-13T00:00:00Z'))",
        ),
    ] = None,
    filter_lang: Annotated[
        str | None,
        Query(alias="filter-lang", description="cql2-text (default) or cql2-json"),
    ] = None,
    filter_crs: Annotated[
        str | None, Query(alias="filter-crs", description=f"{ogc.CRS84} (the only one)")
    ] = None,
    f: F = None,
) -> GeoJSONResponse:
    """Also answered by `ItemsFastPath` when it can (see the module docstring). Any
    queryable with a simple value may also be given as a parameter (`?party=SAA`)."""
    return await _items(api, base, collection_id, _query(request.query_params.items()), user)


def _query(pairs: Iterable[tuple[str, str]]) -> dict[str, str | None]:
    """The items parameters (absent ones None) and any others given (queryables)."""
    return {**dict.fromkeys(ITEMS_PARAMS), **dict(pairs)}


@router.get(
    "/collections/{collection_id}/items/{feature_id:path}",
    response_class=GeoJSONResponse,
    responses={**_ok(GEOJSON, _FEATURE, "the feature"), **error_responses(400, 401, 404)},
)
async def item(
    collection_id: str, feature_id: str, api: Ogc, base: Base, user: OgcUser, f: F = None
) -> GeoJSONResponse:
    return GeoJSONResponse(await run_in_threadpool(api.item, base, collection_id, feature_id, user))


class ItemsFastPath:
    """ASGI middleware: `GET /ogc/collections/{id}/items` answered from memory, or passed
    on to the app (which then answers it, errors included)."""

    def __init__(self, app: ASGIApp, fastapi_app: FastAPI) -> None:
        self.app = app
        self.state = fastapi_app.state
        self.answered = 0  # requests answered here, not by the app (for tests)
        fastapi_app.state.ogc_fast_path = self

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            body = self._answer(scope)
            if body is not None:
                await send({"type": "http.response.start", "status": 200, "headers": [
                    (b"content-type", b"application/geo+json"),
                    (b"content-length", str(len(body)).encode()),
                ]})  # fmt: skip
                await send({"type": "http.response.body", "body": body})
                self.answered += 1
                return
        await self.app(scope, receive, send)

    def _answer(self, scope: Scope) -> bytes | None:
        """The answer's body, or None: not an items request, or not answerable from memory."""
        path: str = scope["path"]
        if not (path.startswith(ITEMS_PREFIX) and path.endswith("/items")):
            return None
        cid = path[len(ITEMS_PREFIX) : -len("/items")]
        if not cid or "/" in cid:
            return None
        headers = dict(scope["headers"])
        try:
            auth_header = headers.get(b"authorization", b"").decode("latin-1")
            token = bearer_token({"authorization": auth_header})
            if token is None and self.state.settings.ogc_public:
                user = ANONYMOUS
            else:
                user = self.state.auth.user_nowait(token)
                if user is None:
                    return None
            query = _query(parse_qsl(scope["query_string"].decode("latin-1"), True))
            doc = self.state.ogc.items(
                _base(scope, headers), cid, query, user, block=False, encoded=True
            )
        except Exception:  # an error to report, or WouldBlock: the app answers
            return None
        return orjson.dumps(doc)


def _base(scope: Scope, headers: dict[bytes, bytes]) -> str:
    """The OGC root URL as Starlette's `request.base_url` gives it, plus `/ogc`."""
    host = headers.get(b"host")
    if host:
        netloc = host.decode("latin-1")
    else:
        server_host, port = scope["server"]
        default = {"http": 80, "https": 443}.get(scope["scheme"])
        netloc = server_host if port == default else f"{server_host}:{port}"
    return f"{scope['scheme']}://{netloc}{scope.get('root_path', '')}/ogc"


def mount(app: FastAPI) -> None:
    """Plugged in by `create_app`: the per-process OGC index and the routes (errors:
    `truce.api.errors`)."""
    app.state.ogc = OgcApi(app.state.service, app.state.watermark)
    app.add_middleware(ItemsFastPath, fastapi_app=app)
    app.include_router(router)


__all__ = ["mount", "router"]
