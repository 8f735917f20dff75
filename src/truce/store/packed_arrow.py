"""Packed incidents' rows read straight into Arrow columns, no Python object per value.

An export reads every row of a full evaluation in order. Parsed by orjson, each row
becomes some twenty Python objects that are made, transposed and freed again (about
7 us a row, before any writer starts). Here a compiled pass finds where each value of
each row lies in the rows' JSON text, a second copies one field's values into an
Arrow array's buffers, and Arrow's own kernels convert them (numbers, times).

Only what needs no JSON decoding is read this way: values with an escape (a
backslash) are rare, and a column holding one is parsed by orjson instead, as is a
run of rows any of which is not an array of `INCIDENT_FIELDS` (a row stored as an
object). Either way the columns are the same.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import orjson
import pyarrow as pa

from truce.domain.compiled import compiled
from truce.store.packed import DOCS_PER_BLOCK, INCIDENT_FIELDS, PackedIncidents

Kind = Literal["str", "raw", "list"]

_QUOTE, _BACKSLASH, _COMMA, _NEWLINE = ord('"'), ord("\\"), ord(","), ord("\n")
_OPEN, _CLOSE, _OPEN_OBJ, _CLOSE_OBJ = ord("["), ord("]"), ord("{"), ord("}")


@compiled
def _is_space(c: int) -> bool:
    return c == 32 or c == 9 or c == 10 or c == 13


@compiled
def _string_end(text: np.ndarray, pos: int) -> int:
    """Just past the JSON string that opens at `pos`."""
    pos += 1
    while pos < len(text):
        c = text[pos]
        if c == 92:  # a backslash escapes the next character
            pos += 2
            continue
        pos += 1
        if c == 34:
            return pos
    return -1


@compiled
def _value_end(text: np.ndarray, pos: int) -> int:
    """Just past the JSON value that starts at `pos` (-1 if it does not end)."""
    c = text[pos]
    if c == 34:
        return _string_end(text, pos)
    if c == 91 or c == 123:
        depth = 0
        while pos < len(text):
            c = text[pos]
            if c == 34:
                pos = _string_end(text, pos)
                if pos < 0:
                    return -1
                continue
            if c == 91 or c == 123:
                depth += 1
            elif c == 93 or c == 125:
                depth -= 1
                if depth == 0:
                    return pos + 1
            pos += 1
        return -1
    while pos < len(text):  # a number, true, false or null
        c = text[pos]
        if c == 44 or c == 93 or c == 125 or c == 10 or c == 32 or c == 9 or c == 13:
            return pos
        pos += 1
    return pos


@compiled
def _row_fields(
    text: np.ndarray, n_rows: int, n_fields: int
) -> tuple[np.ndarray, np.ndarray, bool]:
    """Where each value of each row lies (start, end) in `text`, rows separated by
    newlines; False if a row is not an array of exactly `n_fields` values."""
    starts = np.zeros((n_rows, n_fields), dtype=np.int64)
    ends = np.zeros((n_rows, n_fields), dtype=np.int64)
    pos = 0
    n = len(text)
    for r in range(n_rows):
        while pos < n and _is_space(text[pos]):
            pos += 1
        if pos >= n or text[pos] != 91:
            return starts, ends, False
        pos += 1
        f = 0
        while True:
            while pos < n and _is_space(text[pos]):
                pos += 1
            if pos >= n:
                return starts, ends, False
            if f == 0 and text[pos] == 93:
                return starts, ends, False  # an empty array
            end = _value_end(text, pos)
            if end < 0 or f >= n_fields:
                return starts, ends, False
            starts[r, f], ends[r, f] = pos, end
            f += 1
            pos = end
            while pos < n and _is_space(text[pos]) and text[pos] != 10:
                pos += 1
            if pos < n and text[pos] == 44:
                pos += 1
                continue
            if pos < n and text[pos] == 93:
                pos += 1
                break
            return starts, ends, False
        if f != n_fields:
            return starts, ends, False
    return starts, ends, True


@compiled
def _is_null(text: np.ndarray, s: int, e: int) -> bool:
    return e - s == 4 and text[s] == 110 and text[s + 1] == 117 and text[s + 2] == 108


@compiled
def _gather(
    text: np.ndarray, starts: np.ndarray, ends: np.ndarray, quoted: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    """One field's values as an Arrow string array's offsets, data and validity
    (`null` is a null): a JSON string without its quotes, or any value as its text.
    False where a string holds an escape or is not a string."""
    n = len(starts)
    offsets = np.zeros(n + 1, dtype=np.int32)
    valid = np.ones(n, dtype=np.bool_)
    total = 0
    for r in range(n):
        s, e = starts[r], ends[r]
        if _is_null(text, s, e):
            valid[r] = False
        elif quoted:
            if text[s] != 34:
                return offsets, np.zeros(0, np.uint8), valid, False
            total += e - s - 2
        else:
            total += e - s
        offsets[r + 1] = total
    data = np.empty(total, dtype=np.uint8)
    for r in range(n):
        if not valid[r]:
            continue
        s, e = starts[r], ends[r]
        if quoted:
            s, e = s + 1, e - 1
        o = offsets[r]
        for k in range(s, e):
            c = text[k]
            if quoted and c == 92:
                return offsets, data, valid, False
            data[o + k - s] = c
    return offsets, data, valid, True


@compiled
def _gather_lists(
    text: np.ndarray, starts: np.ndarray, ends: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    """One field's arrays of strings as an Arrow `list<string>`'s list offsets, value
    offsets and data (`null` is an empty list). False where a value is not such an
    array or a string in it holds an escape."""
    n = len(starts)
    lists = np.zeros(n + 1, dtype=np.int32)
    count = 0
    size = 0
    for r in range(n):  # first the sizes: strings and their bytes
        s, e = starts[r], ends[r]
        if not _is_null(text, s, e):
            if text[s] != 91:
                return lists, lists, np.zeros(0, np.uint8), False
            inside = False
            for k in range(s + 1, e - 1):
                c = text[k]
                if c == 34:
                    inside = not inside
                    if inside:
                        count += 1
                elif inside:
                    if c == 92:
                        return lists, lists, np.zeros(0, np.uint8), False
                    size += 1
                elif c != 44 and not _is_space(c):
                    return lists, lists, np.zeros(0, np.uint8), False
        lists[r + 1] = count
    values = np.zeros(count + 1, dtype=np.int32)
    data = np.empty(size, dtype=np.uint8)
    v = 0
    o = 0
    for r in range(n):
        s, e = starts[r], ends[r]
        if _is_null(text, s, e):
            continue
        inside = False
        for k in range(s + 1, e - 1):
            c = text[k]
            if c == 34:
                inside = not inside
                if not inside:
                    v += 1
                    values[v] = o
            elif inside:
                data[o] = c
                o += 1
    return lists, values, data, True


def _validity(valid: np.ndarray) -> pa.Buffer | None:
    return None if valid.all() else pa.array(valid).buffers()[1]


def _decoded(text: bytes, starts: np.ndarray, ends: np.ndarray, kind: Kind) -> pa.Array:
    """The field's values parsed by orjson: the way for values with escapes."""
    values = orjson.loads(
        b"["
        + b",".join(text[s:e] for s, e in zip(starts.tolist(), ends.tolist(), strict=True))
        + b"]"
    )
    if kind == "list":
        return pa.array([v or () for v in values], pa.list_(pa.string()))
    if kind == "raw" or not all(v is None or type(v) is str for v in values):
        return pa.array([None if v is None else orjson.dumps(v).decode() for v in values])
    return pa.array(values, pa.string())


