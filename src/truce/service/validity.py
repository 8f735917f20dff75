"""Until when an evaluation stays right without new reports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from truce.domain.model import Evaluation


def valid_until(ev: Evaluation, first_later_report: datetime | None) -> datetime | None:
    """The first instant after `ev.as_of` at which the evaluation could change without new
    reports: a phase boundary, local midnight while a condition is unmet (its day count
    moves on), or the first stored report observed after `as_of`."""
    as_of = ev.as_of
    candidates = [t for p in ev.phases for t in (p.start, p.end) if t is not None and t > as_of]
    if any(not c.met for c in ev.conditions):  # unmet now (perhaps met once)
        local = as_of.astimezone(ev.agreement.timezone)
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
        candidates.append(midnight.astimezone(UTC))
    if first_later_report is not None:
        candidates.append(first_later_report)
    return min(candidates) if candidates else None


def instant(t: np.datetime64) -> datetime:
    """A UTC datetime64 as an aware datetime (to the microsecond)."""
    us = int(t.astype("datetime64[us]").astype(np.int64))
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=us)
