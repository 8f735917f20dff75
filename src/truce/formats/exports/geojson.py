"""GeoJSON (RFC 7946) and newline-delimited GeoJSON, written block by block.

One Feature per row: `id` is the row's stable key, `geometry` a Point
`[lon, lat]` in WGS84 (RFC 7946 has no `crs` member: WGS84 is implied), and
`properties` every column (lists as JSON arrays). A FeatureCollection is
opened, its features written a block at a time with commas between them, and
closed; the newline-delimited form writes each Feature on its own line. Each
Feature's text is put together for a whole block at once from its columns' JSON
texts (`truce.formats.exports.text`).
"""

from __future__ import annotations

from collections.abc import Iterator

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from truce.formats.exports.columns import ExportTable
from truce.formats.exports.text import interleaved, json_values, number_texts

_OPEN = b'{"type":"FeatureCollection","features":[\n'
_CLOSE = b"\n]}\n"


def _features(table: ExportTable, batch: pa.RecordBatch, between: str) -> bytes:
    """The batch's Features, each followed by `between`."""
    values = json_values(table.columns, batch)
    key = values[table.index("key")]
    point = pc.binary_join_element_wise(
        '{"type":"Point","coordinates":[',
        number_texts(batch.column("lon")),
        ",",
        number_texts(batch.column("lat")),
        "]}",
        "",
    )  # null where either is missing
    names = [orjson.dumps(c.name).decode() for c in table.columns]
    literals = ['{"type":"Feature","id":', ',"geometry":', ',"properties":{' + names[0] + ":"]
    literals += [f",{name}:" for name in names[1:]]
    return interleaved([*literals, "}}" + between], [key, pc.fill_null(point, "null"), *values])


def geojson_chunks(table: ExportTable) -> Iterator[bytes]:
    """The FeatureCollection, one chunk per block of rows."""
    yield _OPEN
    before = b""
    for batch in table.blocks:
        if batch.num_rows:
            yield before + _features(table, batch, ",\n")[:-2]
            before = b",\n"
    yield _CLOSE


def ndjson_chunks(table: ExportTable) -> Iterator[bytes]:
    """One Feature per line, one chunk per block of rows."""
    for batch in table.blocks:
        if batch.num_rows:
            yield _features(table, batch, "\n")
