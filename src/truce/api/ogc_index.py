"""A per-process index of the current evaluation, for the OGC items queries.

The incidents (and violations, placed at their incident) of an agreement's
shared snapshot (`Service.snapshot`) go into numpy arrays sorted by longitude,
so a bbox query is two `searchsorted` calls, a latitude and time mask over that
slice, and a slice for the page: no scan of Python dicts. The index is rebuilt
only when the stored reports version changes or the snapshot's `valid_until`
(next phase boundary or local midnight) passes.

Who sees what is `Service.visibility(...).filter(...)`, applied once per
distinct visibility state (published incidents, review states, own reports) on
the whole snapshot and cached as a boolean mask plus the filtered dicts.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import select

from truce.api import ogc
from truce.api.ogc import Bbox, Interval
from truce.service import SHARED_ROLES, Service
from truce.store import reports as report_store
from truce.store.engine import read_transaction
from truce.store.schema import derived
from truce.store.users import User

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


@dataclass
class View:
    """What one visibility state sees: masks in index order and filtered dicts by source position."""

    incident_visible: np.ndarray
    incidents: np.ndarray  # object: filtered incident dict or None, by source position
    violation_visible: np.ndarray
    violations: np.ndarray


@dataclass
class AgreementIndex:
    agreement_id: str
    reports_version: int
    valid_until: datetime | None
    data: dict[str, Any]
    incidents: PointIndex
    violations: PointIndex
    violation_lonlat: np.ndarray  # (n, 2), by violation source position
    incident_pos: dict[str, int]
    violation_pos: dict[str, int]
    views: OrderedDict[Hashable, View] = field(default_factory=OrderedDict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def build(
        cls, agreement_id: str, version: int, valid_until: datetime | None, data: dict[str, Any]
    ) -> AgreementIndex:
        incs = data["incidents"]
        lon = np.array([i["lon"] for i in incs], dtype=np.float64)
        lat = np.array([i["lat"] for i in incs], dtype=np.float64)
        t = _times_ns([i["observed_at"] for i in incs])
        incident_pos = {inc["key"]: n for n, inc in enumerate(incs)}
        vios = data["violations"]
        at_inc = np.array([incident_pos[v["incident_key"]] for v in vios], dtype=np.int64)
        vlon, vlat = lon[at_inc], lat[at_inc]
        return cls(
            agreement_id=agreement_id,
            reports_version=version,
            valid_until=valid_until,
            data=data,
            incidents=PointIndex.build(lon, lat, t),
            violations=PointIndex.build(vlon, vlat, _times_ns([v["at"] for v in vios])),
            violation_lonlat=np.column_stack([vlon, vlat]) if len(vios) else np.zeros((0, 2)),
            incident_pos=incident_pos,
            violation_pos={v["key"]: n for n, v in enumerate(vios)},
        )

    def fresh(self, version: int, now: datetime) -> bool:
        return self.reports_version == version and (
            self.valid_until is None or now < self.valid_until
        )

    def view(self, service: Service, user: User) -> View:
        vis = service.visibility(self.agreement_id, user)
        who: Hashable = (
            "all"
            if user.sees_everything
            else (user.role, user.name)
            if user.role in SHARED_ROLES
            else "published"
        )
        key = (
            who,
            frozenset(vis.states.items()),
            frozenset(vis.published_incidents),
            frozenset(vis.own_reports),
        )
        with self.lock:
            hit = self.views.get(key)
            if hit is not None:
                self.views.move_to_end(key)
                return hit
        seen = vis.filter(self.data)
        n_inc, n_vio = len(self.data["incidents"]), len(self.data["violations"])
        incidents = np.full(n_inc, None, dtype=object)
        for inc in seen["incidents"]:
            incidents[self.incident_pos[inc["key"]]] = inc
        violations = np.full(n_vio, None, dtype=object)
        for v in seen["violations"]:
            violations[self.violation_pos[v["key"]]] = v
        made = View(
            incident_visible=np.not_equal(incidents, None)[self.incidents.order],
            incidents=incidents,
            violation_visible=np.not_equal(violations, None)[self.violations.order],
            violations=violations,
        )
        with self.lock:
            self.views[key] = made
            while len(self.views) > VIEW_CACHE_SIZE:
                self.views.popitem(last=False)
        return made


class OgcIndex:
    """One per app: the current `AgreementIndex` of each agreement."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self._by_agreement: dict[str, AgreementIndex] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self.builds = 0  # how often an index was (re)built, for tests

    def _version(self) -> int:
        with self.service.engine.connect() as conn:
            return report_store.reports_version(conn)

    def get(self, agreement_id: str) -> AgreementIndex:
        self.service.agreements.get(agreement_id)  # NotFound for unknown agreements
        now = self.service.clock()
        version = self._version()
        current = self._by_agreement.get(agreement_id)
        if current is not None and current.fresh(version, now):
            return current
        with self._guard:
            lock = self._locks.setdefault(agreement_id, threading.Lock())
        with lock:
            current = self._by_agreement.get(agreement_id)
            version = self._version()
            if current is not None and current.fresh(version, now):
                return current
            # Read the version first: the snapshot is at least this new, so keying
            # the index by it can cause one extra rebuild but never a stale answer.
            data = self.service.snapshot(agreement_id)
            built = AgreementIndex.build(
                agreement_id, version, self._valid_until(agreement_id, data), data
            )
            self._by_agreement[agreement_id] = built
            self.builds += 1
            return built

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


