"""The one place where typed errors become HTTP status codes. Bodies are always
`{"detail": "what to fix"}`."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from truce.domain.errors import (
    AgreementError,
    GazetteerError,
    ReportFormatError,
    TruceError,
    UnknownAgreement,
)
from truce.store.errors import (
    AuthError,
    BadInput,
    Conflict,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    UnsupportedMediaType,
)

STATUS: tuple[tuple[type[Exception], int], ...] = (
    (AuthError, 401),
    (Forbidden, 403),
    (NotFound, 404),
    (UnknownAgreement, 404),
    (GazetteerError, 404),
    (Conflict, 409),
    (PayloadTooLarge, 413),
    (UnsupportedMediaType, 415),
    (BadInput, 400),
    (ReportFormatError, 400),
    (AgreementError, 400),
)


def status_of(exc: Exception) -> int:
    for cls, status in STATUS:
        if isinstance(exc, cls):
            return status
    return 400


def _truce_error(_request: Request, exc: Exception) -> JSONResponse:
    status = status_of(exc)
    body: dict[str, object] = {"detail": str(exc)}
    if isinstance(exc, GazetteerError) and exc.candidates:
        body["suggestions"] = exc.candidates
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, headers=headers)


def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = []
    status = 422
    for err in exc.errors():
        if err.get("type") == "json_invalid":
            status = 400
        where = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
        problems.append(f"{where}: {err.get('msg')}" if where else str(err.get("msg")))
    return JSONResponse({"detail": "; ".join(problems) or "invalid request"}, status_code=status)


def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return JSONResponse(
        {"detail": str(exc.detail)}, status_code=exc.status_code, headers=exc.headers
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(TruceError, _truce_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
