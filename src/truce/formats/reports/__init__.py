"""Read report files (SPEC §2): CSV or JSON Lines in, a ReportTable and rejections out.

Built for millions of rows, in two halves:

- parsing (`csv` with `csv_records`, `jsonl`): the file's text per column as
  Arrow arrays, the physical line of each row, and the rows rejected for
  their shape. CSV goes through pyarrow's multi-threaded reader, with an
  exact csv-module fallback for files it cannot vouch for.
- checking (`checks`, `values`): every check is a
  whole-column operation (a boolean mask per check). Columns with few
  distinct values are decided once per distinct value; times and
  coordinates are cast by Arrow and, where it refuses a value, decided by
  the reference parsers (pandas, Python) as before. Python loops run only
  over rejected rows, distinct values and distinct place names.

Decisions worth knowing:

- A row with several problems gets ONE rejection whose reason lists all of
  them joined with "; "; `field` names the first.
- Duplicates are decided among valid rows only: a later valid row with the
  same (source, report_id) as an earlier accepted one is counted in
  `duplicates`. A bad row is rejected even if its key repeats a good one.
- `source=` fills rows whose source is empty or missing; a row that states
  its own source keeps it (the file knows better than the command line).
- Every value is stripped of surrounding whitespace, except `notes`, which
  is kept verbatim. CSV header names are stripped and
  lower-cased; JSON keys must be spelled exactly.
- CSV rows shorter than the header are padded with empty fields; rows with
  non-empty fields beyond the header are rejected. Empty extra fields (a
  trailing comma) are ignored. A line with one blank field (spaces, `""`)
  is skipped like an empty line.
- A coordinate is a number as pandas' `to_numeric` reads it; `nan` and
  `inf` are "not a number", blank is empty.
- When a place is resolved through the gazetteer, the row's precision is
  widened to at least the gazetteer's precision for that place.
- A row with a value over 128 KiB (131,072 characters) is rejected, naming
  the field; the other rows are read as usual.
- A CSV header naming a column twice is an error naming it. A quote that
  opens a field and is never closed rejects the row where it opened (saying
  so) instead of reading the rest of the file into one field.
- A coordinate that is not zero but too small for a double (`1e-400`) is
  rejected rather than stored as 0.
- `line` is the physical line where a row starts (the header is line 1),
  counting LFs. A bare CR outside quotes ends a record (as in every CSV
  parser) but not a line. A JSON value with an unpaired surrogate escape
  rejects its line.
"""

from __future__ import annotations

import io
import mmap
import os
import zipfile
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np
import pyarrow as pa

from truce.errors import ReportFormatError
from truce.formats.reports.archive import ZIP_MAGIC, open_member
from truce.formats.reports.checks import ReadResult, check_rows
from truce.formats.reports.csv import parse_csv
from truce.formats.reports.field_checks import PlaceResolver
from truce.formats.reports.jsonl import object_rows, parse_jsonl
from truce.formats.reports.rows import COLUMNS, Raw, TextRows, without_long_fields
from truce.formats.reports.tuning import TUNING, ReaderTuning

__all__ = [
    "COLUMNS",
    "INPUT_FORMATS",
    "PlaceResolver",
    "ReadResult",
    "ReaderTuning",
    "read_report_objects",
    "read_reports",
]

Format = Literal["csv", "jsonl"]
# --input-format: "auto" recognises the others by the file's header; "truce" is SPEC §2.
INPUT_FORMATS: tuple[str, ...] = ("auto", "truce", "ucdp-ged", "acled", "hxl")

_EXTENSIONS: dict[str, Format] = {
    ".csv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json-lines": "jsonl",
}
_GZIP_MAGIC = b"\x1f\x8b"


def read_reports(
    data: str | bytes | Path,
    *,
    format: str | None = None,
    source: str | None = None,
    resolve_place: PlaceResolver | None = None,
    tuning: ReaderTuning = TUNING,
) -> ReadResult:
    """Read a report file: SPEC §2 (CSV or JSON Lines) or a source's own format (§4).

    `data` is a `Path` to a file, or the file's content as `bytes` or `str`
    (a `str` is content, never a file name); gzip-compressed content is
    decompressed first, whatever the name. `format` is an input format
    (`auto`, the default, `truce`, `ucdp-ged`, `acled`, `hxl`) or, for SPEC §2
    files, `csv` or `jsonl`; SPEC §2 files default to the file extension, else a
    sniff (first non-blank character `{` means JSON Lines).
    Raises `ReportFormatError` when the file as a whole is unusable (not UTF-8,
    truncated, no header, required columns missing); bad rows become rejections.

    >>> r = read_reports("report_id,source,observed_at,lat,lon,event_type\\n"
    ...                  "a-1,amman,2016-09-13T04:10:00+03:00,36.25,37.13,shelling\\n")
    >>> len(r.reports), r.rejected, r.duplicates
    (1, [], 0)
    """
    from truce.formats import importers

    raw, name, suffix = _raw(data, tuning.map_bytes)
    start = 3 if raw[:3] == b"\xef\xbb\xbf" else 0  # a UTF-8 BOM
    requested = format or "auto"
    if requested not in (*INPUT_FORMATS, "csv", "jsonl"):
        raise ReportFormatError(
            f"unknown input format {requested!r}; use one of {', '.join(INPUT_FORMATS)}"
        )
    chosen = importers.detect(raw, start) if requested == "auto" else requested
    if chosen in importers.IMPORTERS:
        rows = importers.parse(raw, start, name, chosen)
    else:
        fmt: Format = (
            ("csv" if chosen == "csv" else "jsonl" if chosen == "jsonl" else None)
            or _EXTENSIONS.get(suffix)
            or _sniff(raw, start)
        )
        rows = _truce_rows(raw, start, name, fmt, source, auto=requested == "auto", tuning=tuning)
    del raw  # the file's bytes (or its mapping): the rows hold their own text now
    read = check_rows(without_long_fields(rows), source, resolve_place, tuning)
    del rows
    # Arrow's allocator keeps the pages of the file's text for reuse; nothing reuses them
    # (hundreds of megabytes at a million rows), so they go back to the system now.
    pa.default_memory_pool().release_unused()
    return read