class OgcApi:
    """The OGC handlers, without the web framework: each returns a document (dict).

    `base` is the OGC root URL without a trailing slash (e.g. http://host/ogc).
    """

    def __init__(self, service: Service) -> None:
        self.service = service
        self.index = OgcIndex(service)

    def _agreement_ids(self) -> list[str]:
        return [e.agreement.id for e in self.service.agreements.all()]

    def landing(self, base: str) -> dict[str, Any]:
        return ogc.landing(base)

    def conformance(self) -> dict[str, Any]:
        return ogc.conformance()

    def _shapes(self, agreement_id: str, kind: str) -> list[dict[str, Any]]:
        agreement = self.service.agreements.get(agreement_id).agreement
        if kind == "zones":
            return ogc.zone_features(agreement)
        return ogc.checkpoint_features(agreement)

    def _collection(self, base: str, agreement_id: str, kind: str) -> dict[str, Any]:
        agreement = self.service.agreements.get(agreement_id).agreement
        if kind in ("zones", "checkpoints"):
            return ogc.collection(
                base, agreement, kind, bbox=ogc.geometry_bbox(self._shapes(agreement_id, kind))
            )
        # Extents of what is stored (all of it, not per viewer): cheap once indexed.
        idx = self.index.get(agreement_id)
        points = idx.incidents if kind == "incidents" else idx.violations
        bbox, interval = points.extent()
        return ogc.collection(base, agreement, kind, bbox=bbox, interval=interval)

    def collections(self, base: str, user: User) -> dict[str, Any]:
        docs = [
            self._collection(base, a, kind) for a in self._agreement_ids() for kind in ogc.KINDS
        ]
        return ogc.collections(base, docs)

    def collection(self, base: str, cid: str, user: User) -> dict[str, Any]:
        agreement_id, kind = ogc.split_collection_id(cid, self._agreement_ids())
        return self._collection(base, agreement_id, kind)

    def items(
        self, base: str, cid: str, query: dict[str, str | None], user: User
    ) -> dict[str, Any]:
        agreement_id, kind = ogc.split_collection_id(cid, self._agreement_ids())
        ogc.parse_f(query.get("f"))
        bbox = ogc.parse_bbox(query.get("bbox"))
        interval = ogc.parse_datetime(query.get("datetime"))
        limit = ogc.parse_limit(query.get("limit"))
        offset = ogc.parse_offset(query.get("offset"))
        if kind in ("zones", "checkpoints"):
            matched = ogc.filter_shapes(self._shapes(agreement_id, kind), bbox)
            page = matched[offset : offset + limit]
            total = len(matched)
        else:
            idx = self.index.get(agreement_id)
            view = idx.view(self.service, user)
            if kind == "incidents":
                rows = idx.incidents.query(bbox, interval, view.incident_visible)
                total = len(rows)
                src = idx.incidents.order[rows[offset : offset + limit]]
                page = [ogc.incident_feature(view.incidents[i]) for i in src]
            else:
                rows = idx.violations.query(bbox, interval, view.violation_visible)
                total = len(rows)
                src = idx.violations.order[rows[offset : offset + limit]]
                page = [
                    ogc.violation_feature(view.violations[i], *idx.violation_lonlat[i].tolist())
                    for i in src
                ]
        return ogc.items(
            f"{base}/collections/{cid}/items",
            page,
            number_matched=total,
            limit=limit,
            offset=offset,
            query={k: v for k, v in query.items() if v is not None},
            now=self.service.clock(),
        )

    def item(self, base: str, cid: str, fid: str, user: User) -> dict[str, Any]:
        agreement_id, kind = ogc.split_collection_id(cid, self._agreement_ids())
        href = f"{base}/collections/{cid}/items/{fid}"
        found: dict[str, Any] | None = None
        if kind in ("zones", "checkpoints"):
            found = next((f for f in self._shapes(agreement_id, kind) if f["id"] == fid), None)
        else:
            idx = self.index.get(agreement_id)
            view = idx.view(self.service, user)
            if kind == "incidents":
                pos = idx.incident_pos.get(fid)
                if pos is not None and view.incidents[pos] is not None:
                    found = ogc.incident_feature(view.incidents[pos])
            else:
                pos = idx.violation_pos.get(fid)
                if pos is not None and view.violations[pos] is not None:
                    found = ogc.violation_feature(
                        view.violations[pos], *idx.violation_lonlat[pos].tolist()
                    )
        if found is None:
            raise ogc.OgcNotFound(
                f"no feature {fid!r} in collection {cid!r} (or not visible to you)"
            )
        return ogc.feature(href, found)
