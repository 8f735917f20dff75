"""A per-process index of the current evaluation, for the OGC items queries.

The incidents (and violations, placed at their incident) of an agreement's
shared snapshot (`Service.snapshot`) go into numpy arrays sorted by longitude,
so a bbox query is two `searchsorted` calls, a latitude and time mask over that
slice, and a slice for the page: no scan of Python dicts. The snapshot's dicts
are referenced, never copied (at 1M incidents a copy is a gigabyte).

Whether the index is current is decided from the store's watermark
(`truce.store.watermark`, re-read at most every `freshness_ms`): it is rebuilt
only when the stored reports version changes or the snapshot's `valid_until`
(next phase boundary or local midnight) passes.

Who sees what is `Service.visibility(...)`: per distinct viewer (everything,
published only, or one centre's own) and watermark, the masks its
`Visibility.filter` implies are computed once over whole arrays (`View`); the
page's few items then go through `Visibility.filter` itself, so the documents
are exactly what the REST API shows that user.

Methods taking `block=False` raise `WouldBlock` rather than read the database or
build anything, so the routes can answer from memory on the event loop and move
to a worker thread only when needed.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import orjson
import pandas as pd
from sqlalchemy import select

from truce.api import ogc
from truce.api.ogc import Bbox, Interval
from truce.service import SHARED_ROLES, Service, Visibility
from truce.store.engine import read_transaction
from truce.store.schema import derived
from truce.store.users import User
from truce.store.watermark import Mark, Watermark

VIEW_CACHE_SIZE = 16
NAT = np.iinfo(np.int64).min


def _times_ns(values: Sequence[str | None]) -> np.ndarray:
    if not values:
        return np.zeros(0, dtype=np.int64)
    t = pd.to_datetime(pd.Series(values, dtype=object), utc=True, format="ISO8601")
    return t.to_numpy(dtype="datetime64[ns]").view(np.int64)


@dataclass
class PointIndex:
    """Points sorted by (lon, lat); `order[i]` is the source position of sorted row i."""

    lon: np.ndarray
    lat: np.ndarray
    t_ns: np.ndarray
    order: np.ndarray

    @classmethod
    def build(cls, lon: np.ndarray, lat: np.ndarray, t_ns: np.ndarray) -> PointIndex:
        order = np.lexsort((lat, lon))
        return cls(lon[order], lat[order], t_ns[order], order)

    def __len__(self) -> int:
        return len(self.order)

    def query(
        self, bbox: Bbox | None, interval: Interval | None, visible: np.ndarray | None
    ) -> np.ndarray:
        """Sorted-row positions matching all filters, in index order."""
        if bbox is None:
            spans = [(0, len(self))]
        else:
            spans = []
            for lo, hi in bbox.lon_ranges():
                i0 = int(np.searchsorted(self.lon, lo, side="left"))
                i1 = int(np.searchsorted(self.lon, hi, side="right"))
                spans.append((i0, i1))
            spans.sort()
        parts = []
        for i0, i1 in spans:
            mask = np.ones(i1 - i0, dtype=bool)
            if bbox is not None:
                lat = self.lat[i0:i1]
                mask &= (lat >= bbox.miny) & (lat <= bbox.maxy)
            if interval is not None:
                t = self.t_ns[i0:i1]
                mask &= t != NAT
                if interval.start_ns is not None:
                    mask &= t >= interval.start_ns
                if interval.end_ns is not None:
                    mask &= t <= interval.end_ns
            if visible is not None:
                mask &= visible[i0:i1]
            parts.append(np.flatnonzero(mask) + i0)
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)

    def extent(self) -> tuple[list[float] | None, tuple[int | None, int | None] | None]:
        if not len(self):
            return None, None
        bbox = [
            float(self.lon[0]),
            float(np.min(self.lat)),
            float(self.lon[-1]),
            float(np.max(self.lat)),
        ]
        t = self.t_ns[self.t_ns != NAT]
        return bbox, ((int(t.min()), int(t.max())) if len(t) else None)


class WouldBlock(Exception):
    """Answering needs the database or a (re)build; retry with `block=True` off the event loop."""


@dataclass
class View:
    """What one visibility state sees: masks in index order for queries, and by source
    position for lookups by id (None: everything)."""

    visibility: Visibility
    incident_visible: np.ndarray | None
    violation_visible: np.ndarray | None
    incident_visible_by_pos: np.ndarray | None = None
    violation_visible_by_pos: np.ndarray | None = None

    def sees_incident(self, pos: int) -> bool:
        mask = self.incident_visible_by_pos
        return mask is None or bool(mask[pos])

    def sees_violation(self, pos: int) -> bool:
        mask = self.violation_visible_by_pos
        return mask is None or bool(mask[pos])


def _who(user: User) -> Hashable:
    """Users with the same answer share a view: everything, published only, or their own."""
    if user.sees_everything:
        return "all"
    if user.role in SHARED_ROLES:
        return (user.role, user.name)
    return "published"


@dataclass
class AgreementIndex:
    """One snapshot of one agreement, indexed. Holds the snapshot's dicts (shared with
    the service, not copied) and numpy arrays over them."""

    agreement_id: str
    reports_version: int
    valid_until: datetime | None
    data: dict[str, Any]
    incidents: PointIndex
    violations: PointIndex
    violation_incident: np.ndarray  # by violation source position: its incident's position
    violation_lonlat: np.ndarray  # (n, 2), by violation source position
    violations_at: dict[int, list[int]]  # incident position -> its violations' positions
    incident_pos: dict[str, int]
    violation_pos: dict[str, int]
    views: OrderedDict[Hashable, View] = field(default_factory=OrderedDict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _report_incident: tuple[list[str], np.ndarray] | None = None
    # Per incident, once served: its feature's JSON up to the viewer-dependent properties.
    _encoded: list[bytes | None] = field(default_factory=list)

    @classmethod
    def build(
        cls, agreement_id: str, version: int, valid_until: datetime | None, data: dict[str, Any]
    ) -> AgreementIndex:
        incs, vios = data["incidents"], data["violations"]
        n = len(incs)
        lon = np.fromiter((i["lon"] for i in incs), dtype=np.float64, count=n)
        lat = np.fromiter((i["lat"] for i in incs), dtype=np.float64, count=n)
        t = _times_ns([i["observed_at"] for i in incs])
        incident_pos = {inc["key"]: k for k, inc in enumerate(incs)}
        at_inc = np.fromiter(
            (incident_pos[v["incident_key"]] for v in vios), dtype=np.int64, count=len(vios)
        )
        vlon, vlat = lon[at_inc], lat[at_inc]
        violations_at: dict[int, list[int]] = {}
        for v, i in enumerate(at_inc.tolist()):
            violations_at.setdefault(i, []).append(v)
        return cls(
            agreement_id=agreement_id,
            reports_version=version,
            valid_until=valid_until,
            data=data,
            incidents=PointIndex.build(lon, lat, t),
            violations=PointIndex.build(vlon, vlat, _times_ns([v["at"] for v in vios])),
            violation_incident=at_inc,
            violation_lonlat=np.column_stack([vlon, vlat]) if len(vios) else np.zeros((0, 2)),
            violations_at=violations_at,
            incident_pos=incident_pos,
            violation_pos={v["key"]: k for k, v in enumerate(vios)},
            _encoded=[None] * n,
        )

    def fresh(self, version: int, now: datetime) -> bool:
        return self.reports_version == version and (
            self.valid_until is None or now < self.valid_until
        )

    def cached_view(self, user: User, mark: Mark) -> View | None:
        key = (_who(user), mark)
        with self.lock:
            hit = self.views.get(key)
            if hit is not None:
                self.views.move_to_end(key)
            return hit

    def view(self, service: Service, user: User, mark: Mark) -> View:
        """The view for `user` at watermark `mark` (read before this call)."""
        hit = self.cached_view(user, mark)
        if hit is not None:
            return hit
        made = self._make_view(service.visibility(self.agreement_id, user))
        with self.lock:
            self.views[(_who(user), mark)] = made
            while len(self.views) > VIEW_CACHE_SIZE:
                self.views.popitem(last=False)
        return made

    def _make_view(self, vis: Visibility) -> View:
        """The masks `Visibility.filter` implies, computed over whole arrays."""
        if vis.user.sees_everything:
            return View(vis, None, None)
        n_inc, n_vio = len(self.incident_pos), len(self.violation_pos)
        incident_visible = np.zeros(n_inc, dtype=bool)
        incident_visible[_positions(self.incident_pos, vis.published_incidents)] = True
        violation_visible = np.zeros(n_vio, dtype=bool)
        published_violations = [k for k, (_, published) in vis.states.items() if published]
        violation_visible[_positions(self.violation_pos, published_violations)] = True
        if vis.user.role in SHARED_ROLES and vis.own_reports:
            keys, incident_of = self._reports()
            own_report = np.fromiter(
                (k in vis.own_reports for k in keys), dtype=bool, count=len(keys)
            )
            own = np.zeros(n_inc, dtype=bool)
            own[incident_of[own_report]] = True
            incident_visible |= own
            violation_visible |= own[self.violation_incident]
        return View(
            vis,
            incident_visible[self.incidents.order],
            violation_visible[self.violations.order],
            incident_visible,
            violation_visible,
        )

    def _reports(self) -> tuple[list[str], np.ndarray]:
        """Every report key of the snapshot and its incident's position (built on first use)."""
        if self._report_incident is None:
            incs = self.data["incidents"]
            keys = [k for inc in incs for k in inc["report_ids"]]
            counts = np.fromiter(
                (len(inc["report_ids"]) for inc in incs), dtype=np.int64, count=len(incs)
            )
            self._report_incident = (keys, np.repeat(np.arange(len(incs)), counts))
        return self._report_incident

    def incidents_seen(self, view: View, positions: Sequence[int]) -> list[dict[str, Any]]:
        """The incidents at these source positions as `view` shows them (all must be visible)."""
        incs, vios, at = self.data["incidents"], self.data["violations"], self.violations_at
        page = [incs[i] for i in positions]
        theirs = [vios[v] for i in positions if i in at for v in at[i]]
        seen = view.visibility.filter({"incidents": page, "violations": theirs})["incidents"]
        assert len(seen) == len(page), "the visibility mask and the filter disagree"
        return seen  # type: ignore[no-any-return]

    def incident_fragments(self, view: View, positions: Sequence[int]) -> list[orjson.Fragment]:
        """The incidents at these source positions as encoded GeoJSON features.

        The common case (the viewer sees the incident unrestricted and, unless it sees
        everything, the incident has no violations) joins bytes encoded once per
        incident with the two viewer-dependent properties; every other incident goes
        through `incidents_seen`, i.e. `Visibility.filter`."""
        vis = view.visibility
        full, published = vis.user.sees_everything, vis.published_incidents
        incs, at, encoded = self.data["incidents"], self.violations_at, self._encoded
        out = []
        for pos in positions:
            inc = incs[pos]
            is_published = inc["key"] in published
            theirs = at.get(pos)
            if (full or is_published) and (full or not theirs):
                head = encoded[pos]
                if head is None:
                    head = encoded[pos] = _feature_head(inc)
                tail = _TAIL[is_published] % (len(theirs) if theirs else 0)
                out.append(orjson.Fragment(head + tail))
            else:
                feature = ogc.incident_feature(self.incidents_seen(view, [pos])[0])
                out.append(orjson.Fragment(orjson.dumps(feature)))
        return out

    def violations_seen(self, view: View, positions: Sequence[int]) -> list[dict[str, Any]]:
        """The violations at these source positions as `view` shows them (all must be visible)."""
        incs, vios = self.data["incidents"], self.data["violations"]
        page = [vios[v] for v in positions]
        at = dict.fromkeys(int(self.violation_incident[v]) for v in positions)
        seen = view.visibility.filter({"incidents": [incs[i] for i in at], "violations": page})
        assert len(seen["violations"]) == len(page), "the visibility mask and the filter disagree"
        return seen["violations"]  # type: ignore[no-any-return]


