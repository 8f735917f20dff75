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
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from truce.errors import NotFound
from truce.formats.exports import COLUMNS, WHAT, ExportFormat, ExportTable, export_format
from truce.formats.exports.arrow import TYPES, batch_schema, record_batch, utc_times
from truce.formats.exports.columns import (
    BLOCK_ROWS,
    INCIDENT_COLUMNS,
    INCIDENT_FIELDS_READ,
    VIOLATION_COLUMNS,
    incident_columns,
    violation_block,
)
from truce.service import views
from truce.service.evaluation import Evaluations
from truce.service.scopes import review_key
from truce.service.visibility import Visibility
from truce.store.deferred import resolved
from truce.store.heap import paused_gc
from truce.store.packed import PackedIncidents, fields_of, items_at, key_positions
from truce.store.packed_arrow import Kind, packed_columns
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
    return source_table(views.source(evals, agreement_id, user, as_of=as_of), what, block_rows)


def source_table(src: views.Source, what: str, block_rows: int = BLOCK_ROWS) -> ExportTable:
    """The rows of the view `src` makes, made and filtered a block at a time: the whole
    view at once would be a filtered copy of every incident (2.5 KB each, held packed:
    `truce.store.packed`), where a block of them is all a writer needs."""
    incidents = resolved(src.data["incidents"])
    vis = src.visibility
    if what == "incidents":
        rows = len(incidents) if vis.user.sees_everything else sum(map(vis.sees, incidents))
        return ExportTable(what, COLUMNS[what], _incident_blocks(src, block_rows), rows)
    violations = vis.filter(src.data, incidents=False)["violations"]
    return ExportTable(
        what, COLUMNS[what], _violation_blocks(src, violations, block_rows), len(violations)
    )


def _incident_blocks(src: views.Source, block_rows: int) -> Iterator[pa.RecordBatch]:
    incidents = resolved(src.data["incidents"])
    if isinstance(incidents, PackedIncidents) and src.visibility.user.sees_everything:
        yield from _packed_blocks(incidents, src.visibility, block_rows)
        return
    # An evaluation of dicts (a visibility class's, an `as_of`): each row's fields read
    # from its dict as `Visibility.filter` would show it, without making that view (a
    # copy of every incident and violation).
    vis = src.visibility
    # Everyone sees every violation of the incidents they see as theirs (or all).
    published_violations = (
        Counter() if vis.user.sees_everything else vis.published_violations(src.data["violations"])
    )
    for start in range(0, len(incidents), block_rows):
        # A block makes tens of thousands of objects and no cycle: with the collector
        # on, they would wake it over and over (three times the CPU time of the block).
        with paused_gc():
            page = items_at(incidents, range(start, min(start + block_rows, len(incidents))))
            flags = vis.published_incidents.are_in(map(review_key, page)).tolist()
            if vis.user.sees_everything:  # every incident, as it is
                shown, published = page, flags
                violations = [len(i["violations"] or ()) for i in page]
            else:
                shown, published, violations = [], [], []
                for inc, flag in zip(page, flags, strict=True):
                    seen = vis.seen(inc, flag)
                    if seen is None:
                        continue
                    shown.append(vis.shown_incident(inc, *seen))
                    published.append(seen[0])
                    own = bool(seen[1])
                    violations.append(
                        len(inc["violations"] or ()) if own else published_violations[inc["key"]]
                    )
            block = incident_columns(
                [[i[name] for i in shown] for name in INCIDENT_FIELDS_READ], published, violations
            )
        yield record_batch(INCIDENT_COLUMNS, block)


def _packed_blocks(
    packed: PackedIncidents, vis: Visibility, block_rows: int
) -> Iterator[pa.RecordBatch]:
    """Everything, held packed (the server's full evaluation): the columns straight from
    the rows' text, no incident made a dict. Such an evaluation has no `review_key`
    (only a visibility class's has, `link_review_keys`): its own key is the one."""
    counts = packed.violation_counts()
    published = packed.keys.is_in(vis.published_incidents)
    for start in range(0, len(packed), block_rows):
        positions = range(start, min(start + block_rows, len(packed)))
        flags = published[start : positions.stop]
        batch = _packed_batch(packed, positions, flags, counts[start : positions.stop])
        if batch is None:  # a row stored as an object, or an odd value: parsed
            with paused_gc():
                values = fields_of(packed, positions, INCIDENT_FIELDS_READ)
                block = incident_columns(
                    values, flags.tolist(), counts[start : positions.stop].tolist()
                )
            batch = record_batch(INCIDENT_COLUMNS, block)
        yield batch


# How each field of a packed row is read (`packed_columns`) for an incidents export.
_PACKED_KINDS: dict[str, Kind] = {
    name: "list" if c.kind == "list" else "str" if c.kind in ("str", "time") else "raw"
    for c in INCIDENT_COLUMNS
    if (name := c.name) in INCIDENT_FIELDS_READ
}
_PACKED_KINDS["fatalities_range"] = "raw"


def _range_part(ranges: pa.Array, part: str) -> pa.Array:
    """`low` or `high` of `fatalities_range` objects' JSON texts, as numbers."""
    found = pc.struct_field(pc.extract_regex(ranges, f'"{part}":(?P<v>[^,}}]*)'), "v")
    return pc.cast(pc.if_else(pc.equal(found, "null"), None, found), pa.float64())


def _packed_batch(
    incidents: PackedIncidents, positions: range, published: np.ndarray, violations: np.ndarray
) -> pa.RecordBatch | None:
    """A block of a packed evaluation's incidents, read from the rows' text; None where
    that cannot be done (then the rows are parsed)."""
    fields = packed_columns(incidents, positions.start, positions.stop, _PACKED_KINDS)
    if fields is None:
        return None
    arrays = []
    try:
        for column in INCIDENT_COLUMNS:
            name, kind = column.name, column.kind
            if name in ("fatalities_low", "fatalities_high"):
                arrays.append(_range_part(fields["fatalities_range"], name.split("_")[1]))
            elif name == "violations":
                arrays.append(pa.array(violations, pa.int64()))
            elif name == "published":
                arrays.append(pa.array(published, pa.bool_()))
            elif kind == "time":
                arrays.append(utc_times(fields[name]))
            elif kind in ("int", "number"):
                arrays.append(pc.cast(fields[name], TYPES[kind]))
            else:
                arrays.append(fields[name])
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # a value of another type than its column's
        return None
    return pa.RecordBatch.from_arrays(arrays, schema=batch_schema(INCIDENT_COLUMNS))


def _violation_blocks(
    src: views.Source, violations: list[dict[str, Any]], block_rows: int
) -> Iterator[pa.RecordBatch]:
    """The violations with their incidents' places, only a block's incidents decoded and
    filtered at a time (a violation whose incident the reader may not see has none)."""
    incidents = resolved(src.data["incidents"])
    wanted = {v["incident_key"] for v in violations}
    at = key_positions(incidents, wanted)
    for start in range(0, len(violations), block_rows):
        part = violations[start : start + block_rows]
        positions = sorted({at[v["incident_key"]] for v in part if v["incident_key"] in at})
        page = items_at(incidents, positions)
        seen = src.visibility.filter({"incidents": page, "violations": []})["incidents"]
        yield record_batch(
            VIOLATION_COLUMNS, violation_block(part, {inc["key"]: inc for inc in seen})
        )


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
