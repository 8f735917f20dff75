"""`humanitarian_access`: attacks on aid and obstruction of notified convoys, any time in force."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from truce.domain.model import Agreement, Rule
from truce.domain.rules._common import actor_words, event_words, is_event, phases_words
from truce.domain.rules.base import Findings, PhaseScoped, RuleContext, compose


class Params(PhaseScoped):
    pass


class HumanitarianAccess:
    name: ClassVar[str] = "humanitarian_access"
    Params: ClassVar[type[Params]] = Params

    def evaluate(self, rule: Rule, ctx: RuleContext) -> Findings:
        p: Params = rule.params
        inc = ctx.incidents
        active = ctx.phase_index(p.phases) >= 0
        rows = np.flatnonzero(
            is_event(inc, "attack_on_humanitarian", "convoy_obstruction") & active
        )
        evidence = compose(
            len(rows),
            event_words(inc, rows),
            " by ",
            ctx.parties(rows).map(actor_words),
            " while the agreement is in force",
        )
        return Findings(rows, inc.party[rows], evidence)

    def describe(self, rule: Rule, agreement: Agreement) -> str:
        p: Params = rule.params
        return (
            "Humanitarian agencies get rapid, safe, unhindered access: no attacks on aid workers, "
            f"convoys or facilities and no obstruction of notified convoys, {phases_words(p.phases)}."
        )