# The viewer-dependent end of an incident feature (`_feature_head` has the rest).
_TAIL = {False: b'"violations":%d,"published":false}}', True: b'"violations":%d,"published":true}}'}


def _feature_head(inc: dict[str, Any]) -> bytes:
    """`ogc.incident_feature(inc)` as JSON without its closing braces and without the
    properties that depend on the viewer (`violations`, `published`)."""
    feature = ogc.incident_feature(inc)
    props = {k: v for k, v in feature.pop("properties").items() if k not in _TAIL_KEYS}
    return orjson.dumps(feature)[:-1] + b',"properties":' + orjson.dumps(props)[:-1] + b","


_TAIL_KEYS = ("violations", "published")


def _positions(pos: dict[str, int], keys: Iterable[str]) -> np.ndarray:
    found = [p for p in map(pos.get, keys) if p is not None]
    return np.array(found, dtype=np.int64)


class OgcIndex:
    """One per app: the current `AgreementIndex` of each agreement.

    Whether an index is current is decided from the store's watermark
    (`truce.store.watermark`), so a fresh index costs no database read.
    """

    def __init__(self, service: Service, watermark: Watermark) -> None:
        self.service = service
        self.watermark = watermark
        self._by_agreement: dict[str, AgreementIndex] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self.builds = 0  # how often an index was (re)built, for tests

    def get(self, agreement_id: str, *, block: bool = True) -> tuple[AgreementIndex, Mark]:
        """The current index and the watermark it was checked against.

        `block=False` raises `WouldBlock` instead of reading the database or building."""
        self.service.agreements.get(agreement_id)  # NotFound for unknown agreements
        mark = self.watermark.current() if block else self.watermark.peek()
        if mark is None:
            raise WouldBlock
        now = self.service.clock()
        current = self._by_agreement.get(agreement_id)
        if current is not None and current.fresh(mark.reports_version, now):
            return current, mark
        if not block:
            raise WouldBlock
        with self._guard:
            lock = self._locks.setdefault(agreement_id, threading.Lock())
        with lock:
            mark = self.watermark.current()
            current = self._by_agreement.get(agreement_id)
            if current is not None and current.fresh(mark.reports_version, now):
                return current, mark
            # The mark was read first: the snapshot is at least this new, so keying
            # the index by it can cause one extra rebuild but never a stale answer.
            data = self.service.snapshot(agreement_id)
            built = AgreementIndex.build(
                agreement_id, mark.reports_version, self._valid_until(agreement_id, data), data
            )
            self._by_agreement[agreement_id] = built
            self.builds += 1
            return built, mark

    def view(
        self, agreement_id: str, user: User, *, block: bool = True
    ) -> tuple[AgreementIndex, View]:
        idx, mark = self.get(agreement_id, block=block)
        view = idx.cached_view(user, mark)
        if view is None:
            if not block:
                raise WouldBlock
            view = idx.view(self.service, user, mark)
        return idx, view

    def _valid_until(self, agreement_id: str, data: dict[str, Any]) -> datetime | None:
        """The stored snapshot's `valid_until`, if the stored snapshot is the one we got."""
        with read_transaction(self.service.engine) as conn:
            row = conn.execute(
                select(derived.c.as_of, derived.c.valid_until).where(
                    derived.c.agreement_id == agreement_id
                )
            ).first()
        now = self.service.clock()
        if row is None or row.as_of is None:
            return now  # not cached by the service: use once, rebuild next time
        as_of = row.as_of if row.as_of.tzinfo else row.as_of.replace(tzinfo=UTC)
        if as_of.replace(microsecond=0) != datetime.fromisoformat(data["as_of"]):
            return now
        until = row.valid_until
        if until is not None and until.tzinfo is None:
            until = until.replace(tzinfo=UTC)
        return until  # type: ignore[no-any-return]
