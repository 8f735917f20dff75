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
not depend on input order. Anchors are decided in rounds, each a set of array
operations over all undecided reports together (see `_greedy_anchors`).

Complexity: candidate pairs come from a grid of (key, cell) buckets sorted by
time (see `_close_pairs`), so the work is O(n log n + pairs), never n².
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from truce.domain.model import (
    UNATTRIBUTED,
    IncidentTable,
    ReportTable,
    event_code,
)

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


def compatibility_keys(reports: ReportTable) -> np.ndarray:
    """An integer per report; only reports with equal keys may merge."""
    sighting = reports.event_type == event_code("weapon_sighting")
    checkpoint = reports.event_type == event_code("checkpoint_observation")
    weapon = np.where(sighting, reports.weapon.astype(np.int64) + 1, 0)
    side_code, _ = factorize(reports.side)
    side = np.where(checkpoint, side_code + 1, 0)
    n_sides = int(side.max()) + 1 if len(side) else 1
    return (reports.event_type.astype(np.int64) * 32 + weapon) * n_sides + side


def canonical_order(reports: ReportTable) -> np.ndarray:
    """Rows sorted by (time, source, report_id): the order that defines anchors."""
    return np.lexsort(
        (reports.report_id.astype(str), reports.source.astype(str), reports.observed_at)
    )


def _within_limits(
    i: np.ndarray,
    j: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    t_s: np.ndarray,
    prec: np.ndarray,
    s: ConsolidationSettings,
) -> np.ndarray:
    widening = np.minimum(np.hypot(prec[i], prec[j]), s.max_widening_m)
    close = np.hypot(x[i] - x[j], y[i] - y[j]) <= s.radius_m + widening
    return close & (np.abs(t_s[i] - t_s[j]) <= s.window_s)


# Candidate pairs are generated and filtered in blocks of about this many rows, so
# memory stays proportional to the admitted pairs, not to the candidates.
_PAIR_BLOCK_ROWS = 131_072
# Grid cells that are forward neighbours of a cell: each unordered pair of distinct
# neighbouring cells is visited once.
_FORWARD_CELLS = ((1, -1), (1, 0), (1, 1), (0, 1))


def _close_pairs(
    x: np.ndarray,
    y: np.ndarray,
    t_s: np.ndarray,
    keys: np.ndarray,
    prec: np.ndarray,
    settings: ConsolidationSettings,
) -> tuple[np.ndarray, np.ndarray]:
    """Every unordered pair of rows that `_within_limits` admits, once each.

    Candidates: rows are bucketed by (key, grid cell whose side is the largest possible
    distance limit) and sorted by time within each bucket; for each row, the rows of its
    own and its neighbouring cells inside the time window are contiguous runs found with
    `searchsorted`. The candidates are a superset of the admissible pairs and are
    filtered block by block. O(n log n + candidates), with no tree to traverse.
    """
    n = len(x)
    reach_m = settings.radius_m + min(
        float(np.hypot(prec.max(), prec.max())), settings.max_widening_m
    )
    window_s = settings.window_s
    cx = np.floor((x - x.min()) / reach_m).astype(np.int64)
    cy = np.floor((y - y.min()) / reach_m).astype(np.int64)
    key_code = pd.factorize(keys)[0].astype(np.int64)  # any injective small code will do
    width, height = int(cx.max()) + 3, int(cy.max()) + 3  # room for the +-1 neighbours
    cell = (key_code * height + (cy + 1)) * width + (cx + 1)
    # Whole seconds, widened by one on each side below, keep the candidate set a superset.
    t_q = np.floor(t_s - t_s.min()).astype(np.int64)
    span = int(t_q.max()) + int(np.ceil(window_s)) + 4
    order = np.lexsort((t_q, cell))
    sorted_cell = cell[order]
    first_of_cell = np.flatnonzero(np.diff(sorted_cell, prepend=sorted_cell[0] - 1))
    cells = sorted_cell[first_of_cell]  # ascending, distinct
    cell_rank = np.cumsum(np.diff(sorted_cell, prepend=sorted_cell[0]) != 0)
    composite = cell_rank.astype(np.int64) * span + t_q[order]  # sorted ascending
    sorted_t = t_q[order]
    w = int(np.ceil(window_s)) + 1

    found_i: list[np.ndarray] = []
    found_j: list[np.ndarray] = []
    for lo_row in range(0, n, _PAIR_BLOCK_ROWS):
        rows = np.arange(lo_row, min(n, lo_row + _PAIR_BLOCK_ROWS))  # sorted positions
        own_rank = cell_rank[rows].astype(np.int64)
        t_row = sorted_t[rows]
        # Same cell: the rows after this one in (cell, time) order, up to the window.
        ranges = [(rows + 1, np.searchsorted(composite, own_rank * span + t_row + w, "right"))]
        for dx, dy in _FORWARD_CELLS:
            target = sorted_cell[rows] + dy * width + dx
            rank = np.minimum(np.searchsorted(cells, target), len(cells) - 1)
            present = cells[rank] == target
            base = rank.astype(np.int64) * span
            lo = np.searchsorted(composite, base + t_row - w, "left")
            hi = np.searchsorted(composite, base + t_row + w, "right")
            ranges.append((lo, np.where(present, hi, lo)))
        for lo, hi in ranges:
            count = np.maximum(hi - lo, 0)
            total = int(count.sum())
            if total == 0:
                continue
            starts = np.cumsum(count) - count
            a = np.repeat(rows, count)
            b = np.repeat(lo - starts, count) + np.arange(total, dtype=np.int64)
            a, b = order[a], order[b]
            ok = _within_limits(a, b, x, y, t_s, prec, settings)
            found_i.append(a[ok])
            found_j.append(b[ok])
    if not found_i:
        empty = np.array([], dtype=np.int64)
        return empty, empty.copy()
    return np.concatenate(found_i), np.concatenate(found_j)


