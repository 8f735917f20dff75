"""Request and response schemas (for validation and the OpenAPI document at /docs)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from truce.domain.review import ReviewAction, State


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class Me(BaseModel):
    name: str
    role: str
    party: str | None
    # The source names this token may submit under: [] none (an observer), null any.
    sources: list[str] | None = []


class AgreementSummary(BaseModel):
    id: str
    title: str
    signed: str | None
    timezone: str


class ReviewCreate(BaseModel):
    """One review action on a violation."""

    model_config = ConfigDict(extra="forbid")

    action: ReviewAction
    comment: str | None = Field(default=None, max_length=10_000)


class ErrorBody(BaseModel):
    """Every error answer, on /api and /ogc alike (truce.api.errors.body)."""

    code: str = Field(description="the OGC API exception code, e.g. NotFound")
    description: str
    detail: str = Field(description="the same text as description")
    suggestions: list[str] | None = Field(
        default=None, description="place names, on a gazetteer 404 only"
    )


class RowResult(BaseModel):
    line: int
    key: str | None
    status: Literal["accepted", "duplicate", "rejected"]


class RowRejection(BaseModel):
    line: int
    report_id: str | None
    field: str | None
    reason: str


class IngestAnswer(BaseModel):
    accepted: int
    duplicate: int
    rejected: list[RowRejection]
    results: list[RowResult]
    notices: list[str] = []  # about the batch as a whole (e.g. an importer's unmapped kinds)


class Place(BaseModel):
    name: str
    lon: float
    lat: float
    kind: str | None = None
    source: str | None = None
    precision_m: float | None = None
    admin1: str | None = None


Document = dict[str, Any]


# --- answers about incidents and violations (the OpenAPI document states their shape) ---
# `extra="allow"`: fields a newer SPEC adds pass through before they are declared here.


class ReviewEvent(BaseModel):
    """One review action in a violation's history."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    at: str
    by: str
    role: str | None = None
    party: str | None = None
    action: ReviewAction
    comment: str | None = None
    from_: State = Field(alias="from")
    to: State


class ViolationPublic(BaseModel):
    """A violation as a user may see it, with its review state."""

    model_config = ConfigDict(extra="allow")

    id: str
    key: str = Field(description="stable: AGREEMENT:RULE:SOURCE:REPORT_ID")
    rule: str
    kind: str
    incident: str
    incident_key: str
    party: str | None = None
    at: str
    zone: str | None = None
    evidence: str
    status: str
    measured_m: int | float | None = None
    review: State
    published: bool


class ViolationWithHistory(ViolationPublic):
    history: list[ReviewEvent]


class ViolationDetail(ViolationWithHistory):
    current: bool = Field(description="false when re-evaluation no longer produces it")


class ReportPublic(BaseModel):
    """A stored report, its time in the agreement's timezone."""

    model_config = ConfigDict(extra="allow")

    key: str
    source: str
    report_id: str
    observed_at: str
    lon: float | None = None
    lat: float | None = None
    place: str | None = None
    event_type: str
    reliability: str | None = None
    credibility: int | None = None
    grade: str
    actor: str | None = None
    side: str | None = None
    target: str | None = None
    weapon: str | None = None
    count: int | float | None = None
    fatalities: int | float | None = None
    notes: str | None = None


class IncidentPublic(BaseModel):
    """An incident as a user may see it (`report_ids` only those the user may see)."""

    model_config = ConfigDict(extra="allow")

    id: str
    key: str = Field(description="stable: SOURCE:REPORT_ID of its earliest report")
    report_ids: list[str]
    sources: list[str]
    event_type: str
    weapon: str | None = None
    observed_at: str
    lon: float
    lat: float
    precision_m: int | float | None = None
    party: str | None = None
    target: str | None = None
    corroboration: int
    grade: str
    count: int | float | None = None
    fatalities: int | float | None = None
    published: bool


class IncidentDetail(IncidentPublic):
    reports: list[ReportPublic]
    violations: list[ViolationWithHistory]
