"""Checkpoint and convoy status over time, from `checkpoint_status` and
`convoy_status` reports (SPEC §6).

Status reports are read one by one, not as consolidated incidents: two reports
of one convoy hours apart ("departed", then "delivered") are two changes, which
consolidation would merge into one incident. A report belongs to a checkpoint
or convoy whose id its notes name; otherwise to the nearest checkpoint within
`CHECKPOINT_RADIUS_M`, or the convoy whose corridor holds it within a day of its
window. Several sources reporting the same change count once (the earliest).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from truce.domain.model import (
    CHECKPOINT_STATUSES,
    CONVOY_STATUSES,
    EVENT_TYPES,
    Agreement,
    ReportTable,
)
from truce.domain.timeparse import from_utc64, to_utc64

CHECKPOINT_RADIUS_M = 250.0  # as checkpoint_limit's default radius
CONVOY_SLACK = timedelta(hours=24)  # status reports this long before/after the window count
UP_STATUSES = ("established", "staffed")  # a checkpoint that is "set up"


@dataclass(frozen=True)
class StatusChange:
    at: datetime  # in the agreement's timezone
    status: str
    report: str  # `source:report_id`


def status_word(text: str, vocabulary: tuple[str, ...]) -> str:
    """The first status of `vocabulary` that `text` names as a word ("" if none).

    >>> status_word("Convoy turned back at the Castello checkpoint", CONVOY_STATUSES)
    'turned_back'
    >>> status_word("staffed by SARC", CHECKPOINT_STATUSES)
    'staffed'
    """
    words = "|".join(w.replace("_", r"[\s_-]+") for w in vocabulary)
    m = re.search(rf"\b({words})\b", str(text or "").lower())
    return re.sub(r"[\s_-]+", "_", m.group(1)) if m else ""


def _names(text: str, ids: tuple[str, ...]) -> list[int]:
    low = str(text or "").lower()
    return [
        k
        for k, i in enumerate(ids)
        if re.search(rf"(?<![\w-]){re.escape(i.lower())}(?![\w-])", low)
    ]


@dataclass
class StatusHistories:
    checkpoints: dict[str, list[StatusChange]]
    convoys: dict[str, list[StatusChange]]

    def checkpoint(self, checkpoint_id: str) -> list[StatusChange]:
        return self.checkpoints.get(checkpoint_id, [])

    def convoy(self, convoy_id: str) -> list[StatusChange]:
        return self.convoys.get(convoy_id, [])


def status_histories(
    agreement: Agreement,
    reports: ReportTable,
    x: np.ndarray,
    y: np.ndarray,
    distance_m: Callable[[str, np.ndarray, np.ndarray], np.ndarray],  # (feature, x, y) -> m
) -> StatusHistories:
    """Each checkpoint's and convoy's status changes, oldest first."""
    dist = distance_m
    checkpoints = agreement.checkpoint_ids()
    cp_rows = np.flatnonzero(reports.event_type == EVENT_TYPES.index("checkpoint_status"))
    cp: dict[str, list[StatusChange]] = {c: [] for c in checkpoints}
    if checkpoints and len(cp_rows):
        d = np.array([dist(c, x[cp_rows], y[cp_rows]) for c in checkpoints])
        for j, row in enumerate(cp_rows.tolist()):
            status = status_word(reports.notes[row], CHECKPOINT_STATUSES)
            named = _names(reports.notes[row], checkpoints)
            k = named[0] if named else int(np.argmin(d[:, j]))
            if status and (named or d[k, j] <= CHECKPOINT_RADIUS_M):
                cp[checkpoints[k]].append(_change(agreement, reports, row, status))
    convoys = agreement.convoys
    cv: dict[str, list[StatusChange]] = {c.id: [] for c in convoys}
    cv_rows = np.flatnonzero(reports.event_type == EVENT_TYPES.index("convoy_status"))
    if convoys and len(cv_rows):
        ids = tuple(c.id for c in convoys)
        t = reports.observed_at[cv_rows]
        d = np.array(
            [np.min([dist(f, x[cv_rows], y[cv_rows]) for f in c.route], axis=0) for c in convoys]
        )
        fits = np.array(
            [
                (d[k] <= c.corridor_m)
                & (t >= to_utc64(c.window_from - CONVOY_SLACK))
                & (t <= to_utc64(c.window_to + CONVOY_SLACK))
                for k, c in enumerate(convoys)
            ]
        )
        for j, row in enumerate(cv_rows.tolist()):
            status = status_word(reports.notes[row], CONVOY_STATUSES)
            named = _names(reports.notes[row], ids)
            candidates = named or [k for k in np.argsort(d[:, j]).tolist() if fits[k, j]]
            if status and candidates:
                cv[ids[candidates[0]]].append(_change(agreement, reports, row, status))
    return StatusHistories(
        {k: _changes_only(v) for k, v in cp.items()}, {k: _changes_only(v) for k, v in cv.items()}
    )


def _change(agreement: Agreement, reports: ReportTable, row: int, status: str) -> StatusChange:
    at = from_utc64(reports.observed_at[row], agreement.timezone)
    return StatusChange(at, status, f"{reports.source[row]}:{reports.report_id[row]}")


def _changes_only(changes: list[StatusChange]) -> list[StatusChange]:
    """Oldest first; a status repeated by later reports is kept once, at its first report."""
    out: list[StatusChange] = []
    for c in sorted(changes, key=lambda c: (c.at, c.report)):
        if not out or out[-1].status != c.status:
            out.append(c)
    return out


def status_at(changes: list[StatusChange], default: str) -> str:
    return changes[-1].status if changes else default
