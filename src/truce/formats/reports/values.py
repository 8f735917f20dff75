"""Whole-column conversions of report text (Arrow arrays) to numpy values.

Two kinds of column:

- Columns with few distinct values (source, event type, grades, counts...)
  are dictionary-encoded by Arrow; every decision is then made once per
  distinct value in plain Python, so it is exactly the rule as written.
- Columns with a value per row (observed_at, lat, lon) are converted by an
  Arrow cast, which accepts a strict subset of what the reference parser
  (pandas, Python's float) accepts and gives the same values there (a
  property test holds it to that). Any piece of the column the cast refuses
  is bisected down to the refused rows, which the reference parser decides:
  one odd value costs a few small casts, not a slow pass over the column.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeAlias

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from truce.formats.reports.rows import object_array, text_objects
from truce.formats.reports.tuning import TUNING, ReaderTuning


class _Refused(Exception):
    """The fast conversion cannot vouch for some value of this range."""


_REFUSED = (_Refused, pa.ArrowInvalid, pa.ArrowNotImplementedError)


def convert_in_pieces(
    n: int,
    fast: Callable[[int, int], None],
    slow: Callable[[int, int], None],
    tuning: ReaderTuning = TUNING,
) -> None:
    """Fill rows [0, n) with `fast(start, stop)` (which raises where it cannot),
    using `slow(start, stop)` for the rows it refuses. Where refusals are dense (both
    halves of a piece refused) the whole piece goes to `slow` at once."""
    piece = tuning.piece_rows
    for start in range(0, n, piece):
        stop = min(start + piece, n)
        if not _tried(fast, start, stop):
            _settle(start, stop, fast, slow, tuning.leaf_rows)


def _tried(fast: Callable[[int, int], None], start: int, stop: int) -> bool:
    try:
        fast(start, stop)
    except _REFUSED:
        return False
    return True


def _settle(
    start: int,
    stop: int,
    fast: Callable[[int, int], None],
    slow: Callable[[int, int], None],
    leaf: int,
) -> None:
    """`fast` refused [start, stop): bisect towards the refused rows."""
    if stop - start <= leaf:
        slow(start, stop)
        return
    mid = (start + stop) // 2
    left, right = _tried(fast, start, mid), _tried(fast, mid, stop)
    if not left and not right:
        slow(start, stop)
    elif not left:
        _settle(start, mid, fast, slow, leaf)
    elif not right:
        _settle(mid, stop, fast, slow, leaf)


Text: TypeAlias = pa.ChunkedArray


def byte_lengths(text: Text) -> np.ndarray:
    """UTF-8 length of each value."""
    return pc.binary_length(text).to_numpy()


def dictionary_codes(text: Text) -> tuple[np.ndarray, pa.Array]:
    """(code per row, distinct values) of a text column."""
    encoded = text if pa.types.is_dictionary(text.type) else pc.dictionary_encode(text)
    if encoded.num_chunks == 0:
        return np.zeros(0, dtype=np.int32), pa.array([], type=pa.string())
    if len({_identity(chunk.dictionary) for chunk in encoded.chunks}) > 1:
        encoded = encoded.unify_dictionaries()  # a dictionary per chunk (the CSV reader's)
    codes = [chunk.indices.to_numpy() for chunk in encoded.chunks]
    return np.concatenate(codes) if len(codes) > 1 else codes[0], encoded.chunk(0).dictionary


def _identity(values: pa.Array) -> tuple[int, ...]:
    """Where an array's buffers are (dictionary_encode shares one dictionary)."""
    return (values.offset, len(values), *(b.address if b else 0 for b in values.buffers()))


def _all_empty(text: Text) -> bool:
    if pa.types.is_dictionary(text.type):
        return all(_all_empty(pa.chunked_array([c.dictionary])) for c in text.chunks)
    return all(
        chunk.buffers()[2] is None or len(chunk) == 0 or _text_bytes(chunk) == 0
        for chunk in text.chunks
    )


def _text_bytes(chunk: pa.Array) -> int:
    offsets, _ = _buffers(chunk)
    return int(offsets[-1] - offsets[0])


def _nulled(text: Text, empty: np.ndarray) -> Text:
    """`text` with empty values as nulls (a cast passes nulls through)."""
    if not empty.any():
        return text
    return pc.if_else(pa.array(empty), pa.scalar(None, pa.string()), text)


# --- columns with few distinct values ---------------------------------------------


