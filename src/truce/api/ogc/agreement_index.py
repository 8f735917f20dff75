"""One snapshot of one agreement indexed for the OGC items queries (`AgreementIndex`).

The incidents (and violations, placed at their incident) of an agreement's
shared snapshot (`Service.snapshot`) go into numpy arrays sorted by longitude,
so a bbox query is two `searchsorted` calls, a latitude and time mask over that
slice, and a slice for the page: no scan of Python dicts. The snapshot's incidents
(dicts, or packed rows: `truce.store.packed`) are referenced, never copied; a page
reads just its own. A rebuild
keeps what an earlier index holds for the incidents that did not change (`_Reuse`).

Who sees what is `Service.visibility(...)`: per distinct viewer (everything,
published only, or one centre's own) and watermark, the masks its
`Visibility.filter` implies are computed once over whole arrays (`View`); the
page's few items then go through `Visibility.filter` itself, so the documents
are exactly what the REST API shows that user.

The sorted points themselves are `truce.api.ogc.points`; the index, its per-viewer
views and the page queries stay together: they share the same positions. Which
index is current, per process, is `truce.api.ogc.index`.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from truce.api import ogc
from truce.api.ogc.points import PointIndex, times_ns
from truce.service import SHARED_ROLES, Service, Visibility
from truce.service.scopes import ReportIndex, review_key
from truce.store import heap
from truce.store.deferred import resolved
from truce.store.derived import Snapshot
from truce.store.key_column import KeyColumn
from truce.store.packed import BLOCK, PackedIncidents, fields_of, items_at, keys_of, unchanged
from truce.store.packed_arrow import REPORT_INDEX_ROWS, Kind, packed_columns
from truce.store.users import User
from truce.store.watermark import Mark

VIEW_CACHE_SIZE = 16


@dataclass
class View:
    """What one visibility state sees: masks in index order for queries, and by source
    position for lookups by id (None: everything)."""

    visibility: Visibility
    incident_published: np.ndarray  # in index order
    incident_visible: np.ndarray | None
    violation_visible: np.ndarray | None
    incident_visible_by_pos: np.ndarray | None = None
    violation_visible_by_pos: np.ndarray | None = None
    filter_columns: dict[Any, Any] = field(default_factory=dict)  # see `ogc.queryables`

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
class _Reuse:
    """Which incidents of a new snapshot an earlier index holds already: those that are
    the very same objects at the same positions (items are never changed in place), or,
    packed (`truce.store.packed`), the very same rows, where they were or, after a
    refresh that moved most of them (read whole), wherever they were (`row_digests`)."""

    previous: AgreementIndex | None
    source: np.ndarray  # by position in the new snapshot: its position before, or -1
    changed: np.ndarray  # the positions with no source
    kept: np.ndarray  # the positions with one
    rows: np.ndarray  # for each of `kept`: its sorted row in the previous index

    @classmethod
    def of(cls, previous: AgreementIndex | None, incs: Sequence[dict[str, Any]]) -> _Reuse:
        source = np.full(len(incs), -1, dtype=np.int64)
        if previous is not None:
            before = resolved(previous.data["incidents"])
            same = unchanged(incs, before)
            if (
                same.sum() * 2 < len(incs)
                and isinstance(incs, PackedIncidents)
                and isinstance(before, PackedIncidents)
            ):
                source = _same_rows(incs, before)
            else:
                source[same] = np.flatnonzero(same)
        has = source >= 0
        kept = np.flatnonzero(has)
        if previous is None or not len(kept):
            return cls(None, source, np.flatnonzero(~has), kept, kept)
        # Where the previous index holds each kept incident, found once for the point
        # columns (found per column, it made three arrays of a million each).
        order = previous.incidents.order
        row = np.empty(len(order), dtype=order.dtype)
        row[order] = np.arange(len(order), dtype=order.dtype)
        return cls(previous, source, np.flatnonzero(~has), kept, row[source[kept]])

    def column(self, values: Any, name: str) -> np.ndarray:
        """A point column: the previous values where the incident is the same, `values`
        (those of the changed positions) for the others."""
        fresh = np.asarray(values)
        if self.previous is None:
            return fresh.astype(np.int64 if name == "t_ns" else np.float64)
        old = getattr(self.previous.incidents, name)
        out = np.empty(len(self.source), dtype=old.dtype)
        out[self.kept] = old[self.rows]
        out[self.changed] = fresh
        return out


def _same_rows(incs: PackedIncidents, before: PackedIncidents) -> np.ndarray:
    """Per position of `incs`: where `before` holds the very same row, or -1 (found by
    the rows' digests: the first 64 bits searched, the other 64 compared)."""
    new, old = incs.row_digests(), before.row_digests()
    source = np.full(len(new), -1, dtype=np.int64)
    if not len(old) or not len(new):
        return source
    order = np.argsort(old[:, 0])
    lo = old[order, 0]
    at = np.minimum(np.searchsorted(lo, new[:, 0]), len(lo) - 1)
    cand = order[at]
    # Two rows whose first halves collide and whose second do not: decoded, not reused.
    match = (lo[at] == new[:, 0]) & (old[cand, 1] == new[:, 1])
    source[match] = cand[match]
    return source


@dataclass
class AgreementIndex:
    """One snapshot of one agreement, indexed. Holds the snapshot's incidents (shared
    with the service, not copied) and numpy arrays over them."""

    agreement_id: str
    reports_version: int
    valid_until: datetime | None
    data: dict[str, Any]
    incidents: PointIndex
    violations: PointIndex
    violation_incident: np.ndarray  # by violation source position: its incident's position
    violation_lonlat: np.ndarray  # (n, 2), by violation source position
    violations_at: dict[int, list[int]]  # incident position -> its violations' positions
    incident_keys: KeyColumn  # by source position
    violation_pos: dict[str, int]
    violation_count: np.ndarray  # per incident, in index order
    views: OrderedDict[Hashable, View] = field(default_factory=OrderedDict)
    filter_columns: dict[Any, Any] = field(default_factory=dict)  # see `ogc.queryables`
    lock: threading.Lock = field(default_factory=threading.Lock)
    snapshot: Snapshot | None = None  # the one indexed
    _report_index: ReportIndex | None = None

    @classmethod
    def build(
        cls,
        agreement_id: str,
        version: int,
        valid_until: datetime | None,
        data: dict[str, Any],
        *,
        snapshot: Snapshot | None = None,
        previous: AgreementIndex | None = None,
    ) -> AgreementIndex:
        """Index `data`. With `previous` (the index of an earlier snapshot of the same
        agreement), what it holds for the incidents that are still the same objects
        at the same positions is reused: a refresh that patched a few incidents into
        a million (`truce.store.derived.load`) re-indexes those few."""
        incs, vios = resolved(data["incidents"]), data["violations"]
        n = len(incs)
        reuse = _Reuse.of(previous, incs)
        lons, lats, times = _point_columns(incs, reuse.changed)
        lon = reuse.column(lons, "lon")
        lat = reuse.column(lats, "lat")
        t = reuse.column(times, "t_ns")
        incident_keys = KeyColumn.of(keys_of(incs))
        at_inc = incident_keys.positions([v["incident_key"] for v in vios])
        if (at_inc < 0).any():
            raise ValueError("a violation's incident is not in the evaluation")
        vlon, vlat = lon[at_inc], lat[at_inc]
        violations_at: dict[int, list[int]] = {}
        for v, i in enumerate(at_inc.tolist()):
            violations_at.setdefault(i, []).append(v)
        incidents = PointIndex.build(lon, lat, t)
        return cls(
            agreement_id=agreement_id,
            reports_version=version,
            valid_until=valid_until,
            data=data,
            incidents=incidents,
            violations=PointIndex.build(vlon, vlat, times_ns([v["at"] for v in vios])),
            violation_incident=at_inc,
            violation_lonlat=np.column_stack([vlon, vlat]) if len(vios) else np.zeros((0, 2)),
            violations_at=violations_at,
            incident_keys=incident_keys,
            violation_pos={v["key"]: k for k, v in enumerate(vios)},
            violation_count=np.bincount(at_inc, minlength=n).astype(np.int32)[incidents.order],
            snapshot=snapshot,
        )

    def carried(self, snap: Snapshot | None) -> bool:
        """Whether `snap` is the computation indexed here; found to hold at a later
        reports version (a class's, `Snapshot.still_at`), so is this index: nothing to
        index again."""
        if snap is None or not snap.same(self.snapshot):
            return False
        with self.lock:
            if snap.reports_version > self.reports_version:
                self.snapshot, self.reports_version = snap, snap.reports_version
        return True

    def fresh(self, version: int, now: datetime) -> bool:
        return self.reports_version >= version and (
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
        heap.give_back_after(len(self.incident_keys))
        with self.lock:
            self.views[(_who(user), mark)] = made
            while len(self.views) > VIEW_CACHE_SIZE:
                self.views.popitem(last=False)
        return made

    def _make_view(self, vis: Visibility) -> View:
        """The masks `Visibility.filter` implies, computed over whole arrays."""
        n_inc, n_vio = len(self.incident_keys), len(self.violation_pos)
        published_violations = {k for k, (_, published) in vis.states.items() if published}
        incs, vios = resolved(self.data["incidents"]), self.data["violations"]
        if isinstance(incs, PackedIncidents) and incs.review_keys is not None:
            # A class's evaluation: review state by review key, known without decoding.
            published = vis.published_mask(incs)
            violation_visible = np.fromiter(
                (review_key(v) in published_violations for v in vios), dtype=bool, count=n_vio
            )
        elif incs and "review_key" in incs[0]:  # the same, as dicts
            published = vis.published_incidents.are_in(map(review_key, incs))
            violation_visible = np.fromiter(
                (review_key(v) in published_violations for v in vios), dtype=bool, count=n_vio
            )
        else:
            published = self.incident_keys.is_in(vis.published_incidents)
            violation_visible = np.zeros(n_vio, dtype=bool)
            violation_visible[_positions(self.violation_pos, published_violations)] = True
        published_in_order = published[self.incidents.order]
        if vis.user.sees_everything:
            return View(vis, published_in_order, None, None)
        incident_visible = published.copy()
        if vis.user.role in SHARED_ROLES and vis.own_reports:
            reports = self._reports()
            own = np.zeros(n_inc, dtype=bool)
            own[reports.incident_at[reports.are_in(vis.own_reports)]] = True
            incident_visible |= own
            violation_visible |= own[self.violation_incident]
        return View(
            vis,
            published_in_order,
            incident_visible[self.incidents.order],
            violation_visible[self.violations.order],
            incident_visible,
            violation_visible,
        )

    def _reports(self) -> ReportIndex:
        """Every report key of the snapshot beside its incident's position (made on first use)."""
        if self._report_index is None:
            self._report_index = ReportIndex.of(self.data)
        return self._report_index

    def incidents_seen(self, view: View, positions: Sequence[int]) -> list[dict[str, Any]]:
        """The incidents at these source positions as `view` shows them (all must be visible)."""
        incs, vios, at = self.data["incidents"], self.data["violations"], self.violations_at
        page = items_at(incs, positions)
        theirs = [vios[v] for i in positions if i in at for v in at[i]]
        seen = view.visibility.filter({"incidents": page, "violations": theirs})["incidents"]
        assert len(seen) == len(page), "the visibility mask and the filter disagree"
        return seen  # type: ignore[no-any-return]

    def incidents_json(self, view: View, rows: np.ndarray) -> bytes:
        """The incidents at index positions `rows` as a JSON array of GeoJSON features.

        Encoded per page, not held encoded: at a million incidents the features take
        400 MB per process, a page of a hundred ~1 ms to make."""
        seen = self.incidents_seen(view, self.incidents.order[rows].tolist())
        return orjson.dumps([ogc.incident_feature(inc) for inc in seen])

    def violations_seen(self, view: View, positions: Sequence[int]) -> list[dict[str, Any]]:
        """The violations at these source positions as `view` shows them (all must be visible)."""
        incs, vios = self.data["incidents"], self.data["violations"]
        page = [vios[v] for v in positions]
        at = dict.fromkeys(int(self.violation_incident[v]) for v in positions)
        seen = view.visibility.filter({"incidents": items_at(incs, at), "violations": page})
        assert len(seen["violations"]) == len(page), "the visibility mask and the filter disagree"
        return seen["violations"]  # type: ignore[no-any-return]


def _point_columns(
    incs: Sequence[dict[str, Any]], positions: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Longitudes, latitudes and times (ns) of the incidents at `positions`, read a
    step at a time: a million of each as Python objects at once would be freed in
    pieces the process never gets back. Most of a packed evaluation (an index made
    from nothing) is read field by field from the rows' text (`packed_columns`), not
    parsed whole: at 1M, parsing every row into Python objects took 15 s."""
    if isinstance(incs, PackedIncidents) and 2 * len(positions) >= len(incs):
        every = _packed_point_columns(incs)
        if every is not None:
            lon_all, lat_all, t_all = every
            return lon_all[positions], lat_all[positions], t_all[positions]
    lon = np.empty(len(positions), dtype=np.float64)
    lat = np.empty(len(positions), dtype=np.float64)
    t = np.empty(len(positions), dtype=np.int64)
    for start in range(0, len(positions), BLOCK):
        at = slice(start, start + BLOCK)
        step = positions[at].tolist()
        lons, lats, times = fields_of(incs, step, ("lon", "lat", "observed_at"))
        lon[at], lat[at], t[at] = lons, lats, times_ns(times)
    return lon, lat, t


def _packed_point_columns(
    incs: PackedIncidents,
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Every incident's longitude, latitude and time (ns), by position, from the JSON
    text of their fields (numbers read by Arrow, correctly rounded as a JSON parser
    reads them); None when a row is stored as an object or a coordinate is missing."""
    n = len(incs)
    lon = np.empty(n, dtype=np.float64)
    lat = np.empty(n, dtype=np.float64)
    t = np.empty(n, dtype=np.int64)
    fields: dict[str, Kind] = {"lon": "raw", "lat": "raw", "observed_at": "str"}
    for start in range(0, n, REPORT_INDEX_ROWS):
        stop = min(start + REPORT_INDEX_ROWS, n)
        columns = packed_columns(incs, start, stop, fields)
        if columns is None or any(c.null_count for c in columns.values()):
            return None
        try:
            lon[start:stop] = pc.cast(columns["lon"], pa.float64()).to_numpy()
            lat[start:stop] = pc.cast(columns["lat"], pa.float64()).to_numpy()
        except pa.ArrowInvalid:  # not a plain number: the rows are parsed instead
            return None
        t[start:stop] = times_ns(columns["observed_at"])
    return lon, lat, t


def _positions(pos: dict[str, int], keys: Iterable[str]) -> np.ndarray:
    found = [p for p in map(pos.get, keys) if p is not None]
    return np.array(found, dtype=np.int64)
