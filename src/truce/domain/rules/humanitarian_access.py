"""`humanitarian_access`: attacks on aid and obstruction of notified convoys, any time in force."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from truce.domain.model import UNATTRIBUTED, Agreement, Rule
from truce.domain.rules._common import event_words, is_event, listed_words, phases_words
from truce.domain.rules.base import Findings, PhaseScoped
from truce.domain.rules.context import RuleContext


class Params(PhaseScoped):
    pass


class HumanitarianAccess:
    name: ClassVar[str] = "humanitarian_access"
    Params: ClassVar[type[Params]] = Params

    def evaluate(self, rule: Rule, ctx: RuleContext) -> Findings:
        p: Params = rule.params
        inc = ctx.incidents
        # Whoever attacks aid is named, excluded groups included: the terms protect aid
        # from everyone, and an excluded attacker is shown as such, never as a party.
        verdict = ctx.during(p.phases).where(
            is_event(inc, "attack_on_humanitarian", "convoy_obstruction")
        )
        party = np.where(ctx.charged == UNATTRIBUTED, inc.party, ctx.charged).astype(object)
        return Findings.of(
            verdict,
            ctx,
            lambda rows: [
                event_words(inc, rows),
                ctx.who_words(rows),
                " while the agreement is in force"
                if not p.phases
                else listed_words(ctx.phase_index(p.phases)[rows], p.phases, " during phase "),
            ],
            party=party,
        )

    def describe(self, rule: Rule, agreement: Agreement) -> str:
        p: Params = rule.params
        return (
            "Humanitarian agencies get rapid, safe, unhindered access: no attacks on aid workers, "
            f"convoys or facilities and no obstruction of notified convoys, {phases_words(p.phases)}."
        )
