"""`/api/agreements/{id}/sites` and `/api/agreements/{id}/commitments`: thin wrappers
around `truce.service.sites` and `truce.service.commitments`.

Sites are served here and nowhere else (see `truce.service.sites` for who may see
them). The sign-up registry is readable by every signed-in user and changed by
the secretariat.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body

from truce.api.deps import CurrentUser, ServiceDep
from truce.api.errors import error_responses as errors
from truce.service import commitments, sites

router = APIRouter(prefix="/api")
Document = dict[str, Any]


@router.get(
    "/agreements/{agreement_id}/sites", tags=["agreements"], responses=errors(401, 403, 404)
)
def agreement_sites(agreement_id: str, service: ServiceDep, user: CurrentUser) -> Document:
    """The protected sites and declared positions this user may see (never observers)."""
    return sites.sites_for(service.agreements.get(agreement_id).agreement, user)


@router.get(
    "/agreements/{agreement_id}/commitments", tags=["agreements"], responses=errors(401, 404)
)
def agreement_commitments(agreement_id: str, service: ServiceDep, user: CurrentUser) -> Document:
    """Who accepted the terms, through whom and when; who declined or withdrew; each
    group's status now, and every change made through the API."""
    agreement = service.agreements.get(agreement_id).agreement
    return commitments.list_commitments(service.engine, agreement, service.clock())


@router.put(
    "/agreements/{agreement_id}/commitments",
    tags=["agreements"],
    responses=errors(400, 401, 403, 404, 422),
)
def set_agreement_commitment(
    agreement_id: str,
    service: ServiceDep,
    user: CurrentUser,
    body: dict[str, Any] = Body(
        ...,
        examples=[
            {
                "group": "Jaysh al-Islam",
                "party": "opp",
                "via": "US",
                "accepted": "2016-02-26T11:00:00+02:00",
            }
        ],
    ),
) -> Document:
    """Record one group's sign-up (secretariat and admin only; audited)."""
    agreement = service.agreements.get(agreement_id).agreement
    return commitments.set_commitment(service.engine, agreement, body, user, service.clock())
