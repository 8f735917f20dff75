"""`cease_attacks`: an attack while a listed phase is active, unless an excluded group is involved."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from truce.domain.model import Agreement, Rule
from truce.domain.rules._common import (
    actor_words,
    event_words,
    is_attack,
    listed_words,
    phases_words,
)
from truce.domain.rules.base import Findings, Namespace, PhaseScoped, RuleContext, compose


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
        phase = ctx.phase_index(p.phases)
        attacker_excluded, target_excluded = ctx.excluded
        mask = is_attack(inc) & (phase >= 0) & ~attacker_excluded & ~target_excluded
        if p.zones:
            mask &= ctx.any_zone_mask(p.zones)
        rows = np.flatnonzero(mask)
        zone = ctx.first_zone_index(p.zones, rows) if p.zones else None
        evidence = compose(
            len(rows),
            event_words(inc, rows),
            " by ",
            ctx.parties(rows).map(actor_words),
            ctx.targets(rows).map(lambda t: f" against {t}" if t else ""),
            listed_words(phase[rows], p.phases, " during phase ")
            if p.phases
            else " while the agreement is in force",
            "" if zone is None else listed_words(zone, p.zones, " inside "),
        )
        zone_ids = None if zone is None else np.array(p.zones, dtype=object)[zone]
        return Findings(rows, inc.party[rows], evidence, zone_ids)

    def describe(self, rule: Rule, agreement: Agreement) -> str:
        p: Params = rule.params
        where = f" inside {', '.join(p.zones)}" if p.zones else ""
        return (
            f"No attacks (airstrikes, shelling, clashes, small-arms fire, ATGMs){where} "
            f"{phases_words(p.phases)}; attacks by or on excluded groups do not count. "
            "The attacker's party is charged; an unknown attacker is 'unattributed'."
        )
