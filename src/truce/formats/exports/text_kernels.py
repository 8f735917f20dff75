"""Compiled passes that write a column's text in one go, where Arrow's kernels would
take several (a JSON string is a quote, the value and a quote: three passes and three
arrays in Arrow, one pass here; a time is four casts and a replacement).

Each returns an Arrow string array's buffers (offsets, data) for `string_array`, or
says it cannot (a value needs escaping: the caller lets orjson do that).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from truce.domain.compiled import compiled


def string_array(offsets: np.ndarray, data: np.ndarray, valid: np.ndarray | None) -> pa.Array:
    n = len(offsets) - 1
    nulls = 0 if valid is None else int(n - valid.sum())
    bitmap = pa.array(valid).buffers()[1] if nulls else None
    return pa.Array.from_buffers(
        pa.string(), n, [bitmap, pa.py_buffer(offsets), pa.py_buffer(data)], null_count=nulls
    )


@compiled
def interleave(
    literals: np.ndarray, bounds: np.ndarray, data: np.ndarray, offsets: np.ndarray
) -> np.ndarray:
    """Row by row: literal 0, column 0's value, literal 1, ..., literal k (the literals
    end to end in `literals`, split at `bounds`; column j's values in `data` at
    `offsets[j]`)."""
    k, n = offsets.shape[0], offsets.shape[1] - 1
    out = np.empty(n * len(literals) + len(data), dtype=np.uint8)
    o = 0
    for r in range(n):
        for j in range(k + 1):
            for b in range(bounds[j], bounds[j + 1]):
                out[o] = literals[b]
                o += 1
            if j < k:
                for b in range(offsets[j, r], offsets[j, r + 1]):
                    out[o] = data[b]
                    o += 1
    return out


@compiled
def _null(out: np.ndarray, o: int) -> int:
    out[o], out[o + 1], out[o + 2], out[o + 3] = 110, 117, 108, 108
    return o + 4


@compiled
def _plain(c: int) -> bool:
    """Written as itself inside a JSON string (orjson escapes `"`, `\\` and controls)."""
    return c >= 0x20 and c != 34 and c != 92


@compiled
def _quoted(out: np.ndarray, o: int, data: np.ndarray, start: int, stop: int) -> int:
    """`data[start:stop]` in quotes at `out[o]`; where it ends, or -1 if it needs an
    escape."""
    out[o] = 34
    o += 1
    for b in range(start, stop):
        c = data[b]
        if not _plain(c):
            return -1
        out[o] = c
        o += 1
    out[o] = 34
    return o + 1


@compiled
def json_quoted(
    offsets: np.ndarray, data: np.ndarray, valid: np.ndarray
) -> tuple[np.ndarray, np.ndarray, bool]:
    """Each string in quotes, `null` where absent; False if one needs an escape."""
    n = len(offsets) - 1
    out_offsets = np.zeros(n + 1, dtype=np.int32)
    out = np.empty(offsets[n] - offsets[0] + 6 * n, dtype=np.uint8)
    o = 0
    for r in range(n):
        if not valid[r]:
            o = _null(out, o)
        else:
            o = _quoted(out, o, data, offsets[r], offsets[r + 1])
            if o < 0:
                return out_offsets, out, False
        out_offsets[r + 1] = o
    return out_offsets, out[:o], True


@compiled
def json_arrays(
    lists: np.ndarray, offsets: np.ndarray, data: np.ndarray
) -> tuple[np.ndarray, np.ndarray, bool]:
    """Each list of strings as a JSON array; False if a string needs an escape."""
    n = len(lists) - 1
    items = lists[n] - lists[0]
    out_offsets = np.zeros(n + 1, dtype=np.int32)
    size = offsets[lists[n]] - offsets[lists[0]] + 3 * items + 2 * n
    out = np.empty(size, dtype=np.uint8)
    o = 0
    for r in range(n):
        out[o] = 91
        o += 1
        for i in range(lists[r], lists[r + 1]):
            if i > lists[r]:
                out[o] = 44
                o += 1
            o = _quoted(out, o, data, offsets[i], offsets[i + 1])
            if o < 0:
                return out_offsets, out, False
        out[o] = 93
        o += 1
        out_offsets[r + 1] = o
    return out_offsets, out[:o], True


@compiled
def _digits(out: np.ndarray, o: int, value: int, width: int) -> int:
    for k in range(width - 1, -1, -1):
        out[o + k] = 48 + value % 10
        value //= 10
    return o + width


@compiled
def iso_times(micros: np.ndarray, valid: np.ndarray, quote: bool) -> tuple[np.ndarray, np.ndarray]:
    """Microseconds since 1970 in UTC as `YYYY-MM-DDTHH:MM:SSZ`, with `.ffffff` before
    the `Z` when there is a fraction of a second (as Python's `isoformat`); in quotes
    if `quote` (JSON), and `null` where absent (JSON) or nothing (CSV)."""
    n = len(micros)
    out_offsets = np.zeros(n + 1, dtype=np.int32)
    out = np.empty(n * 29, dtype=np.uint8)
    o = 0
    for r in range(n):
        if not valid[r]:
            if quote:
                o = _null(out, o)
            out_offsets[r + 1] = o
            continue
        seconds = micros[r] // 1_000_000
        fraction = micros[r] - seconds * 1_000_000
        days = seconds // 86_400
        of_day = seconds - days * 86_400
        # The civil date of a day count (H. Hinnant, "chrono-Compatible Low-Level Date
        # Algorithms"), in the proleptic Gregorian calendar as Python's datetime.
        z = days + 719_468
        era = z // 146_097
        doe = z - era * 146_097
        yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
        doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
        mp = (5 * doy + 2) // 153
        day = doy - (153 * mp + 2) // 5 + 1
        month = mp + 3 if mp < 10 else mp - 9
        year = yoe + era * 400 + (1 if month <= 2 else 0)
        if quote:
            out[o] = 34
            o += 1
        o = _digits(out, o, year, 4)
        out[o] = 45
        o = _digits(out, o + 1, month, 2)
        out[o] = 45
        o = _digits(out, o + 1, day, 2)
        out[o] = 84
        o = _digits(out, o + 1, of_day // 3600, 2)
        out[o] = 58
        o = _digits(out, o + 1, of_day // 60 % 60, 2)
        out[o] = 58
        o = _digits(out, o + 1, of_day % 60, 2)
        if fraction:
            out[o] = 46
            o = _digits(out, o + 1, fraction, 6)
        out[o] = 90
        o += 1
        if quote:
            out[o] = 34
            o += 1
        out_offsets[r + 1] = o
    return out_offsets, out[:o]
