"""CSV and HXL-tagged CSV, written block by block.

A header row of column names; HXL adds a second row with each column's HXL
hashtag and attributes (HXL 1.1: `#event+id`, `#date+start`, `#geo+lat`,
`#affected+killed`, ...) so HXL tools (libhxl, HDX, HXL Proxy) find the
columns by tag. Lists are joined with `;`, booleans written `true`/`false`,
empty cells are missing values. UTF-8, `\\r\\n` line ends (RFC 4180), cells quoted
only where they must be, as Python's `csv` module writes them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from truce.formats.exports.columns import ExportTable
from truce.formats.exports.text import LIST_SEPARATOR, csv_lines


def csv_chunks(table: ExportTable, *, hxl: bool = False) -> Iterator[bytes]:
    """The header (and the HXL hashtag row), then one chunk per block of rows."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([c.name for c in table.columns])
    if hxl:
        writer.writerow([c.hxl for c in table.columns])
    yield buf.getvalue().encode()
    for batch in table.blocks:
        if batch.num_rows:
            yield csv_lines(table.columns, batch)


def hxl_chunks(table: ExportTable) -> Iterator[bytes]:
    return csv_chunks(table, hxl=True)


__all__ = ["LIST_SEPARATOR", "csv_chunks", "hxl_chunks"]