@dataclass
class Distinct:
    """A text column as codes into its distinct values."""

    codes: np.ndarray  # int, one per row
    values: list[str]  # as written (not stripped)

    @classmethod
    def of(cls, text: Text | None, n: int) -> Distinct:
        if text is None or _all_empty(text):  # also a column the file does not have
            return cls(np.zeros(n, dtype=np.int32), [""])
        codes, values = dictionary_codes(text)
        return cls(codes, values.to_pylist())

    def text(self, i: int) -> str:
        """Row i as written."""
        return self.values[self.codes[i]]

    def where(self, test: Callable[[str], bool]) -> np.ndarray:
        """Rows whose value passes `test` (tested once per distinct value)."""
        return self._rows_where(np.array([test(v) for v in self.values], dtype=bool))

    def where_code(self, per_value: np.ndarray, code: int) -> np.ndarray:
        """Rows whose value's entry in `per_value` (one per distinct value) is `code`."""
        return self._rows_where(per_value == code)

    def _rows_where(self, passed: np.ndarray) -> np.ndarray:
        if not passed.any():
            return np.zeros(len(self.codes), dtype=bool)
        return passed.take(self.codes)

    def at(self, per_value: np.ndarray, rows: np.ndarray | slice) -> np.ndarray:
        """`per_value` (one entry per distinct value) spread to `rows`."""
        codes = self.codes[rows] if isinstance(rows, slice) else self.codes.take(rows)
        return per_value.take(codes)

    def mapped(self, convert: Callable[[str], str]) -> Distinct:
        """Codes into the distinct values of `convert(value)` (two values may convert alike)."""
        converted = [convert(v) for v in self.values]
        if len(set(converted)) == len(converted):
            return Distinct(self.codes, converted)
        new_codes, uniques = pd.factorize(object_array(converted))
        return Distinct(new_codes.astype(np.int32)[self.codes], list(uniques))

    def stripped(self) -> Distinct:
        return self.mapped(str.strip)

    def objects(self, rows: np.ndarray | None = None) -> np.ndarray:
        """The values of `rows` (default all) as an object array."""
        codes = self.codes if rows is None else self.codes.take(rows)
        if len(self.values) == 1:
            out = np.empty(len(codes), dtype=object)
            out.fill(self.values[0])
            return out
        return object_array(self.values).take(codes)


# --- columns with a value per row ---------------------------------------------------


def stripped_text(text: Text | None, n: int) -> tuple[np.ndarray, Text]:
    """Every value stripped of surrounding whitespace, as (object array, Arrow array).

    Only values whose first or last byte is not printable ASCII can change, so
    only those are stripped (in Python, so the rule is exactly `str.strip`)."""
    if text is None:
        return object_array([""] * n), pa.chunked_array([pa.array([""] * n, type=pa.string())])
    values = text_objects(text)
    suspect = _edge_not_printable(text, byte_lengths(text))
    if suspect.any():
        for i in np.flatnonzero(suspect).tolist():
            values[i] = values[i].strip()
        text = pa.chunked_array([pa.array(values, type=pa.string())])
    return values, text


def _edge_not_printable(text: Text, lengths: np.ndarray) -> np.ndarray:
    """Rows whose first or last byte is outside `!`..`~` (so `str.strip` might change them)."""
    if not lengths.any():
        return np.zeros(len(text), dtype=bool)
    parts = [_edge_bytes_outside(chunk) for chunk in text.chunks]
    return np.concatenate(parts) if len(parts) > 1 else parts[0]


def _edge_bytes_outside(chunk: pa.Array) -> np.ndarray:
    offsets, data = _buffers(chunk)
    lengths = np.diff(offsets)
    nonempty = lengths > 0
    if not nonempty.any():
        return nonempty
    first = data[np.where(nonempty, offsets[:-1], 0)]
    last = data[np.where(nonempty, offsets[1:] - 1, 0)]
    outside = (first < 0x21) | (first > 0x7E) | (last < 0x21) | (last > 0x7E)
    return nonempty & outside


