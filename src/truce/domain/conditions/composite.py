"""What `all_of` and `any_of` share: their parameters and how they name their parts."""

from __future__ import annotations

from pydantic import Field

from truce.domain.conditions.base import ConditionContext, ConditionParams, Namespace, label
from truce.domain.model import Agreement, ConditionState
from truce.domain.timeparse import iso


class CompositeParams(ConditionParams):
    of: tuple[str, ...] = Field(min_length=1)

    def refs(self) -> list[tuple[str, Namespace, str]]:
        return [(f"of[{i}]", "condition", c) for i, c in enumerate(self.of)]


def part_states(params: CompositeParams, ctx: ConditionContext) -> list[ConditionState]:
    return [ctx.condition(c) for c in params.of]


def part_words(agreement: Agreement, part: ConditionState) -> str:
    """`Checkpoints set up (met 2016-09-14T10:00:00+03:00)` or why it is not met."""
    name = label(agreement, part.id)
    if part.met:
        return f"{name} (met {iso(part.periods[-1][0])})"
    return f"{name} ({part.blocking})" if part.blocking else name
