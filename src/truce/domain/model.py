"""The nouns of truce: agreements, reports, incidents, violations, phase states.

Agreements are small and hand-written, so they are plain frozen dataclasses.
Reports and incidents come in millions, so they are columnar tables of numpy
arrays: every hot path (projection, zone tests, consolidation, rules) works on
whole columns at once.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta, tzinfo
from functools import cached_property
from typing import Any, Literal, get_args, overload

import numpy as np
from shapely.geometry.base import BaseGeometry

from truce.domain.timeparse import from_utc64, from_utc64_many

# --- vocabulary (SPEC §2) ---------------------------------------------------

EVENT_TYPES: tuple[str, ...] = (
    "airstrike",
    "shelling",
    "armed_clash",
    "small_arms_fire",
    "atgm_attack",
    "ground_advance",
    "weapon_sighting",
    "checkpoint_observation",
    "convoy_obstruction",
    "attack_on_humanitarian",
    # Appended, so earlier codes stay stable: what an importer cannot map (SPEC §4).
    "other",
    # Appended, never inserted: the integer codes of the types above must not change.
    "checkpoint_status",
    "convoy_status",
)
ATTACK_TYPES: frozenset[str] = frozenset(
    {"airstrike", "shelling", "armed_clash", "small_arms_fire", "atgm_attack"}
)
# What a "violent incident" is for quiet-day conditions: attacks and attacks on aid.
VIOLENT_TYPES: frozenset[str] = ATTACK_TYPES | {"attack_on_humanitarian"}
# The status a `checkpoint_status` / `convoy_status` report gives (SPEC §6), in its
# `status` column or as a word of its notes.
CHECKPOINT_STATUSES: tuple[str, ...] = ("established", "staffed", "removed")
CONVOY_STATUSES: tuple[str, ...] = ("departed", "delivered", "stopped", "turned_back")
STATUS_VOCABULARY: dict[str, tuple[str, ...]] = {
    "checkpoint_status": CHECKPOINT_STATUSES,
    "convoy_status": CONVOY_STATUSES,
}

Weapon = Literal[
    "aircraft",
    "heavy_vehicle",
    "artillery",
    "mlrs",
    "mortar",
    "apc",
    "atgm",
    "small_arms",
    "personnel",
]
WEAPONS: tuple[str, ...] = get_args(Weapon)
RELIABILITY_GRADES = "ABCDEF"
CREDIBILITY_GRADES = "123456"

UNATTRIBUTED = "unattributed"
# `direction` codes (SPEC §4): who attacked whom is known, or only that they fought.
DIRECTIONS: tuple[str, ...] = ("attack", "mutual")
ATTACK, MUTUAL = 0, 1
NO_CODE = -1  # code for "not stated" in integer-coded columns


def event_code(name: str) -> int:
    return EVENT_TYPES.index(name)


def weapon_code(name: str) -> int:
    return WEAPONS.index(name)


def codes_of(names: frozenset[str] | tuple[str, ...], vocabulary: tuple[str, ...]) -> np.ndarray:
    """Integer codes of a set of names, for `np.isin` over a coded column."""
    return np.array(sorted(vocabulary.index(n) for n in names), dtype=np.int8)


# --- agreements -----------------------------------------------------------


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


# --- reports and incidents (columnar) --------------------------------------


def _lengths_agree(table: object) -> None:
    n = {len(getattr(table, f.name)) for f in fields(table)}  # type: ignore[arg-type]
    if len(n) > 1:
        raise ValueError(f"{type(table).__name__}: columns of different lengths {sorted(n)}")


@dataclass
class ReportTable:
    """Accepted reports, one row each. Times are UTC `datetime64[ns]`.

    Text columns are numpy object arrays with "" for "not stated"; numeric
    ones use NaN; coded ones use NO_CODE.
    """

    source: np.ndarray
    report_id: np.ndarray
    observed_at: np.ndarray  # datetime64[ns], UTC
    lon: np.ndarray
    lat: np.ndarray
    precision_m: np.ndarray  # float, NaN unknown
    event_type: np.ndarray  # int8 code into EVENT_TYPES
    weapon: np.ndarray  # int8 code into WEAPONS, NO_CODE
    actor: np.ndarray
    side: np.ndarray
    target: np.ndarray
    count: np.ndarray  # float, NaN unknown
    fatalities: np.ndarray  # float, NaN unknown
    reliability: np.ndarray  # "A".."F" or ""
    credibility: np.ndarray  # int8 1..6, 0 unknown
    place: np.ndarray
    notes: np.ndarray
    line: np.ndarray  # int64 line in the file it came from (0 if none)
    # SPEC §4 optional columns. Readers that do not know them may leave them out:
    # they are then filled with "not stated" (NaT, "", NaN, ATTACK) by __post_init__,
    # so after construction every column is an array (the None default is never seen).
    # datetime64[ns] UTC end of the time window, NaT
    observed_to: np.ndarray = None  # type: ignore[assignment]
    # int8: ATTACK (actor attacked target) or MUTUAL
    direction: np.ndarray = None  # type: ignore[assignment]
    fatalities_low: np.ndarray = None  # type: ignore[assignment]  # float, NaN
    fatalities_high: np.ndarray = None  # type: ignore[assignment]  # float, NaN
    source_url: np.ndarray = None  # type: ignore[assignment]  # object, ""
    dataset: np.ndarray = None  # type: ignore[assignment]  # object: a curated dataset's name, ""
    # object: an imported row as the source wrote it (JSON), ""
    original: np.ndarray = None  # type: ignore[assignment]

    def __post_init__(self) -> None:
        n = len(self.source)
        if self.observed_to is None:
            self.observed_to = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
        if self.direction is None:
            self.direction = np.full(n, ATTACK, dtype=np.int8)
        for name in ("fatalities_low", "fatalities_high"):
            if getattr(self, name) is None:
                setattr(self, name, np.full(n, np.nan))
        for name in ("source_url", "dataset", "original"):
            if getattr(self, name) is None:
                setattr(self, name, np.full(n, "", dtype=object))
        _lengths_agree(self)

    def __len__(self) -> int:
        return len(self.source)

    @property
    def keys(self) -> np.ndarray:
        """`source:report_id`, the globally unique report key."""
        return np.char.add(np.char.add(self.source.astype(str), ":"), self.report_id.astype(str))

    def take(self, index: np.ndarray) -> ReportTable:
        return ReportTable(**{f.name: getattr(self, f.name)[index] for f in fields(self)})

    @classmethod
    def concat(cls, tables: list[ReportTable]) -> ReportTable:
        if not tables:
            return empty_reports()
        return cls(
            **{f.name: np.concatenate([getattr(t, f.name) for t in tables]) for f in fields(cls)}
        )


def empty_reports() -> ReportTable:
    obj = np.array([], dtype=object)
    flt = np.array([], dtype=np.float64)
    return ReportTable(
        source=obj,
        report_id=obj.copy(),
        observed_at=np.array([], dtype="datetime64[ns]"),
        lon=flt,
        lat=flt.copy(),
        precision_m=flt.copy(),
        event_type=np.array([], dtype=np.int8),
        weapon=np.array([], dtype=np.int8),
        actor=obj.copy(),
        side=obj.copy(),
        target=obj.copy(),
        count=flt.copy(),
        fatalities=flt.copy(),
        reliability=obj.copy(),
        credibility=np.array([], dtype=np.int8),
        place=obj.copy(),
        notes=obj.copy(),
        line=np.array([], dtype=np.int64),
    )


@dataclass(frozen=True)
class Rejection:
    """A report row that was not accepted, and why."""

    line: int
    report_id: str | None
    reason: str
    source: str | None = None
    field: str | None = None  # the column at fault, so a form can show the error beside it
    # (field, reason) for each column at fault, in check order; `field` is the first of them
    # and `reason` all of them joined with "; ". Empty when the row failed as a whole.
    problems: tuple[tuple[str, str], ...] = ()


@dataclass
class IncidentTable:
    """Consolidated incidents. Row i's reports are `members[offsets[i]:offsets[i+1]]`
    (indices into the ReportTable they were built from)."""

    anchor: np.ndarray  # report key of the earliest report: a stable identity
    event_type: np.ndarray  # int8
    weapon: np.ndarray  # int8, NO_CODE
    observed_at: np.ndarray  # datetime64[ns] UTC, earliest report
    lon: np.ndarray
    lat: np.ndarray
    x: np.ndarray  # metric CRS
    y: np.ndarray
    precision_m: np.ndarray
    party: np.ndarray  # charged party id, excluded group id, or UNATTRIBUTED
    target: np.ndarray  # party id, excluded group id, or ""
    side: np.ndarray  # stated side (checkpoint observations), or ""
    count: np.ndarray  # float, NaN
    fatalities: np.ndarray  # float, NaN
    corroboration: np.ndarray  # int, distinct sources
    reliability: np.ndarray  # best source reliability "A".."F"
    credibility: np.ndarray  # int8 1..6
    offsets: np.ndarray  # int64, len n+1
    members: np.ndarray  # int64 report indices
    # SPEC §4/§5: the time window, the casualty range, who took part.
    observed_to: np.ndarray  # datetime64[ns] UTC exclusive end of the window, NaT: an instant
    fatalities_low: np.ndarray  # float, NaN
    fatalities_high: np.ndarray  # float, NaN
    actor: np.ndarray  # label of the actor side (for a mutual clash, one of the two sides)
    involved: np.ndarray  # label: every party and excluded group named, "" none
    mutual: np.ndarray  # bool: the reports say the sides fought, not who attacked
    datasets: np.ndarray  # object: "+"-joined curated datasets among its reports, ""
    actor_text: np.ndarray  # object: the anchor's actor as written where it names nobody known
    target_text: np.ndarray  # object: likewise its target ("" where the label says who)

    def __len__(self) -> int:
        return len(self.anchor)

    @property
    def last_instant(self) -> np.ndarray:
        """The last instant of each incident's time window (its time, for an instant)."""
        end = self.observed_to
        return np.where(np.isnat(end), self.observed_at, end - np.timedelta64(1, "ns"))

    def member_indices(self, i: int) -> np.ndarray:
        return self.members[self.offsets[i] : self.offsets[i + 1]]


