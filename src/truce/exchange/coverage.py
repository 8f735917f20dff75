"""Which periods each centre's bulletins cover: the data behind SPEC §6 `coverage`.

A quiet-days condition with `coverage: [amman, hmeimim]` counts a day only when
those centres' bulletins cover it entirely (a day without data is "not
covered", not quiet). This module answers, for an agreement, the covered
intervals per centre, from this centre's own log and the bulletins it holds of
its peers; the condition's evaluation (pure, in `truce.domain`) takes them as
data: `{"amman": [(from, to), ...], ...}`, merged and sorted, times in UTC.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import Engine, select

from truce.exchange.tables import exchange_keys, exchange_log, exchange_peer_bulletins
from truce.store.engine import read_transaction

Interval = tuple[datetime, datetime]


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, with touching or overlapping intervals joined.

    >>> from datetime import datetime as d
    >>> merge([(d(2016, 9, 12, 2), d(2016, 9, 12, 4)), (d(2016, 9, 12, 0), d(2016, 9, 12, 2))])
    [(datetime.datetime(2016, 9, 12, 0, 0), datetime.datetime(2016, 9, 12, 4, 0))]
    """
    out: list[Interval] = []
    for start, end in sorted(intervals):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def covers(intervals: list[Interval], start: datetime, end: datetime) -> bool:
    """Whether [start, end) lies entirely inside one merged interval."""
    return any(a <= start and end <= b for a, b in intervals)


def _utc(dt: datetime) -> datetime:
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def coverage(engine: Engine, agreement_id: str) -> dict[str, list[Interval]]:
    """Per centre (this one by its key name, peers by theirs), the periods its bulletins cover."""
    periods: dict[str, list[Interval]] = {}
    with read_transaction(engine) as conn:
        names = conn.execute(
            select(exchange_keys.c.name).where(exchange_keys.c.retired_at.is_(None))
        ).scalars()
        own = next(iter(names), None)
        if own is not None:
            rows = conn.execute(
                select(exchange_log.c.period_from, exchange_log.c.period_to).where(
                    exchange_log.c.agreement_id == agreement_id
                )
            )
            periods[own] = [(_utc(a), _utc(b)) for a, b in rows]
        for peer, a, b in conn.execute(
            select(
                exchange_peer_bulletins.c.peer,
                exchange_peer_bulletins.c.period_from,
                exchange_peer_bulletins.c.period_to,
            ).where(exchange_peer_bulletins.c.agreement_id == agreement_id)
        ):
            periods.setdefault(peer, []).append((_utc(a), _utc(b)))
    return {name: merge(p) for name, p in periods.items()}
