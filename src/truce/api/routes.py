"""The `/api` routes of docs/api.md. Each is a thin wrapper: parse, call the service, return.

Errors are raised as typed exceptions and turned into status codes by
`truce.api.errors` only.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from truce.api import documents
from truce.api.bodies import read_limited, report_format, to_reader_input
from truce.api.deps import CurrentUser, Publisher, ServiceDep, SettingsDep, Submitter
from truce.api.errors import error_responses as errors
from truce.api.schemas import (
    AgreementSummary,
    Document,
    Health,
    IncidentDetail,
    IngestAnswer,
    Me,
    Place,
    ReviewCreate,
    ViolationDetail,
)
from truce.api.streaming import json_chunks
from truce.domain.access import allowed
from truce.errors import BadInput, GazetteerError, TruceError
from truce.formats.exports import FORMATS, WHAT

router = APIRouter(prefix="/api")


@router.get("/health", response_model=Health, tags=["meta"])
def health() -> Health:
    return Health()


@router.get("/me", response_model=Me, tags=["meta"], responses=errors(401))
def me(user: CurrentUser) -> Me:
    may = user.submit_sources if allowed(user.role, "reports.submit") else frozenset()
    return Me(
        name=user.name,
        role=user.role,
        party=user.party,
        sources=None if may is None else sorted(may),
    )


# --- agreements -------------------------------------------------------------------


@router.get(
    "/agreements",
    response_model=list[AgreementSummary],
    tags=["agreements"],
    responses=errors(401),
)
def list_agreements(service: ServiceDep, user: CurrentUser) -> list[dict[str, Any]]:
    return [documents.agreement_summary(e.agreement) for e in service.agreements.all()]


@router.get("/agreements/{agreement_id}", tags=["agreements"], responses=errors(401, 404))
def agreement_detail(agreement_id: str, service: ServiceDep, user: CurrentUser) -> Document:
    return documents.agreement_detail(service.agreements.get(agreement_id).agreement)


@router.get("/agreements/{agreement_id}/geojson", tags=["agreements"], responses=errors(401, 404))
def agreement_geojson(agreement_id: str, service: ServiceDep, user: CurrentUser) -> Document:
    return documents.agreement_geojson(service.agreements.get(agreement_id).agreement)


def _parse_as_of(service: Any, agreement_id: str, as_of: str | None) -> datetime | None:
    if not as_of:
        return None
    from truce.domain.timeparse import parse_local_datetime

    tz = service.agreements.get(agreement_id).agreement.timezone
    try:
        return parse_local_datetime(as_of, tz)
    except (ValueError, TruceError) as exc:
        raise BadInput(
            f"as_of: {exc}; give an ISO 8601 time such as 2016-09-20T00:00:00+03:00"
        ) from None


@router.get(
    "/agreements/{agreement_id}/evaluation",
    tags=["evaluation"],
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "The evaluation this token may see (docs/evaluation-output.md)",
            "content": {"application/json": {"schema": {"type": "object"}}},
        },
        **errors(400, 401, 404, 422),
    },
)
def evaluation(
    agreement_id: str,
    service: ServiceDep,
    user: CurrentUser,
    as_of: Annotated[str | None, Query(description="ISO 8601; default: now")] = None,
) -> StreamingResponse:
    """Without `as_of`: the last complete evaluation at once, `stale` while newer reports
    are being evaluated (also in the `Truce-Reports-Version`, `Truce-As-Of` and
    `Truce-Stale` headers). Sent as it is written, its incidents and violations a
    block at a time."""
    doc = service.evaluation(agreement_id, user, as_of=_parse_as_of(service, agreement_id, as_of))
    return StreamingResponse(
        json_chunks(doc, ("incidents", "violations")),
        media_type="application/json",
        headers=freshness_headers(doc),
    )


def freshness_headers(doc: Document) -> dict[str, str]:
    """Which evaluation answered: its reports version, as-of instant and staleness."""
    return {
        "Truce-Reports-Version": str(doc["reports_version"]),
        "Truce-As-Of": str(doc["as_of"]),
        "Truce-Stale": "true" if doc["stale"] else "false",
    }


@router.get("/agreements/{agreement_id}/dashboard", tags=["evaluation"], responses=errors(401, 404))
def dashboard(
    agreement_id: str, service: ServiceDep, user: CurrentUser, response: Response
) -> Document:
    """Also says which evaluation answered (the headers of `.../evaluation`)."""
    agreement = service.agreements.get(agreement_id).agreement
    doc, meta = service.summary(agreement_id, user, partial(documents.dashboard, agreement))
    response.headers.update(freshness_headers(meta))
    return doc


def _export_content() -> dict[str, Any]:
    by_type: dict[str, dict[str, Any]] = {}
    for f in FORMATS.values():
        # JSON bodies are objects; the others are documented as bytes.
        schema = {"type": "object"} if f.media_type.endswith("+json") else {"type": "string"}
        by_type.setdefault(f.media_type, {"schema": schema})
    return by_type


@router.get(
    "/agreements/{agreement_id}/export/{what}",
    tags=["evaluation"],
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "the export, streamed (Content-Disposition: attachment)",
            "content": _export_content(),
        },
        **errors(400, 401, 404),
    },
)
def export(
    agreement_id: str,
    what: Annotated[
        str,
        Path(description="incidents or violations", json_schema_extra={"enum": list(WHAT)}),
    ],
    service: ServiceDep,
    user: CurrentUser,
    format: Annotated[
        str,
        Query(
            description="geojson (default), ndjson, csv, hxl, gpkg or parquet",
            json_schema_extra={"enum": list(FORMATS)},
        ),
    ] = "geojson",
    as_of: Annotated[str | None, Query(description="ISO 8601; default: now")] = None,
) -> StreamingResponse:
    """The incidents or violations this token may see, as the evaluation shows them
    (observers: published only), in one of the formats of docs/exports.md."""
    out = service.export(
        agreement_id, what, format, user, as_of=_parse_as_of(service, agreement_id, as_of)
    )
    return StreamingResponse(
        out.chunks,
        media_type=out.format.media_type,
        headers={"Content-Disposition": f'attachment; filename="{out.filename}"'},
    )


@router.get(
    "/agreements/{agreement_id}/incidents/{key:path}",
    response_model=IncidentDetail,
    tags=["evaluation"],
    responses=errors(400, 401, 404),
)
def incident(agreement_id: str, key: str, service: ServiceDep, user: CurrentUser) -> Document:
    if key.endswith("/publish"):
        raise BadInput("publish an incident with POST, not GET")
    return service.incident(agreement_id, key, user)


@router.post(
    "/agreements/{agreement_id}/incidents/{key:path}/publish",
    response_model=IncidentDetail,
    tags=["review"],
    responses=errors(401, 403, 404, 409),
)
def publish_incident(agreement_id: str, key: str, service: ServiceDep, user: Publisher) -> Document:
    return service.publish_incident(agreement_id, key, user)


# --- reports -------------------------------------------------------------------------


async def _reports(
    request: Request,
    service: Any,
    settings: Any,
    user: Any,
    agreement: str | None,
    *,
    store: bool,
) -> dict[str, Any]:
    fmt = report_format(request.headers.get("content-type"), request.query_params.get("format"))
    body = await read_limited(request, settings.max_body_bytes)
    data, reader_format = to_reader_input(body, fmt, settings.max_body_bytes)
    if store:
        result = await run_in_threadpool(
            service.ingest_reports, data, format=reader_format, user=user, agreement_id=agreement
        )
    else:
        result = await run_in_threadpool(
            service.validate_reports, data, format=reader_format, user=user, agreement_id=agreement
        )
    return result.to_dict()  # type: ignore[no-any-return]


# 404: `?agreement=` names no agreement; 422: a query parameter of the wrong type.
_REPORT_ERRORS = errors(400, 401, 403, 404, 413, 415, 422)
_BODY_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
            "application/x-ndjson": {"schema": {"type": "string"}},
            "text/csv": {"schema": {"type": "string"}},
            "application/gzip": {"schema": {"type": "string", "format": "binary"}},
        },
    },
    "parameters": [
        {
            "name": "format",
            "in": "query",
            "required": False,
            "description": (
                "input format (SPEC §4): auto (default; recognised by the header), truce, "
                "ucdp-ged, acled or hxl; also accepted as a Content-Type parameter "
                "(text/csv; format=ucdp-ged)"
            ),
            "schema": {"type": "string", "enum": ["auto", "truce", "ucdp-ged", "acled", "hxl"]},
        }
    ],
}


@router.post(
    "/reports",
    response_model=IngestAnswer,
    tags=["reports"],
    openapi_extra=_BODY_DOC,
    responses=_REPORT_ERRORS,
)
async def ingest(
    request: Request,
    service: ServiceDep,
    settings: SettingsDep,
    user: Submitter,
    agreement: Annotated[
        str | None, Query(description="resolve place names against this agreement's features too")
    ] = None,
) -> dict[str, Any]:
    """Store a batch of reports (SPEC §2). Committed before the answer is sent."""
    return await _reports(request, service, settings, user, agreement, store=True)


@router.post(
    "/reports/validate",
    response_model=IngestAnswer,
    tags=["reports"],
    openapi_extra=_BODY_DOC,
    responses=_REPORT_ERRORS,
)
async def validate(
    request: Request,
    service: ServiceDep,
    settings: SettingsDep,
    user: Submitter,
    agreement: Annotated[str | None, Query()] = None,
) -> dict[str, Any]:
    """Same answer as POST /api/reports; stores nothing."""
    return await _reports(request, service, settings, user, agreement, store=False)


# --- violations -----------------------------------------------------------------------


@router.get(
    "/violations/{key:path}",
    response_model=ViolationDetail,
    tags=["review"],
    responses=errors(400, 401, 404),
)
def violation(key: str, service: ServiceDep, user: CurrentUser) -> Document:
    if key.endswith("/review"):
        raise BadInput("review a violation with POST, not GET")
    return service.violation(key, user)


@router.post(
    "/violations/{key:path}/review",
    response_model=ViolationDetail,
    tags=["review"],
    responses=errors(400, 401, 403, 404, 409, 422),
)
def review(key: str, body: ReviewCreate, service: ServiceDep, user: CurrentUser) -> Document:
    return service.review(key, body.action, body.comment, user)


# --- gazetteer -------------------------------------------------------------------------


@router.get(
    "/gazetteer", response_model=list[Place], tags=["gazetteer"], responses=errors(401, 404, 422)
)
def gazetteer(
    user: CurrentUser,
    service: ServiceDep,
    q: Annotated[str, Query(min_length=1, description="a place name or its beginning")],
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
    agreement: Annotated[str | None, Query(description="include this agreement's features")] = None,
) -> list[dict[str, Any]]:
    from truce.library.gazetteer import Gazetteer

    gaz = Gazetteer.load()
    if agreement:
        gaz = gaz.with_agreement(service.agreements.get(agreement).agreement)
    places = gaz.search(q, limit)
    if not places:
        suggestions = gaz.suggest(q)
        hint = f"; did you mean {', '.join(suggestions)}?" if suggestions else ""
        raise GazetteerError(f"no place matches {q!r}{hint}", candidates=suggestions)
    return [
        {
            "name": p.name,
            "lon": p.lon,
            "lat": p.lat,
            "kind": "settlement" if p.population else "place",
            "source": p.source,
            "precision_m": p.precision_m,
            "admin1": p.admin1 or None,
        }
        for p in places
    ]
