"""The timeline: phase starts and ends, conditions and when they are met.

Phases start at a fixed instant, when another phase ends, or when a condition
is first met; conditions may start counting when a phase ends, and a composite
waits for other conditions. All are resolved together, each once, in dependency
order (the loader has already rejected cycles). Each condition kind
(`truce.domain.conditions`) answers the periods it held; nothing after `as_of`
is used, so a phase waiting on a condition not met by then is `never` (yet).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from truce.domain.conditions import ConditionContext, condition_kinds
from truce.domain.conditions.base import Coverage
from truce.domain.model import (
    AfterPhase,
    Agreement,
    AtTime,
    Condition,
    ConditionState,
    Phase,
    PhaseState,
    TimeRef,
    WhenCondition,
)
from truce.domain.status import StatusHistories
from truce.domain.timeparse import to_utc64

NAT = np.datetime64("NaT", "ns")
# (zone ids, parties only) -> sorted UTC datetime64 of the violent incidents counted
ViolentTimes = Callable[[tuple[str, ...], bool], np.ndarray]
PhaseWindows = Mapping[str, tuple[np.datetime64, np.datetime64]]
# (rule ids, phase windows, in force from) -> sorted UTC datetime64 of their violations
ViolationTimes = Callable[[tuple[str, ...], PhaseWindows, np.datetime64], np.ndarray]


@dataclass
class TimelineInputs:
    """What the conditions count, from the evaluation's incidents and reports."""

    violent_times: ViolentTimes
    violation_times: ViolationTimes | None = None
    histories: StatusHistories = field(default_factory=lambda: StatusHistories({}, {}))
    coverage: Coverage | None = None


@dataclass
class Timeline:
    phases: list[PhaseState]
    conditions: list[ConditionState]

    @property
    def windows(self) -> dict[str, tuple[np.datetime64, np.datetime64]]:
        """Each phase's [start, end) as UTC datetime64 (NaT: not started / open-ended)."""
        nat = np.datetime64("NaT", "ns")
        return {
            p.id: (
                to_utc64(p.start) if p.start else nat,
                to_utc64(p.end) if p.end else nat,
            )
            for p in self.phases
            if p.status != "never"
        }

    def in_force_from(self) -> np.datetime64:
        starts = [to_utc64(p.start) for p in self.phases if p.start is not None]
        return min(starts) if starts else np.datetime64("NaT", "ns")


class _LazyWindows(Mapping[str, tuple[np.datetime64, np.datetime64]]):
    """Phase windows resolved on demand, for rules a condition looks at while the
    timeline is still being resolved."""

    def __init__(self, resolver: _Resolver) -> None:
        self.r = resolver

    def __getitem__(self, phase_id: str) -> tuple[np.datetime64, np.datetime64]:
        if phase_id not in {p.id for p in self.r.agreement.phases}:
            raise KeyError(phase_id)
        start, end = self.r.phase_start(phase_id), self.r.phase_end(phase_id)
        return (to_utc64(start) if start else NAT, to_utc64(end) if end else NAT)

    def __iter__(self) -> Iterator[str]:
        return iter(p.id for p in self.r.agreement.phases)

    def __len__(self) -> int:
        return len(self.r.agreement.phases)


@dataclass
class _Resolver:
    agreement: Agreement
    inputs: TimelineInputs
    as_of: datetime
    starts: dict[str, datetime | None] = field(default_factory=dict)
    conditions: dict[str, ConditionState] = field(default_factory=dict)

    def phase(self, phase_id: str) -> Phase:
        return next(p for p in self.agreement.phases if p.id == phase_id)

    def phase_start(self, phase_id: str) -> datetime | None:
        if phase_id not in self.starts:
            self.starts[phase_id] = self.instant(self.phase(phase_id).start)
        return self.starts[phase_id]

    def phase_end(self, phase_id: str) -> datetime | None:
        start, duration = self.phase_start(phase_id), self.phase(phase_id).duration
        return start + duration if start is not None and duration is not None else None

    def instant(self, ref: TimeRef) -> datetime | None:
        """When a time reference falls, or None if it has not happened and cannot be known."""
        if isinstance(ref, AtTime):
            return ref.at
        if isinstance(ref, AfterPhase):
            end = self.phase_end(ref.phase)
            return end + ref.offset if end is not None else None
        if isinstance(ref, WhenCondition):
            met = self.condition(ref.condition).met_at
            return met + ref.offset if met is not None else None
        raise TypeError(f"unknown time reference {ref!r}")

    def counted_until(self) -> datetime:
        """Conditions count up to `as_of`, but not past the agreement's end: once it stops
        binding, a quiet day or a delivery no longer moves its timeline on."""
        ends = getattr(self.agreement, "ends", None)
        return min(self.as_of, ends.at) if ends is not None else self.as_of

    def first_fixed_start(self) -> datetime | None:
        starts = [p.start.at for p in self.agreement.phases if isinstance(p.start, AtTime)]
        return min(starts) if starts else None

    def counting_start(self, c: Condition) -> datetime | None:
        if c.start is not None:
            return self.instant(c.start)
        return self.first_fixed_start()

    def violation_times(self, rule_ids: tuple[str, ...]) -> np.ndarray:
        if self.inputs.violation_times is None:
            return np.array([], dtype="datetime64[ns]")
        first = self.first_fixed_start()
        return self.inputs.violation_times(
            rule_ids, _LazyWindows(self), to_utc64(first) if first else NAT
        )

    def condition(self, condition_id: str) -> ConditionState:
        if condition_id not in self.conditions:
            c = next(c for c in self.agreement.conditions if c.id == condition_id)
            kind = condition_kinds()[c.kind]
            ctx = ConditionContext(
                agreement=self.agreement,
                as_of=self.counted_until(),
                condition=self.condition,
                instant=self.instant,
                counting_start=self.counting_start,
                violent_times=self.inputs.violent_times,
                violation_times=self.violation_times,
                checkpoint_history=self.inputs.histories.checkpoint,
                convoy_history=self.inputs.histories.convoy,
                coverage=self.inputs.coverage,
            )
            self.conditions[condition_id] = kind.evaluate(c, ctx)
        return self.conditions[condition_id]


def resolve_timeline(
    agreement: Agreement, inputs: TimelineInputs | ViolentTimes, as_of: datetime
) -> Timeline:
    """Phase states and condition states as they stood at `as_of`. `inputs` may be just
    the violent-times callback when no condition needs more."""
    if not isinstance(inputs, TimelineInputs):
        inputs = TimelineInputs(inputs)
    r = _Resolver(agreement, inputs, as_of)
    phases: list[PhaseState] = []
    for p in agreement.phases:
        start, end = r.phase_start(p.id), r.phase_end(p.id)
        if start is None:
            status = "never"
        elif start > as_of:
            status = "pending"
        elif end is not None and end <= as_of:
            status = "ended"
        else:
            status = "active"
        phases.append(PhaseState(p.id, start, end, status))  # type: ignore[arg-type]
    conditions = [r.condition(c.id) for c in agreement.conditions]
    return Timeline(phases, conditions)
