"""Agreements as data: parties, excluded groups, zones, phases, conditions, commitments,
protected sites, convoys and typed rules. Small and hand-written, so plain frozen
dataclasses."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from typing import Any, Literal

from shapely.geometry.base import BaseGeometry


@dataclass(frozen=True)
class SourceRef:
    title: str
    url: str | None = None


@dataclass(frozen=True)
class Party:
    """A side bound by the terms."""

    id: str
    name: str
    actors: tuple[str, ...] = ()
    guarantor: str | None = None
    actor_sources: tuple[tuple[str, str], ...] = ()  # (alias, where that spelling comes from)


@dataclass(frozen=True)
class ExcludedGroup:
    """A group outside the terms: attacks on it are not cease-fire violations."""

    id: str
    name: str
    actors: tuple[str, ...] = ()
    actor_sources: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class AgreementEnd:
    """When the agreement stops binding: nothing after it is a violation."""

    at: datetime
    note: str | None = None
    source: str | None = None


GeometryKind = Literal["point", "line", "polygon"]


@dataclass(frozen=True)
class Feature:
    """Named geometry in WGS84 (lon, lat)."""

    id: str
    kind: GeometryKind
    geometry: BaseGeometry
    name: str | None = None
    uncertainty_m: float | None = None  # how far the drawn geometry may be from the real one
    note: str | None = None


@dataclass(frozen=True)
class Zone:
    """An area where rules apply: the points within `distance_m` of a feature.

    A polygon feature with distance 0 is its own area; a line with a distance
    is a corridor. Membership is tested against the exact distance, not a
    polygonised buffer, so a point exactly `distance_m` away is inside.
    """

    id: str
    feature: str
    distance_m: float = 0.0
    name: str | None = None


@dataclass(frozen=True)
class AtTime:
    """A fixed instant."""

    at: datetime


@dataclass(frozen=True)
class AfterPhase:
    """When another phase ends, plus an offset."""

    phase: str
    offset: timedelta = timedelta(0)


@dataclass(frozen=True)
class WhenCondition:
    """When a condition is first met."""

    condition: str
    offset: timedelta = timedelta(0)


TimeRef = AtTime | AfterPhase | WhenCondition


@dataclass(frozen=True)
class Phase:
    id: str
    start: TimeRef
    duration: timedelta | None = None  # None: open-ended
    name: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class Condition:
    """Something the timeline waits for. `params` is the kind-specific part, validated by
    the condition kind (`truce.domain.conditions`); `start` is when counting begins, for
    kinds that count (None: the first fixed phase start)."""

    id: str
    kind: str
    params: Any = None
    start: TimeRef | None = None
    name: str | None = None
    note: str | None = None

    # The quiet_days parameters, read by the pages and the CLI (None for other kinds).
    @property
    def days(self) -> int | None:
        return getattr(self.params, "days", None)

    @property
    def max_incidents(self) -> int | None:
        return getattr(self.params, "max_incidents", None)

    @property
    def within(self) -> tuple[str, ...]:
        return tuple(getattr(self.params, "within", ()))

    @property
    def coverage(self) -> tuple[str, ...]:
        """The centres whose bulletins must cover a day for it to count (SPEC §6)."""
        return tuple(getattr(self.params, "coverage", ()))


@dataclass(frozen=True)
class Commitment:
    """A group's sign-up: it is bound from `accepted` until `withdrew`; a group that
    declined (or never accepted) is not bound. `party` is the side it belongs to."""

    group: str
    party: str
    via: str | None = None  # the guarantor it accepted through
    accepted: datetime | None = None
    declined: datetime | None = None
    withdrew: datetime | None = None
    aliases: tuple[str, ...] = ()
    note: str | None = None
    source: str | None = None

    def bound_at(self, t: datetime) -> bool:
        if self.accepted is None or t < self.accepted:
            return False
        return self.withdrew is None or t < self.withdrew


@dataclass(frozen=True)
class Site:
    """A notified protected site or a declared position. Sensitive: shown only to the
    secretariat and to the parties in `notified_to`."""

    id: str
    kind: str  # medical, aid_warehouse, school, water, observation_post, ...
    lon: float
    lat: float
    radius_m: float
    notified: datetime | None = None  # None: protected whenever the agreement is in force
    via: str | None = None  # who notified it (e.g. OCHA's HNS)
    declared_by: str | None = None  # a guarantor declaring its own position
    notified_to: tuple[str, ...] = ()  # party ids; empty: every party
    name: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class Convoy:
    """A notified humanitarian movement along `route` (line features), protected within
    `corridor_m` of it from `window_from` to `window_to`."""

    id: str
    organisation: str
    route: tuple[str, ...]
    corridor_m: float
    window_from: datetime
    window_to: datetime
    notified: datetime | None = None
    name: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class Rule:
    """An obligation. `params` is the kind-specific part, validated by the rule kind."""

    id: str
    kind: str
    params: Any
    name: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class Agreement:
    id: str
    title: str
    timezone: tzinfo
    timezone_name: str
    signed: date | None = None
    crs: str | None = None
    sources: tuple[SourceRef, ...] = ()
    parties: tuple[Party, ...] = ()
    excluded: tuple[ExcludedGroup, ...] = ()
    features: Mapping[str, Feature] = field(default_factory=dict)
    zones: tuple[Zone, ...] = ()
    phases: tuple[Phase, ...] = ()
    conditions: tuple[Condition, ...] = ()
    rules: tuple[Rule, ...] = ()
    commitments: tuple[Commitment, ...] = ()
    sites: tuple[Site, ...] = ()
    convoys: tuple[Convoy, ...] = ()
    description: str | None = None
    notes: tuple[str, ...] = ()  # caveats shown to users: UNVERIFIED values, estimates
    # Where the terms apply: a zone id or a polygon feature id (None: everywhere).
    # Incidents outside it are listed, never violations.
    area: str | None = None
    ends: AgreementEnd | None = None

    def zone(self, zone_id: str) -> Zone:
        return next(z for z in self.zones if z.id == zone_id)

    def party_ids(self) -> tuple[str, ...]:
        return tuple(p.id for p in self.parties)

    def excluded_ids(self) -> tuple[str, ...]:
        return tuple(g.id for g in self.excluded)

    def checkpoint_ids(self) -> tuple[str, ...]:
        """Point features used as checkpoints (by checkpoint_limit rules or
        checkpoints_established conditions), in first-use order."""
        found = [getattr(r.params, "checkpoint", None) for r in self.rules]
        found += [cp for c in self.conditions for cp in getattr(c.params, "checkpoints", ())]
        return tuple(dict.fromkeys(f for f in found if f and f in self.features))
