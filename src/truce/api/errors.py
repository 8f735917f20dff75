"""The one place where errors become HTTP responses, with one body shape for
`/api` and `/ogc` alike (the OGC API exception document plus `detail`):

    {"code": "NotFound", "description": "what to fix", "detail": "what to fix"}

Each `truce.errors.TruceError` carries its own `status` and `ogc_code`. The two
errors only the HTTP layer raises (a body too large, an unreadable media type)
are defined here, in the same tree. Routes declare the statuses they answer with
`error_responses`; `install` also makes the OpenAPI document's 422s this body.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.constants import REF_PREFIX, REF_TEMPLATE
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from truce.errors import GazetteerError, TruceError


class PayloadTooLarge(TruceError):
    """The body exceeds the configured limit."""

    status = 413
    ogc_code = "PayloadTooLarge"


class UnsupportedMediaType(TruceError):
    """The Content-Type is not one the endpoint reads."""

    status = 415
    ogc_code = "UnsupportedMediaType"


# OGC codes for the statuses FastAPI and Starlette raise themselves.
_CODES = {
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    409: "Conflict",
    413: "PayloadTooLarge",
    415: "UnsupportedMediaType",
}


_MEANING = {
    400: "the request cannot be used (a malformed body, a bad parameter)",
    401: "no token, or an unknown, revoked or expired one",
    403: "the token's role may not do this",
    404: "no such agreement, incident, violation or place (or not visible to this token)",
    409: "the change conflicts with the current state",
    413: "the body is larger than the server's limit",
    415: "the Content-Type is not one the route reads",
    422: "a parameter or body field is invalid",
    503: "a part the server needs for this answer is not installed",
}


_ERROR_CONTENT = {"application/json": {"schema": {"$ref": f"{REF_PREFIX}ErrorBody"}}}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for a route's error statuses, each with the one error body.

    The media type is written out: given a `model`, FastAPI would declare the body in
    the route's own media type (`application/geo+json` on OGC items), but every error
    is `application/json`. `install` adds the `ErrorBody` schema the reference names."""
    return {s: {"description": _MEANING[s], "content": _ERROR_CONTENT} for s in statuses}


def body(message: str, code: str) -> dict[str, Any]:
    """The error body every route answers with."""
    return {"code": code, "description": message, "detail": message}


def _truce_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, TruceError)
    content = body(str(exc), exc.ogc_code)
    if isinstance(exc, GazetteerError) and exc.candidates:
        content["suggestions"] = exc.candidates
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    return JSONResponse(content, status_code=exc.status, headers=headers)


def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = []
    status = 422
    for err in exc.errors():
        if err.get("type") == "json_invalid":
            status = 400
        where = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
        problems.append(f"{where}: {err.get('msg')}" if where else str(err.get("msg")))
    message = "; ".join(problems) or "invalid request"
    return JSONResponse(body(message, "InvalidParameterValue"), status_code=status)


def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _CODES.get(exc.status_code, "InvalidParameterValue")
    return JSONResponse(
        body(str(exc.detail), code), status_code=exc.status_code, headers=exc.headers
    )


def _error_bodies(doc: dict[str, Any]) -> None:
    """The document's error answers as the server sends them (in place): the `ErrorBody`
    schema, and the 422 FastAPI declares on every route with parameters, with its own
    `HTTPValidationError` body, made that body (`_validation_error` answers it)."""
    fastapi_body = f"{REF_PREFIX}HTTPValidationError"
    ours = {"description": _MEANING[422], "content": _ERROR_CONTENT}
    for operations in doc.get("paths", {}).values():
        for operation in operations.values():
            answer = operation.get("responses", {}).get("422", {})
            if answer.get("content", {}).get("application/json", {}).get("schema") == {
                "$ref": fastapi_body
            }:
                operation["responses"]["422"] = ours
    from truce.api.schemas import ErrorBody

    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    schemas["ErrorBody"] = ErrorBody.model_json_schema(ref_template=REF_TEMPLATE)
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)


def _openapi_with_error_bodies(app: FastAPI) -> Callable[[], dict[str, Any]]:
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            _error_bodies(build())
        return app.openapi_schema  # type: ignore[return-value]

    return openapi


def install(app: FastAPI) -> None:
    app.add_exception_handler(TruceError, _truce_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.openapi = _openapi_with_error_bodies(app)  # type: ignore[method-assign]
