"""GeoJSON (RFC 7946) and newline-delimited GeoJSON, written block by block.

One Feature per row: `id` is the row's stable key, `geometry` a Point
`[lon, lat]` in WGS84 (RFC 7946 has no `crs` member: WGS84 is implied), and
`properties` every column (lists as JSON arrays). A FeatureCollection is
opened, its features written a block at a time with commas between them, and
closed; the newline-delimited form writes each Feature on its own line.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson

from truce.formats.exports.columns import Block, ExportTable, block_len, rows_of

_OPEN = b'{"type":"FeatureCollection","features":[\n'
_CLOSE = b"\n]}\n"


def _features(table: ExportTable, block: Block, before: bytes, between: bytes) -> bytes:
    """The block's Features: `before` the first, `between` each later one.

    Each Feature is encoded alone and appended at once: orjson's answer for a small
    object holds a buffer of several KiB, so keeping them all until a join would
    cost that much per row."""
    names = [c.name for c in table.columns]
    key, lon, lat = table.index("key"), table.index("lon"), table.index("lat")
    out = bytearray()
    dumps = orjson.dumps
    separator = before
    for row in rows_of(block):
        x, y = row[lon], row[lat]
        feature: dict[str, Any] = {
            "type": "Feature",
            "id": row[key],
            "geometry": None
            if x is None or y is None
            else {"type": "Point", "coordinates": [x, y]},
            "properties": dict(zip(names, row, strict=True)),
        }
        out += separator
        out += dumps(feature)
        separator = between
    return bytes(out)


def geojson_chunks(table: ExportTable) -> Iterator[bytes]:
    """The FeatureCollection, one chunk per block of rows."""
    yield _OPEN
    before = b""
    for block in table.blocks:
        if block_len(block):
            yield _features(table, block, before, b",\n")
            before = b",\n"
    yield _CLOSE


def ndjson_chunks(table: ExportTable) -> Iterator[bytes]:
    """One Feature per line, one chunk per block of rows."""
    for block in table.blocks:
        if block_len(block):
            yield _features(table, block, b"", b"\n") + b"\n"
