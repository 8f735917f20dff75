"""JSON text for big arrays of records, written column by column.

`json.dumps` over a quarter of a million dicts spends seconds on Python
objects. Here each field is encoded for the whole column at once (the json
module's own C string escaper, `repr` for numbers); a field with few distinct
values is encoded once per value, and runs of such fields, with the keys and
punctuation between them, become one piece of text per distinct combination.
The records are then laid out as a (rows x pieces) array joined once. The
result is byte for byte what `json.dumps` writes for the same records with the
same `indent` and `ensure_ascii`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import repeat
from json.encoder import encode_basestring, encode_basestring_ascii  # type: ignore[attr-defined]

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

# Characters json.dumps escapes, with ensure_ascii and without.
_ESCAPED_ASCII = re.compile(r"[^\x20-\x21\x23-\x5b\x5d-\x7e]")
_ESCAPED = re.compile(r'[\x00-\x1f"\\]')


@dataclass(frozen=True)
class JsonStyle:
    """How `json.dumps(..., indent=indent, ensure_ascii=ensure_ascii)` lays text out."""

    indent: int | None = None
    ensure_ascii: bool = True

    @property
    def string(self) -> Callable[[str], str]:
        """The json module's escaper for one string, quotes included."""
        return encode_basestring_ascii if self.ensure_ascii else encode_basestring  # type: ignore[no-any-return]

    @property
    def escaped(self) -> str:
        """A regular expression (Python's and RE2's) for any character json escapes."""
        return (_ESCAPED_ASCII if self.ensure_ascii else _ESCAPED).pattern

    def is_plain(self, text: str) -> bool:
        """Whether json writes `text` as it is (nothing in it escaped)."""
        return not (_ESCAPED_ASCII if self.ensure_ascii else _ESCAPED).search(text)

    def brackets(self, open_: str, close: str, level: int) -> tuple[str, str, str]:
        """(start, separator, end) of a non-empty container opened at nesting `level`."""
        if self.indent is None:
            return open_, ", ", close
        inner = "\n" + " " * (self.indent * (level + 1))
        return open_ + inner, "," + inner, "\n" + " " * (self.indent * level) + close

    def strings(self, values: Sequence[str | None] | np.ndarray) -> np.ndarray:
        """Each string encoded (None -> null), as an object array."""
        items = values.tolist() if isinstance(values, np.ndarray) else values
        out = np.empty(len(items), dtype=object)
        try:
            out[:] = list(map(self.string, items))
        except TypeError:  # a None among them
            given = np.empty(len(items), dtype=object)
            given[:] = items
            present = given != None  # noqa: E711 (elementwise over an object array)
            out[:] = "null"
            out[present] = list(map(self.string, given[present].tolist()))
        return out

    def few_strings(self, values: np.ndarray) -> Categories:
        """A column of few distinct strings (or None), each encoded once."""
        codes, uniques = pd.factorize(np.asarray(values, dtype=object))  # None -> -1
        texts = self.strings([*uniques.tolist(), None])
        return Categories(np.where(codes < 0, len(texts) - 1, codes), texts)


@dataclass(frozen=True)
class Categories:
    """A column of few distinct values: row i's JSON text is `texts[codes[i]]`."""

    codes: np.ndarray  # int, 0 <= code < len(texts)
    texts: np.ndarray  # object: encoded JSON

    def rows(self, start: int, stop: int) -> Categories:
        return Categories(self.codes[start:stop], self.texts)


@dataclass(frozen=True)
class Lists:
    """A column of lists: row i's JSON text is `texts[i]` between `[` `]`, or `[]` if empty."""

    texts: np.ndarray  # object: the items' JSON text with separators, no brackets
    empty: np.ndarray  # bool
    level: int  # nesting level the lists open at

    def rows(self, start: int, stop: int) -> Lists:
        return Lists(self.texts[start:stop], self.empty[start:stop], self.level)


