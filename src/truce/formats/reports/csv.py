"""CSV report files (SPEC §2) to `TextRows`: the parsing half of `read_reports`.

Fast path: pyarrow's multi-threaded CSV reader reads every known column as
text (the checks do the rest on whole columns). Exact line numbers come from
the bytes, not from the parser:

- With no `"` in the file and no blank line, row i is on line (header + 1 + i);
  this costs three byte scans.
- Otherwise a record ends at a newline with an even number of quotes before
  it (quote parity). That is what an RFC 4180 parser does only when every
  quote opens a field, closes one or doubles another, so the file's quotes
  are checked first; a stray quote (`say "hi`) sends the file to the exact
  fallback.
- Rows whose field count is not the header's (Arrow skips them and says so)
  are found by counting the commas outside quotes per record, then read one
  by one with the csv module: short rows are padded, blank ones skipped, and
  rows with non-empty extra fields rejected.

Anything else the fast path cannot vouch for (a bare CR, an Arrow parse
error, a row count that does not add up) falls back to the csv module over
the whole file, which tracks lines exactly.

The byte scans (newlines, quotes, commas) are `truce.formats.reports.csv_records`.
"""

from __future__ import annotations

import csv
import io

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv

from truce.domain.model import Rejection
from truce.errors import ReportFormatError
from truce.formats.reports.csv_records import (
    QUOTE,
    Records,
    byte_positions,
    has_bare_cr,
    offset_after_lines,
    regular_quotes,
    simple_lines,
)
from truce.formats.reports.rows import (
    COLUMNS,
    FEW_DISTINCT,
    KNOWN,
    Raw,
    TextRows,
    check_utf8,
    decode,
    not_utf8,
    text_array,
)
from truce.formats.reports.tuning import TUNING, ReaderTuning

# The csv module refuses a field over 128 KiB with an error that would reject the whole
# file; fields of any length are read, and a row with one over FIELD_LIMIT is rejected
# on its own (rows.without_long_fields). The limit is per process, so it is set once.
csv.field_size_limit(max(csv.field_size_limit(), 2**31 - 1))

_TEXT_TYPE = {c: pa.dictionary(pa.int32(), pa.string()) for c in FEW_DISTINCT}


def parse_csv(
    raw: Raw, start: int, name: str, *, has_default_source: bool, tuning: ReaderTuning = TUNING
) -> TextRows:
    """Rows of a CSV report file whose text starts at byte `start` (after a BOM).
    Raises `ReportFormatError` for a file that is not UTF-8, has no header or
    lacks required columns."""
    check_utf8(raw, name)
    header, header_lines = _read_header(raw, start, name)
    _check_header(header, name, has_default_source=has_default_source)
    _check_repeats(header, name)
    rows = _parse_with_arrow(raw, start, header, header_lines, tuning=tuning)
    return rows if rows is not None else _parse_csv_slowly(raw, start, name, header)


def parse_any_csv(raw: Raw, start: int, name: str) -> tuple[list[str], TextRows]:
    """(header, rows) of any CSV file: every column, keyed by its stripped, lower-cased
    header name (a repeated name's later columns are dropped), as text; the same
    parsing, line numbers and shape rejections as a report file. For the importers."""
    check_utf8(raw, name)
    header, header_lines = _read_header(raw, start, name)
    every = frozenset(header)
    rows = _parse_with_arrow(raw, start, header, header_lines, every)
    if rows is None:
        rows = _parse_csv_slowly(raw, start, name, header, every)
    return header, rows


# --- header -------------------------------------------------------------------


def _read_header(raw: Raw, start: int, name: str) -> tuple[list[str], int]:
    """The header's cells (stripped, lower-cased) and the lines up to its end."""
    stream = io.BufferedReader(_Window(raw, start))  # type: ignore[arg-type]
    text = io.TextIOWrapper(stream, encoding="utf-8", newline="")
    reader = csv.reader(text)
    try:
        for row in reader:
            if len(row) > 1 or (row and row[0].strip()):
                return [cell.strip().lower() for cell in row], reader.line_num
    except UnicodeDecodeError:
        raise not_utf8(raw, name) from None
    except csv.Error as exc:
        raise ReportFormatError(f"{name}: unreadable header: {exc}") from exc
    raise ReportFormatError(
        f"{name}: empty file; a report CSV needs a header row ({', '.join(COLUMNS)})"
    )


class _Window(io.RawIOBase):
    """`raw` from byte `start` on as a stream, without copying the whole of it."""

    def __init__(self, raw: Raw, start: int) -> None:
        self.raw, self.pos = raw, start

    def readable(self) -> bool:
        return True

    def readinto(self, out: bytearray | memoryview) -> int:  # type: ignore[override]
        chunk = self.raw[self.pos : self.pos + len(out)]
        out[: len(chunk)] = chunk
        self.pos += len(chunk)
        return len(chunk)


