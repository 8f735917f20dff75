"""HTTP routes under /exchange (SPEC §7), plugged into the app by `mount(app)`.

Reads (`key`, `checkpoint`, `bulletins/{seq}`, proofs) answer what a peer needs
to witness this centre's log; `POST cosignatures` is authenticated by the
cosignature itself (only a known peer's key is accepted). `status` is the
operators' view, for admin and secretariat tokens. The scheduler (bulletins on
the interval, pulls from peers) runs in the app's lifespan when this centre has
a key and `TRUCE_EXCHANGE_AGREEMENTS` names what to issue.
"""

from __future__ import annotations

import base64
import logging
import os
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response

from truce.api.deps import ExchangeOperator
from truce.api.errors import error_responses as errors
from truce.exchange.issuing import ENV_AGREEMENTS, interval_from_env
from truce.exchange.keys import KeyError_, default_key_path, load_signer
from truce.exchange.schedule import Scheduler, clock_from_env
from truce.exchange.service import Exchange, NotFoundError

log = logging.getLogger("truce.exchange")
router = APIRouter(prefix="/exchange", tags=["exchange"])
NOTE_TYPE = "text/plain; charset=utf-8"
JSON_TYPE = "application/json"
PDF_TYPE = "application/pdf"
# Sequence numbers and tree sizes are stored as 64-bit integers: a larger one names nothing
# (422, not a database error).
MAX_SIZE = 2**63 - 1
Seq = Annotated[int, Path(ge=1, le=MAX_SIZE)]


def _content(media_type: str, description: str) -> dict[int | str, dict[str, Any]]:
    """The 200 answer of a route that returns bytes of one media type."""
    body = {"type": "string", "format": "binary"} if media_type == PDF_TYPE else {"type": "object"}
    return {200: {"description": description, "content": {media_type: {"schema": body}}}}


def get_exchange(request: Request) -> Exchange:
    return request.app.state.exchange  # type: ignore[no-any-return]


ExchangeDep = Annotated[Exchange, Depends(get_exchange)]


def _proof(hashes: list[bytes]) -> dict[str, Any]:
    return {"hashes": [base64.b64encode(h).decode() for h in hashes]}


@router.get("/key", response_class=PlainTextResponse, responses=errors(404))
def key(ex: ExchangeDep) -> PlainTextResponse:
    """This centre's verifier key line (`NAME+hex8+base64`)."""
    if ex.signer is None:
        raise NotFoundError("this centre has no key: run `truce keys init --name NAME`")
    return PlainTextResponse(str(ex.signer.verifier) + "\n", media_type=NOTE_TYPE)


@router.get("/checkpoint", response_class=PlainTextResponse, responses=errors(404))
def checkpoint(ex: ExchangeDep) -> PlainTextResponse:
    """The latest signed checkpoint and the peers' cosignature lines for it."""
    return PlainTextResponse(ex.checkpoint(), media_type=NOTE_TYPE)


@router.get("/bulletins", responses=errors(422))
def bulletins(
    ex: ExchangeDep,
    agreement: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    before: Annotated[int | None, Query(ge=1, le=MAX_SIZE)] = None,
) -> dict[str, Any]:
    """This centre's bulletins, newest first: `seq`, `agreement`, `period`, `issued_at`
    (the next page: `before=` the last seq listed)."""
    origin = ex.signer.name if ex.signer else None
    return {"origin": origin, "bulletins": ex.bulletins(agreement, limit=limit, before=before)}


@router.get(
    "/bulletins/{seq}",
    response_class=Response,
    responses={**_content(JSON_TYPE, "the canonical bytes (RFC 8785)"), **errors(404, 422)},
)
def bulletin(seq: Seq, ex: ExchangeDep) -> Response:
    """The bulletin's canonical bytes (exactly the log's leaf)."""
    return Response(ex.bulletin(seq), media_type=JSON_TYPE)


@router.get("/bulletins/{seq}/html", response_class=HTMLResponse, responses=errors(404, 422))
def bulletin_html(seq: Seq, ex: ExchangeDep) -> HTMLResponse:
    """The bulletin as a readable report (`truce bulletin show SEQ --format html`)."""
    from truce.exchange.render import to_html

    return HTMLResponse(to_html(*ex.bulletin_pair(seq)))


