"""`forces_withdrawn`: the listed withdrawal / demilitarised rules' deadlines have
passed and none of them has been violated for `for`.

It holds from `for` after the last deadline (or after the last violation since),
until the next violation of any of them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import ClassVar

from pydantic import Field

from truce.domain.conditions.base import (
    ConditionContext,
    ConditionParams,
    Namespace,
    clip,
    state,
)
from truce.domain.model import Agreement, Condition, ConditionState, Period
from truce.domain.timeparse import Duration, format_duration, from_utc64, iso, to_utc64

WITHDRAWAL_KINDS = ("withdrawal", "demilitarised")


class Params(ConditionParams):
    rules: tuple[str, ...] = Field(min_length=1)
    for_: Duration = Field(default=timedelta(0), alias="for")

    def refs(self) -> list[tuple[str, Namespace, str]]:
        return [(f"rules[{i}]", "rule", r) for i, r in enumerate(self.rules)]


def deadline(
    agreement: Agreement, rule_ids: tuple[str, ...], fallback: datetime | None
) -> datetime | None:
    """The latest of the rules' deadlines (`deadline`, or a demilitarised rule's `from`)."""
    found: list[datetime] = []
    for rule in agreement.rules:
        if rule.id in rule_ids:
            instant = getattr(rule.params, "deadline", None) or getattr(rule.params, "from_", None)
            instant = instant or fallback
            if instant is None:
                return None
            found.append(instant)
    return max(found) if found else None


def rule_names(agreement: Agreement, rule_ids: tuple[str, ...]) -> str:
    """The rules as people read them: their names, else their ids."""
    names = {r.id: r.name or r.id for r in agreement.rules}
    return "; ".join(names.get(r, r) for r in rule_ids)


class ForcesWithdrawn:
    name: ClassVar[str] = "forces_withdrawn"
    Params: ClassVar[type[Params]] = Params

    def evaluate(self, condition: Condition, ctx: ConditionContext) -> ConditionState:
        p: Params = condition.params
        due = deadline(ctx.agreement, p.rules, ctx.counting_start(condition))
        if due is None:
            return state(condition, (), "the rules' deadline is not known yet")
        times = ctx.violation_times(p.rules)
        after = [from_utc64(t, ctx.tz) for t in times[times >= to_utc64(due)]]
        periods: list[Period] = []
        marks: list[datetime] = [due, *after]
        for k, mark in enumerate(marks):
            start = mark + p.for_
            end = marks[k + 1] if k + 1 < len(marks) else None
            if end is None or start < end:
                periods.append((start, end))
        clipped = clip(periods, ctx.as_of)
        last = marks[-1]
        since = "the deadline" if last == due else "the last violation"
        names = rule_names(ctx.agreement, p.rules)
        blocking = (
            f"no violation of {names} for {format_duration(p.for_)} after {since} "
            f"({iso(last)}): holds from {iso(last + p.for_)} unless violated"
        )
        if after:
            blocking += f"; {len(after)} violation(s) since the deadline, the last {iso(after[-1])}"
        return state(condition, clipped, blocking, counting_from=due)

    def describe(self, condition: Condition, agreement: Agreement) -> str:
        p: Params = condition.params
        due = deadline(agreement, p.rules, None)
        when = f" (deadline {iso(due)})" if due else ""
        return (
            f"forces withdrawn: no violation of {rule_names(agreement, p.rules)}{when} for "
            f"{format_duration(p.for_)} after the deadline"
        )
