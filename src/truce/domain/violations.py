"""Violations: one per rule an incident breaks, held as columns (`ViolationTable`) and
read as `Violation` records."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields
from datetime import datetime, tzinfo
from functools import cached_property
from typing import Literal, overload

import numpy as np

from truce.domain.timeparse import from_utc64, from_utc64_many


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