@dataclass(frozen=True)
class Violation:
    id: str
    rule: str
    kind: str
    incident: int  # row in the IncidentTable
    party: str
    at: datetime
    zone: str | None
    evidence: str
    status: Literal["alleged", "corroborated"]
    measured_m: float | None = None
    certainty: Literal["certain", "possible"] = "certain"
    involved: tuple[str, ...] = ()


@dataclass(eq=False)
class ViolationTable(Sequence[Violation]):
    """An evaluation's violations as columns, in id order: row k is `v-{k+1}`.

    A million reports can give a hundred thousand violations, so they are built
    and written out column by column. Indexing or iterating gives `Violation`
    objects, made on demand; the table compares equal to a list of the same
    Violations.
    """

    rule: np.ndarray  # object: rule id
    kind: np.ndarray  # object: rule kind
    incident: np.ndarray  # int64: row in the IncidentTable
    party: np.ndarray  # object: charged party
    at: np.ndarray  # datetime64[ns] UTC: the incident's time
    zone: np.ndarray  # object: zone id or None
    evidence: np.ndarray  # object: str
    corroborated: np.ndarray  # bool: two or more independent sources
    measured_m: np.ndarray  # float64, NaN where the rule measures nothing
    timezone: tzinfo  # the agreement's: `Violation.at` is given in it
    # SPEC §5: whether the rule holds for the incident's whole uncertainty region, and
    # the label of every party and excluded group the incident involves.
    # Filled by __post_init__ when left out, so after construction both are arrays.
    certain: np.ndarray = None  # type: ignore[assignment]  # bool; None: all certain
    involved: np.ndarray = None  # type: ignore[assignment]  # object label; None: none named

    def __post_init__(self) -> None:
        if self.certain is None:
            self.certain = np.ones(len(self.incident), dtype=bool)
        if self.involved is None:
            self.involved = np.full(len(self.incident), "", dtype=object)
        n = {len(getattr(self, f.name)) for f in fields(self) if f.name != "timezone"}
        if len(n) > 1:
            raise ValueError(f"ViolationTable: columns of different lengths {sorted(n)}")

    @classmethod
    def empty(cls, timezone: tzinfo) -> ViolationTable:
        obj = np.array([], dtype=object)
        return cls(
            rule=obj,
            kind=obj,
            incident=np.array([], dtype=np.int64),
            party=obj,
            at=np.array([], dtype="datetime64[ns]"),
            zone=obj,
            evidence=obj,
            corroborated=np.array([], dtype=bool),
            measured_m=np.array([], dtype=np.float64),
            timezone=timezone,
        )

    def __len__(self) -> int:
        return len(self.incident)

    @cached_property
    def ids(self) -> list[str]:
        return [f"v-{k}" for k in range(1, len(self) + 1)]

    @property
    def status(self) -> np.ndarray:
        """Object array of "corroborated" / "alleged"."""
        return np.where(self.corroborated, "corroborated", "alleged").astype(object)

    def _violation(self, k: int, at: datetime) -> Violation:
        measured = float(self.measured_m[k])
        zone = self.zone[k]
        return Violation(
            id=f"v-{k + 1}",
            rule=str(self.rule[k]),
            kind=str(self.kind[k]),
            incident=int(self.incident[k]),
            party=str(self.party[k]),
            at=at,
            zone=None if zone is None else str(zone),
            evidence=str(self.evidence[k]),
            status="corroborated" if self.corroborated[k] else "alleged",
            measured_m=None if np.isnan(measured) else measured,
            certainty="certain" if self.certain[k] else "possible",
            involved=tuple(str(self.involved[k]).split("+")) if self.involved[k] else (),
        )

    @overload
    def __getitem__(self, k: int) -> Violation: ...

    @overload
    def __getitem__(self, k: slice) -> list[Violation]: ...

    def __getitem__(self, k: int | slice) -> Violation | list[Violation]:
        if isinstance(k, slice):
            return [self[j] for j in range(*k.indices(len(self)))]
        if k < 0:
            k += len(self)
        if not 0 <= k < len(self):
            raise IndexError(f"violation {k} out of range ({len(self)} violations)")
        return self._violation(k, from_utc64(self.at[k], self.timezone))

    def __iter__(self) -> Iterator[Violation]:
        for k, at in enumerate(from_utc64_many(self.at, self.timezone)):
            yield self._violation(k, at)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, str):
            return NotImplemented
        return list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"ViolationTable({len(self)} violations)"


