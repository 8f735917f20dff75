"""Reports -> incidents.

Two reports may describe the same incident when they are *compatible* (same
`event_type`; for weapon sightings also the same weapon class; for checkpoint
observations also the same stated side), and close in space (default 2 km,
widened by their stated location precision) and in time (default 6 h).

Chaining guard. Linking every close pair and taking connected components
(single linkage) lets a string of reports 1.9 km apart merge a whole front
line into one "incident". truce instead anchors each incident at its earliest
report (ties broken by `source:report_id`) and admits a report only if it is
within the distance and time limits *of the anchor*. An incident therefore
spans at most twice the distance and once the time window, and the result does
not depend on input order. Deciding anchors is inherently sequential, so it is
one compiled pass (`truce.domain.anchors`).

Complexity: reports are bucketed by (key, grid cell as wide as the largest
distance limit); each report is compared only with the reports of its 3 x 3
block of cells inside the time window, so the work is O(n log n + candidates),
never n².
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from truce.domain import keys
from truce.domain.actors import join_label, label_tokens
from truce.domain.attribution import Attribution, Labels
from truce.domain.model import (
    MUTUAL,
    UNATTRIBUTED,
    IncidentTable,
    ReportTable,
    event_code,
)
from truce.domain.report_order import canonical_order

# Admiralty source reliability -> weight in the attribution vote. F ("cannot be
# judged") and unstated count like a fairly unreliable source, not like none.
RELIABILITY_WEIGHT = {"A": 1.0, "B": 0.8, "C": 0.6, "D": 0.4, "E": 0.2, "F": 0.3, "": 0.3}
# Reports that state no precision are weighted as if good to this many metres
# when averaging locations.
DEFAULT_PRECISION_M = 250.0
_NS_PER_S = 1_000_000_000


@dataclass(frozen=True)
class ConsolidationSettings:
    radius_m: float = 2000.0
    window_s: float = 6 * 3600.0
    # Stated precision widens the distance limit by sqrt(p1² + p2²), at most this much.
    max_widening_m: float = 5000.0
    # A report's stated time window (observed_at..observed_to) widens the time limit by
    # its length, at most this much: a whole-day event can meet a report of any hour of it.
    max_span_s: float = 24 * 3600.0


def compatibility_keys(reports: ReportTable) -> np.ndarray:
    """An integer per report; only reports with equal keys may merge."""
    sighting = reports.event_type == event_code("weapon_sighting")
    checkpoint = reports.event_type == event_code("checkpoint_observation")
    weapon = np.where(sighting, reports.weapon.astype(np.int64) + 1, 0)
    side_code, _ = factorize(reports.side)
    side = np.where(checkpoint, side_code + 1, 0)
    n_sides = int(side.max()) + 1 if len(side) else 1
    return (reports.event_type.astype(np.int64) * 32 + weapon) * n_sides + side


# The 3 x 3 block of grid cells around a cell, itself included.
_BLOCK = tuple((dx, dy) for dy in (-1, 0, 1) for dx in (-1, 0, 1))


def _grid(
    x: np.ndarray, y: np.ndarray, keys: np.ndarray, reach_m: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Bucket rows by (key, grid cell of side `reach_m`).

    Returns (cell rank per row, rows grouped by cell in their original order, start
    of each group plus a final end, the ranks of each cell's 3 x 3 block or -1).
    Any two rows within `reach_m` of each other with equal keys are in each
    other's blocks.
    """
    cx = np.floor((x - x.min()) / reach_m).astype(np.int64)
    cy = np.floor((y - y.min()) / reach_m).astype(np.int64)
    key_code = pd.factorize(keys)[0].astype(np.int64)  # any injective small code will do
    width, height = int(cx.max()) + 3, int(cy.max()) + 3  # room for the +-1 neighbours
    cell = (key_code * height + (cy + 1)) * width + (cx + 1)
    by_cell = np.argsort(cell, kind="stable")
    sorted_cell = cell[by_cell]
    first = np.ones(len(cell), dtype=bool)
    first[1:] = sorted_cell[1:] != sorted_cell[:-1]
    cell_start = np.append(np.flatnonzero(first), len(cell))
    cells = sorted_cell[first]
    cell_of = np.empty(len(cell), dtype=np.int64)
    cell_of[by_cell] = np.cumsum(first) - 1
    neighbours = np.empty((len(cells), len(_BLOCK)), dtype=np.int64)
    for k, (dx, dy) in enumerate(_BLOCK):
        target = cells + dy * width + dx
        rank = np.minimum(np.searchsorted(cells, target), len(cells) - 1)
        neighbours[:, k] = np.where(cells[rank] == target, rank, -1)
    return cell_of, by_cell.astype(np.int64), cell_start, neighbours


