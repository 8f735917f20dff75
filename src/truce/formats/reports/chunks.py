"""Split a report file into chunks of whole rows, for ingesting a big file in steps."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path


def file_chunks(path: Path, fmt: str, rows: int) -> Iterator[tuple[bytes, int, int]]:
    """(bytes, line offset, bytes read so far) per chunk of about `rows` rows.

    The line offset turns a line number within the chunk into one of the whole file.

    CSV chunks repeat the header; a quoted field spanning lines is kept whole by
    counting quotes."""
    with path.open("rb") as f:
        header = f.readline() if fmt == "csv" else b""
        # Lines consumed so far; in a chunk a CSV's header is line 1 again.
        line_no = 1 if fmt == "csv" else 0
        repeat = 1 if fmt == "csv" else 0
        buf: list[bytes] = []
        start = line_no
        quotes = 0
        for raw in f:
            buf.append(raw)
            line_no += 1
            if fmt == "csv":
                quotes += raw.count(b'"')
            if len(buf) >= rows and quotes % 2 == 0:
                yield header + b"".join(buf), start - repeat, f.tell()
                buf, start = [], line_no
        if buf:
            yield header + b"".join(buf), start - repeat, f.tell()
