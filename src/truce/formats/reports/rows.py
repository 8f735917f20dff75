"""What the report parsers (CSV, JSON Lines) hand to the row checks: every known
column as Arrow text, the line of each row, and rows already rejected for their shape."""

from __future__ import annotations

import codecs
import mmap
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from truce.domain.model import Rejection
from truce.errors import ReportFormatError

# SPEC §4, optional in every input format (checked in `extras`).
SPEC4_COLUMNS = (
    "observed_to",
    "direction",
    "fatalities_low",
    "fatalities_high",
    "source_url",
    "dataset",
)
COLUMNS: tuple[str, ...] = (
    "report_id",
    "source",
    "observed_at",
    "lat",
    "lon",
    "place",
    "location_precision_m",
    "event_type",
    "weapon",
    "actor",
    "side",
    "target",
    "count",
    "fatalities",
    "reliability",
    "credibility",
    "notes",
    *SPEC4_COLUMNS,
    "status",  # checkpoint_status / convoy_status only (SPEC §6); kept in notes
)
KNOWN = frozenset(COLUMNS)
# Not a file column: an importer's source row as JSON text, carried to the report.
ORIGINAL = "original"
# Columns whose values repeat: read and checked once per distinct value.
MANY_DISTINCT = ("report_id", "observed_at", "observed_to", "lat", "lon")
FEW_DISTINCT = tuple(c for c in COLUMNS if c not in MANY_DISTINCT)

# The longest value a field may hold: a longer one rejects its row (SPEC §2 values are
# short; a 128 KiB field is a pasted file or a runaway quote, not a report).
FIELD_LIMIT = 128 * 1024  # characters

Raw = bytes | mmap.mmap  # a file's bytes, read or mapped: both have find() and slicing


@dataclass
class TextRows:
    """Parsed but unchecked rows, in file order."""

    columns: dict[str, pa.ChunkedArray]  # the known columns the file has (and ORIGINAL): text
    lines: np.ndarray  # int64, the physical line each row starts on
    rejected: list[Rejection] = field(default_factory=list)  # rows the parser could not use
    notices: list[str] = field(default_factory=list)  # what a reader should know about the file

    def __post_init__(self) -> None:
        for name, values in self.columns.items():
            assert len(values) == len(self.lines), (name, len(values), len(self.lines))


def text_array(values: list[str]) -> pa.ChunkedArray:
    return pa.chunked_array([pa.array(values, type=pa.string())])


def object_array(values: Sequence[object]) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def text_objects(text: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Arrow text as an object array of `str` (None for nulls). Through a list: Arrow's
    own `to_numpy` takes 3-6x as long for a million short strings (0.44-0.76 s)."""
    return object_array(text.to_pylist())


def not_utf8(raw: Raw, name: str) -> ReportFormatError:
    try:
        codecs.utf_8_decode(raw, "strict", True)
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return ReportFormatError(
            f"{name}: line {line}: not UTF-8 (byte 0x{raw[exc.start]:02x}); "
            "save the file as UTF-8 and try again"
        )
    return ReportFormatError(f"{name}: could not decode the file as UTF-8")


def decode(raw: Raw, start: int, name: str) -> str:
    """The text from byte `start` on."""
    try:
        text, _ = codecs.utf_8_decode(memoryview(raw)[start:], "strict", True)
    except UnicodeDecodeError:
        raise not_utf8(raw, name) from None
    return text


def check_utf8(raw: Raw, name: str) -> None:
    """Raise `ReportFormatError` (with the line) unless `raw` is UTF-8; one vectorised pass."""
    if isinstance(raw, bytes) and raw.isascii():
        return
    whole = pa.LargeStringArray.from_buffers(
        1, pa.py_buffer(np.array([0, len(raw)], dtype=np.int64)), pa.py_buffer(raw)
    )
    try:
        whole.validate(full=True)
    except pa.ArrowInvalid:
        raise not_utf8(raw, name) from None


def without_long_fields(rows: TextRows, limit: int = FIELD_LIMIT) -> TextRows:
    """`rows` less those with a value over `limit` characters, each rejected with the
    field and its length (the rest of the file is read as usual)."""
    n = len(rows.lines)
    too_long = np.zeros(n, dtype=bool)
    for name, values in rows.columns.items():
        if name != ORIGINAL and n and _bytes_over(values, limit):
            too_long |= _lengths(values) > limit
    if not too_long.any():
        return rows
    rejected = list(rows.rejected)
    texts = {c: rows.columns[c] for c in ("report_id", "source") if c in rows.columns}
    for i in np.flatnonzero(too_long).tolist():
        cells = {c: v[i].as_py() or "" for c, v in texts.items()}
        problems = tuple(
            (c, f"{c} is {length:,} characters long; a field holds at most {limit:,} (128 KiB)")
            for c, v in rows.columns.items()
            if c != ORIGINAL and (length := len(v[i].as_py() or "")) > limit
        )
        rejected.append(
            Rejection(
                line=int(rows.lines[i]),
                report_id=cells.get("report_id", "").strip() or None,
                reason="; ".join(r for _, r in problems),
                source=cells.get("source", "").strip() or None,
                field=problems[0][0],
                problems=problems,
            )
        )
    keep = pa.array(np.flatnonzero(~too_long))
    rejected.sort(key=lambda r: r.line)
    return TextRows(
        {c: v.take(keep) for c, v in rows.columns.items()},
        rows.lines[~too_long],
        rejected,
        rows.notices,
    )


def _bytes_over(values: pa.ChunkedArray, limit: int) -> bool:
    """Whether some value has more than `limit` bytes. A character is at least one byte, so
    only such a column needs its characters counted; byte lengths come from the offsets
    alone, without decoding (counting characters in every column of a million rows takes
    over a second)."""
    for chunk in values.chunks:
        texts = chunk.dictionary if pa.types.is_dictionary(chunk.type) else chunk
        longest = pc.max(pc.binary_length(texts)).as_py()
        if longest is not None and longest > limit:
            return True
    return False


def _lengths(values: pa.ChunkedArray) -> np.ndarray:
    """Characters per row (0 for null); a dictionary column is measured per entry."""
    parts = []
    for chunk in values.chunks:
        if pa.types.is_dictionary(chunk.type):
            per_entry = pc.utf8_length(chunk.dictionary).fill_null(0).to_numpy()
            codes = chunk.indices.fill_null(0).to_numpy(zero_copy_only=False)
            parts.append(per_entry[codes] if len(per_entry) else np.zeros(len(chunk), np.int64))
        else:
            parts.append(pc.utf8_length(chunk).fill_null(0).to_numpy(zero_copy_only=False))
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
