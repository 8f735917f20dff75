"""GeoParquet 1.1 through pyarrow's `ParquetWriter`, one row group per block.

The `geo` file metadata names the WKB geometry column, its geometry type
(Point) and its CRS, EPSG:4326 as PROJJSON; as GeoParquet requires, coordinates
are stored x = longitude, y = latitude whatever the CRS's axis order. Lists
stay `list<string>`, times `timestamp[us, UTC]`.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from pyproj import CRS

from truce.formats.exports.arrow import GEOMETRY, geometry_schema, with_geometry
from truce.formats.exports.columns import ExportTable

GEOPARQUET_VERSION = "1.1.0"


@cache
def _projjson() -> dict[str, Any]:
    return CRS.from_epsg(4326).to_json_dict()  # type: ignore[no-any-return]


def geo_metadata() -> dict[str, Any]:
    return {
        "version": GEOPARQUET_VERSION,
        "primary_column": GEOMETRY,
        "columns": {GEOMETRY: {"encoding": "WKB", "geometry_types": ["Point"], "crs": _projjson()}},
    }


def write_geoparquet(table: ExportTable, path: Path) -> None:
    schema = geometry_schema(table.columns, lists_as_text=False)
    schema = schema.with_metadata({b"geo": json.dumps(geo_metadata()).encode()})
    with pq.ParquetWriter(str(path), schema, compression="snappy") as writer:
        for batch in table.blocks:
            if batch.num_rows:
                writer.write_batch(with_geometry(batch, schema))
