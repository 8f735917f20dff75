"""`no_territorial_gain`: a ground advance by a party while a listed phase is active."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from truce.domain.model import Agreement, Rule
from truce.domain.rules._common import is_event, listed_words, phases_words
from truce.domain.rules.base import Findings, Namespace, PhaseScoped
from truce.domain.rules.context import RuleContext


class Params(PhaseScoped):
    zones: tuple[str, ...] = ()
    party: str | None = None

    def refs(self) -> list[tuple[str, Namespace, str]]:
        out = super().refs() + [(f"zones[{i}]", "zone", z) for i, z in enumerate(self.zones)]
        if self.party:
            out.append(("party", "party", self.party))
        return out


class NoTerritorialGain:
    name: ClassVar[str] = "no_territorial_gain"
    Params: ClassVar[type[Params]] = Params

    def evaluate(self, rule: Rule, ctx: RuleContext) -> Findings:
        p: Params = rule.params
        inc = ctx.incidents
        phase = ctx.phase_index(p.phases)
        # Excluded groups are not bound; an advance against them is not a gain "from other parties".
        verdict = (ctx.during(p.phases) & ctx.covered()).where(is_event(inc, "ground_advance"))
        if p.party:
            verdict &= ctx.by_party(p.party)
        if p.zones:
            verdict &= ctx.inside_any(p.zones)
        return Findings.of(
            verdict,
            ctx,
            lambda rows: [
                "ground advance",
                ctx.who_words(rows),
                listed_words(phase[rows], p.phases, " during phase ")
                if p.phases
                else " while the agreement is in force",
            ],
            zone=(lambda rows: np.array(p.zones, dtype=object)[ctx.first_zone_index(p.zones, rows)])
            if p.zones
            else None,
        )

    def describe(self, rule: Rule, agreement: Agreement) -> str:
        p: Params = rule.params
        who = p.party or "any party"
        return f"No ground advances by {who} {phases_words(p.phases)}."
