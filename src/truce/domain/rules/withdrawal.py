"""`withdrawal`: after the deadline, a party's weapon closer to a feature than allowed."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from pydantic import Field

from truce.domain.model import WEAPONS, Agreement, Rule, Weapon
from truce.domain.rules._common import is_event, metres_words, weapon_words
from truce.domain.rules.base import (
    Findings,
    Namespace,
    RuleContext,
    RuleParams,
    Words,
    compose,
    fmt_local,
    fmt_m,
)
from truce.domain.timeparse import LocalDateTime, to_utc64


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
        candidates = np.flatnonzero(
            is_event(inc, "weapon_sighting")
            & ctx.party_is(p.party)
            & (inc.observed_at > to_utc64(p.deadline))
            & ~np.isnan(minimum_by_code[inc.weapon])
        )
        distance = ctx.distance_fn(p.from_feature, candidates)
        minimum = minimum_by_code[inc.weapon[candidates]]
        hit = distance < minimum
        rows, distance, minimum = candidates[hit], distance[hit], minimum[hit]
        after = fmt_local(p.deadline, ctx.tz)
        evidence = compose(
            len(rows),
            weapon_words(inc, rows),
            f" of {p.party} ",
            metres_words(distance),
            f" from {p.from_feature} after {after}; minimum ",
            metres_words(minimum),
            Words.of(inc.precision_m[rows], lambda m: f" (location ±{fmt_m(m)})" if m > 0 else ""),
        )
        return Findings(rows, inc.party[rows], evidence, measured_m=distance)

    def describe(self, rule: Rule, agreement: Agreement) -> str:
        p: Params = rule.params
        table = ", ".join(f"{w} {fmt_m(d)}" for w, d in p.min_distance_m.items())
        return (
            f"After {fmt_local(p.deadline, agreement.timezone)}, {p.party} keeps its weapons at least "
            f"this far from {p.from_feature}: {table}."
        )
