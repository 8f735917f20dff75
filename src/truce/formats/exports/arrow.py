"""Export tables as Arrow record batches, one per block: what the GeoPackage and
GeoParquet writers consume.

Times become `timestamp[s, UTC]`, numbers `float64` (missing values are null),
and the geometry a WKB Point (x = lon, y = lat, WGS84) in the column
`geometry`, made for a whole block at once with shapely. Lists stay
`list<string>` where the format has lists (`lists="list"`) and are joined with
`;` where it has not (`lists="text"`, as in CSV).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from truce.formats.exports.columns import Block, Column, ExportTable, block_len
from truce.formats.exports.csv import LIST_SEPARATOR

GEOMETRY = "geometry"
ListsAs = Literal["list", "text"]

_TYPES: dict[str, pa.DataType] = {
    "str": pa.string(),
    "int": pa.int64(),
    "number": pa.float64(),
    "bool": pa.bool_(),
    "time": pa.timestamp("s", tz="UTC"),
}


def _type(column: Column, lists: ListsAs) -> pa.DataType:
    if column.kind == "list":
        return pa.list_(pa.string()) if lists == "list" else pa.string()
    return _TYPES[column.kind]


def arrow_schema(table: ExportTable, lists: ListsAs) -> pa.Schema:
    fields = [pa.field(c.name, _type(c, lists)) for c in table.columns]
    return pa.schema([*fields, pa.field(GEOMETRY, pa.binary())])


def _array(column: Column, values: list[object], lists: ListsAs) -> pa.Array:
    if column.kind == "time":
        return pc.cast(pa.array(values, pa.string()), _TYPES["time"])
    if column.kind == "list" and lists == "text":
        values = [LIST_SEPARATOR.join(v) for v in values]  # type: ignore[arg-type]
    return pa.array(values, _type(column, lists), from_pandas=True)


# A WKB Point as GEOS writes it (shapely.to_wkb): little-endian, type 1, then x and y.
_WKB_POINT = np.dtype([("order", "u1"), ("type", "<u4"), ("x", "<f8"), ("y", "<f8")])


def points_wkb(lon: list[object], lat: list[object]) -> pa.Array:
    """WKB Points for a block; null where a row has no coordinates. Written as numpy
    records laid end to end rather than through GEOS: every point has 21 bytes, so the
    offsets are a range."""
    x = np.array(lon, dtype=float)  # None -> nan
    y = np.array(lat, dtype=float)
    missing = np.isnan(x) | np.isnan(y)
    points = np.empty(len(x), dtype=_WKB_POINT)
    points["order"], points["type"], points["x"], points["y"] = 1, 1, x, y
    offsets = np.arange(len(x) + 1, dtype=np.int32) * _WKB_POINT.itemsize
    validity = pa.array(~missing).buffers()[1] if missing.any() else None
    return pa.Array.from_buffers(
        pa.binary(),
        len(x),
        [validity, pa.py_buffer(offsets), pa.py_buffer(points)],
        null_count=int(missing.sum()),
    )


def record_batch(
    table: ExportTable, block: Block, schema: pa.Schema, lists: ListsAs
) -> pa.RecordBatch:
    arrays = [_array(c, v, lists) for c, v in zip(table.columns, block, strict=True)]
    arrays.append(points_wkb(block[table.index("lon")], block[table.index("lat")]))
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def record_batches(
    table: ExportTable, schema: pa.Schema, lists: ListsAs
) -> Iterator[pa.RecordBatch]:
    for block in table.blocks:
        if block_len(block):
            yield record_batch(table, block, schema, lists)