def read_report_objects(
    objects: Sequence[dict[str, object]], *, tuning: ReaderTuning = TUNING
) -> ReadResult:
    """SPEC §2 reports already parsed from JSON (a bulletin's `reports`), checked as
    `read_reports` checks a JSON Lines file of them; `line` numbers them from 1."""
    lines = np.arange(1, len(objects) + 1, dtype=np.int64)
    return check_rows(without_long_fields(object_rows(objects, lines)), None, None, tuning)


def _truce_rows(
    raw: Raw,
    start: int,
    name: str,
    fmt: Format,
    source: str | None,
    *,
    auto: bool,
    tuning: ReaderTuning,
) -> TextRows:
    if fmt == "jsonl":
        return parse_jsonl(raw, start, name)
    try:
        return parse_csv(raw, start, name, has_default_source=source is not None, tuning=tuning)
    except ReportFormatError as exc:
        if auto and "missing required column" in str(exc):
            raise ReportFormatError(
                f"{exc} (the header matches none of the input formats "
                f"{', '.join(INPUT_FORMATS[1:])})"
            ) from None
        raise


def _raw(data: str | bytes | Path, map_bytes: int) -> tuple[Raw, str, str]:
    if isinstance(data, Path):
        suffixes = [s.lower() for s in data.suffixes]
        if suffixes[-1:] == [".gz"]:
            suffixes.pop()
        suffix = suffixes[-1] if suffixes else ""
        try:
            raw = _read_file(data, map_bytes)
        except OSError as exc:
            raise ReportFormatError(f"cannot read report file {data}: {exc.strerror}") from exc
        raw, suffix = _unzipped(raw, str(data), suffix)
        return _gunzipped(raw, str(data)), str(data), suffix
    if isinstance(data, str):
        return data.encode("utf-8"), "reports", ""
    raw, suffix = _unzipped(bytes(data), "reports", "")
    return _gunzipped(raw, "reports"), "reports", suffix


def _unzipped(raw: Raw, name: str, suffix: str) -> tuple[Raw, str]:
    """The one report file inside a zip archive (and its suffix), or `raw` as it is."""
    if raw[:4] != ZIP_MAGIC:
        return raw, suffix
    member, inner = open_member(io.BytesIO(raw) if isinstance(raw, bytes) else raw, name)
    try:
        with member:
            return member.read(), inner
    except (zipfile.BadZipFile, EOFError, zlib.error) as exc:
        raise ReportFormatError(f"{name}: the zip archive is damaged ({exc})") from None


def _gunzipped(raw: Raw, name: str) -> Raw:
    """`raw` itself, or its decompressed content when it is gzip data (several
    concatenated gzip members are read as one, like gunzip does)."""
    if raw[:2] != _GZIP_MAGIC:
        return raw
    out: list[bytes] = []
    view = memoryview(raw)
    try:
        while len(view):
            inflater = zlib.decompressobj(wbits=31)
            out.append(inflater.decompress(view))
            out.append(inflater.flush())
            if not inflater.eof:
                raise ReportFormatError(
                    f"{name}: the gzip data ends early ({sum(map(len, out)):,} bytes "
                    "decompressed): the file is truncated; download or copy it again"
                )
            view = memoryview(inflater.unused_data)
            if len(view) and bytes(view[:2]) != _GZIP_MAGIC:
                break  # trailing garbage after the last member is ignored, as gunzip does
    except zlib.error as exc:
        raise ReportFormatError(
            f"{name}: not valid gzip data ({exc}); is the file damaged?"
        ) from None
    return b"".join(out)


def _read_file(path: Path, map_bytes: int) -> Raw:
    with path.open("rb") as f:
        size = os.fstat(f.fileno()).st_size
        if size < map_bytes:
            return f.read()
        return mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)


def _sniff(raw: Raw, start: int) -> Format:
    head = raw[start : start + 4096].lstrip()
    return "jsonl" if head.startswith(b"{") else "csv"