def _check_header(header: list[str], name: str, *, has_default_source: bool) -> None:
    present = set(header)
    required = ["report_id", "observed_at", "event_type"]
    if not has_default_source:
        required.insert(1, "source")
    if "place" not in present or "lat" in present or "lon" in present:
        required += ["lat", "lon"]
    missing = [c for c in required if c not in present]
    if missing:
        hint = " (or give --source)" if "source" in missing else ""
        raise ReportFormatError(
            f"{name}: missing required column(s): {', '.join(missing)}{hint}; "
            f"the header has: {', '.join(header)}"
        )


def _check_repeats(header: list[str], name: str) -> None:
    """A report file naming a column twice is refused: which of the two holds the
    value is a guess (the importers' files keep the first, as documented there)."""
    positions: dict[str, list[int]] = {}
    for i, h in enumerate(header, start=1):
        if h:
            positions.setdefault(h, []).append(i)
    repeated = {h: p for h, p in positions.items() if len(p) > 1}
    if repeated:
        which = "; ".join(f"{h!r} (columns {', '.join(map(str, p))})" for h, p in repeated.items())
        raise ReportFormatError(
            f"{name}: the header names a column more than once: {which}; keep one of each"
        )


def _unique_names(header: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for h in header:
        seen[h] = seen.get(h, 0) + 1
        out.append(h if seen[h] == 1 else f"{h}\x00{seen[h]}")  # a later repeat is ignored
    return out


# --- fast path ------------------------------------------------------------------


def _parse_with_arrow(
    raw: Raw,
    start: int,
    header: list[str],
    header_lines: int,
    known: frozenset[str] = KNOWN,
    *,
    tuning: ReaderTuning = TUNING,
) -> TextRows | None:
    """The rows via Arrow, or None when only the exact fallback can vouch for them."""
    body_start = offset_after_lines(raw, start, header_lines)
    buf = np.frombuffer(raw, dtype=np.uint8)
    if has_bare_cr(raw, buf):
        return None
    quotes = byte_positions(buf, QUOTE) if raw.find(b'"') >= 0 else None
    if quotes is not None and not regular_quotes(buf, quotes, start):
        return None
    first_line = header_lines + 1
    names = _unique_names(header)
    keep = [c for c in names if c in known]
    if body_start >= len(raw):  # a header and nothing else (Arrow calls that an empty file)
        return TextRows({c: text_array([]) for c in keep}, np.zeros(0, dtype=np.int64))
    records = None
    if quotes is not None:
        records = Records.scan(buf, body_start, first_line, quotes)
    try:
        table, skipped = _read_table(
            pa.py_buffer(raw).slice(body_start),
            names,
            keep,
            multiline=records is not None and records.multiline,
            block_size=tuning.block_bytes(len(raw) - body_start),
        )
    except pa.ArrowInvalid:
        return None
    if not skipped and records is None:
        lines = simple_lines(buf, body_start, first_line, table.num_rows)
        if lines is not None:
            return TextRows({c: table.column(c) for c in keep}, lines)
    if records is None:
        records = Records.scan(buf, body_start, first_line, quotes)
    if not skipped:
        nonempty = ~records.empty()
        if int(nonempty.sum()) != table.num_rows:
            return None
        columns = {c: table.column(c) for c in keep}
        return TextRows(columns, records.lines[nonempty])
    return _with_irregular_rows(raw, records, table, names, keep, quotes)


def _read_table(
    body: pa.Buffer, names: list[str], keep: list[str], *, multiline: bool, block_size: int
) -> tuple[pa.Table, int]:
    """Every kept column as text, and how many rows Arrow skipped because their field
    count is not the header's (rather than failing the read)."""
    skipped = 0

    def skip(row: pa_csv.InvalidRow) -> str:
        nonlocal skipped
        skipped += 1
        return "skip"

    table = pa_csv.read_csv(
        pa.BufferReader(body),
        read_options=pa_csv.ReadOptions(
            column_names=names, block_size=block_size, use_threads=True
        ),
        parse_options=pa_csv.ParseOptions(newlines_in_values=multiline, invalid_row_handler=skip),
        convert_options=pa_csv.ConvertOptions(
            column_types={c: _TEXT_TYPE.get(c, pa.string()) for c in keep},
            include_columns=keep,
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
            check_utf8=False,  # the whole file was checked once, faster than per column
        ),
    )
    return table, skipped


def _with_irregular_rows(
    raw: Raw,
    records: Records,
    table: pa.Table,
    names: list[str],
    keep: list[str],
    quotes: np.ndarray | None,
) -> TextRows | None:
    """Arrow skipped some records (wrong field count): read those with the csv
    module (pad short rows, skip blank ones, reject non-empty extra fields) and
    put the rows they yield back in file order."""
    width = len(names)
    regular = records.field_counts(quotes) == width
    regular &= ~records.empty()
    if int(regular.sum()) != table.num_rows:
        return None
    positions = np.flatnonzero(regular)
    index = {c: names.index(c) for c in keep}
    extra_values: dict[str, list[str]] = {c: [] for c in keep}
    extra_positions: list[int] = []
    rejected: list[Rejection] = []
    for r in np.flatnonzero(~regular & ~records.empty()).tolist():
        text = raw[records.starts[r] : records.ends[r]].decode("utf-8")
        try:
            row = next(csv.reader(io.StringIO(text, newline="")), [])
        except csv.Error:
            return None
        if not any(cell.strip() for cell in row) and len(row) <= 1:
            continue
        line = int(records.lines[r])
        if len(row) > width and any(cell != "" for cell in row[width:]):
            rejected.append(_too_many_fields(line, row, names))
            continue
        row = row + [""] * (width - len(row))
        for c in keep:
            extra_values[c].append(row[index[c]])
        extra_positions.append(r)
    columns = {c: table.column(c) for c in keep}
    if not extra_positions:
        return TextRows(columns, records.lines[positions], rejected)
    every = np.concatenate((positions, np.array(extra_positions, dtype=np.int64)))
    order = pa.array(np.argsort(every, kind="stable"))
    merged = {
        c: pa.chunked_array(
            columns[c].cast(pa.string()).chunks + text_array(extra_values[c]).chunks
        ).take(order)
        for c in keep
    }
    return TextRows(merged, records.lines[np.sort(every)], rejected)


def _too_many_fields(line: int, row: list[str], names: list[str]) -> Rejection:
    width = len(names)
    n = width + sum(1 for cell in row[width:] if cell != "")
    cells = dict(zip(names, row, strict=False))
    rid = cells.get("report_id", "").strip()
    src = cells.get("source", "").strip()
    return Rejection(
        line=line,
        report_id=rid or None,
        reason=f"row has {n} fields but the header has {width}; quote fields that contain commas",
        source=src or None,
    )


# --- exact fallback -------------------------------------------------------------


def _parse_csv_slowly(
    raw: Raw, start: int, name: str, header: list[str], known: frozenset[str] = KNOWN
) -> TextRows:
    """The csv module, record by record: exact lines, any number of extra fields."""
    text = decode(raw, start, name)
    reader = csv.reader(io.StringIO(text, newline=""))
    names = _unique_names(header)
    width = len(header)
    keep = [(c, i) for i, c in enumerate(names) if c in known]
    values: list[list[str]] = [[] for _ in keep]
    lines: list[int] = []
    rejected: list[Rejection] = []
    seen_header = False
    next_line = 1
    try:
        for row in reader:
            start, next_line = next_line, reader.line_num + 1
            if not any(cell.strip() for cell in row) and len(row) <= 1:
                continue
            if not seen_header:
                seen_header = True
                continue
            if len(row) > width and any(cell != "" for cell in row[width:]):
                rejected.append(_too_many_fields(start, row, names))
                continue
            row = row + [""] * (width - len(row))
            for slot, (_, j) in zip(values, keep, strict=True):
                slot.append(row[j])
            lines.append(start)
    except csv.Error as exc:
        raise ReportFormatError(f"{name}: line {reader.line_num}: unreadable CSV: {exc}") from exc
    last = next_line - 1
    if lines and last > lines[-1] and _ends_in_quotes(text, lines[-1]):
        # The last row ran to the end of the file inside a quote, so every later line
        # was read into one of its fields: reject it, saying where the quote opened.
        opened = lines.pop()
        cells = {c: slot.pop() for slot, (c, _) in zip(values, keep, strict=True)}
        rejected.append(
            Rejection(
                line=opened,
                report_id=cells.get("report_id", "").strip() or None,
                reason=f"a quote opened on line {opened} is never closed, so lines "
                f"{opened}-{last} were read as one row; close the quote "
                '(a quote inside a field is written "")',
            )
        )
    columns = {c: text_array(slot) for slot, (c, _) in zip(values, keep, strict=True)}
    return TextRows(columns, np.array(lines, dtype=np.int64), rejected)


def _ends_in_quotes(text: str, first_line: int) -> bool:
    """Whether the record starting on `first_line` (counted as the csv module counts)
    runs to the end of `text` inside a quoted field: the strict csv module says
    "unexpected end of data" for it."""
    lines = io.StringIO(text, newline="")
    at = sum(len(lines.readline()) for _ in range(first_line - 1))
    try:
        for _ in csv.reader(io.StringIO(text[at:], newline=""), strict=True):
            pass
    except csv.Error as exc:
        return "unexpected end of data" in str(exc)
    return False
