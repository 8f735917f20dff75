"""Each agreement's evaluation over all stored reports, computed at most once per
reports version across processes (the `derived` lease), and the per-process caches.

`Evaluations` is a class because it holds per-process state: the last snapshot
this process parsed (reused while it is current) and the evaluations for
explicit `as_of` instants. Everything else in `truce.service` is functions.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy import Engine

from truce.domain.keys import violation_key
from truce.domain.model import Evaluation
from truce.domain.timeparse import to_utc64
from truce.exchange.coverage import coverage_in, needs_coverage
from truce.service import commitments
from truce.service.agreements import AgreementEntry, AgreementRegistry
from truce.store import derived
from truce.store import reports as report_store
from truce.store.derived import Snapshot
from truce.store.engine import read_transaction

# How long a request waits for another process's computation before computing itself
# (without storing); a lease older than derived.LEASE_S is taken over.
WAIT_FOR_OTHER_COMPUTE_S = 120.0
AS_OF_CACHE_SIZE = 32


class Evaluations:
    """The snapshot lease and the as-of cache of one process."""

    def __init__(
        self,
        engine: Engine,
        agreements: AgreementRegistry,
        clock: Callable[[], datetime],
        *,
        wait_for_other_s: float = WAIT_FOR_OTHER_COMPUTE_S,
        as_of_cache_size: int = AS_OF_CACHE_SIZE,
    ) -> None:
        self.engine = engine
        self.agreements = agreements
        self.clock = clock
        self.wait_for_other_s = wait_for_other_s
        self.as_of_cache_size = as_of_cache_size
        self.computations = 0  # evaluations this process computed (for tests and logs)
        # Evaluations for explicit `as_of` instants, per reports version (in-process only).
        self._as_of_cache: OrderedDict[tuple[str, str, int, datetime], Snapshot] = OrderedDict()
        self._as_of_lock = threading.Lock()
        # The last snapshot this process parsed, per agreement (reused while it is current).
        self._memo: dict[str, derived.Snapshot] = {}

    def snapshot(self, agreement_id: str, *, as_of: datetime | None = None) -> Snapshot:
        """The agreement's evaluation over all stored reports, unfiltered (`.data`), with
        the reports version it read and the instant it stays valid until.

        Without `as_of`: the shared cached snapshot, recomputed at most once per
        reports version (and when a phase boundary or local midnight passes).
        With `as_of`: computed for that instant, not cached.
        """
        entry = self.agreements.get(agreement_id)
        if as_of is not None:
            return self._snapshot_as_of(entry, as_of)
        deadline = time.monotonic() + self.wait_for_other_s
        delay = 0.02
        while True:
            now = self.clock()
            with read_transaction(self.engine) as conn:
                version = report_store.reports_version(conn)
                snap = derived.load(conn, agreement_id, self._memo.get(agreement_id))
            if snap is not None and snap.fresh(version, entry.digest, now):
                self._memo[agreement_id] = snap
                return snap
            token = derived.claim(self.engine, agreement_id, now=now)
            if token is not None:
                try:
                    with read_transaction(self.engine) as conn:
                        version = report_store.reports_version(conn)
                        snap = derived.load(conn, agreement_id, self._memo.get(agreement_id))
                    if snap is not None and snap.fresh(version, entry.digest, now):
                        derived.release(self.engine, agreement_id, token)
                        return snap
                    new = self._compute(entry, now)
                    if derived.store(self.engine, new, token):
                        self._memo[agreement_id] = new
                    return new
                except BaseException:
                    derived.release(self.engine, agreement_id, token)
                    raise
            if time.monotonic() > deadline:
                return self._compute(entry, now)
            time.sleep(delay)
            delay = min(delay * 1.5, 0.5)

    def _snapshot_as_of(self, entry: AgreementEntry, as_of: datetime) -> Snapshot:
        with read_transaction(self.engine) as conn:
            version = report_store.reports_version(conn)
        key = (entry.agreement.id, entry.digest, version, as_of)
        with self._as_of_lock:
            if key in self._as_of_cache:
                self._as_of_cache.move_to_end(key)
                return self._as_of_cache[key]
        snap = self._compute(entry, as_of)
        with self._as_of_lock:
            self._as_of_cache[(entry.agreement.id, entry.digest, snap.reports_version, as_of)] = (
                snap
            )
            while len(self._as_of_cache) > self.as_of_cache_size:
                self._as_of_cache.popitem(last=False)
        return snap

    def _compute(self, entry: AgreementEntry, as_of: datetime) -> Snapshot:
        from truce.domain.evaluate import evaluate
        from truce.formats.evaluation_json import evaluation_to_dict

        with read_transaction(self.engine) as conn:
            # Read the version first: the data is at least this new.
            version = report_store.reports_version(conn)
            table, _ = report_store.load_all(conn)
            agreement = commitments.effective(conn, entry.agreement)  # registry changes
            covered = coverage_in(conn, agreement.id) if needs_coverage(agreement) else None
        ev = evaluate(agreement, table, as_of=as_of, coverage=covered)
        self.computations += 1
        data = evaluation_to_dict(ev)
        key_of = {inc["id"]: inc["key"] for inc in data["incidents"]}
        for v in data["violations"]:
            v["incident_key"] = key_of[v["incident"]]
            v["key"] = violation_key(entry.agreement.id, v["rule"], v["incident_key"])
        later = table.observed_at[table.observed_at > to_utc64(as_of)]
        first_later = _instant(later.min()) if len(later) else None
        return Snapshot(
            agreement_id=entry.agreement.id,
            reports_version=version,
            agreement_digest=entry.digest,
            as_of=as_of,
            valid_until=valid_until(ev, first_later),
            computed_at=self.clock(),
            data=data,
        )


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


def _instant(t: np.datetime64) -> datetime:
    """A UTC datetime64 as an aware datetime (to the microsecond)."""
    us = int(t.astype("datetime64[us]").astype(np.int64))
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=us)