def _buffers(text: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(offsets, data bytes) of a string array, offsets indexing into data."""
    _, offsets_buf, data_buf = text.buffers()
    dtype = np.int64 if pa.types.is_large_string(text.type) else np.int32
    if offsets_buf is None:  # an empty array
        return np.zeros(1, dtype=dtype), np.zeros(1, dtype=np.uint8)
    offsets = np.frombuffer(offsets_buf, dtype=dtype)[text.offset : text.offset + len(text) + 1]
    data = np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None else np.zeros(0)
    return offsets, data if len(data) else np.zeros(1, dtype=np.uint8)


def _as_objects(text: Text, start: int, stop: int) -> np.ndarray:
    return text_objects(text.slice(start, stop - start))


# coordinates


def coordinates(
    text: Text | None, n: int, tuning: ReaderTuning = TUNING
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(numbers, empty, invalid) of a lat or lon column: empty is blank text;
    invalid is anything else that is not a finite number (NaN in `numbers`)."""
    if text is None:
        return np.full(n, np.nan), np.ones(n, dtype=bool), np.zeros(n, dtype=bool)
    empty = byte_lengths(text) == 0
    castable = _nulled(text, empty)
    numbers = np.empty(n, dtype=np.float64)
    blank = np.zeros(n, dtype=bool)

    def fast(start: int, stop: int) -> None:
        piece = castable.slice(start, stop - start).cast(pa.float64())
        numbers[start:stop] = piece.to_numpy()

    def slow(start: int, stop: int) -> None:
        numbers[start:stop], blank[start:stop] = _coordinates_slowly(_as_objects(text, start, stop))

    convert_in_pieces(n, fast, slow, tuning)
    empty |= blank
    invalid = ~np.isfinite(numbers) & ~empty
    numbers[empty | invalid] = np.nan  # `inf` is not a number, not out of range
    return numbers, empty, invalid


def underflowed(text: Text | None, numbers: np.ndarray) -> np.ndarray:
    """Rows read as 0.0 whose text is not zero (`1e-400`: below the smallest double),
    so a coordinate too small to store is rejected rather than stored as 0."""
    out = np.zeros(len(numbers), dtype=bool)
    zeros = np.flatnonzero(numbers == 0)
    if text is None or not len(zeros):
        return out
    values = text.take(pa.array(zeros)).to_pylist()
    for i, v in zip(zeros.tolist(), values, strict=True):
        mantissa = (v or "").strip().lower().partition("e")[0]
        out[i] = any(c in "123456789" for c in mantissa)
    return out


def _coordinates_slowly(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The reference: pandas' `to_numeric`; blank text is empty, not invalid."""
    numbers = pd.to_numeric(values, errors="coerce").astype(np.float64)
    blank = np.array([not v.strip() for v in values.tolist()], dtype=bool)
    return numbers, blank


# times

_NS_MIN_US = -(2**63) // 1000 + 1
_NS_MAX_US = (2**63 - 1) // 1000
TIME_OK, TIME_EMPTY, TIME_UNPARSEABLE, TIME_NO_OFFSET, TIME_OUT_OF_RANGE = range(5)


def times(
    text: Text | None, n: int, tuning: ReaderTuning = TUNING
) -> tuple[np.ndarray, np.ndarray]:
    """UTC datetime64[ns] and a problem code per row (TIME_*)."""
    if text is None or n == 0:
        return np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]"), np.full(
            n, TIME_EMPTY, dtype=np.int8
        )
    empty = byte_lengths(text) == 0
    castable = _nulled(text, empty)
    micros = np.zeros(n, dtype=np.int64)
    problem = np.where(empty, TIME_EMPTY, TIME_OK).astype(np.int8)
    utc_us = pa.timestamp("us", tz="UTC")

    def fast(start: int, stop: int) -> None:
        piece = castable.slice(start, stop - start).cast(utc_us).cast(pa.int64())
        given = ~empty[start:stop]
        found = piece.fill_null(0).to_numpy()[given]
        if len(found) and (found.min() < _NS_MIN_US or found.max() > _NS_MAX_US):
            raise _Refused
        micros[start:stop][given] = found

    def slow(start: int, stop: int) -> None:
        micros[start:stop], problem[start:stop] = _times_slowly(_as_objects(text, start, stop))

    convert_in_pieces(n, fast, slow, tuning)
    ok = problem == TIME_OK
    observed = (np.where(ok, micros, 0) * 1000).view("datetime64[ns]")
    observed[~ok] = np.datetime64("NaT")
    return observed, problem


def _times_slowly(text: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The reference: pandas' ISO 8601 parser plus an explicit offset check."""
    n = len(text)
    problem = np.zeros(n, dtype=np.int8)
    parsed = pd.to_datetime(text, format="ISO8601", utc=True, errors="coerce")
    micros = np.asarray(parsed.as_unit("us").asi8)
    nat = np.asarray(parsed.isna())
    problem[nat] = TIME_UNPARSEABLE
    for i in np.flatnonzero(nat):
        if not text[i].strip():
            problem[i] = TIME_EMPTY
    problem[~nat & ~_has_offset(text)] = TIME_NO_OFFSET
    out_of_range = ~nat & ((micros < _NS_MIN_US) | (micros > _NS_MAX_US))
    problem[out_of_range & (problem == TIME_OK)] = TIME_OUT_OF_RANGE
    return np.where(problem == TIME_OK, micros, 0), problem


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
