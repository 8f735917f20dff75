"""Incidents and violations written out for other tools, in constant memory.

Pure writers: each takes an `ExportTable` (columns and rows, block by block)
and either yields the bytes of a text format one block at a time or writes a
binary format to a file one block at a time. No database, no web framework.

| format | module | media type |
|---|---|---|
| `geojson` | `geojson` | application/geo+json |
| `ndjson` | `geojson` | application/x-ndjson (one GeoJSON Feature per line) |
| `csv`, `hxl` | `csv` | text/csv |
| `gpkg` | `gpkg` (pyogrio) | application/geopackage+sqlite3 |
| `parquet` | `geoparquet` (pyarrow) | application/vnd.apache.parquet |
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from truce.errors import BadInput
from truce.formats.exports.columns import COLUMNS, Column, ExportTable
from truce.formats.exports.csv import csv_chunks, hxl_chunks
from truce.formats.exports.geojson import geojson_chunks, ndjson_chunks


def _write_gpkg(table: ExportTable, path: Path) -> None:
    from truce.formats.exports.gpkg import write_gpkg  # GDAL loads only when asked for

    write_gpkg(table, path)


def _write_geoparquet(table: ExportTable, path: Path) -> None:
    from truce.formats.exports.geoparquet import write_geoparquet

    write_geoparquet(table, path)


@dataclass(frozen=True)
class ExportFormat:
    """One export format: text formats have `chunks`, binary ones `write`."""

    name: str
    media_type: str
    extension: str
    description: str
    chunks: Callable[[ExportTable], Iterator[bytes]] | None = None
    write: Callable[[ExportTable, Path], None] | None = None

    @property
    def binary(self) -> bool:
        return self.chunks is None


FORMATS: dict[str, ExportFormat] = {
    f.name: f
    for f in (
        ExportFormat(
            "geojson",
            "application/geo+json",
            "geojson",
            "GeoJSON FeatureCollection",
            geojson_chunks,
        ),
        ExportFormat(
            "ndjson",
            "application/x-ndjson",
            "ndjson",
            "newline-delimited GeoJSON, one Feature per line",
            ndjson_chunks,
        ),
        ExportFormat("csv", "text/csv; charset=utf-8", "csv", "CSV", csv_chunks),
        ExportFormat("hxl", "text/csv; charset=utf-8", "hxl.csv", "HXL-tagged CSV", hxl_chunks),
        ExportFormat(
            "gpkg",
            "application/geopackage+sqlite3",
            "gpkg",
            "GeoPackage",
            write=_write_gpkg,
        ),
        ExportFormat(
            "parquet",
            "application/vnd.apache.parquet",
            "parquet",
            "GeoParquet",
            write=_write_geoparquet,
        ),
    )
}
WHAT = tuple(COLUMNS)


def export_format(name: str) -> ExportFormat:
    try:
        return FORMATS[name]
    except KeyError:
        raise BadInput(f"unknown export format {name!r}; use one of {', '.join(FORMATS)}") from None


__all__ = [
    "COLUMNS",
    "FORMATS",
    "WHAT",
    "Column",
    "ExportFormat",
    "ExportTable",
    "export_format",
]