def cluster(
    x: np.ndarray,
    y: np.ndarray,
    t_s: np.ndarray,
    keys: np.ndarray,
    precision_m: np.ndarray,
    settings: ConsolidationSettings,
) -> np.ndarray:
    """Cluster labels for points already in canonical order (row 0 earliest).

    Returns, for each row, the row number of its incident's anchor.
    """
    n = len(x)
    if n == 0:
        return np.array([], dtype=np.int64)
    prec = np.nan_to_num(precision_m, nan=0.0)
    i, j = _close_pairs(x, y, t_s, keys, prec, settings)

    return _greedy_anchors(i, j, n)


def _greedy_anchors(i: np.ndarray, j: np.ndarray, n: int) -> np.ndarray:
    """Each row's anchor, given every admitted pair (i, j) over rows 0..n-1.

    Taking rows in canonical order, a row is an anchor unless an earlier anchor admits
    it, and then it joins the earliest such anchor: the anchors are the
    lexicographically first maximal independent set of the pair graph. That order
    dependence is short in practice, so it is resolved in rounds over all rows at once
    (Blelloch, Fineman & Shun, SPAA 2012): every undecided row with no undecided
    earlier neighbour is an anchor, and its neighbours are decided as members. A chain
    of reports that percolates through a dense area is one component but needs only
    as many rounds as its longest run of dependencies.
    """
    lo, hi = np.minimum(i, j), np.maximum(i, j)
    anchor = np.zeros(n, dtype=bool)
    decided = np.zeros(n, dtype=bool)
    live_lo, live_hi = lo, hi
    while not decided.all():
        has_earlier = np.zeros(n, dtype=bool)
        has_earlier[live_hi] = True
        new = ~decided & ~has_earlier
        anchor[new] = True
        decided[new] = True
        decided[live_hi[new[live_lo]]] = True  # a new anchor is never the later end
        keep = ~decided[live_lo] & ~decided[live_hi]
        live_lo, live_hi = live_lo[keep], live_hi[keep]
    anchor_of = np.where(anchor, np.arange(n, dtype=np.int64), n)
    # A member joins its earliest neighbouring anchor, which is earlier than itself.
    joins = anchor[lo] & ~anchor[hi]
    np.minimum.at(anchor_of, hi[joins], lo[joins])
    return anchor_of


def _grouped_max(values: np.ndarray, labels: np.ndarray, n: int) -> np.ndarray:
    out = np.full(n, -np.inf)
    np.fmax.at(out, labels, np.nan_to_num(values, nan=-np.inf))
    out[np.isneginf(out)] = np.nan
    return out


def _vote(labels: np.ndarray, weights: np.ndarray, incident: np.ndarray, n: int) -> np.ndarray:
    """Per incident, the label with the largest summed weight; ties and no votes -> ""."""
    code, names = factorize(labels)
    k = max(len(names), 1)
    totals = np.bincount(incident * k + code, weights=weights, minlength=n * k).reshape(n, k)
    if "" in names:
        totals[:, names.index("")] = 0.0
    best = totals.argmax(axis=1)
    top = totals[np.arange(n), best]
    tied = (totals == top[:, None]).sum(axis=1) > 1
    winners = np.array([*names, ""], dtype=object)[np.where((top > 0) & ~tied, best, len(names))]
    return winners


