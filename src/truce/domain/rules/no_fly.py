"""`no_fly`: an airstrike by the party inside the zone while a listed phase is active."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from truce.domain.model import Agreement, Rule
from truce.domain.rules._common import is_event, listed_words, phases_words
from truce.domain.rules.base import Findings, Namespace, PhaseScoped
from truce.domain.rules.context import RuleContext


class Params(PhaseScoped):
    zone: str
    party: str

    def refs(self) -> list[tuple[str, Namespace, str]]:
        return [*super().refs(), ("zone", "zone", self.zone), ("party", "party", self.party)]


class NoFly:
    name: ClassVar[str] = "no_fly"
    Params: ClassVar[type[Params]] = Params

    def evaluate(self, rule: Rule, ctx: RuleContext) -> Findings:
        p: Params = rule.params
        inc = ctx.incidents
        phase = ctx.phase_index(p.phases)
        verdict = (
            ctx.during(p.phases).where(is_event(inc, "airstrike"))
            & ctx.by_party(p.party)
            & ctx.inside(p.zone)
        )
        return Findings.of(
            verdict,
            ctx,
            lambda rows: [
                f"airstrike by {p.party} inside no-fly zone {p.zone} during phase ",
                listed_words(phase[rows], p.phases or ("in force",), ""),
            ],
            party=lambda rows: np.full(len(rows), p.party, dtype=object),
            zone=lambda rows: np.full(len(rows), p.zone, dtype=object),
        )

    def describe(self, rule: Rule, agreement: Agreement) -> str:
        p: Params = rule.params
        return f"No airstrikes by {p.party} inside {p.zone} {phases_words(p.phases)}."
