"""Split a report file into chunks of whole rows, for ingesting a big file in steps.

A chunk repeats the file's header lines (a CSV's header; an HXL file's lines up
to its hashtag row), so each chunk reads like the whole file. gzip files are
decompressed as they are read.
"""

from __future__ import annotations

import gzip
import re
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from truce.errors import ReportFormatError
from truce.formats.reports.archive import ZIP_MAGIC, open_member

_HEAD_BYTES = 1 << 16


@dataclass(frozen=True)
class ChunkPlan:
    format: str  # for read_reports: "csv", "jsonl" (SPEC §2) or an importer's name
    header_lines: int  # lines every chunk repeats (0 for JSON Lines)


@contextmanager
def open_report(path: Path) -> Iterator[tuple[BinaryIO, BinaryIO]]:
    """(the content, the file on disk): the content is the archive's report file when
    the file is a zip, and is decompressed when it is gzip."""
    with path.open("rb") as disk:
        magic = disk.read(4)
        disk.seek(0)
        if magic == ZIP_MAGIC:
            member, _ = open_member(disk, str(path))
            with member, _gunzipping(member) as content:
                yield content, disk
        else:
            with _gunzipping(disk) as content:
                yield content, disk


@contextmanager
def _gunzipping(raw: BinaryIO) -> Iterator[BinaryIO]:
    start = raw.tell()
    gzipped = raw.read(2) == b"\x1f\x8b"
    raw.seek(start)
    if gzipped:
        with gzip.GzipFile(fileobj=raw) as content:
            yield content  # type: ignore[misc]
    else:
        yield raw


def _blank(path: Path) -> bool:
    """Whether the (decompressed) file holds nothing but whitespace."""
    try:
        with open_report(path) as (content, _):
            while block := content.read(1 << 20):
                if block.strip():
                    return False
    except (OSError, EOFError, zlib.error):
        return False  # damaged gzip data: reading it later says where
    return True


def plan_chunks(path: Path, input_format: str | None) -> ChunkPlan:
    """What `read_reports` should be told for each chunk, and which lines repeat."""
    from truce.formats import importers
    from truce.formats.importers import hxl

    head = _head(path)
    start = 3 if head[:3] == b"\xef\xbb\xbf" else 0
    if not head[start:].strip() and _blank(path):
        # The same answer as the API's for an empty body (an error, not "0 accepted").
        raise ReportFormatError(f"{path}: empty file: send at least one report")
    chosen = input_format or "auto"
    if chosen == "auto":
        chosen = importers.detect(head, start)
    if chosen == hxl.NAME:
        _, lines_before = hxl.hashtag_offset(head, start, str(path))
        return ChunkPlan(chosen, lines_before + 1)
    if chosen in importers.IMPORTERS:
        return ChunkPlan(chosen, 1)
    if chosen not in ("truce", "csv", "jsonl"):
        raise ReportFormatError(f"unknown input format {chosen!r}")
    suffixes = [s.lower() for s in path.suffixes if s.lower() != ".gz"]
    jsonl = chosen == "jsonl" or (
        chosen != "csv"
        and (
            (suffixes and suffixes[-1] in (".jsonl", ".ndjson", ".json-lines"))
            or head[start:].lstrip().startswith(b"{")
        )
    )
    return ChunkPlan("jsonl", 0) if jsonl else ChunkPlan("csv", 1)


def _head(path: Path) -> bytes:
    """The first bytes of the content, even of a truncated gzip file (which fails later,
    where the data ends, with the line it reached)."""
    with path.open("rb") as disk:
        raw = disk.read(_HEAD_BYTES)
    if raw[:4] == ZIP_MAGIC:
        with open_report(path) as (content, _):
            return content.read(_HEAD_BYTES)
    if raw[:2] != b"\x1f\x8b":
        return raw
    try:
        return zlib.decompressobj(wbits=31).decompress(raw, _HEAD_BYTES)
    except zlib.error as exc:
        raise ReportFormatError(f"{path}: not valid gzip data ({exc})") from None


def file_chunks(path: Path, header_lines: int, rows: int) -> Iterator[tuple[bytes, int, int]]:
    """(bytes, line offset, bytes of the file read so far) per chunk of about `rows` rows.

    The line offset turns a line number within the chunk into one of the whole file.
    A quoted field spanning lines is kept whole by counting quotes (CSV only)."""
    count_quotes = header_lines > 0
    with open_report(path) as (content, disk):
        try:
            yield from _chunks(content, disk, header_lines, rows, count_quotes)
        except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
            raise ReportFormatError(
                f"{path}: the gzip data ends early or is damaged ({exc}): the file is "
                "truncated or corrupt; the batches before this point are stored (ingesting "
                "again skips them); fix the file and retry"
            ) from None


def _chunks(
    content: BinaryIO, disk: BinaryIO, header_lines: int, rows: int, count_quotes: bool
) -> Iterator[tuple[bytes, int, int]]:
    header = b"".join(content.readline() for _ in range(header_lines))
    consumed = header_lines  # lines before the current chunk's first row
    buf: list[bytes] = []
    line_no = consumed
    quotes = 0
    for raw in content:
        buf.append(raw)
        line_no += 1
        if count_quotes:
            quotes += raw.count(b'"')
        if len(buf) >= rows and quotes % 2 == 0:
            yield header + b"".join(buf), consumed - header_lines, disk.tell()
            buf, consumed = [], line_no
    if buf:
        yield header + b"".join(buf), consumed - header_lines, disk.tell()


_COUNT = re.compile(r"\b(\d+) row\(s\)")


def merge_notices(notices: list[str]) -> list[str]:
    """The notices of several chunks as those of one file: notices that differ only in
    their "N row(s)" count are one notice with the counts added, in first-seen order."""
    totals: dict[str, int] = {}
    for notice in notices:
        found = _COUNT.search(notice)
        key = _COUNT.sub("{} row(s)", notice, count=1) if found else notice
        totals[key] = totals.get(key, 0) + (int(found[1]) if found else 0)
    return [
        key.replace("{}", str(n), 1) if "{} row(s)" in key else key for key, n in totals.items()
    ]
