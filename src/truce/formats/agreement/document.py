"""The shape of an agreement document (SPEC §1) as pydantic models.

Only the shape: ids, references, geometry and times are checked by the section
builders, which know the whole document.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from truce.domain.timeparse import Duration


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class SourceDoc(_Doc):
    title: str
    url: str | None = None


class ActorDoc(_Doc):
    """An actor name with where it comes from (a dataset's spelling, a source id)."""

    name: str
    source: str | None = None
    note: str | None = None


class PartyDoc(_Doc):
    id: str
    name: str
    guarantor: str | None = None
    actors: list[str | ActorDoc] = []


class ExcludedDoc(_Doc):
    id: str
    name: str | None = None
    actors: list[str | ActorDoc] = []


class EndsDoc(_Doc):
    at: Any
    note: str | None = None
    source: str | None = None


Coord = tuple[float, float]


class FeatureDoc(_Doc):
    line: list[Coord] | None = None
    polygon: list[Coord] | None = None
    point: Coord | None = None
    name: str | None = None
    uncertainty_m: float | None = Field(default=None, ge=0)
    note: str | None = None


class ZoneDoc(_Doc):
    id: str
    name: str | None = None
    note: str | None = None
    around: str | None = None
    feature: str | None = None
    distance_m: float | None = Field(default=None, gt=0)


class PhaseDoc(_Doc):
    id: str
    start: Any
    duration: Duration | None = None
    name: str | None = None
    note: str | None = None


class ConditionHeadDoc(_Doc):
    """What every condition has; the rest is its kind's parameters."""

    id: str
    kind: str
    from_: Any = Field(default=None, alias="from")
    name: str | None = None
    note: str | None = None


CONDITION_HEAD_KEYS = ("id", "kind", "from", "from_", "name", "note")


class RuleHeadDoc(_Doc):
    id: str
    kind: str
    name: str | None = None
    note: str | None = None


RULE_HEAD_KEYS = tuple(RuleHeadDoc.model_fields)


class TopDoc(_Doc):
    """The top level. Required keys are checked by hand, for clearer messages."""

    truce: Any = None
    id: Any = None
    title: str | None = None
    signed: date | None = None
    timezone: Any = None
    crs: str | None = None
    description: str | None = None
    sources: list[SourceDoc] | None = None
    notes: list[str] | None = None
    area: Any = None
    ends: Any = None
    parties: list[Any] | None = None
    excluded: list[Any] | None = None
    features: dict[str, Any] | None = None
    zones: list[Any] | None = None
    phases: list[Any] | None = None
    conditions: list[Any] | None = None
    rules: list[Any] | None = None
    commitments: list[Any] | None = None
    sites: list[Any] | None = None
    convoys: list[Any] | None = None