def cluster(
    x: np.ndarray,
    y: np.ndarray,
    t_s: np.ndarray,
    keys: np.ndarray,
    precision_m: np.ndarray,
    settings: ConsolidationSettings,
    t_last_s: np.ndarray | None = None,
    dataset: np.ndarray | None = None,
) -> np.ndarray:
    """Cluster labels for points already in canonical order (row 0 earliest).

    Returns, for each row, the row number of its incident's anchor: taking rows in
    order, a row is an anchor unless an earlier anchor admits it (same key, within
    the distance and time limits, and holding no report of the row's curated
    `dataset` code yet; -1: none), and then it joins the earliest such anchor.
    `t_last_s` is the last instant of each row's time window (default: `t_s`).
    """
    n = len(x)
    if n == 0:
        return np.array([], dtype=np.int64)
    from truce.domain.anchors import assign_anchors  # numba: loaded only when needed

    prec = np.nan_to_num(np.asarray(precision_m, dtype=np.float64), nan=0.0)
    widest = min(float(np.hypot(prec.max(), prec.max())), settings.max_widening_m)
    t_s = np.ascontiguousarray(t_s, dtype=np.float64)
    t_last = t_s if t_last_s is None else np.ascontiguousarray(t_last_s, dtype=np.float64)
    span = min(float((t_last - t_s).max()), settings.max_span_s)
    codes = np.full(n, -1, dtype=np.int64) if dataset is None else dataset.astype(np.int64)
    cell_of, by_cell, cell_start, neighbours = _grid(x, y, keys, settings.radius_m + widest)
    return assign_anchors(
        np.ascontiguousarray(x, dtype=np.float64),
        np.ascontiguousarray(y, dtype=np.float64),
        t_s,
        t_last,
        prec,
        np.ascontiguousarray(codes),
        cell_of,
        by_cell,
        cell_start.astype(np.int64),
        neighbours,
        float(settings.radius_m),
        float(settings.window_s),
        float(settings.max_widening_m),
        max(span, 0.0),
    )


def load_compiled() -> None:
    """Load `cluster`'s compiled pass now (from numba's cache: 0.2-0.4 s, much of it in
    LLVM without the GIL), as a thread may while the reports are read; a first use
    meanwhile waits for it rather than loading it again. Through `cluster` itself, so
    that it is the very specialisation `consolidate` uses."""
    one = np.zeros(1)
    cluster(one, one, one, np.zeros(1, dtype=np.int64), one, ConsolidationSettings())


def _vote(
    labels: Labels, weights: np.ndarray, members: np.ndarray, member_incident: np.ndarray, n: int
) -> np.ndarray:
    """Per incident, the label with the largest summed weight; ties and no votes -> "".

    Weights are summed over each incident's `members` in canonical order: float sums
    depend on the order of their terms, and a tie must not depend on the table's row
    order. Every "" label is no vote (an attacker list has two: unknown and mutual)."""
    names = labels.names
    k = max(len(names), 1)
    totals = np.bincount(
        member_incident * k + labels.codes[members], weights=weights[members], minlength=n * k
    ).reshape(n, k)
    totals[:, [c for c, name in enumerate(names) if name == ""]] = 0.0
    best = totals.argmax(axis=1)
    top = totals[np.arange(n), best]
    tied = (totals == top[:, None]).sum(axis=1) > 1
    winners = np.array([*names, ""], dtype=object)[np.where((top > 0) & ~tied, best, len(names))]
    return winners


