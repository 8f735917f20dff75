"""HXL-tagged CSV (Humanitarian Exchange Language) to SPEC §2/§4, read by tag.

The hashtag row (within the first 25 rows, as libhxl looks) names each column;
its tags are parsed and matched by libhxl's tag patterns, so `#group+name+first`
also finds a column tagged `#group+first+name+ar`. The rows themselves go
through the report CSV parser (exact line numbers, shape rejections).

Tags read (the first matching column wins):

| report column | tag patterns |
|---|---|
| report_id | `#event+code`, `#event+id` |
| observed_at, observed_to | `#date+occurred` (else `#date`), `#date+end` |
| lat, lon | `#geo+lat`, `#geo+lon` |
| place | `#loc+name`, `#adm2+name`, `#adm1+name` |
| actor, target | `#group+name+first`, `#group+name+second` (+`+assoc` columns appended) |
| event_type | `#event+type+sub`, `#event+type` (truce names, else ACLED's) |
| fatalities (low, high) | `#affected+killed` (`+min`, `+max`) |
| source, source_url | `#meta+source`, `#meta+url` |
| notes | `#description`, `#meta+notes` |
"""

from __future__ import annotations

import re
from collections import Counter
from typing import TYPE_CHECKING

import numpy as np

from truce.domain.model import EVENT_TYPES
from truce.errors import ReportFormatError
from truce.formats.importers import acled
from truce.formats.importers.common import (
    Mapped,
    SourceRows,
    clip,
    joined,
    read_source_csv,
    reject,
)
from truce.formats.importers.timezones import day_window, parse_date, zone_for
from truce.formats.reports.rows import Raw, TextRows

if TYPE_CHECKING:  # libhxl takes a good part of a second to import: only HXL files need it
    import hxl

NAME = "hxl"
DEFAULT_SOURCE = "hxl"
SEARCH_ROWS = 25  # libhxl looks this far down for the hashtag row
_TAG = re.compile(r"\s*#[A-Za-z][A-Za-z0-9_]*(\s*[+-]\s*[A-Za-z][A-Za-z0-9_]*)*\s*")

PATTERNS: dict[str, tuple[str, ...]] = {
    "report_id": ("#event+code", "#event+id"),
    "date": ("#date+occurred", "#date-end", "#date"),
    "date_end": ("#date+end",),
    "lat": ("#geo+lat",),
    "lon": ("#geo+lon",),
    "place": ("#loc+name", "#adm2+name", "#adm1+name"),
    "country": ("#country+name", "#country+code"),
    "actor": ("#group+name+first-assoc",),
    "actor_assoc": ("#group+name+first+assoc",),
    "target": ("#group+name+second-assoc",),
    "target_assoc": ("#group+name+second+assoc",),
    "event_sub": ("#event+type+sub",),
    "event_type": ("#event+type-sub",),
    "killed": ("#affected+killed-min-max",),
    "killed_min": ("#affected+killed+min",),
    "killed_max": ("#affected+killed+max",),
    "source": ("#meta+source",),
    "source_url": ("#meta+url",),
    "notes": ("#description", "#meta+notes"),
}
REQUIRED = ("report_id", "date", "lat", "lon", "event_type")


def hashtag_row(records: list[list[str]]) -> int | None:
    """Index of the hashtag row among the first records: every non-empty cell a tag."""
    for k, row in enumerate(records[:SEARCH_ROWS]):
        cells = [c for c in row if c.strip()]
        if cells and all(_TAG.fullmatch(c) for c in cells):
            return k
    return None


def parse(raw: Raw, start: int, name: str) -> TextRows:
    header_at = hashtag_offset(raw, start, name)
    offset, lines_before = header_at
    rows = read_source_csv(raw, offset, name)
    rows.lines = rows.lines + lines_before
    rows.rejected = [
        type(r)(r.line + lines_before, r.report_id, r.reason, r.source, r.field)
        for r in rows.rejected
    ]
    import hxl

    columns = [hxl.model.Column.parse(tag) for tag in rows.header]
    found = {key: _find(columns, patterns) for key, patterns in PATTERNS.items()}
    missing = [PATTERNS[k][0] for k in REQUIRED if found[k] is None]
    if missing:
        raise ReportFormatError(
            f"{name}: HXL file without the tag(s) {', '.join(missing)}; its hashtag row has: "
            f"{', '.join(rows.header)}"
        )
    mapped, keep = _map(rows, {k: rows.header[i] for k, i in found.items() if i is not None})
    return mapped.to_text_rows(rows, keep)


def _find(columns: list[hxl.model.Column], patterns: tuple[str, ...]) -> int | None:
    import hxl

    for text in patterns:
        index = hxl.model.TagPattern.parse(text).find_column_index(columns)
        if index is not None:
            return int(index)
    return None