Column = np.ndarray | Categories | Lists  # np.ndarray: object array of encoded values


def numbers(texts_of: Callable[[np.ndarray], np.ndarray], values: np.ndarray) -> Categories:
    """A numeric column of few distinct values; `texts_of` encodes an array of them."""
    codes, uniques = pd.factorize(np.asarray(values), use_na_sentinel=False)
    return Categories(codes.astype(np.int64), texts_of(np.asarray(uniques)))


def floats(values: np.ndarray) -> np.ndarray:
    """Each float as json writes it (`repr`; NaN, Infinity, -Infinity), as an object array."""
    values = np.asarray(values, dtype=np.float64)
    out = np.empty(len(values), dtype=object)
    # Arrow writes the same shortest digits as `repr`, but spells whole numbers ("75" for
    # "75.0") and exponents differently: between these bounds, not whole, the two agree.
    magnitude = np.abs(values)
    quick = (magnitude >= 1e-4) & (magnitude < 1e9) & (values != np.floor(values))
    if quick.any():
        out[quick] = pc.cast(pa.array(values[quick]), pa.string()).to_pylist()
    if not quick.all():
        out[~quick] = list(map(float.__repr__, values[~quick].tolist()))
    if not np.isfinite(values).all():
        out[np.isnan(values)] = "NaN"
        out[values == np.inf] = "Infinity"
        out[values == -np.inf] = "-Infinity"
    return out


def round_like_python(values: np.ndarray, digits: int) -> np.ndarray:
    """`round(v, digits)` for each float, as Python rounds (the correctly rounded decimal).

    `rint(v * 10**digits) / 10**digits` gives the same double unless `v * 10**digits` is
    within rounding error of a half (or huge); those few go through Python's `round`.
    NaN stays NaN.
    """
    values = np.asarray(values, dtype=np.float64)
    scale = 10.0**digits
    with np.errstate(over="ignore", invalid="ignore"):
        scaled = values * scale
        out = np.rint(scaled) / scale
        unsure = (np.abs(scaled) >= 2**52) | (np.abs(scaled - np.floor(scaled) - 0.5) < 1e-6)
    if unsure.any():
        out[unsure] = [round(v, digits) for v in values[unsure].tolist()]
    return out


def string_lists(
    items: np.ndarray,
    offsets: np.ndarray,
    level: int,
    style: JsonStyle,
    lengths: np.ndarray | None = None,
) -> Lists:
    """Row i's list of strings `items[offsets[i]:offsets[i+1]]`, for lists opened at `level`.
    `lengths`: each item's `len`, if known.

    All items are encoded by one `json.dumps` call; each row's text is a slice of it.
    """
    counts = np.diff(offsets)
    texts = np.full(len(counts), "", dtype=object)
    if not len(items):
        return Lists(texts, counts == 0, level)
    sep = style.brackets("[", "]", level)[1]
    items = items.tolist()
    if style.is_plain("".join(items)):  # the usual case: what json.dumps would write, faster
        body = '["' + f'"{sep}"'.join(items) + '"]'
    else:
        body = json.dumps(items, ensure_ascii=style.ensure_ascii, separators=(sep, ": "))
    if lengths is None:
        lengths = np.fromiter(map(len, items), dtype=np.int64, count=len(items))
    lengths = lengths + 2
    if len(body) != 2 + int(lengths.sum()) + len(sep) * max(len(items) - 1, 0):
        # Some item was escaped: measure each one's encoded length.
        lengths = np.fromiter(map(len, map(style.string, items)), np.int64, len(items))
    item_start = np.ones(len(items) + 1, dtype=np.int64)
    np.cumsum(lengths + len(sep), out=item_start[1:])
    item_start[1:] += 1
    rows = np.flatnonzero(counts)
    starts = item_start[offsets[rows]]
    last = offsets[rows + 1] - 1
    ends = item_start[last] + lengths[last]
    texts[rows] = [body[a:b] for a, b in zip(starts.tolist(), ends.tolist(), strict=True)]
    return Lists(texts, counts == 0, level)


