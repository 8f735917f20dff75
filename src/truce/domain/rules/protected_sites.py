"""`protected_sites`: an attack within a notified site's `radius_m`, once notified.

Sites (SPEC §6 `sites`) are notified protected places (hospitals, aid
warehouses, schools, water works) and positions a guarantor declared (observation
posts). An attack (or an attack on humanitarians) within a site's radius at or
after its notification is a violation charged to the attacker, with the site
and the measured distance as evidence. As for `cease_attacks`, an attack by or
on an excluded group is not a violation (the incident stays listed for review).
A site with no `notified` time is protected whenever the agreement is in force.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from truce.domain.model import Agreement, Rule, Site
from truce.domain.rules._common import (
    is_attack,
    is_event,
    nearest_findings,
)
from truce.domain.rules.base import Findings, Namespace, RuleParams
from truce.domain.rules.context import RuleContext
from truce.domain.rules.wording import fmt_local, fmt_m
from truce.domain.timeparse import to_utc64
from truce.domain.uncertainty import Verdict
from truce.domain.words import Words


class Params(RuleParams):
    sites: tuple[str, ...] = ()  # empty: every site of the agreement

    def refs(self) -> list[tuple[str, Namespace, str]]:
        return [(f"sites[{i}]", "site", s) for i, s in enumerate(self.sites)]


def chosen_sites(p: Params, agreement: Agreement) -> list[Site]:
    return [s for s in agreement.sites if not p.sites or s.id in p.sites]


def site_words(site: Site, ctx: RuleContext) -> str:
    how = []
    if site.notified is not None:
        how.append(f"notified {fmt_local(site.notified, ctx.tz)}")
    if site.via:
        how.append(f"via {site.via}")
    if site.declared_by:
        how.append(f"declared by {site.declared_by}")
    detail = f"{site.kind}" + (f", {', '.join(how)}" if how else "")
    return f"protected site {site.id} ({detail})"


class ProtectedSites:
    name: ClassVar[str] = "protected_sites"
    Params: ClassVar[type[Params]] = Params

    def evaluate(self, rule: Rule, ctx: RuleContext) -> Findings:
        p: Params = rule.params
        inc = ctx.incidents
        sites = chosen_sites(p, ctx.agreement)
        if not sites or ctx.point_distance_fn is None:
            return Findings.none()
        attack = is_attack(inc) | is_event(inc, "attack_on_humanitarian")
        candidates = np.flatnonzero(attack)
        first, last = (t[candidates] for t in ctx.window)
        margin = ctx.margin_m[candidates]
        in_force = ctx.in_force()[candidates]
        best = np.full(len(inc), np.inf)
        which = np.full(len(inc), -1, dtype=np.int64)
        possible, certain = np.zeros(len(inc), dtype=bool), np.zeros(len(inc), dtype=bool)
        for k, site in enumerate(sites):
            d = ctx.point_distance_fn(site.lon, site.lat, candidates)
            # Within the radius and after notification, for the whole uncertainty region.
            if site.notified is not None:
                since = to_utc64(site.notified)
                may, must = last >= since, first >= since
            else:
                may = must = in_force
            may = may & (d - margin <= site.radius_m + 1e-6)
            must = must & (d + margin <= site.radius_m + 1e-6)
            hit = may & (d < best[candidates])
            best[candidates[hit]], which[candidates[hit]] = d[hit], k
            possible[candidates[may]] = True
            certain[candidates[must]] = True
        margin_all = np.zeros(len(inc))
        margin_all[candidates] = margin
        near = Verdict.of(
            possible,
            certain,
            lambda: Words.of(
                margin_all, lambda m: f"location ±{fmt_m(m)}: may lie outside the site's radius"
            ),
        )
        site_texts = [
            f" from {site_words(s, ctx)}; protected within {fmt_m(s.radius_m)}" for s in sites
        ]
        return nearest_findings(ctx, near, best, which, site_texts)

    def describe(self, rule: Rule, agreement: Agreement) -> str:
        p: Params = rule.params
        # Not the sites' ids: this text is public, the sites are not.
        n = len(p.sites) if p.sites else len(agreement.sites)
        which = f"{n} site{'s' if n != 1 else ''}" if p.sites else "every notified site"
        return (
            f"No attacks within a protected site's radius once it is notified ({which}); "
            "the attacker is charged. Attacks by or on excluded groups do not count."
        )
