"""Re-evaluate after a batch of new reports, consolidating again only what they can change.

The result is the one `evaluate` gives over all the reports; only the work differs.

Why a cut exists. Consolidation takes reports in canonical order (time, source,
report_id); a report joins the earliest earlier *anchor* that admits it, else
anchors an incident of its own. A report's fate therefore depends only on the
reports before it: every report earlier in time than the earliest changed report
(`since`) is decided as it was last time. And an anchor at time t admits nothing
later than t + window_s + max_span_s (its own time window counts up to
max_span_s), so an incident anchored before `since - reach` holds only reports
before `since`: the same reports, with the same anchor, as last time.

So the previous evaluation's incidents anchored before that cut are kept as they
were (their columns are functions of their reports alone, summed in canonical
order), and every other observed report is consolidated again, by the one
`consolidate`, as a table of its own. That is exact, not an approximation: a
report outside the kept incidents was admitted by no anchor of theirs in the full
run either (the earliest admitting anchor wins, and theirs are earlier than any
other), so among the rest the same anchors admit the same reports. The kept
incidents come first in the full run's order too, since their anchors are the
earliest. Zones, the timeline, phases and rules are cheap and run again over the
whole incident table.

"Changed" covers new reports, reports the previous `as_of` left out that the new
one lets in, and reports the new `as_of` leaves out. Where none of this can be
proven, `reevaluate` says why (`Plan.reason`) and calls `evaluate`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import datetime

import numpy as np
import pandas as pd

from truce.domain.attribution import attribute
from truce.domain.conditions.base import Coverage
from truce.domain.consolidate import ConsolidationSettings, consolidate
from truce.domain.evaluate import Laps, agreement_space, conclude, evaluate
from truce.domain.geo import AgreementSpace
from truce.domain.model import Evaluation, IncidentTable, Rejection, ReportTable
from truce.domain.report_order import canonical_order_of
from truce.domain.timeparse import to_utc64

__all__ = ["INCREMENTAL", "Plan", "plan", "reevaluate", "same_incidents_from"]

# The anchor pass works in float seconds; a second more than the reach outweighs
# any rounding in it.
_MARGIN_NS = 1_000_000_000
# The anchor pass tells curated datasets apart by one bit each, code mod 63
# (`truce.domain.anchors`): with more distinct values (counting "") bits are
# shared, and which ones depends on the table's row order.
_DATASET_BITS = 63
_LONGEST_REACH_S = 100 * 365 * 86_400.0  # past this, datetime64[ns] arithmetic overflows

INCREMENTAL = "incremental"


@dataclass(frozen=True)
class Plan:
    """What `reevaluate` reuses: the previous evaluation's first `reused` incidents,
    whose reports are `members` (rows of the new observed table, in the incidents'
    order). `reused == 0`: nothing, everything is evaluated again, for `reason`.
    Row `same_old[k]` of the previous reports is row `same_now[k]` of the new table:
    every report before `since`."""

    reused: int
    members: np.ndarray
    since: np.datetime64 | None  # the earliest changed report's time; None: nothing changed
    reason: str
    same_old: np.ndarray
    same_now: np.ndarray

    @classmethod
    def full(cls, reason: str) -> Plan:
        none = np.empty(0, dtype=np.int64)
        return cls(0, none, None, reason, none, none)


def reevaluate(
    previous: Evaluation,
    reports: ReportTable,
    new_rows: np.ndarray,
    *,
    as_of: datetime,
    rejected: Iterable[Rejection] = (),
    settings: ConsolidationSettings | None = None,
    coverage: Coverage | None = None,
    appended: bool = False,
) -> Evaluation:
    """`evaluate(previous.agreement, reports, ...)`, reusing `previous` where it provably holds.

    `reports` is the whole table, old and new rows in any order; `new_rows` the indices
    of the rows added since `previous`, which was evaluated over the others (with the
    same agreement; settings are checked). Report keys (source, report_id) are assumed
    unique, as the store keeps them. `appended`: the caller made `reports` as
    `previous.reports` followed by the new rows (`ReportTable.concat`), so the old rows
    are not compared again (a million report ids at 1M).

    `extra["incremental"]`: `reason` ("incremental", or why everything was evaluated
    again), `reused` (the first `reused` incidents are the previous evaluation's, column
    for column, their reports given as rows of this table) and `consolidated` (how
    many reports were consolidated again)."""
    settings = settings or ConsolidationSettings()
    agreement = previous.agreement
    laps = Laps()
    observed = reports.observed_at <= to_utc64(as_of)
    is_new = np.zeros(len(reports), dtype=bool)
    is_new[np.asarray(new_rows, dtype=np.int64)] = True
    table = reports
    if not observed.all():
        kept = np.flatnonzero(observed)
        table, is_new = reports.take(kept), is_new[kept]
    space = agreement_space(agreement, table)
    how = plan(
        previous, table, is_new, as_of=as_of, settings=settings, crs=space.projection.crs,
        appended=appended and table is reports,
    )  # fmt: skip
    laps.lap("plan")
    if how.reused == 0:
        full = evaluate(
            agreement, reports, as_of=as_of, rejected=rejected, settings=settings,
            coverage=coverage,
        )  # fmt: skip
        full.extra["incremental"] = {"reason": how.reason, "reused": 0, "consolidated": len(table)}
        return full
    x, y = _positions(previous, table, how, space)
    laps.lap("project")

    rest = np.ones(len(table), dtype=bool)
    rest[how.members] = False
    rest_rows = np.flatnonzero(rest)
    sub = table.take(rest_rows)
    fresh = consolidate(sub, x[rest_rows], y[rest_rows], attribute(agreement, sub), settings)
    incidents = _joined(previous.incidents, how.reused, how.members, fresh, rest_rows)
    laps.lap("consolidate")
    ev = conclude(
        agreement, table, x, y, incidents, space,
        as_of=as_of, rejected=rejected, settings=settings, coverage=coverage, laps=laps,
        earlier=previous, kept=how.reused,
    )  # fmt: skip
    ev.extra["incremental"] = {
        "reason": how.reason,
        "reused": how.reused,
        "consolidated": len(rest_rows),
    }
    return ev


def plan(
    previous: Evaluation,
    reports: ReportTable,
    is_new: np.ndarray,
    *,
    as_of: datetime,
    settings: ConsolidationSettings,
    crs: str,
    appended: bool = False,
) -> Plan:
    """Which of `previous`'s incidents the observed `reports` (`is_new`: added since)
    leave as they were, or why none can be trusted to. `appended`: `reports` begins
    with `previous.reports`, as `reevaluate`'s caller made it."""
    if previous.extra.get("settings") != settings:
        return Plan.full("the consolidation settings differ from the previous evaluation's")
    if previous.extra.get("crs") != crs:
        # The agreement places nothing: the projection follows the reports' median.
        return Plan.full("the projection changed with the reports")
    old = previous.reports
    # The previous reports are among these unless the new as_of leaves some out.
    datasets = (reports.dataset,) if as_of >= previous.as_of else (old.dataset, reports.dataset)
    if _distinct_count(*datasets) > _DATASET_BITS:
        return Plan.full(f"more than {_DATASET_BITS} curated datasets share the anchor bits")
    reach_s = settings.window_s + settings.max_span_s
    if not reach_s < _LONGEST_REACH_S:
        return Plan.full("the consolidation settings reach back without bound")
    incidents = previous.incidents
    if len(incidents) == 0:
        return Plan.full("the previous evaluation has no incidents")
    since = _earliest_change(old, reports, is_new, to_utc64(previous.as_of), to_utc64(as_of))
    reused = len(incidents)
    if since is not None:
        reach_ns = math.ceil(reach_s * 1e9) + _MARGIN_NS
        anchor_at = old.observed_at[incidents.members[incidents.offsets[:-1]]]
        reused = int(np.searchsorted(anchor_at, since - np.timedelta64(reach_ns, "ns"), "left"))
    if reused == 0:
        return Plan.full("the changes reach back to the first incident")
    same = _same_rows(old, reports, since, appended)
    if same is None:
        return Plan.full("the previous evaluation was not made from these reports")
    now_of = np.full(len(old), -1, dtype=np.int64)
    now_of[same[0]] = same[1]
    members = now_of[incidents.members[: incidents.offsets[reused]]]
    if (members < 0).any():  # cannot happen: kept incidents end before `since`
        return Plan.full("a kept incident holds a changed report")
    return Plan(reused, members, since, INCREMENTAL, *same)


