"""The timeline: phase starts and ends, conditions and when they are met.

Phases start at a fixed instant, when another phase ends, or when a condition
is first met; conditions may start counting when a phase ends. Both are
resolved together, each once, in dependency order (the loader has already
rejected cycles). Nothing after `as_of` is used: a condition can only be met by
days that had ended by then, so a phase waiting on it is `never` until it is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

import numpy as np

from truce.domain.model import (
    AfterPhase,
    Agreement,
    AtTime,
    Condition,
    ConditionState,
    DayCount,
    Phase,
    PhaseState,
    TimeRef,
    WhenCondition,
)
from truce.domain.timeparse import iso, to_utc64

# (zone ids) -> sorted UTC datetime64 of the violent incidents inside them (all, when empty)
ViolentTimes = Callable[[tuple[str, ...]], np.ndarray]


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


@dataclass
class _Resolver:
    agreement: Agreement
    violent_times: ViolentTimes
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

    def condition(self, condition_id: str) -> ConditionState:
        if condition_id not in self.conditions:
            c = next(c for c in self.agreement.conditions if c.id == condition_id)
            self.conditions[condition_id] = self.quiet_days(c)
        return self.conditions[condition_id]

    def counting_start(self, c: Condition) -> datetime | None:
        if c.start is not None:
            return self.instant(c.start)
        starts = [
            s for p in self.agreement.phases if isinstance(p.start, AtTime) for s in [p.start.at]
        ]
        return min(starts) if starts else None

    def quiet_days(self, c: Condition) -> ConditionState:
        begin = self.counting_start(c)
        if begin is None:
            return ConditionState(c.id, None, _describe_unstarted(c))
        tz = self.agreement.timezone
        times = self.violent_times(c.within)
        # Whole local calendar days only: counting begins at the first local midnight
        # at or after `begin`.
        local = begin.astimezone(tz)
        first = (
            local.date()
            if local.timetz().replace(tzinfo=None) == time(0)
            else local.date() + timedelta(1)
        )
        if datetime.combine(first, time(0), tz) > self.as_of:
            return ConditionState(
                c.id, None, f"counting starts {iso(datetime.combine(first, time(0), tz))}", begin
            )
        days: list[DayCount] = []
        streak, met_at, last_breach = 0, None, None
        day = first
        while True:
            day_start = datetime.combine(day, time(0), tz)
            if day_start > self.as_of:
                break
            day_end = datetime.combine(day + timedelta(1), time(0), tz)
            lo, hi = np.searchsorted(times, [to_utc64(day_start), to_utc64(day_end)], side="left")
            count = int(hi - lo)
            complete = day_end <= self.as_of
            quiet = count <= c.max_incidents
            days.append(DayCount(day, count, quiet, complete))
            if complete and met_at is None:
                if quiet:
                    streak += 1
                    if streak >= c.days:
                        met_at = day_end
                        break
                else:
                    streak, last_breach = 0, (day, count)
            day += timedelta(1)
        if met_at is not None:
            return ConditionState(c.id, met_at, None, begin, streak, tuple(days))
        blocking = f"{streak} of {c.days} consecutive quiet days so far (at most {c.max_incidents} violent incidents a day"
        blocking += f" inside {', '.join(c.within)})" if c.within else ")"
        if last_breach:
            blocking += (
                f"; last breach {last_breach[0].isoformat()} with {last_breach[1]} incidents"
            )
        return ConditionState(c.id, None, blocking, begin, streak, tuple(days))


def _describe_unstarted(c: Condition) -> str:
    if isinstance(c.start, AfterPhase):
        return f"counting starts when phase {c.start.phase} ends, which has not happened"
    if isinstance(c.start, WhenCondition):
        return f"counting starts when condition {c.start.condition} is met, which has not happened"
    return "counting has not started"


def resolve_timeline(
    agreement: Agreement, violent_times: ViolentTimes, as_of: datetime
) -> Timeline:
    """Phase states and condition states as they stood at `as_of`."""
    r = _Resolver(agreement, violent_times, as_of)
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
