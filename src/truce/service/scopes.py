"""Which stored reports each visibility class may see (`truce.domain.access`).

Each class gets an evaluation computed from those reports only (`Evaluations`),
so nothing derived from a report it may not see — an incident's key, its
corroboration, grade, position, parties, violations — can reach it:

- everything (`evaluation.see_all`: admin, secretariat): every report (no scope);
- published only (observer): the *published* reports;
- published plus its own (`evaluation.see_own`: centre, humanitarian): the
  published reports and those it submitted (a centre: also those under its own
  source name).

A report is *published* when its `published` flag is set in the store: the
secretariat published an incident containing it (`POST .../publish`, or by
publishing one of the incident's violations), which flags every report the
incident held at that moment (`truce.store.reviews.publish_incident`) and moves
the reports version, so every class's evaluation is refreshed like the main one. A report
that joins a published incident later stays unpublished until the incident's
key is published again or the report is. A published incident keeps its key in
the published view: its key is its earliest report, which was published with it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import ColumnElement, or_

from truce.domain.access import roles_for
from truce.domain.keys import violation_key
from truce.store.deferred import resolved
from truce.store.key_column import CHUNK, KeyColumn, as_strings
from truce.store.packed import PackedIncidents, keys_of
from truce.store.packed_arrow import report_ids_column
from truce.store.schema import reports
from truce.store.users import User

SHARED_ROLES = roles_for("evaluation.see_own")


@dataclass(frozen=True)
class Scope:
    """The reports one visibility class sees: the published ones, plus `submitter`'s."""

    # The cache key: "published", "own:<user name>", or "source:<user name>" for a
    # centre (a user made again with another role is another class).
    name: str
    submitter: str | None = None
    or_source: bool = False  # a centre: reports under its source name are its own too

    def where(self) -> ColumnElement[bool]:
        cond: ColumnElement[bool] = reports.c.published.is_(True)
        if self.submitter is not None:
            cond = or_(cond, reports.c.submitted_by == self.submitter)
            if self.or_source:
                cond = or_(cond, reports.c.source == self.submitter)
        return cond


PUBLISHED = Scope("published")


def scope_for(user: User) -> Scope | None:
    """The scope of `user`'s evaluation; None: every report."""
    if user.sees_everything:
        return None
    if user.role in SHARED_ROLES:
        centre = user.role == "centre"
        return Scope(f"{'source' if centre else 'own'}:{user.name}", user.name, or_source=centre)
    return PUBLISHED


def link_review_keys(data: dict[str, Any], agreement_id: str, moved: Mapping[str, str]) -> None:
    """Give each incident and violation of a class's evaluation its `review_key`: the key
    review state and publication are kept under, that of the full evaluation's incident
    holding the class incident's earliest report (the report its own key names):
    `moved[key]` where that incident's key is another (`ReportIndex.moved`), else the
    class incident's own key.

    The viewer is shown its own keys (built from reports it may see); its reviews
    and the publication state it is shown go by `review_key`, so they are those of
    the full evaluation's incident. `review_key` never leaves the service
    (`Visibility.filter` drops it). Packed incidents are given it on decoding."""
    incidents = data["incidents"]
    if isinstance(incidents, PackedIncidents):
        data["incidents"] = incidents.with_review_keys(moved)
    else:
        for inc in incidents:
            inc["review_key"] = moved.get(inc["key"], inc["key"])
    for v in data["violations"]:
        key = v["incident_key"]
        v["review_key"] = violation_key(agreement_id, v["rule"], moved.get(key, key))


@dataclass(frozen=True)
class ReportIndex:
    """Which incident of an evaluation holds each report: every report key (an Arrow
    array) beside its incident's position. At 1M reports a dict of the same would take
    some 150 MB per process; this takes 20-40."""

    reports: pa.Array
    incident_at: np.ndarray
    keys: Sequence[str]  # the incidents' keys, by position

    @classmethod
    def of(cls, data: dict[str, Any], first: int = 0) -> ReportIndex:
        """The index of `data`'s incidents from position `first` on."""
        incidents = resolved(data["incidents"])
        if isinstance(incidents, PackedIncidents):
            reports, at = report_ids_column(incidents, first)
        else:
            ids = [inc["report_ids"] or () for inc in incidents[first:]]
            reports = pa.array([k for one in ids for k in one], pa.string())
            at = np.repeat(
                np.arange(first, first + len(ids), dtype=np.int32), [len(one) for one in ids]
            )
        return cls(reports, at, keys_of(incidents))

    def are_in(self, report_keys: Iterable[str]) -> np.ndarray:
        """Per report held: it is one of `report_keys` (bool)."""
        return pc.is_in(self.reports, value_set=_array(report_keys)).to_numpy(zero_copy_only=False)  # type: ignore[no-any-return]

    def moved(self, report_keys: Iterable[str]) -> dict[str, str]:
        """Report key -> the key of the incident holding it, for those held by an incident
        whose key is another report's (a class incident's review key: `link_review_keys`;
        the rest are their own)."""
        return holder_keys(self.moved_at(report_keys))

    def moved_at(self, report_keys: Iterable[str]) -> Moved:
        """`moved`, with the position of each incident holding one. Asked of every
        incident of a class's evaluation, so compared as Arrow arrays: only the few
        that differ become `str`."""
        asked = as_strings(report_keys)
        # Through a lookup table of hashes, a chunk of the keys at a time: Arrow's
        # `index_in` built a hash table of every report for the call, and the keys and
        # holders of every report asked were taken whole (at a million, some 170 MB of
        # peak for a moment, beside a refresh holding its own).
        table = KeyColumn(self.reports)
        moved: Moved = {}
        for start in range(0, len(asked), CHUNK):
            part = asked.slice(start, CHUNK)
            where = table.looked_up(part)
            found = np.flatnonzero(where >= 0)
            reports = part.take(pa.array(found))
            holders = self.incident_at[where[found]]
            if isinstance(self.keys, KeyColumn):
                keys = self.keys.array.take(pa.array(holders))
            else:
                keys = pa.array([self.keys[k] for k in holders.tolist()], pa.string())
            differ = pa.array(
                np.flatnonzero(pc.not_equal(reports, keys).to_numpy(zero_copy_only=False))
            )
            moved.update(
                zip(
                    reports.take(differ).to_pylist(),
                    zip(
                        keys.take(differ).to_pylist(),
                        holders[differ.to_numpy()].tolist(),
                        strict=True,
                    ),
                    strict=True,
                )
            )
        return moved


# Report key -> (key, position) of the incident holding it (`ReportIndex.moved_at`).
Moved = dict[str, tuple[str, int]]


def holder_keys(moved: Moved) -> dict[str, str]:
    """`moved` without the positions: report key -> its holder's key (`ReportIndex.moved`)."""
    return {report: key for report, (key, _) in moved.items()}


def _array(report_keys: Iterable[str]) -> pa.Array:
    """`report_keys` as one Arrow array (a set to look up in: `is_in`'s `value_set`)."""
    keys = as_strings(report_keys)
    return keys.combine_chunks() if isinstance(keys, pa.ChunkedArray) else keys


def review_key(item: Mapping[str, Any]) -> str:
    """The key an incident's or violation's review state is kept under."""
    return item.get("review_key", item["key"])  # type: ignore[no-any-return]