def _distinct_count(*columns: np.ndarray) -> int:
    return len(set().union(*(pd.unique(c).tolist() for c in columns)))


def _earliest_change(
    old: ReportTable,
    reports: ReportTable,
    is_new: np.ndarray,
    old_as_of: np.datetime64,
    as_of: np.datetime64,
) -> np.datetime64 | None:
    """The earliest time at which the observed reports differ from `old`'s, if they do."""
    t = reports.observed_at
    changed = [t[is_new]]
    if as_of > old_as_of:  # old reports the previous as_of left out
        changed.append(t[~is_new & (t > old_as_of)])
    if as_of < old_as_of:  # reports the new as_of leaves out
        changed.append(old.observed_at[old.observed_at > as_of])
    times = np.concatenate(changed)
    return times.min() if len(times) else None


def _same_rows(
    old: ReportTable, reports: ReportTable, since: np.datetime64 | None, appended: bool
) -> tuple[np.ndarray, np.ndarray] | None:
    """(rows of `old`, rows of `reports`): the reports before `since`, matched; None if
    they are not the same reports in both."""
    if since is None:
        before_old, before_now = np.arange(len(old)), np.arange(len(reports))
    else:
        before_old = np.flatnonzero(old.observed_at < since)
        before_now = np.flatnonzero(reports.observed_at < since)
    if len(before_old) != len(before_now):
        return None
    if np.array_equal(before_old, before_now) and (appended or _begins_with(reports, old)):
        return before_old, before_now  # the usual table: the previous one, then new rows
    if not _same_reports(old, before_old, reports, before_now):
        # The table's rows came in another order: match them in canonical order.
        before_old = before_old[_canonical(old, before_old)]
        before_now = before_now[_canonical(reports, before_now)]
        if not _same_reports(old, before_old, reports, before_now):
            return None
    return before_old, before_now


