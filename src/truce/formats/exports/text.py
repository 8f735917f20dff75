"""A record batch's values as the text CSV and JSON write, a column at a time.

Arrow's kernels do the work for a whole column at once (a Python loop over the
rows costs several times as much). CSV cells follow Python's `csv` module exactly
(`QUOTE_MINIMAL`: a cell with a comma, a quote or a line break is quoted, quotes
doubled); JSON strings are escaped as orjson escapes them. Numbers are written in
the shortest form that reads back as the same number (`3` for 3.0).
"""

from __future__ import annotations

from collections.abc import Sequence
from types import ModuleType

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from truce.formats.exports.columns import Column


def _kernels() -> ModuleType:
    """The compiled kernels, imported when first used: numba takes some 0.6 s to import,
    and every `truce` command paid it (the CLI lists the export formats), `truce
    evaluate` included, whose own compiled pass loads in a thread while it reads."""
    from truce.formats.exports import text_kernels

    return text_kernels


LIST_SEPARATOR = ";"


def string_buffers(strings: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """A string array's offsets (one more than its values) and the data they index."""
    offsets = np.frombuffer(strings.buffers()[1], dtype=np.int32)
    offsets = offsets[strings.offset : strings.offset + len(strings) + 1]
    data = strings.buffers()[2]
    return offsets, np.zeros(0, np.uint8) if data is None else np.frombuffer(data, np.uint8)


def text_bytes(strings: pa.Array) -> np.ndarray:
    """The bytes of a string array's values, end to end (no copy)."""
    offsets, data = string_buffers(strings)
    return data[offsets[0] : offsets[-1]] if len(offsets) else data[:0]


def _has_any(strings: pa.Array, chars: bytes) -> bool:
    data = text_bytes(strings)
    return any(bool((data == c).any()) for c in chars)


def _valid(values: pa.Array) -> np.ndarray:
    if not values.null_count:
        return np.ones(len(values), dtype=bool)
    return values.is_valid().to_numpy(zero_copy_only=False)  # type: ignore[no-any-return]


def interleaved(literals: Sequence[str], columns: Sequence[pa.Array]) -> bytes:
    """Each row's text: `literals[0]`, its value in `columns[0]`, `literals[1]`, ...,
    `literals[-1]` (one literal more than columns; a null value is empty)."""
    parts = [text.encode() for text in literals]
    bounds = np.cumsum([0, *map(len, parts)])
    offsets = np.empty((len(columns), len(columns[0]) + 1), dtype=np.int64)
    datas, base = [], 0
    for j, column in enumerate(columns):
        at, data = string_buffers(column)
        datas.append(data[at[0] : at[-1]])
        offsets[j] = at - at[0] + base
        base += at[-1] - at[0]
    literal = np.frombuffer(b"".join(parts), np.uint8)
    return _kernels().interleave(literal, bounds, np.concatenate(datas), offsets).tobytes()


def joined_lists(lists: pa.Array) -> pa.Array:
    """`list<string>` as text, items separated by `;`."""
    return pc.binary_join(lists, LIST_SEPARATOR)


def time_texts(times: pa.Array, *, quoted: bool = False) -> pa.Array:
    """UTC timestamps as ISO 8601 with `Z`, seconds unless there is a fraction (then
    microseconds, as Python's `isoformat` writes them): quoted, and `null` where
    absent, for JSON; null where absent for CSV."""
    valid = _valid(times)
    micros = times.cast(pa.int64()).fill_null(0).to_numpy()
    offsets, data = _kernels().iso_times(micros, valid, quoted)
    return _kernels().string_array(offsets, data, None if quoted else valid)


def number_texts(numbers: pa.Array) -> pa.Array:
    return pc.cast(numbers, pa.string())


# --- CSV -------------------------------------------------------------------------------


def _csv_quoted(strings: pa.Array) -> pa.Array:
    if not _has_any(strings, b',"\r\n'):
        return strings  # the usual column: no cell needs quotes
    quoted = pc.binary_join_element_wise('"', pc.replace_substring(strings, '"', '""'), '"', "")
    return pc.if_else(pc.match_substring_regex(strings, '[,"\r\n]'), quoted, strings)


def csv_cells(columns: Sequence[Column], batch: pa.RecordBatch) -> list[pa.Array]:
    """Each column's cells (null for an empty cell)."""
    cells = []
    for column, values in zip(columns, batch.columns, strict=True):
        if column.kind == "str":
            cells.append(_csv_quoted(values))
        elif column.kind == "list":
            cells.append(_csv_quoted(joined_lists(values)))
        elif column.kind == "bool":
            cells.append(pc.if_else(values, "true", "false"))
        elif column.kind == "time":
            cells.append(time_texts(values))
        else:
            cells.append(number_texts(values))
    return cells


def csv_lines(columns: Sequence[Column], batch: pa.RecordBatch) -> bytes:
    """The batch as CSV lines, each ended by `\\r\\n`."""
    cells = [pc.fill_null(cells, "") for cells in csv_cells(columns, batch)]
    return interleaved(["", *[","] * (len(cells) - 1), "\r\n"], cells)


# --- JSON ------------------------------------------------------------------------------


def json_strings(strings: pa.Array) -> pa.Array:
    """Strings as JSON strings (`null` where absent): quoted, and escaped as orjson does
    where a value needs it (a quote, a backslash or a control character)."""
    offsets, data, ok = _kernels().json_quoted(*string_buffers(strings), _valid(strings))
    if ok:
        return _kernels().string_array(offsets, data, None)
    dumps = orjson.dumps
    return pa.array([dumps(v).decode() for v in strings.to_pylist()], pa.string())


def json_lists(lists: pa.Array) -> pa.Array:
    """`list<string>` as JSON arrays (an absent list is `[]`)."""
    at = np.frombuffer(lists.buffers()[1], dtype=np.int32)[lists.offset :][: len(lists) + 1]
    offsets, data, ok = _kernels().json_arrays(at, *string_buffers(lists.values))
    if ok:
        return _kernels().string_array(offsets, data, None)
    dumps = orjson.dumps
    return pa.array([dumps(v or []).decode() for v in lists.to_pylist()], pa.string())


def json_values(columns: Sequence[Column], batch: pa.RecordBatch) -> list[pa.Array]:
    """Each column's values as JSON texts (`null` where absent)."""
    out = []
    for column, values in zip(columns, batch.columns, strict=True):
        if column.kind == "list":
            out.append(json_lists(values))
            continue
        if column.kind == "str":
            text = json_strings(values)
        elif column.kind == "bool":
            text = pc.if_else(values, "true", "false")
        elif column.kind == "time":
            text = time_texts(values, quoted=True)
        else:
            text = number_texts(values)
        out.append(pc.fill_null(text, "null"))
    return out
