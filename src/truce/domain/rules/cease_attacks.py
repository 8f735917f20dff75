"""`cease_attacks`: an attack while a listed phase is active, unless an excluded group
(or a state outside the agreement) is a side. See `truce.domain.attribution` for
who is charged, and `truce.domain.uncertainty` for certain / possible."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from truce.domain.model import Agreement, Rule
from truce.domain.rules._common import event_words, is_attack, listed_words, phases_words
from truce.domain.rules.base import Findings, Namespace, PhaseScoped
from truce.domain.rules.context import RuleContext


class Params(PhaseScoped):
    zones: tuple[str, ...] = ()

    def refs(self) -> list[tuple[str, Namespace, str]]:
        return super().refs() + [(f"zones[{i}]", "zone", z) for i, z in enumerate(self.zones)]


class CeaseAttacks:
    name: ClassVar[str] = "cease_attacks"
    Params: ClassVar[type[Params]] = Params

    def evaluate(self, rule: Rule, ctx: RuleContext) -> Findings:
        p: Params = rule.params
        inc = ctx.incidents
        verdict = (ctx.during(p.phases) & ctx.covered()).where(is_attack(inc))
        if p.zones:
            verdict &= ctx.inside_any(p.zones)
        phase = ctx.phase_index(p.phases)

        def zone_index(rows: np.ndarray) -> np.ndarray:
            return ctx.first_zone_index(p.zones, rows)

        return Findings.of(
            verdict,
            ctx,
            lambda rows: [
                event_words(inc, rows),
                ctx.who_words(rows),
                listed_words(phase[rows], p.phases, " during phase ")
                if p.phases
                else " while the agreement is in force",
                listed_words(zone_index(rows), p.zones, " inside ") if p.zones else "",
            ],
            zone=(lambda rows: np.array(p.zones, dtype=object)[zone_index(rows)])
            if p.zones
            else None,
        )

    def describe(self, rule: Rule, agreement: Agreement) -> str:
        p: Params = rule.params
        where = f" inside {', '.join(p.zones)}" if p.zones else ""
        return (
            f"No attacks (airstrikes, shelling, clashes, small-arms fire, ATGMs){where} "
            f"{phases_words(p.phases)}; fighting with excluded groups or with states outside the "
            "agreement does not count. The attacker's party is charged; an unknown attacker, or a "
            "clash where the sources do not say who attacked, is 'unattributed' and names the "
            "parties involved."
        )
