"""Reports and incidents as columnar tables of numpy arrays: they come in millions,
so every hot path (projection, zone tests, consolidation, rules) works on whole
columns at once."""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from truce.domain.vocabulary import ATTACK


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