def _positions(
    previous: Evaluation, reports: ReportTable, how: Plan, space: AgreementSpace
) -> tuple[np.ndarray, np.ndarray]:
    """The reports' metric coordinates: the previous evaluation's where it has them
    (the same projection, `plan` checked), projected for the rest."""
    xy = previous.extra.get("xy")
    if xy is None:
        return space.projection.points(reports.lon, reports.lat)
    x, y = np.empty(len(reports)), np.empty(len(reports))
    x[how.same_now], y[how.same_now] = xy[0][how.same_old], xy[1][how.same_old]
    rest = np.ones(len(reports), dtype=bool)
    rest[how.same_now] = False
    rows = np.flatnonzero(rest)
    x[rows], y[rows] = space.projection.points(reports.lon[rows], reports.lat[rows])
    return x, y


def _begins_with(reports: ReportTable, old: ReportTable) -> bool:
    """Whether `reports`' first rows are `old`'s, in order (no rows picked out: faster)."""
    m = len(old)
    return len(reports) >= m and all(
        np.array_equal(getattr(old, column), getattr(reports, column)[:m])
        for column in ("observed_at", "source", "report_id")
    )


def _same_reports(a: ReportTable, rows_a: np.ndarray, b: ReportTable, rows_b: np.ndarray) -> bool:
    return all(
        np.array_equal(getattr(a, column)[rows_a], getattr(b, column)[rows_b])
        for column in ("observed_at", "source", "report_id")
    )


def _canonical(reports: ReportTable, rows: np.ndarray) -> np.ndarray:
    return canonical_order_of(
        reports.observed_at[rows], reports.source[rows], reports.report_id[rows]
    )


def _joined(
    head: IncidentTable,
    reused: int,
    head_members: np.ndarray,
    tail: IncidentTable,
    tail_rows: np.ndarray,
) -> IncidentTable:
    """`head`'s first `reused` incidents (their reports now `head_members`), then `tail`'s
    (made from the rows `tail_rows`), as one table in that order."""
    start = int(head.offsets[reused])
    columns: dict[str, np.ndarray] = {}
    for f in fields(IncidentTable):
        kept = getattr(head, f.name)
        if f.name == "offsets":
            kept, more = kept[: reused + 1], tail.offsets[1:] + start
        elif f.name == "members":
            kept, more = head_members, tail_rows[tail.members]
        else:
            kept, more = kept[:reused], getattr(tail, f.name)
        # An empty tail's columns may have another dtype (numpy's default for empty results).
        columns[f.name] = np.concatenate([kept, more]) if len(tail) else kept.copy()
    return IncidentTable(**columns)


def same_incidents_from(
    before: Evaluation, after: Evaluation, start: int, *, appended: bool = False
) -> int:
    """How many incidents from position `start` on are the same in both evaluations
    (every column, and the same reports), when `after`'s reports begin with `before`'s
    rows (a table of new reports appended, nothing left out; `appended`: the caller
    made them so, else it is checked): a refresh re-consolidates every report within
    reach of the new ones, and most of what it makes again is as it was, so need not
    be written again."""
    a, b = before.incidents, after.incidents
    m = min(len(a), len(b)) - start
    if m <= 0 or not (appended or _begins_with(after.reports, before.reports)):
        return 0
    stop = start + m
    same = np.ones(m, dtype=bool)
    for f in fields(IncidentTable):
        if f.name in ("offsets", "members"):
            continue
        x, y = getattr(a, f.name)[start:stop], getattr(b, f.name)[start:stop]
        equal = np.asarray(x == y, dtype=bool)
        if x.dtype.kind == "f":
            equal |= np.isnan(x) & np.isnan(y)
        elif x.dtype.kind == "M":
            equal |= np.isnat(x) & np.isnat(y)
        same &= equal
    sizes = np.diff(a.offsets[start : stop + 1]) == np.diff(b.offsets[start : stop + 1])
    same &= sizes
    first = int(np.argmin(same)) if not same.all() else m
    # Members line up up to the first incident of another size: compare them there.
    lo, hi = int(a.offsets[start]), int(a.offsets[start + first])
    if lo != int(b.offsets[start]):
        return 0
    differ = np.flatnonzero(a.members[lo:hi] != b.members[lo:hi])
    if len(differ):
        first = min(first, int(np.searchsorted(a.offsets, lo + differ[0], "right")) - 1 - start)
    return first
