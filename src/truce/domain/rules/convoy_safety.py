"""`convoy_safety`: an attack or obstruction on a notified convoy's route during its window.

A convoy (SPEC §6 `convoys`) moves along `route` (line features) between
`window.from` and `window.to` (both included). An attack, an attack on
humanitarians or a `convoy_obstruction` within `corridor_m` of the route in that
window is a violation charged to whoever did it (`unattributed` when unknown).
As for `cease_attacks`, an attack by or on an excluded group is not a violation.
Outside the window the route is an ordinary road.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from truce.domain.model import Agreement, Convoy, Rule
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

CONVOY_EVENTS = ("attack_on_humanitarian", "convoy_obstruction")


class Params(RuleParams):
    convoys: tuple[str, ...] = ()  # empty: every convoy of the agreement

    def refs(self) -> list[tuple[str, Namespace, str]]:
        return [(f"convoys[{i}]", "convoy", c) for i, c in enumerate(self.convoys)]


def chosen_convoys(p: Params, agreement: Agreement) -> list[Convoy]:
    return [c for c in agreement.convoys if not p.convoys or c.id in p.convoys]


def near_route(ctx: RuleContext, convoy: Convoy, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(mask, metres): the rows within the convoy's corridor during its window."""
    t = ctx.incidents.observed_at[rows]
    window = (t >= to_utc64(convoy.window_from)) & (t <= to_utc64(convoy.window_to))
    d = np.full(len(rows), np.inf)
    if window.any():
        inside = rows[window]
        d[window] = np.min([ctx.distance_fn(f, inside) for f in convoy.route], axis=0)
    return window & (d <= convoy.corridor_m), d


def route_verdict(
    ctx: RuleContext, convoy: Convoy, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(possibly, certainly, metres) for `rows`: within the corridor during the window,
    for the whole location uncertainty (with the route features' own) and time window."""
    first, last = (t[rows] for t in ctx.window)
    start, end = to_utc64(convoy.window_from), to_utc64(convoy.window_to)
    may, must = (last >= start) & (first <= end), (first >= start) & (last <= end)
    d = np.full(len(rows), np.inf)
    if may.any():
        inside = rows[may]
        d[may] = np.min([ctx.distance_fn(f, inside) for f in convoy.route], axis=0)
    drawn = max((ctx.agreement.features[f].uncertainty_m or 0.0) for f in convoy.route)
    margin = ctx.margin_m[rows] + drawn
    return (
        may & (d - margin <= convoy.corridor_m + 1e-6),
        must & (d + margin <= convoy.corridor_m + 1e-6),
        d,
    )


def window_words(convoy: Convoy, ctx: RuleContext) -> str:
    return f"{fmt_local(convoy.window_from, ctx.tz)} to {fmt_local(convoy.window_to, ctx.tz)}"


class ConvoySafety:
    name: ClassVar[str] = "convoy_safety"
    Params: ClassVar[type[Params]] = Params

    def evaluate(self, rule: Rule, ctx: RuleContext) -> Findings:
        p: Params = rule.params
        inc = ctx.incidents
        convoys = chosen_convoys(p, ctx.agreement)
        if not convoys:
            return Findings.none()
        candidates = np.flatnonzero(is_attack(inc) | is_event(inc, *CONVOY_EVENTS))
        best = np.full(len(inc), np.inf)
        which = np.full(len(inc), -1, dtype=np.int64)
        possible, certain = np.zeros(len(inc), dtype=bool), np.zeros(len(inc), dtype=bool)
        for k, convoy in enumerate(convoys):
            may, must, d = route_verdict(ctx, convoy, candidates)
            hit = may & (d < best[candidates])
            best[candidates[hit]], which[candidates[hit]] = d[hit], k
            possible[candidates[may]] = True
            certain[candidates[must]] = True
        near = Verdict.of(
            possible,
            certain,
            lambda: Words.of(
                ctx.margin_m,
                lambda m: (
                    f"location ±{fmt_m(m)} or time: may lie outside the convoy's corridor or window"
                ),
            ),
        )
        convoy_texts = [
            f" from the route of convoy {c.id} ({c.organisation}) during its window "
            f"{window_words(c, ctx)}; corridor {fmt_m(c.corridor_m)}"
            for c in convoys
        ]
        return nearest_findings(ctx, near, best, which, convoy_texts)

    def describe(self, rule: Rule, agreement: Agreement) -> str:
        p: Params = rule.params
        which = ", ".join(p.convoys) if p.convoys else "every notified convoy"
        return (
            f"No attacks on or obstruction of notified convoys ({which}) within their corridor "
            "during their window; whoever does it is charged."
        )
