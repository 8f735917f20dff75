"""Agreement + reports + as_of -> Evaluation: the whole offline pipeline.

Every other part of truce (the CLI, the server, bulletins, the map) calls this
one function; none of them re-implements a stage.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import datetime

import numpy as np

from truce.domain import terms
from truce.domain.attribution import attribute
from truce.domain.conditions.base import Coverage
from truce.domain.consolidate import ConsolidationSettings, consolidate
from truce.domain.geo import AgreementSpace
from truce.domain.model import (
    EVENT_TYPES,
    VIOLENT_TYPES,
    Agreement,
    Evaluation,
    IncidentTable,
    Rejection,
    ReportTable,
    ViolationTable,
    codes_of,
)
from truce.domain.per_incident import PerIncident
from truce.domain.phases import resolve_timeline
from truce.domain.rule_findings import PhaseReads, RuleFindings
from truce.domain.rules import RuleContext
from truce.domain.timeparse import to_utc64

# Whether each event type (by code) is violent, for quiet-day counts; the last entry is for -1.
VIOLENT_TABLE = np.zeros(len(EVENT_TYPES) + 1, dtype=bool)
VIOLENT_TABLE[codes_of(VIOLENT_TYPES, EVENT_TYPES)] = True


def evaluate(
    agreement: Agreement,
    reports: ReportTable,
    *,
    as_of: datetime,
    rejected: Iterable[Rejection] = (),
    settings: ConsolidationSettings | None = None,
    coverage: Coverage | None = None,
) -> Evaluation:
    """Consolidate the reports observed up to `as_of`, resolve the timeline, apply every rule.

    `coverage` (centre -> covered intervals) is what quiet_days conditions with
    `coverage` count against; without it they report "not covered"."""
    laps = Laps()
    reports = observed_by(reports, as_of)
    space = agreement_space(agreement, reports)
    x, y = space.projection.points(reports.lon, reports.lat)
    laps.lap("project")

    settings = settings or ConsolidationSettings()
    incidents = consolidate(reports, x, y, attribute(agreement, reports), settings)
    laps.lap("consolidate")
    return conclude(
        agreement, reports, x, y, incidents, space,
        as_of=as_of, rejected=rejected, settings=settings, coverage=coverage, laps=laps,
    )  # fmt: skip


class Laps:
    """Wall time per stage, for `Evaluation.extra["timings"]`."""

    def __init__(self) -> None:
        self.timings: dict[str, float] = {}
        self._clock = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.timings[stage] = now - self._clock
        self._clock = now


def observed_by(reports: ReportTable, as_of: datetime) -> ReportTable:
    """The reports observed up to `as_of`: nothing later is used."""
    observed = reports.observed_at <= to_utc64(as_of)
    if observed.all():  # usually nothing is left out
        return reports
    return reports.take(np.flatnonzero(observed))


def agreement_space(agreement: Agreement, reports: ReportTable) -> AgreementSpace:
    """The agreement's metric space; where the agreement places nothing, the reports' median does."""
    fallback = (
        (float(np.median(reports.lon)), float(np.median(reports.lat)))
        if len(reports) and not agreement.crs  # a stated CRS needs no median
        else None
    )
    return AgreementSpace.of(agreement, fallback)


def conclude(
    agreement: Agreement,
    reports: ReportTable,
    x: np.ndarray,
    y: np.ndarray,
    incidents: IncidentTable,
    space: AgreementSpace,
    *,
    as_of: datetime,
    rejected: Iterable[Rejection],
    settings: ConsolidationSettings,
    coverage: Coverage | None,
    laps: Laps,
    earlier: Evaluation | None = None,
    kept: int = 0,
) -> Evaluation:
    """The stages after consolidation: zones, timeline and phases, rules.

    `reports` are the observed reports, `x`, `y` their metric coordinates and
    `incidents` their consolidation (whether made whole or incrementally). `earlier`:
    a previous evaluation of the same agreement, whose first `kept` incidents are
    these incidents' first, unchanged: what it worked out for them is reused."""
    violent = VIOLENT_TABLE[incidents.event_type]

    # Worked out once for every rule context below, and only past `kept` when the
    # incidents before are `earlier`'s.
    same = earlier is not None and (
        earlier.agreement is agreement or earlier.agreement == agreement
    )
    carried = earlier.extra if earlier is not None and same else {}
    shared = PerIncident(len(incidents), carried.get("per_incident"), kept)
    findings = RuleFindings(incidents, carried.get("rule_findings"), kept)
    zone_masks = _zone_masks(space, incidents, shared)
    violent_times = terms.violent_times_fn(agreement, incidents, violent, zone_masks, shared)

    def rule_context(windows: terms.PhaseWindows, in_force_from: np.datetime64) -> RuleContext:
        return RuleContext(
            agreement=agreement,
            incidents=incidents,
            # resolved lazily while the timeline is; what a rule reads is noted
            phase_windows=PhaseReads(windows),
            in_force_from=in_force_from,
            zone_mask_fn=zone_masks.__getitem__,
            distance_fn=lambda fid, rows: space.distance_to_feature_m(
                fid, incidents.x[rows], incidents.y[rows]
            ),
            space=space,
            point_distance_fn=terms.point_distance_fn(space.projection.points, incidents),
            per_incident=shared,
        )

    inputs, outcome = terms.timeline_inputs(
        agreement, reports, x, y, incidents, violent_times, space.distance_to_feature_m,
        rule_context, findings.of, coverage,
    )  # fmt: skip
    timeline = resolve_timeline(agreement, inputs, as_of)
    laps.lap("phases")

    ctx = rule_context(timeline.windows, timeline.in_force_from())
    terms.link_convoys(agreement, ctx, outcome)
    violations = _apply_rules(agreement, incidents, ctx, findings.of, outcome)
    shared.settle()
    findings.settle()
    laps.lap("rules")

    return Evaluation(
        agreement=agreement,
        as_of=as_of,
        reports=reports,
        rejected=list(rejected),
        incidents=incidents,
        incident_ids=incident_ids(len(incidents), [] if earlier is None else earlier.incident_ids),
        violations=violations,
        phases=timeline.phases,
        conditions=timeline.conditions,
        extra={
            "timings": laps.timings,
            "crs": space.projection.crs,
            "zone_masks": zone_masks,
            "terms": outcome,
            # What `truce.domain.incremental.reevaluate` checks a later run against,
            # and the reports' coordinates it need not project again.
            "settings": settings,
            "xy": (x, y),
            "per_incident": shared,
            "rule_findings": findings,
        },
    )


