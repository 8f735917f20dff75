"""CSV and HXL-tagged CSV, written block by block.

A header row of column names; HXL adds a second row with each column's HXL
hashtag and attributes (HXL 1.1: `#event+id`, `#date+start`, `#geo+lat`,
`#affected+killed`, ...) so HXL tools (libhxl, HDX, HXL Proxy) find the
columns by tag. Lists are joined with `;`, booleans written `true`/`false`,
empty cells are missing values. UTF-8, `\\r\\n` line ends (RFC 4180).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from truce.formats.exports.columns import ExportTable, rows_of

LIST_SEPARATOR = ";"
_BOOL = {True: "true", False: "false", None: ""}


def csv_chunks(table: ExportTable, *, hxl: bool = False) -> Iterator[bytes]:
    """The header (and the HXL hashtag row), then one chunk per block of rows."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([c.name for c in table.columns])
    if hxl:
        writer.writerow([c.hxl for c in table.columns])
    yield buf.getvalue().encode()
    lists = [i for i, c in enumerate(table.columns) if c.kind == "list"]
    bools = [i for i, c in enumerate(table.columns) if c.kind == "bool"]
    join = LIST_SEPARATOR.join
    for block in table.blocks:
        buf.seek(0)
        buf.truncate()
        block = list(block)
        for i in lists:
            block[i] = [join(v) for v in block[i]]
        for i in bools:
            block[i] = [_BOOL[v] for v in block[i]]
        writer.writerows(rows_of(block))
        yield buf.getvalue().encode()


def hxl_chunks(table: ExportTable) -> Iterator[bytes]:
    return csv_chunks(table, hxl=True)
