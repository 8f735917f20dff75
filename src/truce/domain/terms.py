"""The agreement terms of SPEC §6 wired into one evaluation: what the conditions
count, the status histories, the convoys' incidents and the findings set aside
because the group that acted was not bound.

`evaluate` calls these few functions (its hook lines); everything they need is
passed in, so this module stays pure.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from truce.domain.actors import label_tokens
from truce.domain.commitments import NotCharged, incident_groups, split_not_charged
from truce.domain.conditions.base import Coverage
from truce.domain.model import Agreement, Convoy, IncidentTable, ReportTable, Rule
from truce.domain.per_incident import PerIncident, judgement_of
from truce.domain.phases import PhaseWindows, TimelineInputs
from truce.domain.rules import RuleContext
from truce.domain.rules.base import Findings
from truce.domain.status import StatusHistories, status_histories
from truce.domain.words import Words

# (phase windows, in force from) -> a RuleContext over the evaluation's incidents
ContextFactory = Callable[[PhaseWindows, np.datetime64], RuleContext]
# (rule, context) -> what the rule finds there (`truce.domain.rule_findings`)
FindFn = Callable[[Rule, RuleContext], Findings]


@dataclass
class TermsOutcome:
    """What the terms add to an evaluation (kept in `Evaluation.extra["terms"]`)."""

    histories: StatusHistories = field(default_factory=lambda: StatusHistories({}, {}))
    convoy_incidents: dict[str, np.ndarray] = field(default_factory=dict)  # convoy -> rows
    not_charged: list[NotCharged] = field(default_factory=list)
    groups: np.ndarray | None = None  # per incident: commitment index, -1


def between_parties(
    agreement: Agreement, incidents: IncidentTable, shared: PerIncident
) -> np.ndarray:
    """Mask: incidents the terms can cover that name a party — the same sides the
    ceasefire rules judge (`truce.domain.attribution`): no excluded group or outside state
    is a side, and a party is the attacker, the target or one side of a clash. A side
    that mixes a party with an excluded group counts: whether it breaks the quiet is
    for review, and a quiet week should not rest on it."""
    parties = set(agreement.party_ids())

    def names_party(rows: slice) -> np.ndarray:
        labels = Words.of(incidents.involved[rows])
        table = np.array([bool(parties & set(label_tokens(x))) for x in labels.texts] + [False])
        return table[labels.codes]

    covered = judgement_of(agreement, incidents, shared).covered
    return covered & shared.get("names_party", names_party)


def violent_times_fn(
    agreement: Agreement,
    incidents: IncidentTable,
    violent: np.ndarray,
    zone_masks: Mapping[str, np.ndarray],
    shared: PerIncident,
) -> Callable[[tuple[str, ...], bool], np.ndarray]:
    """(zones, parties only) -> the sorted times of the violent incidents counted."""

    def times(within: tuple[str, ...], only_parties: bool = False) -> np.ndarray:
        mask = violent.copy()
        if within:
            mask &= np.logical_or.reduce([zone_masks[z] for z in within])
        if only_parties:
            mask &= between_parties(agreement, incidents, shared)
        return np.sort(incidents.observed_at[mask])

    return times


def timeline_inputs(
    agreement: Agreement,
    reports: ReportTable,
    x: np.ndarray,
    y: np.ndarray,
    incidents: IncidentTable,
    violent_times: Callable[[tuple[str, ...], bool], np.ndarray],
    distance_m: Callable[[str, np.ndarray, np.ndarray], np.ndarray],
    make_context: ContextFactory,
    find: FindFn,
    coverage: Coverage | None = None,
) -> tuple[TimelineInputs, TermsOutcome]:
    """The conditions' inputs, and the outcome the rules stage completes."""
    outcome = TermsOutcome(
        histories=status_histories(agreement, reports, x, y, distance_m),
        groups=incident_groups(agreement, reports, incidents),
    )
    by_id = {r.id: r for r in agreement.rules}

    def violation_times(
        rule_ids: tuple[str, ...], windows: PhaseWindows, in_force_from: np.datetime64
    ) -> np.ndarray:
        ctx = make_context(windows, in_force_from)
        found = [(by_id[r], find(by_id[r], ctx)) for r in rule_ids]
        found, _ = split_not_charged(agreement, incidents, outcome.groups, found)  # type: ignore[arg-type]
        rows = [np.asarray(f.incidents, dtype=np.int64) for _, f in found]
        joined = np.concatenate(rows) if rows else np.array([], dtype=np.int64)
        return np.sort(incidents.observed_at[joined])

    inputs = TimelineInputs(violent_times, violation_times, outcome.histories, coverage)
    return inputs, outcome


def set_aside(
    agreement: Agreement,
    incidents: IncidentTable,
    outcome: TermsOutcome,
    found: list[tuple[Rule, Findings]],
) -> list[tuple[Rule, Findings]]:
    """The findings to charge; the rest go to `outcome.not_charged`."""
    groups = outcome.groups if outcome.groups is not None else np.full(len(incidents), -1)
    kept, outcome.not_charged = split_not_charged(agreement, incidents, groups, found)
    return kept


def link_convoys(agreement: Agreement, ctx: RuleContext, outcome: TermsOutcome) -> None:
    """Every incident within a convoy's corridor during its window, by convoy."""
    from truce.domain.rules.convoy_safety import near_route

    rows = np.arange(len(ctx.incidents))

    def near(convoy: Convoy) -> Callable[[slice], np.ndarray]:
        return lambda part: near_route(ctx, convoy, rows[part])[0]

    for convoy in agreement.convoys:
        hit = ctx.shared.get(f"near convoy {convoy.id}", near(convoy))
        outcome.convoy_incidents[convoy.id] = rows[hit]


def point_distance_fn(
    project: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]],
    incidents: IncidentTable,
) -> Callable[[float, float, np.ndarray], np.ndarray]:
    """(lon, lat, rows) -> metres from the point to those incidents, in the metric CRS."""

    def distance(lon: float, lat: float, rows: np.ndarray) -> np.ndarray:
        px, py = project(np.array([lon]), np.array([lat]))
        return np.hypot(incidents.x[rows] - px[0], incidents.y[rows] - py[0])

    return distance


__all__ = [
    "TermsOutcome",
    "between_parties",
    "link_convoys",
    "point_distance_fn",
    "set_aside",
    "timeline_inputs",
    "violent_times_fn",
]
