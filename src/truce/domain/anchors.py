"""The anchor pass of consolidation, compiled with numba.

Which report anchors an incident is a sequential decision: taking reports in
canonical order, a report is an anchor unless an earlier *anchor* admits it.
Whole-array rounds (a maximal-independent-set algorithm) need as many rounds as
the longest chain of such dependencies — hundreds on a dense million-report
file — so this one pass over the reports is compiled instead. It visits each
report's candidates once: the reports of its own and its eight neighbouring
grid cells inside the time window, found through a per-cell cursor that only
moves forward because the reports arrive in time order. O(n + candidates).

numba compiles on first use (about 2 s) and caches the machine code beside
this module, or in numba's user cache directory (`NUMBA_CACHE_DIR`) when that
is read-only, so later processes load it in milliseconds. Where neither is
writable it compiles once per process instead of failing.
"""

from __future__ import annotations

import math

import numpy as np

from truce.domain.compiled import compiled


def _assign_anchors(
    x: np.ndarray,
    y: np.ndarray,
    t_s: np.ndarray,
    t_last_s: np.ndarray,
    prec: np.ndarray,
    dataset: np.ndarray,
    cell_of: np.ndarray,
    by_cell: np.ndarray,
    cell_start: np.ndarray,
    neighbours: np.ndarray,
    radius_m: float,
    window_s: float,
    max_widening_m: float,
    max_span_s: float,
) -> np.ndarray:  # pragma: no cover - compiled; covered through `consolidate.cluster`
    """Each row's anchor row, for rows in canonical order (row 0 earliest).

    `cell_of[j]` is row j's cell rank; `by_cell` lists the rows grouped by cell,
    each group in canonical order, group c spanning `cell_start[c]:cell_start[c + 1]`;
    `neighbours[c]` holds the ranks of cell c's 3 x 3 block (-1 where empty).
    Row j joins row i (an earlier anchor) when
    hypot(x, y) distance <= radius_m + min(hypot(prec_i, prec_j), max_widening_m),
    t_j - min(t_last_i, t_i + max_span_s) <= window_s (row i's time window, at most
    `max_span_s` long, ends at most `window_s` before row j's starts), and row i's
    incident holds no report of row j's curated dataset yet (`dataset[j]`, -1 none:
    the events of one curated dataset are already distinct); among several, the earliest.
    """
    n = len(x)
    # The candidates' coordinates in cell order, so that a scan reads memory in sequence.
    cell_x = x[by_cell]
    cell_y = y[by_cell]
    cell_t = t_s[by_cell]
    cell_last = np.minimum(t_last_s[by_cell], cell_t + max_span_s)
    cell_prec = prec[by_cell]
    # Per anchor row: one bit per curated dataset (code mod 63) its incident holds.
    held = np.zeros(n, dtype=np.int64)
    reach_s = window_s + max_span_s
    anchor_of = np.empty(n, dtype=np.int64)
    cell_anchor = np.zeros(n, dtype=np.bool_)  # by position in `by_cell`
    position = np.empty(n, dtype=np.int64)
    position[by_cell] = np.arange(n)
    cursor = cell_start[:-1].copy()  # per cell: first position still inside the window
    for j in range(n):
        xj = x[j]
        yj = y[j]
        tj = t_s[j]
        pj = prec[j]
        dj = dataset[j]
        bit = np.int64(1) << np.int64(dj % 63) if dj >= 0 else np.int64(0)
        best = n
        for k in range(neighbours.shape[1]):
            c = neighbours[cell_of[j], k]
            if c < 0:
                continue
            pos = cursor[c]
            end = cell_start[c + 1]
            while pos < end and tj - cell_t[pos] > reach_s:
                pos += 1
            cursor[c] = pos
            while pos < end:
                i = by_cell[pos]
                if i >= best or i >= j:
                    break  # rows in a cell come in canonical order: none later is better
                # Past the cursor and before j, a row is inside the widest time reach.
                if cell_anchor[pos] and (held[i] & bit) == 0 and tj - cell_last[pos] <= window_s:
                    widening = min(math.hypot(cell_prec[pos], pj), max_widening_m)
                    if math.hypot(cell_x[pos] - xj, cell_y[pos] - yj) <= radius_m + widening:
                        best = i
                        break
                pos += 1
        if best == n:
            cell_anchor[position[j]] = True
            anchor_of[j] = j
            held[j] = bit
        else:
            anchor_of[j] = best
            held[best] |= bit
    return anchor_of


assign_anchors = compiled(_assign_anchors)
