"""Read report files (SPEC §2): CSV or JSON Lines in, a ReportTable and rejections out.

Built for millions of rows, in two halves:

- parsing (`csv`, `jsonl`): the file's text per column as
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
- `line` is the physical line where a row starts (the header is line 1),
  counting LFs. A bare CR outside quotes ends a record (as in every CSV
  parser) but not a line. A JSON value with an unpaired surrogate escape
  rejects its line.
"""

from __future__ import annotations

import mmap
import os
from pathlib import Path
from typing import Literal

from truce.domain.errors import ReportFormatError
from truce.formats.reports.checks import PlaceResolver, ReadResult, check_rows
from truce.formats.reports.csv import parse_csv
from truce.formats.reports.jsonl import parse_jsonl
from truce.formats.reports.rows import COLUMNS, Raw

__all__ = ["COLUMNS", "PlaceResolver", "ReadResult", "read_reports"]

Format = Literal["csv", "jsonl"]

_EXTENSIONS: dict[str, Format] = {
    ".csv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json-lines": "jsonl",
}


def read_reports(
    data: str | bytes | Path,
    *,
    format: Format | None = None,
    source: str | None = None,
    resolve_place: PlaceResolver | None = None,
) -> ReadResult:
    """Read a SPEC §2 report file.

    `data` is a `Path` to a file, or the file's content as `bytes` or `str`
    (a `str` is content, never a file name). `format` defaults to the file
    extension, else a sniff (first non-blank character `{` means JSON Lines).
    Raises `ReportFormatError` when the file as a whole is unusable (not UTF-8,
    no header, required columns missing); bad rows become rejections.

    >>> r = read_reports("report_id,source,observed_at,lat,lon,event_type\\n"
    ...                  "a-1,amman,2016-09-13T04:10:00+03:00,36.25,37.13,shelling\\n")
    >>> len(r.reports), r.rejected, r.duplicates
    (1, [], 0)
    """
    raw, name, suffix = _raw(data)
    start = 3 if raw[:3] == b"\xef\xbb\xbf" else 0  # a UTF-8 BOM
    fmt = format or _EXTENSIONS.get(suffix) or _sniff(raw, start)
    if fmt == "csv":
        rows = parse_csv(raw, start, name, has_default_source=source is not None)
    elif fmt == "jsonl":
        rows = parse_jsonl(raw, start, name)
    else:
        raise ReportFormatError(f"unknown report format {fmt!r}; use 'csv' or 'jsonl'")
    return check_rows(rows, source, resolve_place)


def _raw(data: str | bytes | Path) -> tuple[Raw, str, str]:
    if isinstance(data, Path):
        try:
            return _read_file(data), str(data), data.suffix.lower()
        except OSError as exc:
            raise ReportFormatError(f"cannot read report file {data}: {exc.strerror}") from exc
    if isinstance(data, str):
        return data.encode("utf-8"), "reports", ""
    return bytes(data), "reports", ""


_MAP_BYTES = 1 << 24  # files this big are mapped, not copied into fresh memory


def _read_file(path: Path) -> Raw:
    with path.open("rb") as f:
        size = os.fstat(f.fileno()).st_size
        if size < _MAP_BYTES:
            return f.read()
        return mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)


def _sniff(raw: Raw, start: int) -> Format:
    head = raw[start : start + 4096].lstrip()
    return "jsonl" if head.startswith(b"{") else "csv"
