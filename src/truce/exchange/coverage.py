"""Which periods each centre's bulletins cover: the data behind SPEC §6 `coverage`.

A quiet-days condition with `coverage: [amman, hmeimim]` counts a day only when
those centres' bulletins cover it entirely (a day without data is "not
covered", not quiet). This module answers, for an agreement, the covered
intervals per centre, from this centre's own log and the bulletins it holds of
its peers; the condition's evaluation (pure, in `truce.domain`) takes them as
data: `{"amman": [(from, to), ...], ...}`, merged and sorted, times in UTC.

Two readings: `coverage()` is everything held now (the server's evaluation);
`bounded()` is what stood behind one bulletin (its own log through its `seq`,
each peer's through the bulletin named in `holds`), so both centres rebuild the
same coverage for it as they rebuild the same reports.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, select

from truce.domain.conditions.base import Coverage
from truce.domain.model import Agreement
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


def needs_coverage(agreement: Agreement) -> bool:
    """Whether any of the agreement's conditions counts days against bulletin coverage."""
    return any(c.coverage for c in agreement.conditions)


def _utc(dt: datetime) -> datetime:
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def _own_name(conn: Connection) -> str | None:
    names = conn.execute(
        select(exchange_keys.c.name).where(exchange_keys.c.retired_at.is_(None))
    ).scalars()
    return next(iter(names), None)


def coverage_in(conn: Connection, agreement_id: str) -> dict[str, list[Interval]]:
    """Per centre (this one by its key name, peers by theirs), the periods its bulletins cover."""
    periods: dict[str, list[Interval]] = {}
    own = _own_name(conn)
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


def coverage(engine: Engine, agreement_id: str) -> dict[str, list[Interval]]:
    """`coverage_in`, in a transaction of its own."""
    with read_transaction(engine) as conn:
        return coverage_in(conn, agreement_id)


def bounded(
    conn: Connection,
    agreement_id: str,
    me: str,
    own_seq: int,
    peer_seqs: Mapping[str, int],
    *,
    extra: Interval | None = None,
) -> Coverage:
    """The coverage behind one bulletin: this centre's log through `own_seq`, each peer's
    bulletins through `peer_seqs[peer]`, plus `extra` (the period of a bulletin being
    issued, not yet in the log)."""
    own = conn.execute(
        select(exchange_log.c.period_from, exchange_log.c.period_to).where(
            (exchange_log.c.agreement_id == agreement_id) & (exchange_log.c.seq <= own_seq)
        )
    )
    periods: dict[str, list[Interval]] = {me: [(_utc(a), _utc(b)) for a, b in own]}
    if extra is not None:
        periods[me].append(extra)
    for peer, seq in peer_seqs.items():
        rows = conn.execute(
            select(
                exchange_peer_bulletins.c.period_from, exchange_peer_bulletins.c.period_to
            ).where(
                (exchange_peer_bulletins.c.agreement_id == agreement_id)
                & (exchange_peer_bulletins.c.peer == peer)
                & (exchange_peer_bulletins.c.seq <= seq)
            )
        )
        periods[peer] = [(_utc(a), _utc(b)) for a, b in rows]
    return {name: merge(p) for name, p in periods.items()}
