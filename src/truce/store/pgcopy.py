"""PostgreSQL binary COPY payloads built from numpy columns, without a Python loop per row.

The format (PostgreSQL docs, "COPY ... BINARY File Format"): a 19-byte header,
then per row a big-endian int16 field count and, per field, a big-endian int32
byte length (-1 for NULL) followed by that many bytes; a trailer int16 -1.

Field encodings used here (the server's binary `recv` formats):
- `text`: the UTF-8 bytes;
- `float8`: IEEE 754 double, big-endian;
- `int2`: big-endian int16;
- `bool`: one byte, 0 or 1;
- `timestamptz`: big-endian int64 microseconds since 2000-01-01T00:00:00Z.

>>> import numpy as np
>>> cols = [text_field(np.array(["a", ""], dtype=object)), float8_field(np.array([1.5, np.nan]))]
>>> rows = encode_rows(cols)
>>> len(rows) == 2 * (2 + 4 + 4) + 1 + 8  # two rows; only "a" and 1.5 carry data
True
>>> HEADER[:11] == SIGNATURE and len(HEADER) == 19
True

A payload is HEADER, any number of `encode_rows` pieces, then TRAILER.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
HEADER = SIGNATURE + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"  # flags 0, no header extension
TRAILER = b"\xff\xff"
PG_EPOCH_US = 946_684_800 * 1_000_000  # 2000-01-01 in Unix microseconds


@dataclass(frozen=True)
class Field:
    """One column ready to encode: per-row data bytes, their lengths, and NULLs.

    Fixed-width fields keep `fixed` (n, width) uint8; text fields keep `blob`, the
    concatenated bytes of every non-NULL value in row order.
    """

    lengths: np.ndarray  # int64 bytes of data per row, 0 when NULL
    null: np.ndarray  # bool per row
    fixed: np.ndarray | None = None
    blob: np.ndarray | None = None

    @property
    def uniform(self) -> bool:
        """Every row takes the same bytes (all NULL, or all the same width): such fields
        next to each other are written as one block per row."""
        n = len(self.null)
        return n == 0 or bool(
            (self.null == self.null[0]).all() and (self.lengths == self.lengths[0]).all()
        )

    def block(self) -> np.ndarray:
        """(n, 4 + width) bytes per row, length word included; only for uniform fields."""
        n = len(self.null)
        width = int(self.lengths[0]) if n else 0
        word = np.full(n, -1 if n and self.null[0] else width, dtype=">i4")
        if self.fixed is not None and width:
            data = self.fixed
        elif self.blob is not None and width:
            data = self.blob.reshape(n, width)
        else:
            return _bytes(word)
        return np.concatenate([_bytes(word), data], axis=1)

    def rows(self, start: int, stop: int) -> Field:
        """The same field for rows [start, stop)."""
        blob = self.blob
        if blob is not None:
            before = int(self.lengths[:start].sum())
            blob = blob[before : before + int(self.lengths[start:stop].sum())]
        fixed = self.fixed[start:stop] if self.fixed is not None else None
        return Field(self.lengths[start:stop], self.null[start:stop], fixed, blob)


def _fixed(values_be: np.ndarray, null: np.ndarray) -> Field:
    width = values_be.dtype.itemsize
    data = np.ascontiguousarray(values_be).view(np.uint8).reshape(len(values_be), width)
    return Field(lengths=np.where(null, 0, width).astype(np.int64), null=null, fixed=data)


def float8_field(values: np.ndarray) -> Field:
    """float64 values; NaN is NULL."""
    values = np.asarray(values, dtype=np.float64)
    return _fixed(values.astype(">f8"), np.isnan(values))


def int2_field(values: np.ndarray, null: np.ndarray) -> Field:
    return _fixed(np.asarray(values).astype(">i2"), np.asarray(null, dtype=bool))


def bool_field(values: np.ndarray) -> Field:
    values = np.asarray(values, dtype=bool)
    return _fixed(values.astype(np.uint8), np.zeros(len(values), dtype=bool))


def timestamptz_field(utc: np.ndarray) -> Field:
    """datetime64 values in UTC (naive), truncated to microseconds; NaT is NULL."""
    times = np.asarray(utc).astype("datetime64[us]")
    null = np.isnat(times)
    us = np.where(null, 0, times.astype(np.int64) - PG_EPOCH_US)
    return _fixed(us.astype(">i8"), null)


class NulInText(ValueError):
    """A text value holds NUL (0x00), which PostgreSQL text cannot store."""

    def __init__(self, row: int) -> None:
        super().__init__(f"row {row}: text contains a NUL character (0x00)")
        self.row = row


def text_field(values: np.ndarray | list[str]) -> Field:
    """str values; "" is NULL. Raises NulInText for a value holding NUL.

    The values are joined with NUL between them and encoded at once; the NULs then
    mark where each value's bytes start and end (a value cannot hold one itself).
    """
    items = values.tolist() if isinstance(values, np.ndarray) else list(values)
    n = len(items)
    try:
        joined = "\x00".join(items)
    except TypeError:  # a non-str slipped in: None is "not stated", anything else its text
        items = ["" if v is None else str(v) for v in items]
        joined = "\x00".join(items)
    raw = np.frombuffer(joined.encode(), dtype=np.uint8)
    separator = raw == 0
    cuts = np.flatnonzero(separator)
    if len(cuts) != max(n - 1, 0):
        raise NulInText(next(i for i, v in enumerate(items) if "\x00" in v))
    starts = np.concatenate(([0], cuts + 1)).astype(np.int64)
    ends = np.concatenate((cuts, [len(raw)])).astype(np.int64)
    lengths = (ends - starts)[:n]
    return Field(lengths=lengths, null=lengths == 0, blob=raw[~separator])


def encode_rows(fields: list[Field]) -> bytes:
    """The rows of these columns (without HEADER and TRAILER).

    Each row's field count and the uniform fields right after it (and any later run
    of uniform fields) are written as one block per row; other fields as length
    words, then data. Putting the uniform fields first makes encoding cheapest.
    """
    n = len(fields[0].null) if fields else 0
    if n == 0:
        return b""
    row_size = np.full(n, 2, dtype=np.int64)
    for f in fields:
        row_size += 4 + f.lengths
    row_start = np.concatenate(([0], np.cumsum(row_size)[:-1])).astype(np.int64)
    out = np.zeros(int(row_size.sum()), dtype=np.uint8)
    pos = row_start
    block: list[np.ndarray] = [_bytes(np.full(n, len(fields), dtype=">i2"))]
    for f in fields:
        if f.uniform:
            block.append(f.block())
            continue
        pos = _put_block(out, pos, block)
        block = []
        _put(out, pos, _bytes(np.where(f.null, -1, f.lengths).astype(">i4")))
        data_at = pos + 4
        if f.fixed is not None:
            keep = ~f.null
            _put(out, data_at[keep], f.fixed[keep])
        elif f.blob is not None and len(f.blob):
            src_start = np.concatenate(([0], np.cumsum(f.lengths)[:-1]))
            shift = np.repeat(data_at - src_start, f.lengths)
            out[np.arange(len(f.blob), dtype=np.int64) + shift] = f.blob
        pos = data_at + f.lengths
    _put_block(out, pos, block)
    return out.tobytes()


def _bytes(values_be: np.ndarray) -> np.ndarray:
    """(n,) fixed-width values as (n, width) bytes."""
    return np.ascontiguousarray(values_be).view(np.uint8).reshape(len(values_be), -1)


def _put_block(out: np.ndarray, at: np.ndarray, parts: list[np.ndarray]) -> np.ndarray:
    """Write (n, w_i) byte parts side by side at `at`; returns the positions after them."""
    if not parts:
        return at
    data = parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)
    _put(out, at, data)
    return at + data.shape[1]


def _put(out: np.ndarray, at: np.ndarray, data: np.ndarray) -> None:
    out[at[:, None] + np.arange(data.shape[1])] = data
