"""The canonical order of reports: (time, source, report_id).

Consolidation anchors incidents in this order (`truce.domain.consolidate`), and
an incremental re-evaluation matches the previous reports to the new table by it
(`truce.domain.incremental`), so the order, and so the result, never depends on
the order rows arrived in.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from truce.domain.model import ReportTable


def canonical_order(reports: ReportTable, source_rank: np.ndarray | None = None) -> np.ndarray:
    """Rows sorted by (time, source, report_id): the order that defines anchors.

    Sorts on integers (time, then the sources' rank), and compares report ids only
    within runs still tied on both: sorting a million strings would cost more than
    all the rest of consolidation. `source_rank`, if given, is
    `pd.factorize(reports.source, sort=True)[0]`.
    """
    return canonical_order_of(reports.observed_at, reports.source, reports.report_id, source_rank)


def canonical_order_of(
    observed_at: np.ndarray,
    source: np.ndarray,
    report_id: np.ndarray,
    source_rank: np.ndarray | None = None,
) -> np.ndarray:
    """`canonical_order` of the three columns that define it."""
    t = observed_at.astype("datetime64[ns]").astype(np.int64)
    if source_rank is None:
        source_rank = pd.factorize(source, sort=True)[0]
    n_sources = int(source_rank.max()) + 1 if len(t) else 1
    since = t - (t.min() if len(t) else 0)
    if len(t) and int(since.max()) < (2**62) // n_sources:
        order = np.argsort(since * n_sources + source_rank, kind="stable")  # one key: faster
    else:
        order = np.lexsort((source_rank, t))
    t_sorted, s_sorted = t[order], source_rank[order]
    same = (t_sorted[1:] == t_sorted[:-1]) & (s_sorted[1:] == s_sorted[:-1])
    tied = np.zeros(len(t), dtype=bool)
    tied[1:] |= same
    tied[:-1] |= same
    if tied.any():
        rows = order[tied]  # runs of equal (time, source), each contiguous in `order`
        by_id = np.lexsort((report_id[rows].astype(str), source_rank[rows], t[rows]))
        order[tied] = rows[by_id]
    return order
