"""OGC API – Features, in one package:

- `params`: query parameters and collection ids (parse or raise);
- `documents`: the documents, pure functions without the web framework;
- `points`, `agreement_index`: one snapshot's features in sorted arrays, per-viewer masks
  and the page queries; `index`: the per-process holder that keeps them current;
- `cql`, `cql_mask` (with `cql_temporal`, `cql_spatial`), `columns`, `queryables`: CQL2
  filters (Part 3) parsed, evaluated as numpy masks over columns, and what they may name;
- `handlers`: `OgcApi`, each handler returning a document;
- `routes`: the `/ogc` routes, one-line wrappers, and the items fast path.

`from truce.api import ogc` gives the parameters and documents (`ogc.parse_bbox`,
`ogc.items`, ...); the index, handlers and routes are imported by their modules.
"""

from __future__ import annotations

from truce.api.ogc.documents import (
    CONFORMANCE,
    CRS84,
    GEOJSON,
    JSON,
    KIND_TITLES,
    OPENAPI,
    TRS,
    checkpoint_features,
    collection,
    collections,
    conformance,
    feature,
    filter_shapes,
    geometry_bbox,
    incident_feature,
    items,
    landing,
    violation_feature,
    zone_features,
)
from truce.api.ogc.params import (
    DEFAULT_LIMIT,
    KINDS,
    MAX_LIMIT,
    Bbox,
    Interval,
    collection_id,
    parse_bbox,
    parse_datetime,
    parse_f,
    parse_limit,
    parse_offset,
    split_collection_id,
)

__all__ = [
    "CONFORMANCE",
    "CRS84",
    "DEFAULT_LIMIT",
    "GEOJSON",
    "JSON",
    "KINDS",
    "KIND_TITLES",
    "MAX_LIMIT",
    "OPENAPI",
    "TRS",
    "Bbox",
    "Interval",
    "checkpoint_features",
    "collection",
    "collection_id",
    "collections",
    "conformance",
    "feature",
    "filter_shapes",
    "geometry_bbox",
    "incident_feature",
    "items",
    "landing",
    "parse_bbox",
    "parse_datetime",
    "parse_f",
    "parse_limit",
    "parse_offset",
    "split_collection_id",
    "violation_feature",
    "zone_features",
]
