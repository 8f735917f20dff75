"""Importers: a source's own file format to SPEC §2/§4 report rows.

Each importer (`ucdp_ged`, `acled`, `hxl`) maps its source's columns and
semantics to report text (`TextRows`, with the original row as JSON); the normal
report checks then run on that text, so every row is accepted or rejected with
its line and reason. `--input-format auto` recognises each format by its header.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

from truce.errors import ReportFormatError
from truce.formats.importers import acled, hxl, ucdp_ged
from truce.formats.reports.rows import Raw, TextRows

__all__ = ["IMPORTERS", "detect", "parse"]

Parser = Callable[[Raw, int, str], TextRows]
IMPORTERS: dict[str, Parser] = {
    ucdp_ged.NAME: ucdp_ged.parse,
    acled.NAME: acled.parse,
    hxl.NAME: hxl.parse,
}
_HEAD_BYTES = 1 << 16  # enough for a header row and a few records


def detect(raw: Raw, start: int) -> str:
    """The input format of a file from its first records: an importer's name or "truce"."""
    head = bytes(raw[start : start + _HEAD_BYTES])
    if head.lstrip().startswith(b"{"):
        return "truce"  # JSON Lines
    records = _first_records(head)
    header = [c.strip().lower() for c in records[0]] if records else []
    if ucdp_ged.matches(header):
        return ucdp_ged.NAME
    if acled.matches(header):
        return acled.NAME
    if hxl.hashtag_row(records) is not None:
        return hxl.NAME
    return "truce"


def _first_records(head: bytes) -> list[list[str]]:
    """Up to 25 non-blank records (libhxl looks that far for the hashtag row)."""
    text = head.decode("utf-8", errors="replace")
    if len(head) == _HEAD_BYTES and "\n" in text:
        text = text[: text.rfind("\n")]  # a cut record would not parse
    out: list[list[str]] = []
    try:
        for row in csv.reader(io.StringIO(text, newline="")):
            if any(cell.strip() for cell in row):
                out.append(row)
            if len(out) == hxl.SEARCH_ROWS:
                break
    except csv.Error:
        pass
    return out


def parse(raw: Raw, start: int, name: str, input_format: str) -> TextRows:
    """The report text of a source file (`input_format` an importer's name)."""
    try:
        importer = IMPORTERS[input_format]
    except KeyError:
        raise ReportFormatError(
            f"unknown input format {input_format!r}; use one of {', '.join(IMPORTERS)}"
        ) from None
    return importer(raw, start, name)
