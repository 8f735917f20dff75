"""`all_of`: met while every listed condition is met at the same time.

Its parts may be met in any order; it is met from the moment the last of them
is, and un-met the moment any of them stops holding.
"""

from __future__ import annotations

from typing import ClassVar

from truce.domain.conditions.base import ConditionContext, intersect, label, state
from truce.domain.conditions.composite import CompositeParams, part_states, part_words
from truce.domain.model import Agreement, Condition, ConditionState, Period


class AllOf:
    name: ClassVar[str] = "all_of"
    Params: ClassVar[type[CompositeParams]] = CompositeParams

    def evaluate(self, condition: Condition, ctx: ConditionContext) -> ConditionState:
        p: CompositeParams = condition.params
        parts = part_states(p, ctx)
        periods: tuple[Period, ...] = parts[0].periods
        for part in parts[1:]:
            periods = intersect(periods, part.periods)
        waiting = tuple(part.id for part in parts if not part.met)
        blocking = "waiting for " + "; ".join(
            part_words(ctx.agreement, part) for part in parts if not part.met
        )
        return state(condition, periods, blocking, parts=p.of, waiting_for=waiting)

    def describe(self, condition: Condition, agreement: Agreement) -> str:
        p: CompositeParams = condition.params
        return "all of these at once: " + ", ".join(label(agreement, c) for c in p.of)