def records(
    fields: Sequence[tuple[str, Column]],
    level: int,
    style: JsonStyle,
    *,
    opens: bool = True,
    closes: bool = True,
) -> list[str]:
    """A JSON array of objects opened at nesting `level`, with `fields` (name, column) in
    that order, as a list of fragments: `"".join` of it is what json.dumps writes.

    A long array can be written in blocks of rows, one call each: `opens` only for the
    first block (the others continue the array), `closes` only for the last."""
    n = _length(fields[0][1]) if fields else 0
    if n == 0:
        return ["[]"] if opens and closes else []
    list_start, list_sep, list_end = style.brackets("[", "]", level)
    dict_start, dict_sep, dict_end = style.brackets("{", "}", level + 1)
    first_key = style.string(fields[0][0]) + ": "
    # Row i's pieces: its opening (which closes row i-1), then each value with the key
    # text before it. The last row is closed by one more fragment.
    continues = np.ones(n, dtype=np.int64)
    continues[0] = not opens
    opening = Categories(
        continues,
        np.array(
            [list_start + dict_start + first_key, dict_end + list_sep + dict_start + first_key],
            dtype=object,
        ),
    )
    pieces: list[str | np.ndarray | Categories] = [opening]
    for k, (name, column) in enumerate(fields):
        if k:
            pieces.append(dict_sep + style.string(name) + ": ")
        pieces += _list_pieces(column, style) if isinstance(column, Lists) else [column]
    # Fold each run of constant and few-valued pieces into one few-valued piece.
    columns: list[np.ndarray] = []
    run: list[str | Categories] = []
    for piece in pieces:
        if isinstance(piece, np.ndarray):
            if run:
                columns.append(_combine(run, n))
                run = []
            columns.append(piece)
        else:
            run.append(piece)
    if run:
        columns.append(_combine(run, n))
    out = np.empty((n, len(columns)), dtype=object)
    for k, column in enumerate(columns):
        out[:, k] = column
    fragments: list[str] = out.ravel().tolist()
    if closes:
        fragments.append(dict_end + list_end)
    return fragments


def _length(column: Column) -> int:
    if isinstance(column, Categories):
        return len(column.codes)
    if isinstance(column, Lists):
        return len(column.texts)
    return len(column)


def _list_pieces(column: Lists, style: JsonStyle) -> list[np.ndarray | Categories]:
    start, _, end = style.brackets("[", "]", column.level)
    empty = column.empty.astype(np.int64)
    return [
        Categories(empty, np.array([start, "[]"], dtype=object)),
        column.texts,
        Categories(empty, np.array([end, ""], dtype=object)),
    ]


def _combine(run: list[str | Categories], n: int) -> np.ndarray:
    """One object array of n texts: row i's is the concatenation of the run's pieces."""
    categories = [p for p in run if isinstance(p, Categories)]
    if not categories:
        return np.full(n, "".join(run), dtype=object)  # type: ignore[arg-type]
    combined = np.zeros(n, dtype=np.int64)
    for c in categories:
        combined = combined * len(c.texts) + c.codes
        if combined.max(initial=0) > 2**40:
            combined = pd.factorize(combined)[0].astype(np.int64)
    which, _ = pd.factorize(combined)
    first = np.empty(int(which.max(initial=-1)) + 1, dtype=np.int64)
    first[which[::-1]] = np.arange(n)[::-1]  # a row showing each distinct combination
    parts = [repeat(p) if isinstance(p, str) else p.texts[p.codes[first]].tolist() for p in run]
    texts = np.empty(len(first), dtype=object)
    texts[:] = ["".join(t) for t in zip(*parts, strict=False)]  # constants repeat
    return texts[which]  # type: ignore[no-any-return]