def hashtag_offset(raw: Raw, start: int, name: str) -> tuple[int, int]:
    """(byte offset of the hashtag row, lines before it): the rows are read with the
    hashtag row as their header."""
    from truce.formats.importers import _first_records  # one reading of the head

    records = _first_records(bytes(raw[start : start + (1 << 16)]))
    k = hashtag_row(records)
    if k is None:
        raise ReportFormatError(
            f"{name}: not an HXL file: no hashtag row (#event+code, #date+occurred, ...) "
            f"in the first {SEARCH_ROWS} rows"
        )
    # Find the line the k-th non-blank record starts on (the head has no multi-line cells
    # before the hashtag row in any HXL file seen; a record per line is assumed there).
    pos, seen, line = start, -1, 0
    while True:
        end = raw.find(b"\n", pos)
        text = bytes(raw[pos : end if end >= 0 else len(raw)])
        if text.strip(b"\r\t ,"):
            seen += 1
        if seen == k:
            return pos, line
        if end < 0:
            raise ReportFormatError(f"{name}: HXL hashtag row not found")
        pos, line = end + 1, line + 1


def _map(rows: SourceRows, tag_column: dict[str, str]) -> tuple[Mapped, np.ndarray]:
    n = len(rows)

    def col(key: str) -> list[str]:
        return rows.get(tag_column[key]) if key in tag_column else [""] * n

    out = Mapped(n)
    keep = np.ones(n, dtype=bool)
    unmapped: Counter[str] = Counter()
    observed_at: list[str] = []
    observed_to: list[str] = []
    event_type: list[str] = []
    direction: list[str] = []
    notes: list[str] = []
    ids, dates, ends = col("report_id"), col("date"), col("date_end")
    sources = [s.strip() or DEFAULT_SOURCE for s in col("source")]
    for i in range(n):
        window = _window(dates[i], ends[i], col("country")[i])
        if isinstance(window, str):
            keep[i] = False
            out.rejected.append(
                reject(int(rows.lines[i]), ids[i].strip(), sources[i], "observed_at", window)
            )
            for values in (observed_at, observed_to, event_type, direction, notes):
                values.append("")
            continue
        sub, main = col("event_sub")[i].strip(), col("event_type")[i].strip()
        written = sub or main
        kind, directed = _event_type(main, sub, col("notes")[i])
        if kind == acled.OTHER:
            unmapped[written or "(empty)"] += 1
        observed_at.append(window[0])
        observed_to.append(window[1])
        event_type.append(kind)
        direction.append("attack" if directed else "mutual")
        text = col("notes")[i].strip()
        notes.append("; ".join(p for p in (f"HXL event type: {written}", clip(text, 600)) if p))
    out.columns = {
        "report_id": ids,
        "source": sources,
        "observed_at": observed_at,
        "observed_to": observed_to,
        "lat": col("lat"),
        "lon": col("lon"),
        "place": col("place"),
        "event_type": event_type,
        "direction": direction,
        "actor": [joined(a, b) for a, b in zip(col("actor"), col("actor_assoc"), strict=True)],
        "target": [joined(a, b) for a, b in zip(col("target"), col("target_assoc"), strict=True)],
        "fatalities": col("killed"),
        "fatalities_low": col("killed_min"),
        "fatalities_high": col("killed_max"),
        "source_url": col("source_url"),
        "notes": notes,
    }
    for kind, count in sorted(unmapped.items(), key=lambda kv: (-kv[1], kv[0])):
        out.notices.append(
            f"HXL #event+type {kind!r}: {count} row(s) read as event_type 'other' "
            "(truce has no event type for it)"
        )
    return out, keep


def _event_type(main: str, sub: str, notes: str) -> tuple[str, bool]:
    """(event_type, whether the first group attacked the second). A truce event type
    name, as truce writes it, reads as SPEC §2 does (the actor attacked the target);
    anything else as ACLED's vocabulary, whose direction ACLED's codebook gives."""
    if not sub and main in EVENT_TYPES:
        return main, True
    kind = acled.event_type_of(sub or main, notes)
    return kind, acled.directed(main if sub else "", sub or main)


def _window(first_text: str, last_text: str, country: str) -> tuple[str, str] | str:
    """The day(s) as a local window, or a time with offset as given; else why not."""
    text = first_text.strip()
    zone = zone_for(country) if country.strip() else None
    first = parse_date(text)
    if first is None:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}.*([+-]\d{2}:?\d{2}|Z)", text):
            return text, ""  # an exact time: the normal checks read it
        return f"#date+occurred is not a date (YYYY-MM-DD) or a time with offset: {text!r}"
    last = parse_date(last_text) if last_text.strip() else first
    if last is None:
        return f"#date+end is not a date (YYYY-MM-DD): {last_text.strip()!r}"
    if last < first:
        return f"#date+end {last} is before #date+occurred {first}"
    return day_window(first, last, zone)
