"""GeoPackage through pyogrio (GDAL), fed one Arrow record batch per block.

`pyogrio.write_arrow` reads the batches from an Arrow stream as GDAL asks for
them, so only one block is in memory at a time. One layer (`incidents` or
`violations`), Point geometries in EPSG:4326, lists joined with `;` (GeoPackage
has no list type), times as DateTime in UTC.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyogrio

from truce.formats.exports.arrow import GEOMETRY, arrow_schema, record_batches
from truce.formats.exports.columns import ExportTable

CRS = "EPSG:4326"


def write_gpkg(table: ExportTable, path: Path) -> None:
    """Write `table` as a new GeoPackage at `path` (which must not exist yet)."""
    schema = arrow_schema(table, "text")
    stream = pa.RecordBatchReader.from_batches(schema, record_batches(table, schema, "text"))
    pyogrio.write_arrow(
        stream,
        str(path),
        layer=table.layer,
        driver="GPKG",
        geometry_name=GEOMETRY,
        geometry_type="Point",
        crs=CRS,
    )
