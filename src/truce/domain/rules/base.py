"""What every rule kind shares: its parameter schema, the context it is evaluated
in, and the findings it returns. Rule kinds are registered by name (see
`truce.domain.rules`); third-party kinds use the `truce.rules` entry-point group.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from functools import cached_property
from itertools import repeat
from typing import Any, ClassVar, Literal, Protocol

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from truce.domain.model import Agreement, IncidentTable, Rule
from truce.domain.timeparse import from_utc64

Namespace = Literal["phase", "zone", "feature", "party", "condition"]


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


@dataclass(frozen=True)
class Words:
    """A column of text as codes into its few distinct texts: row i reads `texts[codes[i]]`.

    Evidence is put together from such columns (`compose`) once per distinct combination
    of words, not once per violation.
    """

    codes: np.ndarray  # int
    texts: list[str]

    @classmethod
    def of(cls, values: np.ndarray, words: Callable[[Any], str] = str) -> Words:
        """`words(v)` for each value (no None among them), worked out once per distinct value."""
        codes, distinct = pd.factorize(np.asarray(values), use_na_sentinel=False)
        return cls(codes.astype(np.int64), [words(v) for v in distinct.tolist()])

    def take(self, rows: np.ndarray) -> Words:
        return Words(self.codes[rows], self.texts)

    def map(self, words: Callable[[str], str]) -> Words:
        return Words(self.codes, [words(t) for t in self.texts])

    def is_in(self, texts: tuple[str, ...]) -> np.ndarray:
        """Mask: rows whose text is one of `texts`."""
        return np.array([t in texts for t in self.texts] + [False], dtype=bool)[self.codes]


def compose(n: int, *parts: str | Words) -> np.ndarray:
    """n texts (an object array), row i's being the parts joined: a `str` as it is, a
    `Words` column by its row i. Each distinct combination is joined once."""
    columns = [p for p in parts if isinstance(p, Words)]
    if not columns:
        return np.full(n, "".join(p for p in parts if isinstance(p, str)), dtype=object)
    combined = np.zeros(n, dtype=np.int64)
    for w in columns:
        combined = combined * max(len(w.texts), 1) + w.codes
        if combined.max(initial=0) > 2**40:
            combined = pd.factorize(combined)[0].astype(np.int64)
    which, _ = pd.factorize(combined)
    first = np.empty(int(which.max(initial=-1)) + 1, dtype=np.int64)
    first[which[::-1]] = np.arange(n)[::-1]  # a row showing each distinct combination
    pieces = [
        repeat(p) if isinstance(p, str) else np.array(p.texts, dtype=object)[p.codes[first]]
        for p in parts
    ]
    texts = np.empty(len(first), dtype=object)
    texts[:] = ["".join(t) for t in zip(*pieces, strict=False)]  # constants repeat
    return texts[which]  # type: ignore[no-any-return]


@dataclass
class Findings:
    """The violations one rule found: parallel arrays, one entry per violation."""

    incidents: np.ndarray  # int row numbers in the IncidentTable
    party: np.ndarray  # object: charged party
    evidence: np.ndarray | list[str]  # object array of str (or a list)
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
    _phase_cache: dict[tuple[str, ...], np.ndarray] = field(default_factory=dict)

    @property
    def tz(self) -> tzinfo:
        return self.agreement.timezone

    @cached_property
    def _parties(self) -> Words:
        return Words.of(self.incidents.party)

    @cached_property
    def _targets(self) -> Words:
        return Words.of(self.incidents.target)

    def parties(self, rows: np.ndarray) -> Words:
        """The charged party (or excluded group, or `unattributed`) of these incidents."""
        return self._parties.take(rows)

    def targets(self, rows: np.ndarray) -> Words:
        """The target party or excluded group of these incidents ("" when none)."""
        return self._targets.take(rows)

    def party_is(self, *labels: str) -> np.ndarray:
        """Mask: incidents whose party is one of `labels`."""
        return self._parties.is_in(labels)

    @cached_property
    def excluded(self) -> tuple[np.ndarray, np.ndarray]:
        """Masks: (the attacker is an excluded group, the target is an excluded group)."""
        ids = self.agreement.excluded_ids()
        return self._parties.is_in(ids), self._targets.is_in(ids)

    def phase_index(self, phase_ids: tuple[str, ...]) -> np.ndarray:
        """For each incident, the position in `phase_ids` of the first listed phase active
        at its time (-1: none). With no phases listed: 0 once the agreement is in force."""
        if phase_ids not in self._phase_cache:
            if not phase_ids:
                index = np.where(self.in_force(), 0, -1)
            else:
                t = self.incidents.observed_at
                index = np.full(len(t), -1, dtype=np.int64)
                for k in reversed(range(len(phase_ids))):
                    start, end = self.phase_windows.get(
                        phase_ids[k], (np.datetime64("NaT"), np.datetime64("NaT"))
                    )
                    if np.isnat(start):
                        continue
                    inside = t >= start
                    if not np.isnat(end):
                        inside &= t < end
                    index[inside] = k
            self._phase_cache[phase_ids] = index
        return self._phase_cache[phase_ids]

    def first_zone_index(self, zone_ids: tuple[str, ...], rows: np.ndarray) -> np.ndarray:
        """For each row, the position in `zone_ids` of the first listed zone containing it
        (-1: none)."""
        out = np.full(len(rows), -1, dtype=np.int64)
        for k in reversed(range(len(zone_ids))):
            out[self.zone_mask(zone_ids[k])[rows]] = k
        return out

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
        return np.where(self.in_force(), "in force", None)  # type: ignore[call-overload]

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
