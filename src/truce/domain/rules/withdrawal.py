"""`withdrawal`: after the deadline, a party's weapon closer to a feature than allowed."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from pydantic import Field

from truce.domain.model import WEAPONS, Agreement, Rule, Weapon
from truce.domain.rules._common import is_event, metres_words, weapon_words
from truce.domain.rules.base import Findings, Namespace, RuleParams
from truce.domain.rules.context import RuleContext
from truce.domain.rules.wording import fmt_local, fmt_m
from truce.domain.timeparse import LocalDateTime
from truce.domain.words import Words


class Params(RuleParams):
    party: str
    from_feature: str
    deadline: LocalDateTime
    min_distance_m: dict[Weapon, float] = Field(min_length=1)

    def refs(self) -> list[tuple[str, Namespace, str]]:
        return [("party", "party", self.party), ("from_feature", "feature", self.from_feature)]


class Withdrawal:
    name: ClassVar[str] = "withdrawal"
    Params: ClassVar[type[Params]] = Params

    def evaluate(self, rule: Rule, ctx: RuleContext) -> Findings:
        p: Params = rule.params
        inc = ctx.incidents
        minimum_by_code = np.full(len(WEAPONS) + 1, np.nan)
        for w, d in p.min_distance_m.items():
            minimum_by_code[WEAPONS.index(w)] = d
        after = fmt_local(p.deadline, ctx.tz)
        candidates = (
            ctx.after(p.deadline, f"the deadline {after}") & ctx.scope() & ctx.by_party(p.party)
        ).where(is_event(inc, "weapon_sighting") & ~np.isnan(minimum_by_code[inc.weapon]))
        rows = np.flatnonzero(candidates.possible)
        minimum = minimum_by_code[inc.weapon]
        close, measured = ctx.within_of(p.from_feature, rows, minimum[rows], strict=True)
        verdict = candidates & close
        distance = np.full(len(inc), np.inf)
        distance[rows] = measured
        return Findings.of(
            verdict,
            ctx,
            lambda rows: [
                weapon_words(inc, rows),
                f" of {p.party} ",
                metres_words(distance[rows]),
                f" from {p.from_feature} after {after}; minimum ",
                metres_words(minimum[rows]),
                Words.of(
                    inc.precision_m[rows], lambda m: f" (location ±{fmt_m(m)})" if m > 0 else ""
                ),
            ],
            party=lambda rows: np.full(len(rows), p.party, dtype=object),
            measured_m=lambda rows: distance[rows],
        )

    def describe(self, rule: Rule, agreement: Agreement) -> str:
        p: Params = rule.params
        table = ", ".join(f"{w} {fmt_m(d)}" for w, d in p.min_distance_m.items())
        return (
            f"After {fmt_local(p.deadline, agreement.timezone)}, {p.party} keeps its weapons at least "
            f"this far from {p.from_feature}: {table}."
        )
