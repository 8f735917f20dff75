"""CQL2 temporal operands and functions over columns, for `cql_mask`.

Temporal functions follow CQL2 1.0 tables 1 and 2: a timestamp is an instant, a
DATE the whole UTC day, an INTERVAL closed with `..` for an open end; the
interval-only functions (T_DURING, T_CONTAINS, ...) refuse an instant operand (400).
Times are UTC nanoseconds, as timestamp columns hold them.

Separate from `cql_mask`, which resolves the operands and combines the results:
what an instant, a day or an interval spans, and the relations between spans.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from pygeofilter import ast, values

from truce.api.ogc.columns import NAT, Column
from truce.api.ogc.cql import TEMPORAL, TimeIntersects, utc_datetime
from truce.errors import BadInput

OPEN_START, OPEN_END = NAT + 1, np.iinfo(np.int64).max
DAY_NS = 86_400 * 10**9

_TEMPORAL_NAMES = {cls: name.upper() for name, cls in TEMPORAL.items()}
_INTERVAL_ONLY = {
    ast.TimeContains,
    ast.TimeDuring,
    ast.TimeEndedBy,
    ast.TimeEnds,
    ast.TimeMeets,
    ast.TimeMetBy,
    ast.TimeOverlappedBy,
    ast.TimeOverlaps,
    ast.TimeBegunBy,
    ast.TimeBegins,
}


def utc_ns(value: date | datetime) -> int:
    """An instant, or the start of a DATE's UTC day, in UTC nanoseconds."""
    if isinstance(value, datetime):
        return int(pd.Timestamp(utc_datetime(value)).value)
    return int(pd.Timestamp(datetime(value.year, value.month, value.day, tzinfo=UTC)).value)


@dataclass(frozen=True)
class Span:
    """A temporal operand: start and end (arrays or scalars, UTC ns), its nulls."""

    start: Any
    end: Any
    null: np.ndarray | None
    instant: bool
    label: str


def time_span(value: Any, name: str) -> Span:
    """The span of an operand: a timestamp column, TIMESTAMP, DATE or INTERVAL literal
    (`name` says which operand, in the 400 for anything else)."""
    if isinstance(value, Column) and value.type == "timestamp":
        return Span(value.values, value.values, value.null, True, name)
    if isinstance(value, datetime):
        ns = utc_ns(value)
        return Span(ns, ns, None, True, "a TIMESTAMP")
    if isinstance(value, date):
        start = utc_ns(value)
        return Span(start, start + DAY_NS - 1, None, True, "a DATE")
    if isinstance(value, values.Interval):
        start, end = value.start, value.end
        if isinstance(start, timedelta) or isinstance(end, timedelta):
            raise BadInput("filter: durations in an INTERVAL are not supported")
        lo = OPEN_START if start is None else utc_ns(start)
        hi = OPEN_END if end is None else utc_ns(end)
        if end is not None and not isinstance(end, datetime):
            hi += DAY_NS - 1  # a date as the end: to the end of that day
        return Span(lo, hi, None, False, "an INTERVAL")
    raise BadInput(
        f"filter: {name} is not temporal; give a timestamp property, TIMESTAMP('…'), "
        "DATE('…') or INTERVAL('…', '…')"
    )


def temporal_relation(
    node: ast.TemporalPredicate, a: Span, b: Span
) -> tuple[Any, np.ndarray | None]:
    """Whether `node`'s function holds between `a` and `b` (per row or a scalar), and
    the rows where either operand is null."""
    name = _TEMPORAL_NAMES.get(type(node), type(node).__name__)
    if type(node) in _INTERVAL_ONLY and (a.instant or b.instant):
        instant = a.label if a.instant else b.label
        raise BadInput(
            f"filter: {name} compares intervals and {instant} is an instant (CQL2 1.0 "
            "table 2); for instants use T_INTERSECTS, T_BEFORE, T_AFTER, T_EQUALS or T_DISJOINT"
        )
    before = a.end < b.start
    after = a.start > b.end
    relations: dict[type[ast.Node], Any] = {
        ast.TimeBefore: before,
        ast.TimeAfter: after,
        ast.TimeDisjoint: before | after,
        TimeIntersects: ~(before | after),
        ast.TimeEquals: (a.start == b.start) & (a.end == b.end),
        ast.TimeContains: (b.start > a.start) & (b.end < a.end),
        ast.TimeDuring: (a.start > b.start) & (a.end < b.end),
        ast.TimeEndedBy: (a.start < b.start) & (a.end == b.end),
        ast.TimeEnds: (a.start > b.start) & (a.end == b.end),
        ast.TimeMeets: a.end == b.start,
        ast.TimeMetBy: a.start == b.end,
        ast.TimeOverlappedBy: (b.start < a.start) & (a.start < b.end) & (b.end < a.end),
        ast.TimeOverlaps: (a.start < b.start) & (b.start < a.end) & (a.end < b.end),
        ast.TimeBegunBy: (a.start == b.start) & (a.end > b.end),
        ast.TimeBegins: (a.start == b.start) & (a.end < b.end),
    }
    if type(node) not in relations:
        raise BadInput(f"filter: {name} is not supported")
    nulls = [s.null for s in (a, b) if s.null is not None]
    null = (nulls[0] | nulls[1]) if len(nulls) == 2 else (nulls[0] if nulls else None)
    return relations[type(node)], null
