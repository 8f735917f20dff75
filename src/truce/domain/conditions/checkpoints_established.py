"""`checkpoints_established`: met while every listed checkpoint is set up.

A checkpoint is set up from a `checkpoint_status` report saying `established`
(or `staffed`) until one saying `removed` (see `truce.domain.status`). The
condition holds from the moment the last of them is set up, and stops holding
when any is removed.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from truce.domain.conditions.base import (
    ConditionContext,
    ConditionParams,
    Namespace,
    clip,
    intersect,
    state,
)
from truce.domain.model import Agreement, Condition, ConditionState, Period
from truce.domain.status import UP_STATUSES, StatusChange
from truce.domain.timeparse import iso


class Params(ConditionParams):
    checkpoints: tuple[str, ...] = Field(min_length=1)

    def refs(self) -> list[tuple[str, Namespace, str]]:
        return [(f"checkpoints[{i}]", "feature", c) for i, c in enumerate(self.checkpoints)]


def up_periods(changes: list[StatusChange]) -> tuple[Period, ...]:
    """When a checkpoint was up, from its status changes (oldest first)."""
    out: list[Period] = []
    for c in changes:
        is_open = bool(out) and out[-1][1] is None
        if c.status in UP_STATUSES and not is_open:
            out.append((c.at, None))
        elif c.status not in UP_STATUSES and is_open:
            out[-1] = (out[-1][0], c.at)
    return tuple(out)


def _status_words(checkpoint: str, changes: list[StatusChange]) -> str:
    if not changes:
        return f"{checkpoint}: no status report yet"
    last = changes[-1]
    return f"{checkpoint}: {last.status} {iso(last.at)}"


class CheckpointsEstablished:
    name: ClassVar[str] = "checkpoints_established"
    Params: ClassVar[type[Params]] = Params

    def evaluate(self, condition: Condition, ctx: ConditionContext) -> ConditionState:
        p: Params = condition.params
        histories = {cp: ctx.checkpoint_history(cp) for cp in p.checkpoints}
        periods: tuple[Period, ...] | None = None
        waiting = []
        for cp, changes in histories.items():
            up = clip(up_periods(changes), ctx.as_of)
            periods = up if periods is None else intersect(periods, up)
            if not (up and up[-1][1] is None):
                waiting.append(cp)
        blocking = "waiting for checkpoints to be set up: " + "; ".join(
            _status_words(cp, histories[cp]) for cp in waiting
        )
        return state(condition, periods or (), blocking, waiting_for=tuple(waiting))

    def describe(self, condition: Condition, agreement: Agreement) -> str:
        p: Params = condition.params
        names = [
            agreement.features[c].name or c if c in agreement.features else c for c in p.checkpoints
        ]
        return (
            f"checkpoints set up ({', '.join(names)}): each reported established or staffed "
            "and not since removed"
        )
