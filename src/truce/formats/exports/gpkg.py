"""GeoPackage through pyogrio (GDAL), fed one Arrow record batch per block.

`pyogrio.write_arrow` reads the batches from an Arrow stream as GDAL asks for
them, so only one block is in memory at a time. One layer (`incidents` or
`violations`), Point geometries in EPSG:4326, lists joined with `;` (GeoPackage
has no list type), times as DateTime in UTC.

The spatial index (the GeoPackage R-tree) is written for tables of up to
`SPATIAL_INDEX_MAX_ROWS` rows. GDAL builds it once all rows are in, holding it
in memory (measured: about 36 bytes per row, and 2M points take 15 times as long
as 300k), so past that size the file is written without one and stays flat in
memory; QGIS offers to create it on opening, as does `ogrinfo FILE -sql
"SELECT CreateSpatialIndex('incidents', 'geom')"`.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyogrio

from truce.formats.exports.arrow import GEOMETRY, geometry_schema, with_geometry
from truce.formats.exports.columns import ExportTable

CRS = "EPSG:4326"
SPATIAL_INDEX_MAX_ROWS = 250_000  # ~9 MB of R-tree: no more than a block of rows costs


def write_gpkg(
    table: ExportTable, path: Path, *, spatial_index_max_rows: int = SPATIAL_INDEX_MAX_ROWS
) -> None:
    """Write `table` as a new GeoPackage at `path` (which must not exist yet)."""
    indexed = table.rows is not None and table.rows <= spatial_index_max_rows
    schema = geometry_schema(table.columns, lists_as_text=True)
    batches = (with_geometry(b, schema) for b in table.blocks if b.num_rows)
    stream = pa.RecordBatchReader.from_batches(schema, batches)
    pyogrio.write_arrow(
        stream,
        str(path),
        layer=table.layer,
        driver="GPKG",
        geometry_name=GEOMETRY,
        geometry_type="Point",
        crs=CRS,
        SPATIAL_INDEX="YES" if indexed else "NO",
    )