@router.get(
    "/bulletins/{seq}/pdf",
    response_class=Response,
    responses={**_content(PDF_TYPE, "the readable report"), **errors(404, 422, 503)},
)
def bulletin_pdf(seq: Seq, ex: ExchangeDep) -> Response:
    """The readable report as a PDF (`truce bulletin show SEQ --format pdf`)."""
    from truce.exchange.render import to_html, to_pdf

    pdf = to_pdf(to_html(*ex.bulletin_pair(seq)))
    origin = ex.signer.name if ex.signer else "bulletin"
    disposition = f'inline; filename="{origin}-{seq}.pdf"'
    return Response(pdf, media_type=PDF_TYPE, headers={"Content-Disposition": disposition})


@router.get("/incidents/{seq}", responses=errors(404, 422))
def incidents(seq: Seq, ex: ExchangeDep) -> dict[str, Any]:
    """Per incident key, the digest of its verdicts behind bulletin `seq` (convergence)."""
    return {"seq": seq, "incidents": ex.bulletin_incidents(seq)}


@router.get("/proof/inclusion", responses=errors(404, 422))
def proof_inclusion(
    ex: ExchangeDep,
    seq: Annotated[int, Query(ge=1, le=MAX_SIZE)],
    size: Annotated[int, Query(ge=1, le=MAX_SIZE)],
) -> dict[str, Any]:
    return _proof(ex.inclusion(seq, size))


@router.get("/proof/consistency", responses=errors(404, 422))
def proof_consistency(
    ex: ExchangeDep,
    old: Annotated[int, Query(alias="from", ge=0, le=MAX_SIZE)],
    new: Annotated[int, Query(alias="to", ge=0, le=MAX_SIZE)],
) -> dict[str, Any]:
    return _proof(ex.consistency(old, new))


@router.post(
    "/cosignatures",
    responses=errors(400, 403),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"text/plain": {"schema": {"type": "string"}}},
            "description": "the checkpoint with our cosignature line (a C2SP signed note)",
        }
    },
)
async def post_cosignatures(request: Request, ex: ExchangeDep) -> dict[str, Any]:
    """A peer's cosigned copy of one of our checkpoints (a signed note)."""
    body = (await request.body())[:64_000].decode("utf-8", errors="replace")
    return {"stored": ex.receive_cosignatures(body)}


@router.get("/cosignatures", response_class=PlainTextResponse, responses=errors(404))
def get_cosignatures(ex: ExchangeDep) -> PlainTextResponse:
    """Same as `checkpoint`: the latest head with every cosignature received for it."""
    return PlainTextResponse(ex.checkpoint(), media_type=NOTE_TYPE)


@router.get("/status", responses=errors(401, 403))
def status(_user: ExchangeOperator, ex: ExchangeDep) -> dict[str, Any]:
    """Per peer: last size seen, last cosigned, gaps; open alerts. Admin or secretariat."""
    return ex.status()


def mount(app: FastAPI) -> None:
    """Attach the exchange to an app built by `create_app`."""
    settings = app.state.settings
    service = app.state.service
    try:
        signer = load_signer(default_key_path(settings.database_url))
    except KeyError_:
        signer = None  # this server does not take part in an exchange (yet)
    ex = Exchange(
        service.engine,
        lambda agreement_id: service.agreements.get(agreement_id).agreement,
        signer=signer,
        # The service's clock (followed even when replaced), or an accelerated drill clock.
        clock=clock_from_env() or (lambda: service.clock()),
        interval=interval_from_env(),
    )
    app.state.exchange = ex
    app.include_router(router)
    if signer is not None:
        problems = ex.check_own_log()
        for p in problems:
            log.error("exchange log check: %s", p)
    agreements = [a for a in os.environ.get(ENV_AGREEMENTS, "").split(",") if a.strip()]
    if signer is None or not agreements:
        return
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(application: FastAPI) -> AsyncIterator[Any]:
        scheduler = Scheduler(ex, [a.strip() for a in agreements])
        thread = threading.Thread(target=scheduler.run, name="truce-exchange", daemon=True)
        thread.start()
        try:
            async with inner(application) as state:
                yield state
        finally:
            scheduler.stop()
            thread.join(timeout=10)

    app.router.lifespan_context = lifespan
