"""Read report files (SPEC §2): CSV or JSON Lines in, a ReportTable and rejections out.

Built for millions of rows: pandas' C parser reads every field as text, then
each check is a whole-column operation (a boolean mask per check). Columns
with few distinct values (event types, sources, grades) are checked once per
distinct value via `pd.factorize`. Python loops run only over rejected rows,
distinct values and distinct place names.

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
  trailing comma) are ignored.
- When a place is resolved through the gazetteer, the row's precision is
  widened to at least the gazetteer's precision for that place.
- `line` is the physical line where a row starts (the header is line 1).
  It is computed from quote parity; if that disagrees with the parser (a
  stray quote inside an unquoted field) the file is re-read with the csv
  module, which tracks lines exactly. Lines are counted by LF; a bare CR
  outside quotes ends a record (as in every CSV parser) but not a line.
"""

from __future__ import annotations

import csv
import io
import json
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from truce.domain.errors import GazetteerError, ReportFormatError
from truce.domain.model import (
    CREDIBILITY_GRADES,
    EVENT_TYPES,
    NO_CODE,
    RELIABILITY_GRADES,
    WEAPONS,
    Rejection,
    ReportTable,
    empty_reports,
)

__all__ = ["COLUMNS", "PlaceResolver", "ReadResult", "read_reports"]

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
)
_KNOWN = frozenset(COLUMNS)
_EXTRA_SLOTS = 8  # fields beyond the header the fast parser tolerates before falling back
_EXTRA = "\x00extra"  # prefix of the names given to those slots (cannot clash with a header)

PlaceResolver = Callable[[str], tuple[float, float, float | None]]
Format = Literal["csv", "jsonl"]

_OFFSET_SUFFIX = re.compile(r"(?:[Zz]|[+-]\d\d(?::?\d\d)?)$")
_EXTENSIONS: dict[str, Format] = {
    ".csv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json-lines": "jsonl",
}


@dataclass
class ReadResult:
    """What a report file yielded. Every input row is in exactly one of the three."""

    reports: ReportTable  # accepted, (source, report_id) unique, in file order
    rejected: list[Rejection] = field(default_factory=list)  # sorted by line
    duplicates: int = 0  # valid rows dropped because their key repeated an earlier row


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
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    fmt = format or _EXTENSIONS.get(suffix) or _sniff(raw)
    if fmt == "csv":
        columns, lines, pre_rejected = _parse_csv(raw, name, has_default_source=source is not None)
    elif fmt == "jsonl":
        columns, lines, pre_rejected = _parse_jsonl(raw, name)
    else:
        raise ReportFormatError(f"unknown report format {fmt!r}; use 'csv' or 'jsonl'")
    return _validate(columns, lines, pre_rejected, source, resolve_place)


# --- input ------------------------------------------------------------------


def _raw(data: str | bytes | Path) -> tuple[bytes, str, str]:
    if isinstance(data, Path):
        try:
            return data.read_bytes(), str(data), data.suffix.lower()
        except OSError as exc:
            raise ReportFormatError(f"cannot read report file {data}: {exc.strerror}") from exc
    if isinstance(data, str):
        return data.encode("utf-8"), "reports", ""
    return bytes(data), "reports", ""


def _sniff(raw: bytes) -> Format:
    head = raw[:4096].lstrip()
    return "jsonl" if head.startswith(b"{") else "csv"


def _not_utf8(raw: bytes, name: str) -> ReportFormatError:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        return ReportFormatError(
            f"{name}: line {line}: not UTF-8 (byte 0x{raw[exc.start]:02x}); "
            "save the file as UTF-8 and try again"
        )
    return ReportFormatError(f"{name}: could not decode the file as UTF-8")


