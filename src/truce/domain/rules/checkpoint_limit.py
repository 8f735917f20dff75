"""`checkpoint_limit`: more armed personnel of one side at a checkpoint than allowed."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from pydantic import Field

from truce.domain.model import Agreement, Rule
from truce.domain.rules._common import is_event, metres_words
from truce.domain.rules.base import Findings, Namespace, RuleParams
from truce.domain.rules.context import RuleContext
from truce.domain.rules.wording import fmt_m
from truce.domain.words import Words


class Params(RuleParams):
    checkpoint: str
    max_armed_per_side: int = Field(ge=0)
    radius_m: float = Field(default=250.0, gt=0)

    def refs(self) -> list[tuple[str, Namespace, str]]:
        return [("checkpoint", "feature", self.checkpoint)]


class CheckpointLimit:
    name: ClassVar[str] = "checkpoint_limit"
    Params: ClassVar[type[Params]] = Params

    def evaluate(self, rule: Rule, ctx: RuleContext) -> Findings:
        p: Params = rule.params
        inc = ctx.incidents
        candidates = ctx.scope().where(
            is_event(inc, "checkpoint_observation")
            & (inc.count > p.max_armed_per_side)  # an unknown count (NaN) is not over
        )
        rows = np.flatnonzero(candidates.possible)
        near, measured = ctx.within_of(p.checkpoint, rows, p.radius_m)
        verdict = candidates & near
        distance = np.full(len(inc), np.inf)
        distance[rows] = measured

        # The stated side is who is over the limit; failing that, the attributed party.
        def side(rows: np.ndarray) -> np.ndarray:
            return np.where(inc.side[rows] != "", inc.side[rows], inc.party[rows]).astype(object)

        return Findings.of(
            verdict,
            ctx,
            lambda rows: [
                Words.of(inc.count[rows], lambda c: str(int(c))),
                " armed personnel of ",
                Words.of(side(rows)),
                f" at {p.checkpoint} (",
                metres_words(distance[rows]),
                f" away); limit {p.max_armed_per_side} per side",
            ],
            party=side,
            measured_m=lambda rows: distance[rows],
        )

    def describe(self, rule: Rule, agreement: Agreement) -> str:
        p: Params = rule.params
        return (
            f"At checkpoint {p.checkpoint}, at most {p.max_armed_per_side} armed personnel per side "
            f"(observations within {fmt_m(p.radius_m)})."
        )
