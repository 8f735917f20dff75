"""Request and response schemas (for validation and the OpenAPI document at /docs)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from truce.domain.review import ReviewAction


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class Me(BaseModel):
    name: str
    role: str
    party: str | None


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
