"""`demilitarised`: after `from`, a sighting of a listed weapon class inside the zone, by anyone."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

import numpy as np
from pydantic import Field

from truce.domain.model import Agreement, Rule, Weapon
from truce.domain.rules._common import is_event, is_weapon, metres_words, weapon_words
from truce.domain.rules.base import Findings, Namespace, RuleParams
from truce.domain.rules.context import RuleContext
from truce.domain.rules.wording import fmt_local, fmt_m
from truce.domain.timeparse import LocalDateTime, to_utc64
from truce.domain.uncertainty import Verdict


class Params(RuleParams):
    zone: str
    from_: LocalDateTime | None = Field(default=None, alias="from")
    until: LocalDateTime | None = None
    weapons: tuple[Weapon, ...] = Field(min_length=1)

    def refs(self) -> list[tuple[str, Namespace, str]]:
        return [("zone", "zone", self.zone)]


class Demilitarised:
    name: ClassVar[str] = "demilitarised"
    Params: ClassVar[type[Params]] = Params

    def evaluate(self, rule: Rule, ctx: RuleContext) -> Findings:
        p: Params = rule.params
        inc = ctx.incidents
        since = f" after {fmt_local(p.from_, ctx.tz)}" if p.from_ else ""
        verdict = (
            ctx.during(()) if p.from_ is None else ctx.after(p.from_, since.strip()) & ctx.scope()
        )
        if p.until is not None:
            verdict &= _before(ctx, p.until)
        verdict = (verdict & ctx.inside(p.zone)).where(
            is_event(inc, "weapon_sighting") & is_weapon(inc, p.weapons)
        )
        zone = ctx.agreement.zone(p.zone)
        distance = np.full(len(inc), np.nan)
        rows = np.flatnonzero(verdict.possible)
        distance[rows] = ctx.distance_fn(zone.feature, rows)
        return Findings.of(
            verdict,
            ctx,
            lambda rows: [
                weapon_words(inc, rows),
                " of ",
                ctx.parties(rows),
                f" inside {p.zone}",
                *(
                    (
                        " (",
                        metres_words(distance[rows]),
                        f" from {zone.feature}; zone is {fmt_m(zone.distance_m)})",
                    )
                    if zone.distance_m
                    else ()
                ),
                since,
            ],
            party=inc.party,
            zone=lambda rows: np.full(len(rows), p.zone, dtype=object),
            measured_m=lambda rows: distance[rows],
        )

    def describe(self, rule: Rule, agreement: Agreement) -> str:
        p: Params = rule.params
        since = f" from {fmt_local(p.from_, agreement.timezone)}" if p.from_ else ""
        return f"No {', '.join(p.weapons)} inside {p.zone}{since}, whoever they belong to."


def _before(ctx: RuleContext, until: datetime) -> Verdict:
    """Strictly before `until`, for the whole time window."""
    first, last = ctx.window
    end = to_utc64(until)
    return Verdict.of(
        first < end, last < end, f"time window may reach past {fmt_local(until, ctx.tz)}"
    )
