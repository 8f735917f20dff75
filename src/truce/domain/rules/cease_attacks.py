"""`cease_attacks`: an attack while a listed phase is active, unless an excluded group is involved."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from truce.domain.model import Agreement, Rule
from truce.domain.rules._common import (
    actors_words,
    event_words,
    involves_excluded,
    is_attack,
    join_text,
    per_value,
    phases_words,
)
from truce.domain.rules.base import Findings, Namespace, PhaseScoped, RuleContext


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
        phase = ctx.phase_labels(p.phases)
        attacker_excl, target_excl = involves_excluded(inc, ctx.agreement)
        mask = is_attack(inc) & (phase != None) & ~attacker_excl & ~target_excl  # noqa: E711
        if p.zones:
            mask &= ctx.any_zone_mask(p.zones)
        rows = np.flatnonzero(mask)
        zone = ctx.first_zone(p.zones, rows) if p.zones else None
        evidence = join_text(
            len(rows),
            event_words(inc.event_type[rows]),
            " by ",
            actors_words(inc.party[rows]),
            per_value(lambda t: f" against {t}" if t else "", inc.target[rows]),
            " during phase " + phase[rows] if p.phases else " while the agreement is in force",
            "" if zone is None else " inside " + zone,
        )
        return Findings(rows, inc.party[rows], evidence, zone)

    def describe(self, rule: Rule, agreement: Agreement) -> str:
        p: Params = rule.params
        where = f" inside {', '.join(p.zones)}" if p.zones else ""
        return (
            f"No attacks (airstrikes, shelling, clashes, small-arms fire, ATGMs){where} "
            f"{phases_words(p.phases)}; attacks by or on excluded groups do not count. "
            "The attacker's party is charged; an unknown attacker is 'unattributed'."
        )
