"""The OGC handlers, without the web framework: each returns a document (dict).

They read the per-process index of `truce.api.ogc.index`; with `block=False` a
handler answers only from memory and raises `WouldBlock` when it would have to
read the database or build the index (the routes then retry in a worker thread).
"""

from __future__ import annotations

from typing import Any

import orjson
from pygeofilter import ast

from truce.api import ogc
from truce.api.ogc import cql, cql_mask
from truce.api.ogc.index import OgcIndex
from truce.api.ogc.queryables import QUERYABLES, FilterColumns, queryable_params, queryables
from truce.errors import NotFound
from truce.service import Service
from truce.store import derived
from truce.store.users import User
from truce.store.watermark import Watermark

__all__ = ["OgcApi"]


class OgcApi:
    """`base` is the OGC root URL without a trailing slash (e.g. http://host/ogc)."""

    def __init__(self, service: Service, watermark: Watermark) -> None:
        self.service = service
        self.index = OgcIndex(service, watermark)
        self._shape_cache: dict[tuple[str, str], list[dict[str, Any]]] = {}

    def _agreement_ids(self) -> list[str]:
        return [e.agreement.id for e in self.service.agreements.all()]

    def warm(self) -> None:
        """Load the index of every agreement that has a stored snapshot (one was asked
        for before, e.g. before a restart) now rather than on first use; a stale one is
        recomputed. Agreements nobody asked for are left alone (at 1M reports each
        costs a full evaluation and over a gigabyte per process)."""
        with self.service.engine.connect() as conn:
            stored = set(derived.stored_agreements(conn))
        for agreement_id in self._agreement_ids():
            if agreement_id in stored:
                self.index.get(agreement_id)

    def landing(self, base: str) -> dict[str, Any]:
        return ogc.landing(base)

    def conformance(self) -> dict[str, Any]:
        return ogc.conformance()

    def _shapes(self, agreement_id: str, kind: str) -> list[dict[str, Any]]:
        """Zones or checkpoints: fixed by the agreement file, so built once per process."""
        key = (agreement_id, kind)
        shapes = self._shape_cache.get(key)
        if shapes is None:
            agreement = self.service.agreements.get(agreement_id).agreement
            if kind == "zones":
                shapes = ogc.zone_features(agreement)
            else:
                shapes = ogc.checkpoint_features(agreement)
            self._shape_cache[key] = shapes
        return shapes

    def _collection(self, base: str, agreement_id: str, kind: str, user: User) -> dict[str, Any]:
        agreement = self.service.agreements.get(agreement_id).agreement
        if kind in ("zones", "checkpoints"):
            return ogc.collection(
                base, agreement, kind, bbox=ogc.geometry_bbox(self._shapes(agreement_id, kind))
            )
        # Extents of what this viewer sees (everything, before the per-viewer filter).
        idx, _ = self.index.get(agreement_id, user=user)
        points = idx.incidents if kind == "incidents" else idx.violations
        bbox, interval = points.extent()
        return ogc.collection(base, agreement, kind, bbox=bbox, interval=interval)

    def collections(self, base: str, user: User) -> dict[str, Any]:
        docs = [
            self._collection(base, a, kind, user)
            for a in self._agreement_ids()
            for kind in ogc.KINDS
        ]
        return ogc.collections(base, docs)

    def collection(self, base: str, cid: str, user: User) -> dict[str, Any]:
        agreement_id, kind = ogc.split_collection_id(cid, self._agreement_ids())
        return self._collection(base, agreement_id, kind, user)

    def queryables(self, base: str, cid: str, user: User) -> dict[str, Any]:
        agreement_id, kind = ogc.split_collection_id(cid, self._agreement_ids())
        agreement = self.service.agreements.get(agreement_id).agreement
        return queryables(base, cid, kind, f"{agreement.title}: {ogc.KIND_TITLES[kind]}")

    def items(
        self,
        base: str,
        cid: str,
        query: dict[str, str | None],
        user: User,
        *,
        block: bool = True,
        encoded: bool = False,
    ) -> dict[str, Any]:
        """The items page; `encoded=True` gives the incident features as one
        `orjson.Fragment` (their JSON array, for `orjson.dumps`) instead of dicts."""
        agreement_id, kind = ogc.split_collection_id(cid, self._agreement_ids())
        ogc.parse_f(query.get("f"))
        bbox = ogc.parse_bbox(query.get("bbox"))
        interval = ogc.parse_datetime(query.get("datetime"))
        limit = ogc.parse_limit(query.get("limit"))
        offset = ogc.parse_offset(query.get("offset"))
        where = _where(kind, query)
        page: list[Any] | orjson.Fragment
        returned: int | None = None  # when `page` is encoded
        if kind in ("zones", "checkpoints"):
            matched = ogc.filter_shapes(self._shapes(agreement_id, kind), bbox)
            if where is not None:  # no queryables: only INCLUDE, EXCLUDE and constants
                keep = cql_mask.mask(where, cql_mask.SimpleColumns({}, n=len(matched)))
                matched = [f for f, kept in zip(matched, keep.tolist(), strict=True) if kept]
            page = matched[offset : offset + limit]
            total = len(matched)
        else:
            idx, view = self.index.view(agreement_id, user, block=block)
            if kind == "incidents":
                rows = idx.incidents.query(bbox, interval, view.incident_visible)
                if where is not None:
                    columns = FilterColumns(idx, view, kind, rows, block=block)
                    rows = rows[cql_mask.mask(where, columns)]
                total = len(rows)
                on_page = rows[offset : offset + limit]
                if encoded:
                    page = orjson.Fragment(idx.incidents_json(view, on_page))
                    returned = len(on_page)
                else:
                    src = idx.incidents.order[on_page].tolist()
                    page = [ogc.incident_feature(i) for i in idx.incidents_seen(view, src)]
            else:
                rows = idx.violations.query(bbox, interval, view.violation_visible)
                if where is not None:
                    columns = FilterColumns(idx, view, kind, rows, block=block)
                    rows = rows[cql_mask.mask(where, columns)]
                total = len(rows)
                src = idx.violations.order[rows[offset : offset + limit]].tolist()
                lonlat = idx.violation_lonlat[src].tolist()
                page = [
                    ogc.violation_feature(v, *at)
                    for v, at in zip(idx.violations_seen(view, src), lonlat, strict=True)
                ]
        return ogc.items(
            f"{base}/collections/{cid}/items",
            page,
            number_returned=returned,
            number_matched=total,
            limit=limit,
            offset=offset,
            query={k: v for k, v in query.items() if v is not None and _kept(kind, k)},
            now=self.service.clock(),
        )

    def item(self, base: str, cid: str, fid: str, user: User) -> dict[str, Any]:
        agreement_id, kind = ogc.split_collection_id(cid, self._agreement_ids())
        href = f"{base}/collections/{cid}/items/{fid}"
        found: dict[str, Any] | None = None
        if kind in ("zones", "checkpoints"):
            found = next((f for f in self._shapes(agreement_id, kind) if f["id"] == fid), None)
        else:
            idx, view = self.index.view(agreement_id, user)
            if kind == "incidents":
                pos = idx.incident_keys.position(fid)
                if pos is not None and view.sees_incident(pos):
                    found = ogc.incident_feature(idx.incidents_seen(view, [pos])[0])
            else:
                pos = idx.violation_pos.get(fid)
                if pos is not None and view.sees_violation(pos):
                    found = ogc.violation_feature(
                        idx.violations_seen(view, [pos])[0], *idx.violation_lonlat[pos].tolist()
                    )
        if found is None:
            raise NotFound(f"no feature {fid!r} in collection {cid!r} (or not visible to you)")
        return ogc.feature(href, found)


ITEMS_PARAMS = ("bbox", "datetime", "limit", "offset", "f", "filter", "filter-lang", "filter-crs")


def _kept(kind: str, name: str) -> bool:
    """Whether a query parameter is one the items answer reads (kept in its links)."""
    return name in ITEMS_PARAMS or name in QUERYABLES[kind]


def _where(kind: str, query: dict[str, str | None]) -> Any:
    """The `filter` and the queryables given as parameters, as one condition (or None)."""
    parsed = cql.parse_filter(
        query.get("filter"), query.get("filter-lang"), query.get("filter-crs")
    )
    by_param = queryable_params(kind, query)
    if parsed is None or by_param is None:
        return parsed if by_param is None else by_param
    return ast.And(parsed, by_param)
