"""`quiet_days`: `days` consecutive local days with at most `max_incidents` violent
incidents (inside `within`, if given).

- `count: parties_only` counts only incidents between the parties: a party is the
  attacker or the target and no excluded group is either (an airstrike on an
  excluded group, or fighting between excluded groups, does not count).
- `coverage: [centre, ...]`: a day counts only when every listed centre's
  bulletins cover the whole of it. The evaluation is given the coverage (centre ->
  covered intervals); without it the condition says it is "not covered" rather
  than count days nobody vouched for. An uncovered day breaks the streak.

Whole local calendar days only: counting begins at the first local midnight at
or after its start. Once met, it holds until a later day breaks the streak: from
the moment the day's (max_incidents + 1)-th violent incident happens, or from
the start of a day the bulletins do not cover.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import ClassVar, Literal

import numpy as np
from pydantic import Field

from truce.domain.conditions.base import (
    ConditionContext,
    ConditionParams,
    Coverage,
    Namespace,
    state,
)
from truce.domain.model import (
    AfterPhase,
    Agreement,
    Condition,
    ConditionState,
    DayCount,
    Period,
    WhenCondition,
)
from truce.domain.timeparse import from_utc64, iso, to_utc64


class Params(ConditionParams):
    days: int = Field(gt=0)
    max_incidents: int = Field(ge=0)
    within: tuple[str, ...] = ()
    count: Literal["all", "parties_only"] = "all"
    coverage: tuple[str, ...] = ()

    def refs(self) -> list[tuple[str, Namespace, str]]:
        return [(f"within[{i}]", "zone", z) for i, z in enumerate(self.within)]


def _covered(coverage: Coverage, centres: tuple[str, ...], start: datetime, end: datetime) -> bool:
    """Every centre's intervals, together, cover [start, end)."""
    for centre in centres:
        reached = start
        for a, b in sorted(coverage.get(centre, ()), key=lambda ab: ab[0]):
            if a > reached:
                break
            reached = max(reached, b)
        if reached < end:
            return False
    return True


class QuietDays:
    name: ClassVar[str] = "quiet_days"
    Params: ClassVar[type[Params]] = Params

    def evaluate(self, condition: Condition, ctx: ConditionContext) -> ConditionState:
        p: Params = condition.params
        begin = ctx.counting_start(condition)
        if begin is None:
            return state(condition, (), _describe_unstarted(condition))
        if p.coverage and ctx.coverage is None:
            return state(
                condition,
                (),
                f"not covered: no bulletin coverage was given for {', '.join(p.coverage)}; "
                "a day counts only when their bulletins cover it",
                counting_from=begin,
            )
        tz = ctx.tz
        times = ctx.violent_times(p.within, p.count == "parties_only")
        local = begin.astimezone(tz)
        first = (
            local.date()
            if local.timetz().replace(tzinfo=None) == time(0)
            else local.date() + timedelta(1)
        )
        if datetime.combine(first, time(0), tz) > ctx.as_of:
            starts = iso(datetime.combine(first, time(0), tz))
            return state(condition, (), f"counting starts {starts}", counting_from=begin)
        days: list[DayCount] = []
        periods: list[Period] = []
        streak, last_breach = 0, None
        day = first
        while (day_start := datetime.combine(day, time(0), tz)) <= ctx.as_of:
            day_end = datetime.combine(day + timedelta(1), time(0), tz)
            lo, hi = np.searchsorted(times, [to_utc64(day_start), to_utc64(day_end)], side="left")
            count = int(hi - lo)
            complete = day_end <= ctx.as_of
            covered = ctx.coverage is None or _covered(ctx.coverage, p.coverage, day_start, day_end)
            quiet = count <= p.max_incidents and covered
            days.append(DayCount(day, count, quiet, complete, covered))
            open_period = bool(periods) and periods[-1][1] is None
            if open_period and count > p.max_incidents:
                # Broken the moment the day's (max + 1)-th incident happened.
                broken = from_utc64(times[lo + p.max_incidents], tz)
                periods[-1] = (periods[-1][0], broken)
            elif open_period and not covered and complete:
                periods[-1] = (periods[-1][0], day_start)
            if complete:
                if quiet:
                    streak += 1
                    if streak >= p.days and not (periods and periods[-1][1] is None):
                        periods.append((day_end, None))
                else:
                    streak, last_breach = 0, (day, count, covered)
            day += timedelta(1)
        return state(
            condition,
            periods,
            _blocking(p, streak, last_breach),
            counting_from=begin,
            streak_days=streak,
            days=tuple(days),
        )

    def describe(self, condition: Condition, agreement: Agreement) -> str:
        p: Params = condition.params
        where = f" within {', '.join(p.within)}" if p.within else " anywhere"
        which = (
            "violent incidents between the parties (not involving an excluded group)"
            if p.count == "parties_only"
            else "violent incidents"
        )
        covered = (
            f"; a day counts only when the bulletins of {', '.join(p.coverage)} cover it"
            if p.coverage
            else ""
        )
        return f"{p.days} consecutive days with at most {p.max_incidents} {which}{where}{covered}"


def _blocking(p: Params, streak: int, last_breach: tuple[date, int, bool] | None) -> str:
    text = f"{streak} of {p.days} consecutive quiet days so far (at most {p.max_incidents} violent incidents a day"
    text += f" inside {', '.join(p.within)})" if p.within else ")"
    if last_breach:
        day, count, covered = last_breach
        if not covered:
            text += (
                f"; {day.isoformat()} was not covered by the bulletins of {', '.join(p.coverage)}"
            )
        else:
            text += f"; last breach {day.isoformat()} with {count} incidents"
    return text


def _describe_unstarted(c: Condition) -> str:
    if isinstance(c.start, AfterPhase):
        return f"counting starts when phase {c.start.phase} ends, which has not happened"
    if isinstance(c.start, WhenCondition):
        return f"counting starts when condition {c.start.condition} is met, which has not happened"
    return "counting has not started"