def _decode(raw: bytes, name: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _not_utf8(raw, name) from None


# --- CSV ----------------------------------------------------------------------

Columns = dict[str, np.ndarray]


def _parse_csv(
    raw: bytes, name: str, *, has_default_source: bool
) -> tuple[Columns, np.ndarray, list[Rejection]]:
    header = _read_header(raw, name)
    _check_header(header, name, has_default_source=has_default_source)
    names = _unique_names(header) + [f"{_EXTRA}{i}" for i in range(_EXTRA_SLOTS)]
    record_offsets, lines = _records(raw)
    if len(lines) < 2:
        return {}, np.array([], dtype=np.int64), []
    body = raw[record_offsets[1] :]
    try:
        try:
            frame = _read_frame(body, names, numeric=("lat", "lon"))
        except ValueError as exc:  # a non-numeric coordinate: read everything as text
            if isinstance(exc, UnicodeDecodeError | pd.errors.ParserError):
                raise
            frame = _read_frame(body, names, numeric=())
    except UnicodeDecodeError:
        raise _not_utf8(raw, name) from None
    except (pd.errors.ParserError, ValueError):
        return _parse_csv_slowly(raw, name, header)
    if len(lines) != len(frame) + 1:
        return _parse_csv_slowly(raw, name, header)
    columns = {c: frame[c].to_numpy() for c in names[: len(header)] if c in _KNOWN}
    extras = [frame[c].to_numpy(dtype=object) for c in names[len(header) :]]
    rejected: list[Rejection] = []
    if extras:
        has_extra = np.zeros(len(frame), dtype=bool)
        for values in extras:
            has_extra |= values != ""
        if has_extra.any():
            keep = ~has_extra
            for i in np.flatnonzero(has_extra):
                n = len(header) + sum(1 for v in extras if v[i] != "")
                rejected.append(_too_many_fields(int(lines[i + 1]), n, len(header), columns, i))
            columns = {c: v[keep] for c, v in columns.items()}
            return columns, lines[1:][keep], rejected
    return columns, lines[1:], rejected


def _read_frame(body: bytes, names: list[str], numeric: tuple[str, ...]) -> pd.DataFrame:
    """Every field as text, except `numeric` columns parsed by the C parser (fast path).
    A warning that pandas dropped data is raised as ParserError."""
    numeric = tuple(c for c in numeric if c in names)
    with warnings.catch_warnings():
        warnings.simplefilter("error", pd.errors.ParserWarning)
        try:
            return _read_frame_quietly(body, names, numeric)
        except pd.errors.ParserWarning as exc:
            raise pd.errors.ParserError(str(exc)) from exc


def _read_frame_quietly(body: bytes, names: list[str], numeric: tuple[str, ...]) -> pd.DataFrame:
    return pd.read_csv(
        io.BytesIO(body),
        header=None,
        names=names,
        index_col=False,
        dtype={c: (np.float64 if c in numeric else object) for c in names},
        na_filter=bool(numeric),
        na_values={c: [""] for c in numeric} if numeric else None,
        keep_default_na=False,
        skip_blank_lines=True,
        encoding="utf-8",
        engine="c",
    )


def _too_many_fields(line: int, n: int, expected: int, columns: Columns, i: int) -> Rejection:
    rid = str(columns["report_id"][i]).strip() if "report_id" in columns else ""
    src = str(columns["source"][i]).strip() if "source" in columns else ""
    return Rejection(
        line=line,
        report_id=rid or None,
        reason=f"row has {n} fields but the header has {expected}; quote fields that contain commas",
        source=src or None,
    )


def _read_header(raw: bytes, name: str) -> list[str]:
    text = io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8", newline="")
    try:
        for row in csv.reader(text):
            if len(row) > 1 or (row and row[0].strip()):
                return [cell.strip().lower() for cell in row]
    except UnicodeDecodeError:
        raise _not_utf8(raw, name) from None
    except csv.Error as exc:
        raise ReportFormatError(f"{name}: unreadable header: {exc}") from exc
    raise ReportFormatError(
        f"{name}: empty file; a report CSV needs a header row ({', '.join(COLUMNS)})"
    )


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


def _unique_names(header: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for h in header:
        seen[h] = seen.get(h, 0) + 1
        out.append(h if seen[h] == 1 else f"{h}\x00{seen[h]}")  # a later repeat is ignored
    return out


_BLANK_BYTES = np.array([b for b in b" \t\r\x0b\x0c"], dtype=np.uint8)


def _records(raw: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Byte offset and 1-based line of each CSV record's start (header first).

    A newline ends a record when an even number of quotes precede it; blank
    lines are skipped, as the parser does.
    """
    buf = np.frombuffer(raw, dtype=np.uint8)
    if len(buf) == 0:
        return np.array([], dtype=np.int64), np.array([], dtype=np.int64)
    newlines = np.flatnonzero(buf == 10)
    quotes = np.flatnonzero(buf == 34)
    starts = np.concatenate(([0], newlines + 1))
    ends = np.concatenate((newlines, [len(buf)]))
    if len(quotes):
        outside = np.searchsorted(quotes, starts) % 2 == 0
    else:
        outside = np.ones(len(starts), dtype=bool)
    first = buf[np.minimum(starts, len(buf) - 1)]
    maybe_blank = (ends == starts) | np.isin(first, _BLANK_BYTES)
    for i in np.flatnonzero(maybe_blank & outside):
        if raw[starts[i] : ends[i]].strip() == b"":
            outside[i] = False
    index = np.flatnonzero(outside)
    return starts[index].astype(np.int64), index.astype(np.int64) + 1


def _parse_csv_slowly(
    raw: bytes, name: str, header: list[str]
) -> tuple[Columns, np.ndarray, list[Rejection]]:
    """The csv module, record by record: exact lines, any number of extra fields."""
    text = _decode(raw, name)
    reader = csv.reader(io.StringIO(text, newline=""))
    width = len(header)
    keep = [i for i, h in enumerate(_unique_names(header)) if h in _KNOWN]
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
                n = width + sum(1 for cell in row[width:] if cell != "")
                cols = {header[j]: np.array([row[j]], dtype=object) for j in keep}
                rejected.append(_too_many_fields(start, n, width, cols, 0))
                continue
            row = row + [""] * (width - len(row))
            for slot, j in zip(values, keep, strict=True):
                slot.append(row[j])
            lines.append(start)
    except csv.Error as exc:
        raise ReportFormatError(f"{name}: line {reader.line_num}: unreadable CSV: {exc}") from exc
    columns = {header[j]: _object_array(slot) for slot, j in zip(values, keep, strict=True)}
    return columns, np.array(lines, dtype=np.int64), rejected


def _object_array(values: list[str]) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


# --- JSON Lines ---------------------------------------------------------------


def _parse_jsonl(raw: bytes, name: str) -> tuple[Columns, np.ndarray, list[Rejection]]:
    text = _decode(raw, name)
    values: dict[str, list[str]] = {c: [] for c in COLUMNS}
    lines: list[int] = []
    rejected: list[Rejection] = []
    for lineno, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError as exc:
            msg = getattr(exc, "msg", str(exc))
            col = getattr(exc, "colno", None)
            where = f" at column {col}" if col else ""
            rejected.append(
                Rejection(line=lineno, report_id=None, reason=f"not valid JSON: {msg}{where}")
            )
            continue
        if not isinstance(obj, dict):
            rejected.append(
                Rejection(
                    line=lineno, report_id=None, reason=f"not a JSON object: {type(obj).__name__}"
                )
            )
            continue
        for c, slot in values.items():
            slot.append(_json_text(obj.get(c)))
        lines.append(lineno)
    return (
        {c: _object_array(v) for c, v in values.items()},
        np.array(lines, dtype=np.int64),
        rejected,
    )


def _json_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(value, ensure_ascii=False)


# --- validation ---------------------------------------------------------------


class _Problems:
    """Per-check masks; messages are built only for the rows that fail."""

    def __init__(self, n: int) -> None:
        self.bad = np.zeros(n, dtype=bool)
        self.checks: list[tuple[np.ndarray, str, Callable[[int], str]]] = []

    def add(self, mask: np.ndarray, field_name: str, message: Callable[[int], str]) -> None:
        if mask.any():
            self.bad |= mask
            self.checks.append((mask, field_name, message))

    def reasons(self) -> dict[int, tuple[str, str]]:
        out: dict[int, tuple[str, list[str]]] = {}
        for mask, field_name, message in self.checks:
            for i in np.flatnonzero(mask).tolist():
                if i in out:
                    out[i][1].append(message(i))
                else:
                    out[i] = (field_name, [message(i)])
        return {i: (f, "; ".join(msgs)) for i, (f, msgs) in out.items()}


def _strip_each(values: np.ndarray) -> np.ndarray:
    """Strip every value (for columns where most values are distinct)."""
    return _object_array([v.strip() for v in values.tolist()])


def _strip_distinct(values: np.ndarray) -> np.ndarray:
    """Strip via distinct values (for columns with few of them)."""
    if len(values) == 0:
        return values
    codes, uniques = pd.factorize(values)
    return _object_array([u.strip() for u in uniques])[codes]


def _map_distinct(
    values: np.ndarray, convert: Callable[[str], object], dtype: object
) -> np.ndarray:
    if len(values) == 0:
        return np.array([], dtype=dtype)
    codes, uniques = pd.factorize(values)
    return np.array([convert(u) for u in uniques], dtype=dtype)[codes]


def _float_or_nan(text: str) -> float:
    try:
        return float(text) if text.strip() else np.nan
    except ValueError:
        return np.nan


def _coords(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(numbers, empty, invalid) for a coordinate column, text or already float."""
    if values.dtype.kind == "f":
        numbers = values.astype(np.float64, copy=True)
        empty = np.isnan(numbers)
        bad = np.isinf(numbers)
        numbers[bad] = np.nan
        return numbers, empty, bad
    numbers = pd.to_numeric(values, errors="coerce").astype(np.float64)
    empty = values == ""
    failed = ~np.isfinite(numbers) & ~empty
    for i in np.flatnonzero(failed):
        if not values[i].strip():
            empty[i] = True
    numbers[empty] = np.nan
    return numbers, empty, ~np.isfinite(numbers) & ~empty


def _shown(values: np.ndarray, i: int) -> str:
    value = values[i]
    return repr(value.strip()) if isinstance(value, str) else repr(str(value))


def _validate(
    columns: Columns,
    lines: np.ndarray,
    pre_rejected: list[Rejection],
    default_source: str | None,
    resolve_place: PlaceResolver | None,
) -> ReadResult:
    n = len(lines)
    empty_text = _object_array([""] * n)
    col = {c: columns.get(c, empty_text) for c in COLUMNS}
    p = _Problems(n)

    report_id = _strip_each(col["report_id"])
    p.add(report_id == "", "report_id", lambda i: "report_id is empty")

    source = _strip_distinct(col["source"])
    if default_source is not None and default_source.strip():
        source = np.where(source == "", default_source.strip(), source).astype(object)
    p.add(source == "", "source", lambda i: "source is empty; give a source column or --source")

    observed_text = col["observed_at"]
    observed_at, time_problem = _times(observed_text)
    p.add(
        time_problem == 1,
        "observed_at",
        lambda i: "observed_at is empty; give an ISO 8601 time with offset",
    )
    p.add(
        time_problem == 2,
        "observed_at",
        lambda i: f"observed_at is not an ISO 8601 time: {observed_text[i].strip()!r}",
    )
    p.add(
        time_problem == 3,
        "observed_at",
        lambda i: f"observed_at has no UTC offset: {observed_text[i].strip()}",
    )
    p.add(
        time_problem == 4,
        "observed_at",
        lambda i: f"observed_at out of range (years 1678-2261): {observed_text[i].strip()}",
    )

    lat, lat_empty, lat_bad = _coords(col["lat"])
    lon, lon_empty, lon_bad = _coords(col["lon"])
    p.add(lat_bad, "lat", lambda i: f"lat is not a number: {_shown(col['lat'], i)}")
    p.add(lon_bad, "lon", lambda i: f"lon is not a number: {_shown(col['lon'], i)}")
    p.add(
        np.abs(lat) > 90,
        "lat",
        lambda i: f"lat out of range: {float(lat[i])}; must be within [-90, 90]",
    )
    p.add(
        np.abs(lon) > 180,
        "lon",
        lambda i: f"lon out of range: {float(lon[i])}; must be within [-180, 180]",
    )
    p.add(lat_empty & ~lon_empty, "lat", lambda i: "lon given without lat")
    p.add(lon_empty & ~lat_empty, "lon", lambda i: "lat given without lon")

    place = _strip_distinct(col["place"])
    precision, precision_bad = _numbers(col["location_precision_m"], integer=False)
    p.add(
        precision_bad,
        "location_precision_m",
        lambda i: (
            f"location_precision_m is not a non-negative number: {col['location_precision_m'][i].strip()!r}"
        ),
    )
    no_coords = lat_empty & lon_empty
    p.add(no_coords & (place == ""), "lat", lambda i: "no location: give lat and lon, or a place")
    needs_place = no_coords & (place != "")
    if needs_place.any():
        failures = _resolve_places(place, needs_place, lat, lon, precision, resolve_place)
        p.add(failures != "", "place", lambda i: str(failures[i]))

    event_type = _vocabulary(col["event_type"], EVENT_TYPES)
    event_text = col["event_type"]
    p.add(event_type == -2, "event_type", lambda i: "event_type is empty")
    p.add(
        event_type == -3,
        "event_type",
        lambda i: (
            f"unknown event_type {event_text[i].strip()!r}; expected one of {', '.join(EVENT_TYPES)}"
        ),
    )
    weapon = _vocabulary(col["weapon"], WEAPONS)
    weapon_text = col["weapon"]
    p.add(
        weapon == -3,
        "weapon",
        lambda i: (
            f"unknown weapon {weapon_text[i].strip()!r}; expected one of {', '.join(WEAPONS)} or empty"
        ),
    )

    count, count_bad = _numbers(col["count"], integer=True)
    p.add(
        count_bad,
        "count",
        lambda i: f"count is not a non-negative integer: {col['count'][i].strip()!r}",
    )
    fatalities, fatalities_bad = _numbers(col["fatalities"], integer=True)
    p.add(
        fatalities_bad,
        "fatalities",
        lambda i: f"fatalities is not a non-negative integer: {col['fatalities'][i].strip()!r}",
    )

    reliability = _map_distinct(col["reliability"], _reliability, object)
    p.add(
        reliability == "?",
        "reliability",
        lambda i: f"reliability must be a grade A-F or empty: {col['reliability'][i].strip()!r}",
    )
    credibility = _map_distinct(col["credibility"], _credibility, np.int8)
    p.add(
        credibility == -1,
        "credibility",
        lambda i: f"credibility must be a grade 1-6 or empty: {col['credibility'][i].strip()!r}",
    )

    reasons = p.reasons()
    rejected = list(pre_rejected)
    for i, (field_name, reason) in reasons.items():
        rejected.append(
            Rejection(
                line=int(lines[i]),
                report_id=report_id[i] or None,
                reason=reason,
                source=source[i] or None,
                field=field_name,
            )
        )
    rejected.sort(key=lambda r: r.line)

    valid = np.flatnonzero(~p.bad)
    first = _first_of_each_key(source[valid], report_id[valid])
    keep = valid[first]
    duplicates = len(valid) - len(keep)
    if len(keep) == 0:
        return ReadResult(empty_reports(), rejected, duplicates)
    table = ReportTable(
        source=source[keep],
        report_id=report_id[keep],
        observed_at=observed_at[keep],
        lon=lon[keep],
        lat=lat[keep],
        precision_m=precision[keep],
        event_type=event_type[keep].astype(np.int8),
        weapon=weapon[keep].astype(np.int8),
        actor=_strip_distinct(col["actor"][keep]),
        side=_strip_distinct(col["side"][keep]),
        target=_strip_distinct(col["target"][keep]),
        count=count[keep],
        fatalities=fatalities[keep],
        reliability=reliability[keep],
        credibility=np.where(credibility[keep] > 0, credibility[keep], 0).astype(np.int8),
        place=place[keep],
        notes=col["notes"][keep],
        line=lines[keep].astype(np.int64),
    )
    return ReadResult(table, rejected, duplicates)


_NS_MIN_US = -(2**63) // 1000 + 1
_NS_MAX_US = (2**63 - 1) // 1000


def _times(text: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """UTC datetime64[ns] and a problem code per row: 0 ok, 1 empty, 2 unparseable,
    3 no offset, 4 out of range."""
    n = len(text)
    problem = np.zeros(n, dtype=np.int8)
    if n == 0:
        return np.array([], dtype="datetime64[ns]"), problem
    parsed = pd.to_datetime(text, format="ISO8601", utc=True, errors="coerce")
    micros = np.asarray(parsed.as_unit("us").asi8)
    nat = np.asarray(parsed.isna())
    problem[nat] = 2
    for i in np.flatnonzero(nat):
        if not text[i].strip():
            problem[i] = 1
    problem[~nat & ~_has_offset(text)] = 3
    out_of_range = ~nat & ((micros < _NS_MIN_US) | (micros > _NS_MAX_US))
    problem[out_of_range & (problem == 0)] = 4
    ok = problem == 0
    observed = (np.where(ok, micros, 0) * 1000).view("datetime64[ns]")
    observed[~ok] = np.datetime64("NaT")
    return observed, problem


def _has_offset(text: np.ndarray) -> np.ndarray:
    """Whether each ISO 8601 time ends in `Z`, `±HH:MM`, `±HHMM` or `±HH` (after a time).

    Works on the UCS-4 code points of a fixed-width copy: one vectorised pass
    instead of a regex per row.
    """
    wide = text.astype(str)
    width = wide.dtype.itemsize // 4
    if width == 0:
        return np.zeros(len(text), dtype=bool)
    chars = wide.view(np.uint32).reshape(len(text), width)
    solid = (chars != 0) & (chars != 32) & (chars != 9) & (chars != 13)
    length = width - np.argmax(solid[:, ::-1], axis=1)  # one past the last non-blank
    length[~solid.any(axis=1)] = 0
    rows = np.arange(len(text))

    def at(back: int) -> np.ndarray:
        return np.where(length >= back, chars[rows, np.maximum(length - back, 0)], 0)

    def sign(c: np.ndarray) -> np.ndarray:
        return (c == ord("+")) | (c == ord("-"))

    def digit(c: np.ndarray) -> np.ndarray:
        return (c >= ord("0")) & (c <= ord("9"))

    last = at(1)
    zulu = (last == ord("Z")) | (last == ord("z"))
    hh_mm = (
        sign(at(6)) & digit(at(5)) & digit(at(4)) & (at(3) == ord(":")) & digit(at(2)) & digit(last)
    )
    hhmm = sign(at(5)) & digit(at(4)) & digit(at(3)) & digit(at(2)) & digit(last)
    hh = sign(at(3)) & digit(at(2)) & digit(last)
    first = np.argmax(solid, axis=1)
    has_time = (length - first) > 10  # longer than a bare date
    return has_time & (zulu | hh_mm | hhmm | hh)


def _numbers(values: np.ndarray, *, integer: bool) -> tuple[np.ndarray, np.ndarray]:
    """Optional non-negative numbers (few distinct values): (floats with NaN, invalid mask)."""

    def parse(text: str) -> tuple[float, bool]:
        if not text.strip():
            return np.nan, False
        number = _float_or_nan(text)
        ok = np.isfinite(number) and number >= 0 and (not integer or number == int(number))
        return (number, False) if ok else (np.nan, True)

    if len(values) == 0:
        return np.array([], dtype=np.float64), np.array([], dtype=bool)
    codes, uniques = pd.factorize(values)
    parsed = [parse(u) for u in uniques]
    numbers = np.array([x for x, _ in parsed], dtype=np.float64)[codes]
    bad = np.array([b for _, b in parsed], dtype=bool)[codes]
    return numbers, bad


def _vocabulary(values: np.ndarray, vocabulary: tuple[str, ...]) -> np.ndarray:
    """Codes into `vocabulary`; -2 empty, -3 unknown (case-insensitive, stripped)."""
    index = {name: i for i, name in enumerate(vocabulary)}

    def code(text: str) -> int:
        key = text.strip().lower()
        return -2 if not key else index.get(key, -3)

    codes = _map_distinct(values, code, np.int16)
    return np.where(codes == -2, NO_CODE, codes) if vocabulary is WEAPONS else codes


def _reliability(text: str) -> str:
    grade = text.strip().upper()
    return grade if grade == "" or (len(grade) == 1 and grade in RELIABILITY_GRADES) else "?"


def _credibility(text: str) -> int:
    grade = text.strip()
    if not grade:
        return 0
    number = _float_or_nan(grade)
    if np.isfinite(number) and number == int(number) and str(int(number)) in CREDIBILITY_GRADES:
        return int(number)
    return -1


def _resolve_places(
    place: np.ndarray,
    needs: np.ndarray,
    lat: np.ndarray,
    lon: np.ndarray,
    precision: np.ndarray,
    resolve_place: PlaceResolver | None,
) -> np.ndarray:
    """Fill lat/lon (and widen precision) from the gazetteer, in place; return the
    failure message per row ("" where none)."""
    failures = np.full(len(place), "", dtype=object)
    rows = np.flatnonzero(needs)
    codes, names = pd.factorize(place[rows])
    for k, name in enumerate(names.tolist()):
        members = rows[codes == k]
        if resolve_place is None:
            failures[members] = (
                f"place {name!r} given without lat/lon and no gazetteer to resolve it"
            )
            continue
        try:
            place_lon, place_lat, place_precision = resolve_place(name)
        except GazetteerError as exc:
            failures[members] = str(exc)
            continue
        lon[members] = place_lon
        lat[members] = place_lat
        if place_precision is not None:
            precision[members] = np.fmax(precision[members], place_precision)
    return failures


def _first_of_each_key(source: np.ndarray, report_id: np.ndarray) -> np.ndarray:
    """Positions of the first row of each (source, report_id), in order."""
    if len(source) == 0:
        return np.array([], dtype=np.int64)
    source_codes, _ = pd.factorize(source)
    id_codes, id_uniques = pd.factorize(report_id)
    combined = source_codes.astype(np.int64) * (len(id_uniques) + 1) + id_codes
    return np.flatnonzero(~pd.Series(combined).duplicated(keep="first").to_numpy())