def consolidate(
    reports: ReportTable,
    x: np.ndarray,
    y: np.ndarray,
    party: np.ndarray,
    target: np.ndarray,
    settings: ConsolidationSettings | None = None,
) -> IncidentTable:
    """Group reports into incidents.

    `x`, `y` are the reports' metric coordinates; `party` and `target` are each
    report's attributed label (party id, excluded-group id, or ""). Incidents
    come out ordered by (time, anchor key), so their row number is a stable,
    human-friendly id for one evaluation.
    """
    settings = settings or ConsolidationSettings()
    order = canonical_order(reports)
    t_ns = reports.observed_at.astype("datetime64[ns]").astype(np.int64)
    t_s = t_ns[order] / _NS_PER_S
    anchor_sorted = cluster(
        x[order],
        y[order],
        t_s,
        compatibility_keys(reports)[order],
        reports.precision_m[order],
        settings,
    )
    anchors_sorted_unique = np.unique(
        anchor_sorted
    )  # ascending canonical position = incident order
    n = len(anchors_sorted_unique)
    incident_of_sorted = np.searchsorted(anchors_sorted_unique, anchor_sorted)
    incident = np.empty(len(reports), dtype=np.int64)
    incident[order] = incident_of_sorted
    anchor_rows = order[anchors_sorted_unique]

    # Members, grouped by incident, each group in canonical order.
    members = order[np.argsort(incident_of_sorted, kind="stable")]
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(incident, minlength=n), out=offsets[1:])

    prec = reports.precision_m
    w = 1.0 / np.square(np.maximum(np.nan_to_num(prec, nan=DEFAULT_PRECISION_M), 10.0))
    wsum = np.bincount(incident, weights=w, minlength=n)

    def wmean(v: np.ndarray) -> np.ndarray:
        return np.bincount(incident, weights=w * v, minlength=n) / wsum

    source_code, sources = factorize(reports.source)
    pair = np.unique(incident * len(sources) + source_code)
    corroboration = np.bincount(pair // max(len(sources), 1), minlength=n)

    rel_code, rel_names = factorize(reports.reliability)
    rel_weight = np.array([RELIABILITY_WEIGHT.get(r, 0.3) for r in rel_names])[rel_code]
    rel_rank = np.array(
        [_RELIABILITY_RANK.get(r, len(_RELIABILITY_RANK)) for r in rel_names], dtype=np.int64
    )
    best_rank = np.full(n, len(_RELIABILITY_RANK), dtype=np.int64)
    np.minimum.at(best_rank, incident, rel_rank[rel_code])
    reliability = np.array([*_RELIABILITY_RANK, ""], dtype=object)[best_rank]

    cred = np.where(reports.credibility > 0, reports.credibility, 6).astype(np.int64)
    best_cred = np.full(n, 6, dtype=np.int64)
    np.minimum.at(best_cred, incident, cred)
    # Admiralty 1 = "confirmed by other sources": two or more independent sources.
    credibility = np.where(corroboration >= 2, 1, best_cred).astype(np.int8)

    best_prec = np.full(n, np.inf)
    np.minimum.at(best_prec, incident, np.where(np.isnan(prec), np.inf, prec))
    party_vote = _vote(party, rel_weight, incident, n)

    return IncidentTable(
        anchor=report_keys(reports, anchor_rows),
        event_type=reports.event_type[anchor_rows],
        weapon=reports.weapon[anchor_rows],
        observed_at=reports.observed_at[anchor_rows],
        lon=wmean(reports.lon),
        lat=wmean(reports.lat),
        x=wmean(x),
        y=wmean(y),
        precision_m=np.where(np.isinf(best_prec), np.nan, best_prec),
        party=np.where(party_vote == "", UNATTRIBUTED, party_vote).astype(object),
        target=_vote(target, rel_weight, incident, n),
        side=reports.side[anchor_rows].astype(object),
        count=_grouped_max(reports.count, incident, n),
        fatalities=_grouped_max(reports.fatalities, incident, n),
        corroboration=corroboration.astype(np.int64),
        reliability=reliability,
        credibility=credibility,
        offsets=offsets,
        members=members,
    )


def report_keys(reports: ReportTable, rows: np.ndarray) -> np.ndarray:
    """`source:report_id` for the given rows."""
    return np.array(
        [f"{s}:{r}" for s, r in zip(reports.source[rows], reports.report_id[rows], strict=True)],
        dtype=object,
    )


def factorize(values: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """(integer code per value, distinct values); hash-based, so fast on millions of strings."""
    codes, uniques = pd.factorize(values, sort=False)
    return codes.astype(np.int64), [str(u) for u in uniques]


_RELIABILITY_RANK = {g: k for k, g in enumerate("ABCDEF")}