PhaseStatus = Literal["pending", "active", "ended", "never"]


@dataclass(frozen=True)
class PhaseState:
    id: str
    start: datetime | None
    end: datetime | None
    status: PhaseStatus


@dataclass(frozen=True)
class DayCount:
    """Violent incidents on one local calendar day, for a condition's chart."""

    day: date
    incidents: int
    quiet: bool
    complete: bool  # the day had ended by as_of
    covered: bool = True  # the required centres' bulletins covered the whole day


Period = tuple[datetime, datetime | None]  # [start, end); None: still running at as_of


@dataclass(frozen=True)
class ConditionState:
    """A condition as it stood at `as_of`. `met_at` is when it was first met (what a
    phase's `{when: ...}` waits for); `periods` are all the times it held, so one that
    was met and then un-met says so; `waiting_for` names what it still needs."""

    id: str
    met_at: datetime | None
    blocking: str | None  # why it is not met (now), in plain words; None when met
    counting_from: datetime | None = None
    streak_days: int = 0
    days: tuple[DayCount, ...] = ()
    kind: str = "quiet_days"
    periods: tuple[Period, ...] = ()
    parts: tuple[str, ...] = ()  # the condition ids a composite is made of
    waiting_for: tuple[str, ...] = ()  # what is not met yet (parts, checkpoints, convoys)

    @property
    def met(self) -> bool:
        """Met at as_of (not merely once)."""
        return bool(self.periods) and self.periods[-1][1] is None

    @property
    def unmet_at(self) -> datetime | None:
        """When it stopped holding, if it was met and no longer is."""
        return self.periods[-1][1] if self.periods else None


@dataclass
class Evaluation:
    """Everything `truce evaluate` computes for one agreement at one instant."""

    agreement: Agreement
    as_of: datetime
    reports: ReportTable
    rejected: list[Rejection]
    incidents: IncidentTable
    incident_ids: list[str]
    violations: ViolationTable
    phases: list[PhaseState]
    conditions: list[ConditionState]
    extra: dict[str, Any] = field(default_factory=dict)