def consolidate(
    reports: ReportTable,
    x: np.ndarray,
    y: np.ndarray,
    labels: Attribution,
    settings: ConsolidationSettings | None = None,
) -> IncidentTable:
    """Group reports into incidents.

    `x`, `y` are the reports' metric coordinates; `labels` who each report says
    acted and was hit (`truce.domain.attribution`). Incidents come out ordered by
    (time, anchor key), so their row number is a stable, human-friendly id for one
    evaluation. Two reports of one curated dataset never share an incident.
    """
    settings = settings or ConsolidationSettings()
    source_code, source_names = pd.factorize(reports.source, sort=True)
    order = canonical_order(reports, source_code)
    t_ns = reports.observed_at.astype("datetime64[ns]").astype(np.int64)
    to = reports.observed_to
    instants = np.isnat(to)
    windowed = not instants.all()  # most files give instants: then skip the window work
    last_ns = np.where(instants, t_ns, to.astype(np.int64) - 1) if windowed else t_ns
    if (reports.dataset != "").any():
        dataset_code, dataset_names = factorize(reports.dataset)
        curated = (
            np.where(dataset_code == dataset_names.index(""), -1, dataset_code)
            if "" in dataset_names
            else dataset_code
        )
    else:
        dataset_code, dataset_names = np.zeros(len(reports), dtype=np.int64), [""]
        curated = None
    anchor_sorted = cluster(
        x[order],
        y[order],
        t_ns[order] / _NS_PER_S,
        compatibility_keys(reports)[order],
        reports.precision_m[order],
        settings,
        t_last_s=last_ns[order] / _NS_PER_S if windowed else None,
        dataset=None if curated is None else curated[order],
    )
    # Anchors in canonical order are the incidents in their output order.
    is_anchor = anchor_sorted == np.arange(len(anchor_sorted))
    anchor_pos = np.flatnonzero(is_anchor)
    n = len(anchor_pos)
    incident_of_sorted = (np.cumsum(is_anchor) - 1)[anchor_sorted]
    incident = np.empty(len(reports), dtype=np.int64)
    incident[order] = incident_of_sorted
    anchor_rows = order[anchor_pos]

    # Members, grouped by incident, each group in canonical order; every group is
    # non-empty, so per-incident reductions are `reduceat` over the group starts.
    members = order[np.argsort(incident_of_sorted, kind="stable")]
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(incident, minlength=n), out=offsets[1:])
    starts = offsets[:-1]
    member_incident = incident[members]  # sorted: the groups in order

    def per_incident(reduce: np.ufunc, values: np.ndarray) -> np.ndarray:
        return reduce.reduceat(values[members], starts) if n else values[:0]

    prec = reports.precision_m
    w = 1.0 / np.square(np.maximum(np.nan_to_num(prec, nan=DEFAULT_PRECISION_M), 10.0))
    wsum = per_incident(np.add, w)

    def wmean(v: np.ndarray) -> np.ndarray:
        return per_incident(np.add, w * v) / wsum

    # Distinct (incident, source) pairs: sorting keeps the incidents' grouping.
    n_sources = max(len(source_names), 1)
    pair = np.sort(member_incident * n_sources + source_code[members])
    first = np.ones(len(pair), dtype=bool)
    first[1:] = pair[1:] != pair[:-1]
    corroboration = np.bincount(pair[first] // n_sources, minlength=n)

    rel_code, rel_names = factorize(reports.reliability)
    rel_weight = np.array([RELIABILITY_WEIGHT.get(r, 0.3) for r in rel_names])[rel_code]
    rel_rank = np.array(
        [_RELIABILITY_RANK.get(r, len(_RELIABILITY_RANK)) for r in rel_names], dtype=np.int64
    )
    best_rank = per_incident(np.minimum, rel_rank[rel_code])
    reliability = np.array([*_RELIABILITY_RANK, ""], dtype=object)[best_rank]

    cred = np.where(reports.credibility > 0, reports.credibility, 6).astype(np.int64)
    # Admiralty 1 = "confirmed by other sources": two or more independent sources.
    credibility = np.where(corroboration >= 2, 1, per_incident(np.minimum, cred)).astype(np.int8)

    best_prec = per_incident(np.fmin, prec)  # NaN only where no report states one
    party_vote = _vote(labels.attacker, rel_weight, members, member_incident, n)
    if windowed:
        observed_at, observed_to = _windows(t_ns, last_ns, anchor_rows, per_incident)
    else:
        observed_at = reports.observed_at[anchor_rows]
        observed_to = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    best = reports.fatalities
    # Reports of one incident describe one event: their casualty figures give a range.
    low = per_incident(np.fmin, _or(reports.fatalities_low, best))
    high = per_incident(np.fmax, _or(reports.fatalities_high, best))
    mutual = reports.direction == MUTUAL

    return IncidentTable(
        anchor=report_keys(reports, anchor_rows),
        event_type=reports.event_type[anchor_rows],
        weapon=reports.weapon[anchor_rows],
        observed_at=observed_at,
        lon=wmean(reports.lon),
        lat=wmean(reports.lat),
        x=wmean(x),
        y=wmean(y),
        precision_m=best_prec,
        party=np.where(party_vote == "", UNATTRIBUTED, party_vote).astype(object),
        target=_vote(labels.target, rel_weight, members, member_incident, n),
        side=reports.side[anchor_rows].astype(object),
        count=per_incident(np.fmax, reports.count),
        fatalities=per_incident(np.fmax, best),
        corroboration=corroboration.astype(np.int64),
        reliability=reliability,
        credibility=credibility,
        offsets=offsets,
        members=members,
        observed_to=observed_to,
        fatalities_low=low,
        fatalities_high=high,
        actor=np.array(labels.actor.names, dtype=object)[labels.actor.codes[anchor_rows]]
        if n
        else np.array([], dtype=object),
        involved=union_per_incident(labels.involved, members, offsets),
        mutual=per_incident(np.logical_and, mutual).astype(bool)
        if mutual.any()
        else np.zeros(n, dtype=bool),
        datasets=union_per_incident(Labels(dataset_code, dataset_names), members, offsets),
        actor_text=_unnamed_text(reports.actor, labels.actor, anchor_rows),
        target_text=_unnamed_text(reports.target, labels.target, anchor_rows),
    )


def _unnamed_text(text: np.ndarray, labels: Labels, rows: np.ndarray) -> np.ndarray:
    """The text as written, for the rows whose label is empty (evidence quotes it); ""
    elsewhere, so that evidence is worded once per label, not once per spelling."""
    unnamed = np.array([name == "" for name in labels.names] + [False])[labels.codes[rows]]
    out = np.full(len(rows), "", dtype=object)
    out[unnamed] = text[rows[unnamed]]
    return out


def _or(values: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """`values`, with `fallback` where a value is NaN."""
    missing = np.isnan(values)
    return fallback if missing.all() else np.where(missing, fallback, values)


def _windows(
    t_ns: np.ndarray, last_ns: np.ndarray, anchor_rows: np.ndarray, per_incident: object
) -> tuple[np.ndarray, np.ndarray]:
    """Each incident's time window: where its reports' windows overlap, the overlap;
    where they do not (reports of one instant half an hour apart), the anchor's.
    Returns (start, exclusive end or NaT for an instant), as datetime64[ns]."""
    start = per_incident(np.maximum, t_ns)  # type: ignore[operator]
    last = per_incident(np.minimum, last_ns)  # type: ignore[operator]
    agree = start <= last
    start = np.where(agree, start, t_ns[anchor_rows])
    last = np.where(agree, last, last_ns[anchor_rows])
    end = np.where(last > start, last + 1, np.iinfo(np.int64).min)  # int64 min is NaT
    return start.astype("datetime64[ns]"), end.astype("datetime64[ns]")


def union_per_incident(labels: Labels, members: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Per incident (its reports `members[offsets[i]:offsets[i+1]]`), the "+"-joined union
    of its reports' labels ("" for none).

    Each label becomes a bit mask of its ids, or-ed over each incident's reports; masks
    are turned back into labels once per distinct mask. More than 62 distinct ids (not
    seen in practice) take a slower path, incident by incident where reports differ."""
    n = len(offsets) - 1
    if n == 0 or not any(labels.names):
        return np.full(n, "", dtype=object)
    codes = labels.codes[members]
    ids = sorted({t for name in labels.names for t in label_tokens(name)})
    if len(ids) > 62:
        first = np.minimum.reduceat(codes, offsets[:-1])
        out = np.array(labels.names, dtype=object)[first]
        for i in np.flatnonzero(np.maximum.reduceat(codes, offsets[:-1]) != first).tolist():
            seen = set(codes[offsets[i] : offsets[i + 1]].tolist())
            out[i] = join_label(t for c in seen for t in label_tokens(labels.names[c]))
        return out
    bit = {t: 1 << k for k, t in enumerate(ids)}
    mask_of = np.array(
        [sum(bit[t] for t in label_tokens(name)) for name in labels.names], dtype=np.int64
    )
    which, distinct = pd.factorize(np.bitwise_or.reduceat(mask_of[codes], offsets[:-1]))
    texts = [join_label(t for k, t in enumerate(ids) if m >> k & 1) for m in distinct.tolist()]
    return np.array(texts, dtype=object)[which]


def report_keys(reports: ReportTable, rows: np.ndarray) -> np.ndarray:
    """`source:report_id` for the given rows."""
    return np.array(
        keys.report_keys(reports.source[rows].tolist(), reports.report_id[rows].tolist()),
        dtype=object,
    )


def factorize(values: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """(integer code per value, distinct values); hash-based, so fast on millions of strings."""
    codes, uniques = pd.factorize(values, sort=False)
    return codes.astype(np.int64), [str(u) for u in uniques]


_RELIABILITY_RANK = {g: k for k, g in enumerate("ABCDEF")}
