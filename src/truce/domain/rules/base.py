"""What every rule kind shares: its parameter schema, the context it is evaluated
in, and the findings it returns. Rule kinds are registered by name (see
`truce.domain.rules`); third-party kinds use the `truce.rules` entry-point group.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any, ClassVar, Literal, Protocol

import numpy as np
from pydantic import BaseModel, ConfigDict

from truce.domain.model import WEAPONS, Agreement, IncidentTable, Rule
from truce.domain.timeparse import from_utc64

Namespace = Literal["phase", "zone", "feature", "party", "condition"]
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
assert set(Weapon.__args__) == set(WEAPONS)  # type: ignore[attr-defined]


class RuleParams(BaseModel):
    """Base of each kind's parameters. Unknown keys are errors, not ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def refs(self) -> list[tuple[str, Namespace, str]]:
        """(field path, namespace, id) for every name this rule refers to, for validation."""
        return []


class PhaseScoped(RuleParams):
    """Rules that apply while listed phases are active (empty: whenever the agreement is in force)."""

    phases: tuple[str, ...] = ()

    def refs(self) -> list[tuple[str, Namespace, str]]:
        return [(f"phases[{i}]", "phase", p) for i, p in enumerate(self.phases)]


@dataclass
class Findings:
    """The violations one rule found: parallel arrays, one entry per violation."""

    incidents: np.ndarray  # int row numbers in the IncidentTable
    party: np.ndarray  # object: charged party
    evidence: list[str]
    zone: np.ndarray | None = None  # object: zone id or None
    measured_m: np.ndarray | None = None

    @classmethod
    def none(cls) -> Findings:
        return cls(np.array([], dtype=np.int64), np.array([], dtype=object), [])

    def __len__(self) -> int:
        return len(self.incidents)


@dataclass
class RuleContext:
    """Everything a rule may look at. Built once per evaluation; masks are cached."""

    agreement: Agreement
    incidents: IncidentTable
    phase_windows: dict[str, tuple[np.datetime64, np.datetime64]]  # [start, end); NaT end = open
    in_force_from: np.datetime64  # NaT when no phase ever started
    zone_mask_fn: Callable[[str], np.ndarray]
    distance_fn: Callable[[str, np.ndarray], np.ndarray]  # (feature id, incident rows) -> metres
    _zone_cache: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def tz(self) -> tzinfo:
        return self.agreement.timezone

    def zone_mask(self, zone_id: str) -> np.ndarray:
        if zone_id not in self._zone_cache:
            self._zone_cache[zone_id] = self.zone_mask_fn(zone_id)
        return self._zone_cache[zone_id]

    def any_zone_mask(self, zone_ids: tuple[str, ...]) -> np.ndarray:
        mask = np.zeros(len(self.incidents), dtype=bool)
        for z in zone_ids:
            mask |= self.zone_mask(z)
        return mask

    def first_zone(self, zone_ids: tuple[str, ...], rows: np.ndarray) -> np.ndarray:
        """For each row, the first listed zone that contains it (None if none)."""
        out = np.full(len(rows), None, dtype=object)
        for z in reversed(zone_ids):
            out[self.zone_mask(z)[rows]] = z
        return out

    def active_phase(self, phase_ids: tuple[str, ...]) -> np.ndarray:
        """For each incident, the first listed phase active at its time (None if none)."""
        t = self.incidents.observed_at
        out = np.full(len(t), None, dtype=object)
        for pid in reversed(phase_ids):
            start, end = self.phase_windows.get(pid, (np.datetime64("NaT"), np.datetime64("NaT")))
            if np.isnat(start):
                continue
            inside = t >= start
            if not np.isnat(end):
                inside &= t < end
            out[inside] = pid
        return out

    def phase_labels(self, phase_ids: tuple[str, ...]) -> np.ndarray:
        """For each incident, the listed phase active at its time; with no phases listed,
        "in force" once the agreement is in force; None where the rule does not apply."""
        if phase_ids:
            return self.active_phase(phase_ids)
        return np.where(self.in_force(), "in force", None)

    def in_force(self) -> np.ndarray:
        if np.isnat(self.in_force_from):
            return np.zeros(len(self.incidents), dtype=bool)
        return self.incidents.observed_at >= self.in_force_from

    def local_time(self, row: int) -> str:
        return from_utc64(self.incidents.observed_at[row], self.tz).strftime("%Y-%m-%dT%H:%M%z")


def fmt_local(dt: datetime, tz: tzinfo) -> str:
    """`2016-09-15T19:00+03:00`: minutes precision, offset with a colon."""
    s = dt.astimezone(tz).strftime("%Y-%m-%dT%H:%M%z")
    return s[:-2] + ":" + s[-2:]


def fmt_m(metres: float) -> str:
    return f"{metres:,.0f} m"


class RuleKind(Protocol):
    """A rule kind: its name, its parameter schema, how it finds violations, how it reads."""

    name: ClassVar[str]
    Params: ClassVar[type[RuleParams]]

    def evaluate(self, rule: Rule, ctx: RuleContext) -> Findings: ...

    def describe(self, rule: Rule, agreement: Agreement) -> str: ...


def as_params(rule: Rule) -> Any:
    return rule.params