def _zone_masks(
    space: AgreementSpace, incidents: IncidentTable, shared: PerIncident
) -> dict[str, np.ndarray]:
    """Each zone's mask over the incidents (the next incremental evaluation extends them)."""
    return shared.get("zones", lambda rows: space.zone_masks(incidents.x[rows], incidents.y[rows]))


def incident_ids(n: int, earlier: list[str]) -> list[str]:
    """`inc-1` to `inc-n`. Ids are positions, so an earlier evaluation's list already
    holds the first of them: a million new strings cost 0.2 s a refresh."""
    head = earlier[:n]
    return head + [f"inc-{k + 1}" for k in range(len(head), n)]


def _apply_rules(
    agreement: Agreement,
    incidents: IncidentTable,
    ctx: RuleContext,
    find: terms.FindFn,
    outcome: terms.TermsOutcome | None = None,
) -> ViolationTable:
    """Every rule's findings as one ViolationTable, ordered by (time, rule order, incident):
    row k is violation `v-{k+1}`."""
    found = [(rule, find(rule, ctx)) for rule in agreement.rules]
    if outcome is not None:  # acts of groups not bound at the time are not charged
        found = terms.set_aside(agreement, incidents, outcome, found)
    found = [(rule, f) for rule, f in found if len(f)]
    if not found:
        return ViolationTable.empty(agreement.timezone)
    rule_no = np.repeat(np.arange(len(found)), [len(f) for _, f in found])
    rows = np.concatenate([np.asarray(f.incidents, dtype=np.int64) for _, f in found])
    order = np.lexsort((rows, rule_no, incidents.observed_at[rows]))
    rows, rule_no = rows[order], rule_no[order]

    def column(values: list[np.ndarray], dtype: type | str = object) -> np.ndarray:
        return np.concatenate([np.asarray(v, dtype=dtype) for v in values])[order]

    return ViolationTable(
        rule=np.array([rule.id for rule, _ in found], dtype=object)[rule_no],
        kind=np.array([rule.kind for rule, _ in found], dtype=object)[rule_no],
        incident=rows,
        party=column([f.party for _, f in found]),
        at=incidents.observed_at[rows],
        zone=column([np.full(len(f), None) if f.zone is None else f.zone for _, f in found]),
        evidence=column([_object_column(f.evidence) for _, f in found]),
        corroborated=incidents.corroboration[rows] >= 2,
        measured_m=column(
            [np.full(len(f), np.nan) if f.measured_m is None else f.measured_m for _, f in found],
            np.float64,
        ),
        timezone=agreement.timezone,
        certain=column(
            [np.ones(len(f), dtype=bool) if f.certain is None else f.certain for _, f in found],
            bool,
        ),
        involved=incidents.involved[rows],
    )


def _object_column(values: np.ndarray | list[str]) -> np.ndarray:
    """A list of strings as an object array (np.asarray would make a fixed-width one)."""
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out
