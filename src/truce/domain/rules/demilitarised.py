"""`demilitarised`: after `from`, a sighting of a listed weapon class inside the zone, by anyone."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from pydantic import Field

from truce.domain.model import Agreement, Rule, Weapon
from truce.domain.rules._common import is_event, is_weapon, metres_words, weapon_words
from truce.domain.rules.base import (
    Findings,
    Namespace,
    RuleContext,
    RuleParams,
    compose,
    fmt_local,
    fmt_m,
)
from truce.domain.timeparse import LocalDateTime, to_utc64


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
        mask = is_event(inc, "weapon_sighting") & is_weapon(inc, p.weapons)
        if p.from_ is not None:
            mask &= inc.observed_at >= to_utc64(p.from_)
        else:
            mask &= ctx.in_force()
        if p.until is not None:
            mask &= inc.observed_at < to_utc64(p.until)
        mask &= ctx.zone_mask(p.zone)
        rows = np.flatnonzero(mask)
        zone = ctx.agreement.zone(p.zone)
        distance = ctx.distance_fn(zone.feature, rows)
        since = f" after {fmt_local(p.from_, ctx.tz)}" if p.from_ else ""
        evidence = compose(
            len(rows),
            weapon_words(inc, rows),
            " of ",
            ctx.parties(rows),
            f" inside {p.zone}",
            *(
                (
                    " (",
                    metres_words(distance),
                    f" from {zone.feature}; zone is {fmt_m(zone.distance_m)})",
                )
                if zone.distance_m
                else ()
            ),
            since,
        )
        return Findings(
            rows, inc.party[rows], evidence, np.full(len(rows), p.zone, dtype=object), distance
        )

    def describe(self, rule: Rule, agreement: Agreement) -> str:
        p: Params = rule.params
        since = f" from {fmt_local(p.from_, agreement.timezone)}" if p.from_ else ""
        return f"No {', '.join(p.weapons)} inside {p.zone}{since}, whoever they belong to."
