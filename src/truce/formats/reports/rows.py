"""What the report parsers (CSV, JSON Lines) hand to the row checks: every known
column as Arrow text, the line of each row, and rows already rejected for their shape."""

from __future__ import annotations

import codecs
import mmap
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from truce.domain.model import Rejection
from truce.errors import ReportFormatError

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
    # SPEC §4, optional in every input format
    "observed_to",
    "direction",
    "fatalities_low",
    "fatalities_high",
    "source_url",
    "dataset",
    "status",  # checkpoint_status / convoy_status only (SPEC §6); kept in notes
)
KNOWN = frozenset(COLUMNS)
# Not a file column: an importer's source row as JSON text, carried to the report.
ORIGINAL = "original"
# Columns whose values repeat: read and checked once per distinct value.
MANY_DISTINCT = ("report_id", "observed_at", "observed_to", "lat", "lon")
FEW_DISTINCT = tuple(c for c in COLUMNS if c not in MANY_DISTINCT)

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


def object_array(values: list[str]) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


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
