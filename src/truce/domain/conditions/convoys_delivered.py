"""`convoys_delivered`: every listed convoy has been reported `delivered` (a
`convoy_status` report). Delivery is not undone, so once met it stays met."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from truce.domain.conditions.base import ConditionContext, ConditionParams, Namespace, state
from truce.domain.model import Agreement, Condition, ConditionState
from truce.domain.timeparse import iso


class Params(ConditionParams):
    convoys: tuple[str, ...] = Field(min_length=1)

    def refs(self) -> list[tuple[str, Namespace, str]]:
        return [(f"convoys[{i}]", "convoy", c) for i, c in enumerate(self.convoys)]


class ConvoysDelivered:
    name: ClassVar[str] = "convoys_delivered"
    Params: ClassVar[type[Params]] = Params

    def evaluate(self, condition: Condition, ctx: ConditionContext) -> ConditionState:
        p: Params = condition.params
        delivered, waiting, words = [], [], []
        for convoy in p.convoys:
            changes = ctx.convoy_history(convoy)
            at = next((c.at for c in changes if c.status == "delivered"), None)
            if at is None:
                waiting.append(convoy)
                last = (
                    f"{changes[-1].status.replace('_', ' ')} {iso(changes[-1].at)}"
                    if changes
                    else "no status report yet"
                )
                words.append(f"{convoy}: {last}")
            else:
                delivered.append(at)
        periods = [(max(delivered), None)] if not waiting else []
        blocking = "waiting for convoys to be delivered: " + "; ".join(words)
        return state(condition, periods, blocking, waiting_for=tuple(waiting))

    def describe(self, condition: Condition, agreement: Agreement) -> str:
        p: Params = condition.params
        return f"convoys delivered: {', '.join(p.convoys)} each reported delivered"
