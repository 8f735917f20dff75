"""`any_of`: met while at least one listed condition is met."""

from __future__ import annotations

from typing import ClassVar

from truce.domain.conditions.base import ConditionContext, label, state, unite
from truce.domain.conditions.composite import CompositeParams, part_states, part_words
from truce.domain.model import Agreement, Condition, ConditionState


class AnyOf:
    name: ClassVar[str] = "any_of"
    Params: ClassVar[type[CompositeParams]] = CompositeParams

    def evaluate(self, condition: Condition, ctx: ConditionContext) -> ConditionState:
        p: CompositeParams = condition.params
        parts = part_states(p, ctx)
        periods = unite([period for part in parts for period in part.periods])
        waiting = () if any(part.met for part in parts) else tuple(part.id for part in parts)
        blocking = "waiting for one of: " + "; ".join(
            part_words(ctx.agreement, part) for part in parts
        )
        return state(condition, periods, blocking, parts=p.of, waiting_for=waiting)

    def describe(self, condition: Condition, agreement: Agreement) -> str:
        p: CompositeParams = condition.params
        return "at least one of: " + ", ".join(label(agreement, c) for c in p.of)
