"""OGC API – Features documents: pure functions, no web framework (pygeoapi's habit).

Collections are per agreement, with stable ids `{agreement}-{kind}` for kind in
`zones`, `incidents`, `violations`, `checkpoints` (e.g. `us-ru-2016-09-incidents`):
every served agreement's four layers are listed in `/ogc/collections`, so QGIS
and OWSLib see them all without configuration.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import numpy as np
import orjson
import shapely

from truce.api.ogc.params import Bbox, collection_id
from truce.domain.model import Agreement

CONFORMANCE: tuple[str, ...] = (
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    # Part 3 (Filtering) and the CQL2 classes served (`truce.api.ogc.cql`)
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/case-insensitive-comparison",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions-plus",
    "http://www.opengis.net/spec/cql2/1.0/conf/spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/temporal-functions",
)
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
TRS = "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"
KIND_TITLES = {
    "zones": "Zones",
    "incidents": "Incidents (consolidated from reports)",
    "violations": "Violations (at their incident)",
    "checkpoints": "Checkpoints (referenced by checkpoint_limit rules)",
}
GEOJSON = "application/geo+json"
JSON = "application/json"
SCHEMA_JSON = "application/schema+json"
REL_QUERYABLES = "http://www.opengis.net/def/rel/ogc/1.0/queryables"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"


def _link(href: str, rel: str, type_: str, title: str | None = None) -> dict[str, str]:
    link = {"href": href, "rel": rel, "type": type_}
    if title:
        link["title"] = title
    return link


def landing(base: str) -> dict[str, Any]:
    """`base` is the OGC root URL without a trailing slash (e.g. http://host/ogc)."""
    root = base.rsplit("/ogc", 1)[0]
    return {
        "title": "truce",
        "description": "Ceasefire monitoring: zones, incidents, violations and checkpoints "
        "of every served agreement as OGC API – Features.",
        "links": [
            _link(f"{base}?f=json", "self", JSON, "this document"),
            _link(f"{root}/openapi.json", "service-desc", OPENAPI, "the API definition"),
            _link(f"{root}/docs", "service-doc", "text/html", "the API documentation"),
            _link(f"{base}/conformance?f=json", "conformance", JSON, "conformance classes"),
            _link(f"{base}/collections?f=json", "data", JSON, "collections"),
        ],
    }


def conformance() -> dict[str, Any]:
    return {"conformsTo": list(CONFORMANCE)}


def _iso_utc(ns: int | None) -> str | None:
    if ns is None:
        return None
    dt = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=ns // 1000)
    return dt.isoformat().replace("+00:00", "Z")


def collection(
    base: str,
    agreement: Agreement,
    kind: str,
    *,
    bbox: Sequence[float] | None = None,
    interval: tuple[int | None, int | None] | None = None,
) -> dict[str, Any]:
    cid = collection_id(agreement.id, kind)
    href = f"{base}/collections/{cid}"
    extent: dict[str, Any] = {
        "spatial": {"bbox": [list(bbox) if bbox else [-180.0, -90.0, 180.0, 90.0]], "crs": CRS84}
    }
    if interval is not None:
        extent["temporal"] = {
            "interval": [[_iso_utc(interval[0]), _iso_utc(interval[1])]],
            "trs": TRS,
        }
    return {
        "id": cid,
        "title": f"{agreement.title}: {KIND_TITLES[kind]}",
        "description": f"{KIND_TITLES[kind]} of agreement {agreement.id}.",
        "itemType": "feature",
        "crs": [CRS84],
        "storageCrs": CRS84,
        "extent": extent,
        "links": [
            _link(f"{href}?f=json", "self", JSON, "this collection"),
            _link(f"{href}/items?f=json", "items", GEOJSON, "the features"),
            _link(
                f"{href}/queryables?f=json", REL_QUERYABLES, SCHEMA_JSON, "what filters may name"
            ),
            _link(f"{base}/collections?f=json", "parent", JSON, "all collections"),
        ],
    }


def collections(base: str, docs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    return {
        "links": [_link(f"{base}/collections?f=json", "self", JSON, "this document")],
        "collections": list(docs),
    }


def items(
    href: str,
    features: Sequence[Any] | orjson.Fragment,
    *,
    number_returned: int | None = None,
    number_matched: int,
    limit: int,
    offset: int,
    query: Mapping[str, str],
    now: datetime,
) -> dict[str, Any]:
    """The items FeatureCollection; `query` is the request's other parameters (kept in links).

    `features` are feature dicts, or their JSON array already encoded (an
    `orjson.Fragment`, with `number_returned`)."""
    if isinstance(features, orjson.Fragment):
        if number_returned is None:
            raise ValueError("encoded features need number_returned")
        returned = number_returned
    else:
        features = list(features)
        returned = len(features)
    base_q = {k: v for k, v in query.items() if k not in ("limit", "offset", "f") and v}
    kept = urlencode(base_q) + "&" if base_q else ""  # encoded once, not once per link

    def page(at: int) -> str:
        return f"{href}?{kept}f=json&limit={limit}&offset={at}"

    links = [_link(page(offset), "self", GEOJSON, "this page")]
    if offset + returned < number_matched:
        links.append(_link(page(offset + limit), "next", GEOJSON, "next page"))
    if offset > 0:
        links.append(_link(page(max(0, offset - limit)), "prev", GEOJSON, "previous page"))
    links.append(_link(href.rsplit("/items", 1)[0] + "?f=json", "collection", JSON))
    return {
        "type": "FeatureCollection",
        "features": features,
        "numberMatched": number_matched,
        "numberReturned": returned,
        "timeStamp": now.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        "links": links,
    }


def feature(href: str, feat: dict[str, Any]) -> dict[str, Any]:
    """One feature with its own links (GET .../items/{id})."""
    return {
        **feat,
        "links": [
            _link(f"{href}?f=json", "self", GEOJSON, "this feature"),
            _link(href.rsplit("/items/", 1)[0] + "?f=json", "collection", JSON),
        ],
    }


# --- features ------------------------------------------------------------------------


def _point(lon: float, lat: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [lon, lat]}


def incident_feature(inc: Mapping[str, Any]) -> dict[str, Any]:
    """An evaluation incident (as `Service.evaluation` shows it) as a point feature."""
    props = {
        "key": inc["key"],
        "incident": inc["id"],
        "event_type": inc["event_type"],
        "weapon": inc.get("weapon"),
        "observed_at": inc["observed_at"],
        "party": inc["party"],
        "target": inc.get("target"),
        "corroboration": inc["corroboration"],
        "status": "corroborated" if inc["corroboration"] >= 2 else "alleged",
        "grade": inc.get("grade"),
        "sources": ",".join(inc.get("sources", [])),
        "count": inc.get("count"),
        "fatalities": inc.get("fatalities"),
        "precision_m": inc.get("precision_m"),
        "violations": len(inc.get("violations", [])),
        "published": inc.get("published"),
    }
    return {
        "type": "Feature",
        "id": inc["key"],
        "geometry": _point(inc["lon"], inc["lat"]),
        "properties": props,
    }


def violation_feature(v: Mapping[str, Any], lon: float, lat: float) -> dict[str, Any]:
    """A violation at its incident's position."""
    props = {
        "key": v["key"],
        "rule": v["rule"],
        "kind": v["kind"],
        "party": v["party"],
        "at": v["at"],
        "zone": v.get("zone"),
        "evidence": v["evidence"],
        "status": v.get("status"),
        "review": v.get("review"),
        "published": v.get("published"),
        "incident_key": v.get("incident_key"),
        "measured_m": v.get("measured_m"),
    }
    return {"type": "Feature", "id": v["key"], "geometry": _point(lon, lat), "properties": props}


def zone_features(agreement: Agreement) -> list[dict[str, Any]]:
    """The agreement's zones as WGS84 polygons (in the agreement file's order)."""
    if not agreement.zones:
        return []
    from truce.domain.geo import AgreementSpace

    polygons = AgreementSpace.of(agreement).zone_polygons_wgs84()
    return [
        {
            "type": "Feature",
            "id": z.id,
            "geometry": shapely.geometry.mapping(polygons[z.id]),
            "properties": {
                "zone": z.id,
                "name": z.name,
                "feature": z.feature,
                "distance_m": z.distance_m,
            },
        }
        for z in agreement.zones
    ]


def checkpoint_features(agreement: Agreement) -> list[dict[str, Any]]:
    """Point features referenced by `checkpoint_limit` rules (one per checkpoint)."""
    out: dict[str, dict[str, Any]] = {}
    for rule in agreement.rules:
        if rule.kind != "checkpoint_limit":
            continue
        fid = getattr(rule.params, "checkpoint", None)
        feat = agreement.features.get(fid) if fid else None
        if fid is None or feat is None or feat.geometry.geom_type != "Point":
            continue
        entry = out.setdefault(
            fid,
            {
                "type": "Feature",
                "id": fid,
                "geometry": shapely.geometry.mapping(feat.geometry),
                "properties": {
                    "checkpoint": fid,
                    "name": feat.name,
                    "rules": "",
                    "max_armed_per_side": None,
                    "radius_m": None,
                    "uncertainty_m": feat.uncertainty_m,
                    "note": feat.note,
                },
            },
        )
        props = entry["properties"]
        props["rules"] = ",".join(filter(None, [props["rules"], rule.id]))
        props["max_armed_per_side"] = getattr(rule.params, "max_armed_per_side", None)
        props["radius_m"] = getattr(rule.params, "radius_m", None)
    return list(out.values())


def geometry_bbox(features: Sequence[dict[str, Any]]) -> list[float] | None:
    """Bounds of GeoJSON features, for collection extents."""
    if not features:
        return None
    geoms = [shapely.geometry.shape(f["geometry"]) for f in features]
    b = shapely.total_bounds(np.array(geoms, dtype=object))
    return [round(float(v), 6) for v in b]


def filter_shapes(features: Sequence[dict[str, Any]], bbox: Bbox | None) -> list[dict[str, Any]]:
    """Features (few: zones, checkpoints) intersecting `bbox`."""
    if bbox is None:
        return list(features)
    boxes = bbox.polygons()
    return [
        f
        for f in features
        if any(shapely.intersects(shapely.geometry.shape(f["geometry"]), b) for b in boxes)
    ]