def _column(
    text: bytes, buffer: np.ndarray, starts: np.ndarray, ends: np.ndarray, kind: Kind
) -> pa.Array:
    n = len(starts)
    if kind == "list":
        lists, values, data, ok = _gather_lists(buffer, starts, ends)
        if ok:
            strings = pa.Array.from_buffers(
                pa.string(), len(values) - 1, [None, pa.py_buffer(values), pa.py_buffer(data)]
            )
            return pa.ListArray.from_arrays(pa.array(lists), strings)
    else:
        offsets, data, valid, ok = _gather(buffer, starts, ends, kind == "str")
        if ok:
            return pa.Array.from_buffers(
                pa.string(),
                n,
                [_validity(valid), pa.py_buffer(offsets), pa.py_buffer(data)],
                null_count=int(n - valid.sum()),
            )
    return _decoded(text, starts, ends, kind)


def packed_columns(
    items: PackedIncidents, start: int, stop: int, fields: dict[str, Kind]
) -> dict[str, pa.Array] | None:
    """The `fields` of incidents start..stop-1, each as an Arrow array: "str" a string
    (JSON strings), "raw" each value's JSON text (numbers, objects), "list" a
    `list<string>` (null is an empty list); None if a row is stored as an object."""
    first, last = start // DOCS_PER_BLOCK, -(-stop // DOCS_PER_BLOCK)
    text = items.codec.joined(items.blocks[first:last], b"\n")
    buffer = np.frombuffer(text, dtype=np.uint8)
    rows = min(last * DOCS_PER_BLOCK, len(items)) - first * DOCS_PER_BLOCK
    starts, ends, ok = _row_fields(buffer, rows, len(INCIDENT_FIELDS))
    if not ok:
        return None
    skip = start - first * DOCS_PER_BLOCK
    at = slice(skip, skip + stop - start)
    return {
        name: _column(
            text,
            buffer,
            starts[at, INCIDENT_FIELDS.index(name)],
            ends[at, INCIDENT_FIELDS.index(name)],
            kind,
        )
        for name, kind in fields.items()
    }


# Incidents read at a time: their rows' text and each field's bounds are held
# meanwhile, some 1 KB an incident. At 65,536 that made a server worker's peak some
# 45 MB higher while it indexed a million, and took no less time.
REPORT_INDEX_ROWS = 16_384


def report_ids_column(items: PackedIncidents, first: int = 0) -> tuple[pa.Array, np.ndarray]:
    """Every incident's report keys end to end (from position `first` on), and the
    position of the incident each belongs to: the evaluation's report index, 20-40
    bytes a report where a dict of Python strings takes some 150."""
    values: list[pa.Array] = []
    parents: list[np.ndarray] = []
    for start in range(first, len(items), REPORT_INDEX_ROWS):
        stop = min(start + REPORT_INDEX_ROWS, len(items))
        columns = packed_columns(items, start, stop, {"report_ids": "list"})
        if columns is None:  # rows stored as objects: parsed
            ids = [inc["report_ids"] or () for inc in items[start:stop]]
            lists = pa.array(ids, pa.list_(pa.string()))
        else:
            lists = columns["report_ids"]
        values.append(lists.flatten())
        counts = np.diff(np.asarray(lists.offsets))
        parents.append(np.repeat(np.arange(start, stop, dtype=np.int32), counts))
    if not values:
        return pa.array([], pa.string()), np.zeros(0, dtype=np.int32)
    return pa.concat_arrays(values), np.concatenate(parents)
