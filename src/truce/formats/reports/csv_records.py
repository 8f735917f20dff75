"""Where the records and lines of a CSV file are, from its bytes: numpy scans for
newlines, quotes and commas, for the fast path of `truce.formats.reports.csv`.

A record ends at a newline with an even number of quotes before it (quote parity);
`regular_quotes` says whether the file's quotes allow that reading, `Records` holds
every record's bytes and first line, and `simple_lines` numbers the rows of a file
with no quotes and no blank lines from a count alone.
"""

from __future__ import annotations

import numpy as np

from truce.formats.reports.rows import Raw

_SCAN_BYTES = 1 << 22  # bytes compared per numpy step: keeps the temporaries small
_COMMA, _NEWLINE, _CR, QUOTE = 44, 10, 13, 34


def offset_after_lines(raw: Raw, start: int, lines: int) -> int:
    """Byte offset just past the `lines`-th newline (the end of the file if it has fewer)."""
    pos = start
    for _ in range(lines):
        newline = raw.find(b"\n", pos)
        if newline < 0:
            return len(raw)
        pos = newline + 1
    return pos


def has_bare_cr(raw: Raw, buf: np.ndarray) -> bool:
    """A CR not followed by LF ends a record for every parser but not a line: the
    fast path's line numbers would be off."""
    if raw.find(b"\r") < 0:
        return False
    returns = byte_positions(buf, _CR)
    after = returns + 1
    return bool((after >= len(buf)).any() or (buf[after[after < len(buf)]] != _NEWLINE).any())


def byte_positions(buf: np.ndarray, byte: int, start: int = 0) -> np.ndarray:
    """Offsets (int64) of every `byte` in buf[start:], scanned in slices."""
    found = []
    step = np.empty(min(_SCAN_BYTES, max(len(buf) - start, 0)), dtype=bool)
    for lo in range(start, len(buf), _SCAN_BYTES):
        piece = buf[lo : lo + _SCAN_BYTES]
        hits = step[: len(piece)]
        np.equal(piece, byte, out=hits)
        found.append(np.flatnonzero(hits) + lo)
    return np.concatenate(found).astype(np.int64) if found else np.zeros(0, dtype=np.int64)


def _count(buf: np.ndarray, byte: int, start: int) -> int:
    total = 0
    step = np.empty(min(_SCAN_BYTES, max(len(buf) - start, 0)), dtype=bool)
    for lo in range(start, len(buf), _SCAN_BYTES):
        piece = buf[lo : lo + _SCAN_BYTES]
        hits = step[: len(piece)]
        np.equal(piece, byte, out=hits)
        total += int(np.count_nonzero(hits))
    return total


def regular_quotes(buf: np.ndarray, quotes: np.ndarray, start: int) -> bool:
    """Whether quote parity splits records as an RFC 4180 parser does: every quote
    opens a field (after a comma or newline), closes one (before a comma or line
    end), or is half of a doubled quote."""
    if len(quotes) % 2:
        return False
    last = len(buf) - 1
    opening, closing = quotes[0::2], quotes[1::2]
    before = buf[np.maximum(opening - 1, 0)]
    ok_open = (opening == start) | (before == _COMMA) | (before == _NEWLINE)
    ok_open[1:] |= opening[1:] - 1 == closing[:-1]
    after = buf[np.minimum(closing + 1, last)]
    ok_close = (closing == last) | (after == _COMMA) | (after == _NEWLINE) | (after == _CR)
    ok_close[:-1] |= closing[:-1] + 1 == opening[1:]
    return bool(ok_open.all() and ok_close.all())


def simple_lines(buf: np.ndarray, start: int, first_line: int, n_rows: int) -> np.ndarray | None:
    """Lines when every body line is a row (no quotes, no blank lines): a count suffices."""
    n_lines = _count(buf, _NEWLINE, start)
    if len(buf) > start and buf[-1] != _NEWLINE:
        n_lines += 1
    if n_lines != n_rows:
        return None
    return np.arange(first_line, first_line + n_rows, dtype=np.int64)


class Records:
    """Every record of the body: a record ends at a newline outside quotes."""

    def __init__(
        self,
        buf: np.ndarray,
        starts: np.ndarray,
        ends: np.ndarray,
        lines: np.ndarray,
        multiline: bool,
    ) -> None:
        self.buf = buf
        self.starts = starts  # offset of the first byte
        self.ends = ends  # offset of the ending newline (or the end of the file)
        self.lines = lines  # 1-based line of the first byte
        self.multiline = multiline  # whether some record spans lines

    @classmethod
    def scan(
        cls, buf: np.ndarray, start: int, first_line: int, quotes: np.ndarray | None
    ) -> Records:
        newlines = byte_positions(buf, _NEWLINE, start)
        ordinal = np.arange(len(newlines), dtype=np.int64)
        multiline = False
        if quotes is not None and len(quotes):
            outside = np.searchsorted(quotes, newlines) % 2 == 0
            multiline = not outside.all()
            newlines, ordinal = newlines[outside], ordinal[outside]
        starts = np.concatenate(([start], newlines + 1))
        ends = np.concatenate((newlines, [len(buf)]))
        lines = first_line + np.concatenate(([0], ordinal + 1))
        if starts[-1] >= len(buf):  # nothing after the last newline
            starts, ends, lines = starts[:-1], ends[:-1], lines[:-1]
        return cls(buf, starts.astype(np.int64), ends.astype(np.int64), lines, multiline)

    def empty(self) -> np.ndarray:
        """Records Arrow skips as empty lines (nothing, or a lone CR before the LF)."""
        size = self.ends - self.starts
        lone_cr = (size == 1) & (self.buf[np.minimum(self.starts, len(self.buf) - 1)] == _CR)
        return (size == 0) | lone_cr

    def field_counts(self, quotes: np.ndarray | None) -> np.ndarray:
        """1 + the commas outside quotes, per record."""
        start = int(self.starts[0]) if len(self.starts) else len(self.buf)
        commas = byte_positions(self.buf, _COMMA, start)
        if quotes is not None and len(quotes):
            commas = commas[np.searchsorted(quotes, commas) % 2 == 0]
        bounds = np.searchsorted(commas, np.append(self.starts, len(self.buf)))
        return np.diff(bounds) + 1
