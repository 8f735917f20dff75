"""Exports of the incidents or violations a user may see (docs/exports.md).

The rows come from the same visibility-filtered view as the evaluation
endpoint (`views.evaluation`), so an export never shows more than the API
does: an observer's holds only published items, and protected sites never
appear. Text formats are produced block by block as the caller reads them.
Binary formats are written in full to a private temporary file first, so a
failure is an error answer and never half a file, then read back in chunks.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from truce.errors import NotFound
from truce.formats.exports import WHAT, ExportFormat, ExportTable, export_format, view_table
from truce.formats.exports.columns import BLOCK_ROWS
from truce.service import views
from truce.service.evaluation import Evaluations
from truce.store.users import User

READ_CHUNK_BYTES = 1 << 20


@dataclass(frozen=True)
class Export:
    format: ExportFormat
    filename: str  # suggested, e.g. us-ru-2016-09-incidents.geojson
    chunks: Iterator[bytes]


def export_table(
    evals: Evaluations,
    agreement_id: str,
    what: str,
    user: User,
    *,
    as_of: datetime | None = None,
    block_rows: int = BLOCK_ROWS,
) -> ExportTable:
    """The incidents or violations of `user`'s view of the evaluation, as export rows."""
    if what not in WHAT:
        raise NotFound(f"nothing to export as {what!r}; use one of {', '.join(WHAT)}")
    evals.agreements.get(agreement_id)  # an unknown agreement before any work
    view = views.evaluation(evals, agreement_id, user, as_of=as_of)
    return view_table(view, what, block_rows)


def export(
    evals: Evaluations,
    agreement_id: str,
    what: str,
    format_name: str,
    user: User,
    *,
    as_of: datetime | None = None,
) -> Export:
    """The export as chunks of bytes; errors (format, agreement, what) raise before any."""
    fmt = export_format(format_name)
    table = export_table(evals, agreement_id, what, user, as_of=as_of)
    filename = f"{agreement_id}-{what}.{fmt.extension}"
    if fmt.chunks is not None:
        return Export(fmt, filename, fmt.chunks(table))
    return Export(fmt, filename, _read_chunks(_written(fmt, table)))


def save(fmt: ExportFormat, table: ExportTable, output: Path) -> None:
    """Write the export to `output`, replacing it only once complete."""
    work = Path(tempfile.mkdtemp(prefix=".truce-export-", dir=output.parent))
    try:
        partial = work / output.name
        if fmt.write is not None:
            fmt.write(table, partial)
        else:
            assert fmt.chunks is not None
            with partial.open("wb") as f:
                for chunk in fmt.chunks(table):
                    f.write(chunk)
        os.replace(partial, output)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _written(fmt: ExportFormat, table: ExportTable) -> BinaryIO:
    """The binary export in an open, already unlinked temporary file."""
    assert fmt.write is not None
    work = Path(tempfile.mkdtemp(prefix="truce-export-"))
    try:
        path = work / f"{table.layer}.{fmt.extension}"
        fmt.write(table, path)
        return path.open("rb")  # stays readable after the directory is removed (POSIX)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _read_chunks(f: BinaryIO) -> Iterator[bytes]:
    with f:
        while chunk := f.read(READ_CHUNK_BYTES):
            yield chunk
