"""Export rows as Arrow record batches, one per block: what every writer consumes.

A batch has the table's columns in order, typed: text `string`, counts `int64`,
numbers `float64`, `bool`, lists `list<string>` (an absent list is an empty one),
times `timestamp[us, UTC]`. The text formats render a batch with Arrow's kernels
(`truce.formats.exports.text`); GeoPackage and GeoParquet write it with a WKB Point
geometry made for the whole batch at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from itertools import chain
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from truce.formats.exports.columns import Block, Column

GEOMETRY = "geometry"
TIME = pa.timestamp("us", tz="UTC")

TYPES: dict[str, pa.DataType] = {
    "str": pa.string(),
    "int": pa.int64(),
    "number": pa.float64(),
    "bool": pa.bool_(),
    "time": TIME,
    "list": pa.list_(pa.string()),
}


def batch_schema(columns: Sequence[Column]) -> pa.Schema:
    return pa.schema([pa.field(c.name, TYPES[c.kind]) for c in columns])


def _utc(local: str | None) -> datetime | None:
    return None if local is None else datetime.fromisoformat(local).astimezone(UTC)


def utc_times(local: pa.Array) -> pa.Array:
    """ISO 8601 times with offsets (as the evaluation writes them) as UTC timestamps.
    Arrow parses the usual forms; anything else Python's `fromisoformat` reads."""
    try:
        return pc.cast(local, TIME)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return pa.array([_utc(v) for v in local.to_pylist()], TIME)


def _array(column: Column, values: list[Any]) -> pa.Array:
    if column.kind == "time":
        return utc_times(pa.array(values, pa.string()))
    if column.kind == "list":
        return _list_array(values)
    return pa.array(values, TYPES[column.kind], from_pandas=True)


def _list_array(values: list[Any]) -> pa.Array:
    """Lists of text (None: an empty one), their items laid end to end and cut by
    offsets: some 2.5 times faster than Arrow converting the nested lists."""
    lists = [v or () for v in values]
    offsets = np.zeros(len(lists) + 1, np.int32)
    np.cumsum(np.fromiter(map(len, lists), np.int32, len(lists)), out=offsets[1:])
    items = pa.array(list(chain.from_iterable(lists)), pa.string())
    return pa.ListArray.from_arrays(pa.array(offsets), items)


def record_batch(columns: Sequence[Column], block: Block) -> pa.RecordBatch:
    """A block of Python values (one list per column) as a batch."""
    arrays = [_array(c, v) for c, v in zip(columns, block, strict=True)]
    return pa.RecordBatch.from_arrays(arrays, schema=batch_schema(columns))


# A WKB Point as GEOS writes it (shapely.to_wkb): little-endian, type 1, then x and y.
_WKB_POINT = np.dtype([("order", "u1"), ("type", "<u4"), ("x", "<f8"), ("y", "<f8")])


def points_wkb(lon: pa.Array, lat: pa.Array) -> pa.Array:
    """WKB Points for a batch; null where a row has no coordinates. Written as numpy
    records laid end to end rather than through GEOS: every point has 21 bytes, so the
    offsets are a range."""
    x = lon.to_numpy(zero_copy_only=False)  # null -> nan
    y = lat.to_numpy(zero_copy_only=False)
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


def geometry_schema(columns: Sequence[Column], *, lists_as_text: bool) -> pa.Schema:
    """The batches' schema and a WKB `geometry`; lists as text where the format has no
    list type (GeoPackage)."""
    fields = [
        pa.field(c.name, pa.string() if lists_as_text and c.kind == "list" else TYPES[c.kind])
        for c in columns
    ]
    return pa.schema([*fields, pa.field(GEOMETRY, pa.binary())])


def with_geometry(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    """The batch with its WKB Points, in `geometry_schema`."""
    from truce.formats.exports.text import joined_lists

    arrays = [
        joined_lists(a) if pa.types.is_list(a.type) and not pa.types.is_list(f.type) else a
        for a, f in zip(batch.columns, schema, strict=False)
    ]
    arrays.append(points_wkb(batch.column("lon"), batch.column("lat")))
    return pa.RecordBatch.from_arrays(arrays, schema=schema)
